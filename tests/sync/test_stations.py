"""Which station a new incident belongs to, and its number (pure rules)."""

from __future__ import annotations

from sync.stations import choose_station, directorate_code, incident_number

DIRECTORATE = {"id": "sm", "kind": "directorate", "lat": 44.97, "lon": 19.61}
RUMA = {"id": "ruma", "kind": "station", "lat": 45.008, "lon": 19.822}
SID = {"id": "sid", "kind": "border_centre", "lat": 45.127, "lon": 19.228}
MITROVICA = {"id": "sm-sm", "kind": "station", "lat": 44.976, "lon": 19.612}
ALL = [DIRECTORATE, RUMA, SID, MITROVICA]


def test_the_location_picks_the_nearest_station_never_the_directorate() -> None:
    assert choose_station(ALL, 45.01, 19.80, DIRECTORATE) == "ruma"
    assert choose_station(ALL, 45.12, 19.25, DIRECTORATE) == "sid"
    assert choose_station(ALL, 44.97, 19.61, DIRECTORATE) == "sm-sm"


def test_without_a_location_a_station_dispatcher_keeps_their_station() -> None:
    assert choose_station([RUMA], None, None, RUMA) == "ruma"
    assert choose_station(ALL, None, None, RUMA) == "ruma"


def test_without_a_location_a_directorate_dispatcher_must_choose() -> None:
    assert choose_station(ALL, None, None, DIRECTORATE) is None
    assert choose_station([DIRECTORATE, RUMA], None, None, DIRECTORATE) == "ruma", "only one choice"


def test_numbers_carry_the_directorate_code() -> None:
    kinds = {"SM": "directorate", "SM-RU": "station"}
    assert directorate_code("/SM/SM-RU/", kinds) == "SM"
    assert directorate_code("/RS/SM/SM-RU/", {**kinds, "RS": "ministry"}) == "SM"
    assert directorate_code("/X/", {}) is None
    assert incident_number("SM", 2026, 42) == "SM-2026-000042"
    assert incident_number(None, 2026, 42) == "2026-000042"
