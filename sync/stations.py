"""Which station an incident belongs to, and how it is numbered (pure rules).

An incident belongs to a station (or border-police centre), never to the
directorate above them: the station's officers work it, its figures count it,
its dispatcher sees it. A dispatcher may pick the station; otherwise the
location decides (the nearest station of the dispatcher's area), then the
dispatcher's own station. Numbers carry the directorate's code
(``SM-2026-000123``), as the paper registers do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

STATION_KINDS = frozenset({"station", "border_centre"})


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Equirectangular: exact enough to rank stations a few tens of km apart.
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371.0 * math.hypot(x, y)


def choose_station(stations: Iterable[Mapping[str, Any]], lat: float | None, lon: float | None,
                   own: Mapping[str, Any] | None) -> str | None:
    """The station for a new incident without an explicit one, or None (ask the dispatcher).

    ``stations``: the stations in the creator's scope (rows with id, kind, lat, lon);
    ``own``: the creator's own org unit.
    """
    candidates = [s for s in stations if s["kind"] in STATION_KINDS]
    if lat is not None and lon is not None:
        placed = [s for s in candidates if s["lat"] is not None and s["lon"] is not None]
        if placed:
            return min(placed, key=lambda s: (_distance_km(lat, lon, s["lat"], s["lon"]), s["id"]))["id"]
    if own is not None and own["kind"] in STATION_KINDS:
        return str(own["id"])
    if len(candidates) == 1:
        return str(candidates[0]["id"])
    if not candidates and own is not None:
        return str(own["id"])  # an org without stations (a small test deployment) keeps its own
    return None


def directorate_code(path: str, kinds_by_code: Mapping[str, str]) -> str | None:
    """The code of the directorate on an org path (``/SM/SM-RU/`` -> ``SM``)."""
    for code in path.strip("/").split("/"):
        if kinds_by_code.get(code) == "directorate":
            return code
    return None


def incident_number(prefix: str | None, year: int, n: int) -> str:
    return f"{prefix}-{year}-{n:06d}" if prefix else f"{year}-{n:06d}"
