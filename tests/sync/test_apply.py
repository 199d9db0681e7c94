"""Apply: one transaction per mutation, idempotent replays, outcomes, rejections."""

from __future__ import annotations

import json

from sync import engine
from sync.store import Database

from .factories import MIN, T0, make_world, new_id, one, open_incident, row, rows


async def test_replay_returns_stored_outcome_and_changes_nothing(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w, assign=None)
    o1 = w.device("dispatcher")
    note = o1.mut("incident.add_note", {"note_id": new_id(), "incident_id": inc, "body": "first"}, at=T0 + MIN)
    first = await engine.apply_batch(db, o1.p, [note], device_now=T0 + MIN, server_now=T0 + MIN)
    head = (await row(db, "SELECT value FROM counters WHERE name = 'change_seq'"))["value"]
    again = await engine.apply_batch(db, o1.p, [note, note], device_now=T0 + 2 * MIN, server_now=T0 + 2 * MIN)
    assert first.results[0].outcome == "applied" and not first.results[0].replay
    assert [r.outcome for r in again.results] == ["applied", "applied"]
    assert all(r.replay for r in again.results)
    assert again.results[0].result == first.results[0].result
    assert again.changes == []
    assert (await row(db, "SELECT COUNT(*) AS n FROM notes"))["n"] == 1
    assert (await row(db, "SELECT value FROM counters WHERE name = 'change_seq'"))["value"] == head


async def test_replayed_rejection_stays_rejected(db: Database) -> None:
    w = await make_world(db)
    o1 = w.device("officer1")
    m = o1.mut("unit.set_status", {"unit_id": w.units["pa12"], "status": "busy"}, at=T0)
    r1 = (await engine.apply_batch(db, o1.p, [m], device_now=T0, server_now=T0)).results[0]
    r2 = (await engine.apply_batch(db, o1.p, [m], device_now=T0, server_now=T0)).results[0]
    assert r1.outcome == r2.outcome == "rejected" and r1.reason_code == r2.reason_code == "out_of_scope"
    assert r2.replay and r2.reason == r1.reason


async def test_rejected_mutation_does_not_block_the_next_ones(db: Database) -> None:
    w = await make_world(db)
    o1 = w.device("officer1")
    bad = o1.mut("unit.set_status", {"unit_id": w.units["pa11"], "status": "teleported"}, at=T0)
    good = o1.mut("unit.set_status", {"unit_id": w.units["pa11"], "status": "busy"}, at=T0 + MIN)
    res = await o1.push(db, at=T0 + 2 * MIN)
    assert [r.outcome for r in res.results] == ["rejected", "applied"]
    assert res.results[0].reason_code == "invalid" and res.results[0].result == {"field": "args.status"}
    assert "args.status" in res.results[0].reason
    assert res.last_seq == good["seq"] and o1.outbox == []
    assert (await row(db, "SELECT status FROM units WHERE id = $1", w.units["pa11"]))["status"] == "busy"
    stored = await rows(db, "SELECT seq, outcome FROM applied_mutations WHERE client_id = $1 ORDER BY seq",
                        o1.p.device_id)
    assert [(r["seq"], r["outcome"]) for r in stored] == [(bad["seq"], "rejected"), (good["seq"], "applied")]


async def test_rejection_rolls_back_partial_writes(db: Database) -> None:
    # assignment.reassign checks the new unit after loading; a busy new unit is
    # refused and the old assignment must stay as it was.
    w = await make_world(db)
    inc1, asg1 = await open_incident(db, w, assign="pa11")
    inc2, asg2 = await open_incident(db, w, at=T0 + MIN, assign="pa12")
    r = await one(db, w.device("dispatcher"), "assignment.reassign",
                  {"assignment_id": asg1, "new_assignment_id": new_id(), "unit_id": w.units["pa12"]},
                  at=T0 + 5 * MIN)
    assert r.outcome == "rejected" and r.reason_code == "unit_busy"
    assert w.call_signs["pa12"] in r.reason
    a = await row(db, "SELECT state, ended_at FROM assignments WHERE id = $1", asg1)
    assert a == {"state": "pending", "ended_at": None}


