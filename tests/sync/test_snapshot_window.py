"""A desk snapshot holds open and recent incidents, not all history."""

from __future__ import annotations

import time

from sync import engine
from sync.store import Database
from tests.sync.factories import HOUR, make_world, one, open_incident


async def test_desk_snapshot_keeps_open_and_recent_incidents_only(db: Database) -> None:
    now = int(time.time() * 1000)
    w = await make_world(db, at=now - 72 * HOUR)
    old, _ = await open_incident(db, w, at=now - 72 * HOUR, assign=None)
    await one(db, w.device("dispatcher"), "incident.close", {"incident_id": old, "outcome": "resolved"},
              at=now - 70 * HOUR)
    still_open, _ = await open_incident(db, w, at=now - 48 * HOUR, assign=None)
    recent, _ = await open_incident(db, w, at=now - 2 * HOUR, assign=None)
    await one(db, w.device("dispatcher"), "incident.close", {"incident_id": recent, "outcome": "resolved"},
              at=now - HOUR)
    res = await engine.pull(db, w.principals["dispatcher"], 0)
    assert res.snapshot
    incidents = {c.entity_id for c in res.changes if c.entity == "incident"}
    assert incidents == {still_open, recent}
    # The old one is still one REST call away, and later changes to it still arrive live.
