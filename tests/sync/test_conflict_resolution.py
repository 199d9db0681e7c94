"""A human's conflict resolution never silently beats an edit made after the conflict (issue 11.4)."""

from __future__ import annotations

from sync.store import Database

from .factories import HOUR, MIN, T0, description_conflict, make_world, one, row, rows


async def _conflict_then_third_edit(db: Database, w) -> tuple[str, str, int]:
    inc, cid = await description_conflict(db, w)
    # A third person edits the field later, knowing both values.
    seen = (await row(db, "SELECT version FROM incidents WHERE id = $1", inc))["version"]
    r = await one(db, w.device("commander"), "incident.update", {"incident_id": inc, "description": "third"},
                  at=T0 + 20 * MIN, base_version=seen)
    assert r.outcome == "applied", r
    after = (await row(db, "SELECT version FROM incidents WHERE id = $1", inc))["version"]
    return inc, cid, after


async def test_a_resolution_made_without_seeing_a_later_edit_becomes_a_new_conflict(db: Database) -> None:
    w = await make_world(db)
    inc, cid, _ = await _conflict_then_third_edit(db, w)
    r = await one(db, w.device("dispatcher"), "conflict.resolve", {"conflict_id": cid, "resolution": "client"},
                  at=T0 + HOUR)
    assert (r.outcome, r.reason_code) == ("conflict", "edited_since_conflict"), r
    assert (await row(db, "SELECT description FROM incidents WHERE id = $1", inc))["description"] == "third"
    old = await row(db, "SELECT state, resolution FROM conflicts WHERE id = $1", cid)
    assert old == {"state": "resolved", "resolution": "client"}
    new = await rows(db, "SELECT server_value, client_value, state FROM conflicts WHERE entity_id = $1"
                         " AND id <> $2", inc, cid)
    assert new == [{"server_value": '"third"', "client_value": '"client"', "state": "open"}]
    assert r.result["conflicts"][0]["id"] and r.result["conflicts"][0]["current"] == "server"


async def test_a_resolution_that_saw_the_later_edit_is_written(db: Database) -> None:
    w = await make_world(db)
    inc, cid, seen = await _conflict_then_third_edit(db, w)
    r = await one(db, w.device("dispatcher"), "conflict.resolve", {"conflict_id": cid, "resolution": "client"},
                  at=T0 + HOUR, base_version=seen)
    assert r.outcome == "applied", r
    assert (await row(db, "SELECT description FROM incidents WHERE id = $1", inc))["description"] == "client"
    assert await rows(db, "SELECT id FROM conflicts WHERE entity_id = $1 AND state = 'open'", inc) == []