async def test_malformed_inputs_never_raise(db: Database) -> None:
    w = await make_world(db)
    o1 = w.device("officer1")
    p = o1.p
    junk = [
        "not a dict", 42, None, {},
        {"v": 1, "client_id": p.device_id, "seq": 1, "name": "unit.set_status", "hlc": "bad",
         "device_at": T0, "args": {}},
        {"v": 1, "client_id": p.device_id, "seq": 2, "name": "unit.set_status",
         "hlc": "019a5e3c1f00-0000-x", "device_at": T0, "args": "nope"},
        {"v": 1, "client_id": p.device_id, "seq": 3, "name": "unit.set_status",
         "hlc": "019a5e3c1f00-0000-x", "device_at": T0, "args": {"unit_id": None, "status": 1}},
        {"v": 1, "client_id": p.device_id, "seq": 4, "name": "incident.update",
         "hlc": "019a5e3c1f00-0000-x", "device_at": T0, "args": {"incident_id": "nope", "priority": 9}},
        {"v": 1, "client_id": p.device_id, "seq": 5, "name": "no.such.thing",
         "hlc": "019a5e3c1f00-0000-x", "device_at": T0, "args": {}},
    ]
    res = await engine.apply_batch(db, p, junk, device_now=T0, server_now=T0)  # type: ignore[arg-type]
    assert len(res.results) == len(junk)
    assert all(r.outcome == "rejected" for r in res.results)
    codes = [r.reason_code for r in res.results]
    assert codes[:8] == ["invalid"] * 8 and codes[8] == "unknown_mutation"
    assert res.results[4].result == {"field": "hlc"}
    assert res.results[5].result == {"field": "args"}
    assert res.results[6].result["field"] in ("args.unit_id", "args.status")
    assert res.results[7].result == {"field": "args.priority"}
    # keyed ones are stored so a resend gets the same answer; unkeyed ones are not
    stored = await rows(db, "SELECT seq FROM applied_mutations WHERE client_id = $1 ORDER BY seq", p.device_id)
    assert [r["seq"] for r in stored] == [1, 2, 3, 4, 5]


async def test_mutation_from_another_device_is_refused_and_not_recorded(db: Database) -> None:
    w = await make_world(db)
    o2 = w.device("officer2")
    m = o2.mut("unit.set_status", {"unit_id": w.units["pa12"], "status": "busy"}, at=T0)
    res = await engine.apply_batch(db, w.principals["officer1"], [m], device_now=T0, server_now=T0)
    assert res.results[0].outcome == "rejected" and res.results[0].reason_code == "forbidden"
    assert await rows(db, "SELECT * FROM applied_mutations") == []
    # the real device can still send it
    assert (await engine.apply_batch(db, o2.p, [m], device_now=T0, server_now=T0)).results[0].outcome == "applied"


