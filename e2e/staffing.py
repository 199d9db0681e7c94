"""Crews for the browser tests that do not depend on the time of day.

The demo roster follows the clock: at night only the four round-the-clock units
are crewed and the seed keeps two of them busy, and near a shift change the
crew of a unit changes under a running test. So each test module that needs
officers puts fresh two-officer crews on units nobody crews now, the way a
station would call in extra patrols: the admin creates the officers, the
commander plans a shift from half an hour ago to eight hours from now, and
each crew signed on at the start of that shift (available, with a position near
its station).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from e2e.clients import PASSWORD, SyncClient

SHIFT_BEFORE_MS = 30 * 60_000
SHIFT_AFTER_MS = 8 * 3_600_000
RECENT_MS = 20 * 60_000


@dataclass(frozen=True)
class Crew:
    call_sign: str
    unit: dict[str, Any]
    usernames: tuple[str, str]


def staff(base: str, n: int, tag: str = "e2e") -> list[Crew]:
    """Put a new crew on `n` units (cars first) that have no crew and no assignment now;
    returns them in that order, each available with a fresh position."""
    admin, commander = SyncClient(base, "admin"), SyncClient(base, "commander")
    stations = {o["code"]: o for o in commander.get("/api/org-units")}
    now = int(time.time() * 1000)
    # Prefer cars whose crew did not go off duty in the last minutes: a sign-on must come
    # after that (status is by event time) and tests wind a phone's clock back ten minutes.
    free = sorted((u for u in commander.get("/api/units") if not u["crew"] and not u["current_assignment_id"]),
                  key=lambda u: ((u["status_at"] or 0) > now - RECENT_MS, u["kind"] not in ("car", "border"),
                                 u["call_sign"]))
    assert len(free) >= n, f"need {n} units without a crew, found {[u['call_sign'] for u in free]}"
    crews: list[Crew] = []
    for i, unit in enumerate(free[:n]):
        names = (f"{tag}-{unit['call_sign'].lower()}-a", f"{tag}-{unit['call_sign'].lower()}-b")
        ids = []
        for k, name in enumerate(names):
            user = admin.post("/api/admin/users", {
                "username": name, "password": PASSWORD, "role": "officer", "org_unit_code": unit["org_unit_code"],
                "full_name": f"{'Ana' if k == 0 else 'Marko'} Test {unit['call_sign']}", "locale": "en"})
            ids.append(user["id"])
        commander.post("/api/shifts", {
            "unit_id": unit["id"], "starts_at": now - SHIFT_BEFORE_MS, "ends_at": now + SHIFT_AFTER_MS,
            "notes": "extra patrol (browser tests)",
            "members": [{"user_id": ids[0], "role": "lead"}, {"user_id": ids[1], "role": "member"}]})
        lead = SyncClient(base, names[0])
        assert lead.me["unit_id"] == unit["id"], (names[0], lead.me)
        station = stations[unit["org_unit_code"]]
        base_lat, base_lon = station["lat"] or 44.97, station["lon"] or 19.61
        lat, lon = base_lat + 0.004 * (i + 1), base_lon + 0.003 * (i + 1)
        if unit["status"] != "available":
            # Signed on a minute into the shift: tests that wind a phone's clock back a few
            # minutes then still come after it.
            lead.push_ok("unit.set_status", {"unit_id": unit["id"], "status": "available", "lat": lat, "lon": lon},
                      at=max(now - SHIFT_BEFORE_MS + 60_000, (unit["status_at"] or 0) + 1000))
        lead.push_ok("unit.report_location", {"unit_id": unit["id"], "pings": [
            {"at": int(time.time() * 1000), "lat": lat, "lon": lon, "accuracy_m": 8.0}]})
        fresh = next(u for u in commander.get("/api/units") if u["id"] == unit["id"])
        assert fresh["status"] == "available" and fresh["last_lat"] is not None, fresh
        assert {c["user_id"] for c in fresh["crew"]} == set(ids), fresh["crew"]
        crews.append(Crew(unit["call_sign"], fresh, names))
    return crews
