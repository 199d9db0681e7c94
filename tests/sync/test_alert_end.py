"""Ending an emergency (issue 12.16): who acknowledged it is kept by name for the officer's
screen; an officer ends a false alarm only with a reason, and only their unit's."""

from __future__ import annotations

from sync.store import Database

from .factories import MIN, T0, make_world, new_id, one, row


async def test_an_alert_is_acknowledged_by_name_and_ended_with_a_reason(db: Database) -> None:
    w = await make_world(db)
    u = w.units["pa11"]
    officer = w.device("officer1")
    alert_id = new_id()
    r = await one(db, officer, "alert.raise", {"alert_id": alert_id, "unit_id": u}, at=T0)
    assert r.outcome == "applied"
    r = await one(db, w.device("dispatcher"), "alert.acknowledge", {"alert_id": alert_id}, at=T0 + MIN)
    assert r.outcome == "applied"
    stored = await row(db, "SELECT acknowledged_by_name FROM emergency_alerts WHERE id = $1", alert_id)
    assert stored["acknowledged_by_name"]

    r = await one(db, officer, "alert.end", {"alert_id": alert_id, "reason": ""}, at=T0 + 2 * MIN)
    assert (r.outcome, r.reason_code) == ("rejected", "invalid"), r
    r = await one(db, officer, "alert.end", {"alert_id": alert_id}, at=T0 + 2 * MIN)
    assert (r.outcome, r.reason_code) == ("rejected", "invalid"), "no reason, no end"
    r = await one(db, officer, "alert.end", {"alert_id": alert_id, "reason": "pressed by mistake"}, at=T0 + 3 * MIN)
    assert r.outcome == "applied", r
    ended = await row(db, "SELECT state, resolved_at, ended_by, end_reason FROM emergency_alerts WHERE id = $1",
                      alert_id)
    assert ended == {"state": "resolved", "resolved_at": T0 + 3 * MIN, "ended_by": w.users["officer1"],
                     "end_reason": "pressed by mistake"}
    r = await one(db, w.device("dispatcher"), "alert.end", {"alert_id": alert_id, "reason": "over"}, at=T0 + 4 * MIN)
    assert (r.outcome, r.reason_code) == ("merged", "already_ended")


async def test_an_officer_cannot_end_another_units_alert(db: Database) -> None:
    w = await make_world(db)
    alert_id = new_id()
    r = await one(db, w.device("officer1"), "alert.raise", {"alert_id": alert_id, "unit_id": w.units["pa11"]}, at=T0)
    assert r.outcome == "applied"
    r = await one(db, w.device("officer2"), "alert.end", {"alert_id": alert_id, "reason": "not mine"}, at=T0 + MIN)
    assert (r.outcome, r.reason_code) == ("rejected", "out_of_scope"), r  # officer2 is on PA-12
    assert (await row(db, "SELECT state FROM emergency_alerts WHERE id = $1", alert_id))["state"] == "raised"