async def test_role_checks(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    o1 = w.device("officer1")
    r = await one(db, o1, "assignment.cancel", {"assignment_id": asg}, at=T0 + MIN)
    assert r.outcome == "rejected" and r.reason_code == "forbidden" and "officer" in r.reason
    r = await one(db, o1, "incident.update", {"incident_id": inc, "priority": 1}, at=T0 + MIN, base_version=1)
    assert r.reason_code == "forbidden" and r.result == {"field": "args.priority"}
    r = await one(db, o1, "incident.create", {"incident_id": new_id(), "type": "x", "source": "112"},
                  at=T0 + MIN)
    assert r.reason_code == "forbidden"


async def test_scope_checks(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w, assign="pa11")
    o2 = w.device("officer2")  # PA-12: not assigned
    r = await one(db, o2, "incident.add_note", {"note_id": new_id(), "incident_id": inc, "body": "x"}, at=T0)
    assert r.outcome == "rejected" and r.reason_code == "out_of_scope"
    r = await one(db, o2, "assignment.acknowledge", {"assignment_id": asg}, at=T0)
    assert r.reason_code == "out_of_scope"
    sid = w.device("sid_dispatcher")  # another station's dispatcher
    r = await one(db, sid, "assignment.cancel", {"assignment_id": asg}, at=T0)
    assert r.reason_code == "out_of_scope"
    r = await one(db, sid, "incident.create", {"incident_id": new_id(), "type": "x",
                                                "org_unit_id": w.org["ruma"]}, at=T0)
    assert r.reason_code == "out_of_scope"
    r = await one(db, w.device("dispatcher"), "unit.set_status",
                  {"unit_id": "no-such-unit", "status": "busy"}, at=T0)
    assert r.reason_code == "not_found"


async def test_duplicate_id_from_another_mutation_is_refused(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w)
    d = w.device("dispatcher")
    r = await one(db, d, "incident.create", {"incident_id": inc, "type": "other"}, at=T0 + MIN)
    assert r.outcome == "rejected" and r.reason_code == "duplicate_id"


async def test_device_clock_offset_is_stored(db: Database) -> None:
    w = await make_world(db)
    o1 = w.device("officer1", clock_skew_ms=-7 * MIN)  # phone 7 minutes slow
    o1.mut("unit.set_status", {"unit_id": w.units["pa11"], "status": "busy"}, at=T0)
    await o1.push(db, at=T0 + MIN)
    dev = await row(db, "SELECT clock_offset_ms, last_seen_at FROM devices WHERE id = $1", o1.p.device_id)
    assert dev == {"clock_offset_ms": 7 * MIN, "last_seen_at": T0 + MIN}
    ev = await row(db, "SELECT device_at, event_at FROM unit_status_events WHERE unit_id = $1", w.units["pa11"])
    assert ev == {"device_at": T0 - 7 * MIN, "event_at": T0}


async def test_outcomes_are_recorded_with_result_json(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    o1 = w.device("officer1")
    r = await one(db, o1, "assignment.acknowledge", {"assignment_id": asg}, at=T0 + MIN)
    stored = await row(db, "SELECT outcome, result, name, protocol FROM applied_mutations"
                           " WHERE client_id = $1", o1.p.device_id)
    assert stored["outcome"] == "applied" and stored["name"] == "assignment.acknowledge"
    assert stored["protocol"] == 1
    assert json.loads(stored["result"]) == r.result == {"acknowledged_at": T0 + MIN}


async def test_v0_mutation_is_applied_and_its_protocol_recorded(db: Database) -> None:
    w = await make_world(db)
    p = w.principals["officer1"]
    old = {"v": 0, "client_id": p.device_id, "seq": 1, "op": "unit.set_status",
           "hlc": f"{T0:012x}-0000-old", "at": T0 / 1000, "args": {"unit_id": w.units["pa11"], "state": "busy"}}
    res = await engine.apply_batch(db, p, [old], device_now=T0, server_now=T0)
    assert res.results[0].outcome == "applied"
    assert (await row(db, "SELECT status FROM units WHERE id = $1", w.units["pa11"]))["status"] == "busy"
    assert (await row(db, "SELECT protocol FROM applied_mutations WHERE client_id = $1",
                      p.device_id))["protocol"] == 0


async def test_push_returns_the_changes_it_appended(db: Database) -> None:
    w = await make_world(db)
    o1 = w.device("officer1")
    o1.mut("unit.set_status", {"unit_id": w.units["pa11"], "status": "busy"}, at=T0)
    res = await o1.push(db, at=T0)
    kinds = sorted(c.entity for c in res.changes)
    assert kinds == ["unit", "unit_status_event"]
    seqs = [c.seq for c in res.changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    logged = await rows(db, "SELECT seq, entity FROM change_log WHERE seq >= $1 ORDER BY seq", seqs[0])
    assert [r["seq"] for r in logged] == seqs
    unit = next(c for c in res.changes if c.entity == "unit")
    assert unit.data["status"] == "busy" and unit.audience == [w.units["pa11"]]
    assert unit.scope_path == w.paths["ruma"] and unit.origin_seq == 1


async def test_change_seq_is_gap_free(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    o1 = w.device("officer1")
    for i, st in enumerate(["en_route", "on_scene", "teleport", "available"]):
        o1.mut("unit.set_status", {"unit_id": w.units["pa11"], "status": st}, at=T0 + i * MIN)
    await o1.push(db, at=T0 + 10 * MIN)
    seqs = [r["seq"] for r in await rows(db, "SELECT seq FROM change_log ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    head = (await row(db, "SELECT value FROM counters WHERE name = 'change_seq'"))["value"]
    assert head == seqs[-1]


async def test_alerts_are_applied_first_in_a_batch(db: Database) -> None:
    w = await make_world(db)
    o1 = w.device("officer1")
    o1.mut("unit.report_location", {"unit_id": w.units["pa11"],
                                    "pings": [{"at": T0, "lat": 45.0, "lon": 19.8}]}, at=T0)
    o1.mut("alert.raise", {"alert_id": new_id(), "lat": 45.0, "lon": 19.8}, at=T0 + 1000)
    res = await o1.push(db, at=T0 + 2000)
    assert [r.name for r in res.results] == ["unit.report_location", "alert.raise"]  # input order kept
    assert res.changes[0].entity == "alert"  # but the alert got the first change seq
