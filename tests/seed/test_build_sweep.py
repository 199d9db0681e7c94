"""The pure builder over many (seed, now) pairs: the invariants hold at any hour,
across DST changes and New Year, not only at the one `now` the database tests use."""

from __future__ import annotations

import random
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from server.seed.demo import COLUMNS, build_demo

TZ = ZoneInfo("Europe/Belgrade")
ACTIVE = {"pending", "acknowledged", "en_route", "on_scene"}
NEXT = {"off_duty": {"available"}, "available": {"en_route", "on_scene", "busy", "off_duty", "available"},
        "en_route": {"on_scene", "available", "busy"}, "on_scene": {"busy", "available"},
        "busy": {"available", "off_duty"}}


def _dicts(demo, table: str) -> list[dict]:
    cols = COLUMNS[table]
    return [dict(zip(cols, row)) for row in demo.rows[table]]


def _cases() -> list[tuple[int, int]]:
    rnd = random.Random(7)
    fixed = [datetime(2026, 3, 29, 3, 30), datetime(2026, 10, 25, 2, 30), datetime(2027, 1, 1, 0, 5),
             datetime(2026, 6, 15, 5, 59), datetime(2026, 6, 15, 22, 0)]
    stamps = [int(d.replace(tzinfo=TZ).timestamp() * 1000) for d in fixed]
    stamps += [int(datetime(2026, rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 23), rnd.randint(0, 59),
                            tzinfo=TZ).timestamp() * 1000) for _ in range(7)]
    return [(rnd.randint(1, 10**6), now) for now in stamps]


@pytest.mark.parametrize(("seed", "now"), _cases())
def test_invariants(seed: int, now: int) -> None:
    demo = build_demo(seed, now, "hash")
    incidents = {i["id"]: i for i in _dicts(demo, "incidents")}
    units = {u["id"]: u for u in _dicts(demo, "units")}
    active_by_unit: dict[str, list[str]] = {}
    for a in _dicts(demo, "assignments"):
        inc = incidents[a["incident_id"]]
        seq = [inc["call_received_at"], a["assigned_at"], a["acknowledged_at"], a["en_route_at"],
               a["on_scene_at"], a["action_at"], a["cleared_at"]]
        present = [t for t in seq if t is not None]
        assert present == sorted(present) and present[-1] <= now
        if a["state"] in ACTIVE:
            active_by_unit.setdefault(a["unit_id"], []).append(a["id"])
            assert inc["state"] in ("dispatched", "in_progress")
    for uid, u in units.items():
        assert u["current_assignment_id"] == (active_by_unit.get(uid) or [None])[0]
        assert len(active_by_unit.get(uid, [])) <= 1
        if u["status"] != "off_duty":
            assert now - u["last_position_at"] < 10 * 60_000, u["call_sign"]
    last: dict[str, dict] = {}
    for e in sorted(_dicts(demo, "unit_status_events"), key=lambda e: (e["unit_id"], e["event_at"], e["hlc"])):
        assert e["event_at"] <= now and e["server_at"] <= now + 5_000
        if e["unit_id"] in last:
            assert e["status"] in NEXT[last[e["unit_id"]]["status"]]
        last[e["unit_id"]] = e
    for uid, e in last.items():
        assert units[uid]["status"] == e["status"] and units[uid]["status_at"] == e["event_at"]
    engaged = sum(1 for u in units.values() if u["status"] in ("en_route", "on_scene", "busy"))
    on_duty = sum(1 for u in units.values() if u["status"] != "off_duty")
    assert 1 <= engaged <= max(2, on_duty // 2) + 1
    shifts: dict[str, list[tuple[int, int]]] = {}
    by_id = {s["id"]: s for s in _dicts(demo, "shifts")}
    for m in _dicts(demo, "shift_members"):
        s = by_id[m["shift_id"]]
        shifts.setdefault(m["user_id"], []).append((s["starts_at"], s["ends_at"]))
    for spans in shifts.values():
        spans.sort()
        assert all(b[0] >= a[1] for a, b in pairwise(spans))
    assert len(demo.rows["location_pings"]) < 50_000
