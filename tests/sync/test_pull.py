"""Scoped delta pull, visibility, evictions, snapshots and compaction."""

from __future__ import annotations

import json

from sync import engine
from sync.scope import can_see
from sync.store import Database

from .factories import (
    HOUR,
    MIN,
    T0,
    make_world,
    new_id,
    one,
    open_incident,
    row,
    rows,
    server_state,
)


async def _all_changes(db: Database) -> list:
    from sync.changes import CHANGE_COLUMNS, from_row
    return [from_row(r) for r in await rows(db, f"SELECT {CHANGE_COLUMNS} FROM change_log ORDER BY seq")]


async def _busy_shift(db: Database, w) -> dict[str, str]:
    """Two incidents in RUMA (PA-11 on one), one in SID (PB-1), notes, reports, statuses."""
    inc1, asg1 = await open_incident(db, w, assign="pa11")
    inc2, _ = await open_incident(db, w, at=T0 + MIN, assign=None)
    sd = w.device("sid_dispatcher")
    inc3 = new_id()
    await one(db, sd, "incident.create", {"incident_id": inc3, "type": "border", "priority": 1}, at=T0)
    asg3 = new_id()
    await one(db, sd, "assignment.create", {"assignment_id": asg3, "incident_id": inc3,
                                            "unit_id": w.units["pb1"]}, at=T0 + MIN)
    o1 = w.device("officer1")
    o1.mut("unit.set_status", {"unit_id": w.units["pa11"], "status": "on_scene"}, at=T0 + 5 * MIN)
    o1.mut("incident.add_note", {"note_id": new_id(), "incident_id": inc1, "body": "pa11 note"}, at=T0 + 6 * MIN)
    o1.mut("report.update", {"report_id": new_id(), "incident_id": inc1, "summary": "s"}, at=T0 + 7 * MIN)
    await o1.push(db, at=T0 + 8 * MIN)
    await one(db, w.device("dispatcher"), "incident.add_note",
              {"note_id": new_id(), "incident_id": inc2, "body": "inc2 note"}, at=T0 + 9 * MIN)
    await one(db, w.device("officer4"), "unit.set_status", {"unit_id": w.units["pb1"], "status": "en_route"},
              at=T0 + 9 * MIN)
    await one(db, w.device("officer2"), "unit.set_status", {"unit_id": w.units["pa12"], "status": "busy"},
              at=T0 + 9 * MIN)
    return {"inc1": inc1, "inc2": inc2, "inc3": inc3, "asg1": asg1, "asg3": asg3}


async def test_officer_sees_own_unit_and_its_incidents_only(db: Database) -> None:
    w = await make_world(db)
    ids = await _busy_shift(db, w)
    o1 = w.device("officer1")
    await o1.pull_all(db)
    kinds = {k for k in o1.state()}
    assert ("unit", w.units["pa11"]) in kinds and ("incident", ids["inc1"]) in kinds
    assert ("unit", w.units["pa12"]) not in kinds and ("unit", w.units["pb1"]) not in kinds
    assert ("incident", ids["inc2"]) not in kinds and ("incident", ids["inc3"]) not in kinds
    assert {k[0] for k in kinds} == {"unit", "incident", "assignment", "note", "field_report"}
    assert o1.state() == await server_state(db, o1.p)


async def test_desk_roles_see_their_subtree(db: Database) -> None:
    w = await make_world(db)
    ids = await _busy_shift(db, w)
    disp, cmd, sid = w.device("dispatcher"), w.device("commander"), w.device("sid_dispatcher")
    for d in (disp, cmd, sid):
        d.cursor = 0
        await d.pull_all(db)
        assert d.state() == await server_state(db, d.p)
    assert ("incident", ids["inc3"]) not in disp.state() and ("unit", w.units["pb1"]) not in disp.state()
    assert ("incident", ids["inc3"]) in cmd.state() and ("incident", ids["inc1"]) in cmd.state()
    assert ("incident", ids["inc1"]) not in sid.state()


async def test_delta_pull_and_can_see_agree_for_everyone(db: Database) -> None:
    w = await make_world(db)
    await one(db, w.device("commander"), "unit.set_status", {"unit_id": w.units["pb1"], "status": "busy"}, at=T0)
    base = (await row(db, "SELECT value FROM counters WHERE name = 'change_seq'"))["value"]
    assert base > 0  # cursor 0 would mean "new device": a snapshot
    await _busy_shift(db, w)
    changes = await _all_changes(db)
    for who, p in w.principals.items():
        res = await engine.pull(db, p, base, limit=5000)
        assert not res.snapshot and not res.more
        got = [c.seq for c in res.changes]
        expected = [c.seq for c in changes if c.seq > base and can_see(p, c)]
        assert got == expected, who
        assert all(can_see(p, c) for c in res.changes)
        # the dict form (as fanned out over a socket) gives the same answer
        assert [can_see(p, {"scope_path": c.scope_path, "audience": c.audience}) for c in changes] == \
               [can_see(p, c) for c in changes]
    assert any(can_see(w.principals["officer1"], c) for c in changes)
    assert not any(can_see(w.principals["officer2"], c) and c.entity == "incident" for c in changes)


async def test_pagination_is_complete_and_ordered(db: Database) -> None:
    w = await make_world(db)
    await _busy_shift(db, w)
    cmd = w.principals["commander"]
    head = (await row(db, "SELECT value FROM counters WHERE name = 'change_seq'"))["value"]
    cursor, seen, rounds = 1, [], 0
    while True:
        res = await engine.pull(db, cmd, cursor, limit=3)
        rounds += 1
        assert len(res.changes) <= 3
        seen += [c.seq for c in res.changes]
        cursor = res.cursor
        if not res.more:
            break
    assert seen == sorted(set(seen)) and cursor == head and rounds > 2
    all_seqs = [c.seq for c in await _all_changes(db) if c.seq > 1 and can_see(cmd, c)]
    assert seen == all_seqs


async def test_pull_reports_last_seq_of_the_device(db: Database) -> None:
    w = await make_world(db)
    o1 = w.device("officer1")
    res = await engine.pull(db, o1.p, 0)
    assert res.last_seq is None
    for i in range(3):
        o1.mut("unit.set_status", {"unit_id": w.units["pa11"], "status": "busy"}, at=T0 + i)
    await o1.push(db, at=T0 + MIN)
    res = await engine.pull(db, o1.p, 1)
    assert res.last_seq == 3


async def test_reassign_evicts_old_unit_and_catches_up_new_unit(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w, assign="pa11")
    o1, o2 = w.device("officer1"), w.device("officer2")
    await one(db, o1, "incident.add_note", {"note_id": new_id(), "incident_id": inc, "body": "before"}, at=T0 + MIN)
    await o1.pull_all(db)
    await o2.pull_all(db)
    assert ("incident", inc) in o1.state() and ("incident", inc) not in o2.state()
    await one(db, w.device("dispatcher"), "assignment.reassign",
              {"assignment_id": asg, "new_assignment_id": new_id(), "unit_id": w.units["pa12"]}, at=T0 + 5 * MIN)
    await o1.pull_all(db)
    await o2.pull_all(db)
    assert ("incident", inc) not in o1.state()
    assert not any(k[0] == "note" for k in o1.state())
    assert o1.replica[("assignment", asg)]["state"] == "reassigned"  # but it sees why
    assert ("incident", inc) in o2.state() and any(k[0] == "note" for k in o2.state())
    assert o1.state() == await server_state(db, o1.p)
    assert o2.state() == await server_state(db, o2.p)
    # the desk does not receive the per-unit copies
    d = w.device("dispatcher")
    d.cursor = 1
    await d.pull_all(db)
    assert d.state() == await server_state(db, d.p)


async def test_change_data_is_an_entity_snapshot_without_secrets(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w)
    for c in await _all_changes(db):
        text = json.dumps(c.data)
        assert "password" not in text and "not-a-hash" not in text and "token" not in text
        if c.entity == "incident":
            assert isinstance(c.data["field_meta"], dict) and c.data["id"] == inc


async def test_cursor_zero_gets_a_snapshot(db: Database) -> None:
    w = await make_world(db)
    await _busy_shift(db, w)
    res = await engine.pull(db, w.principals["dispatcher"], 0)
    head = (await row(db, "SELECT value FROM counters WHERE name = 'change_seq'"))["value"]
    assert res.snapshot and res.cursor == head and not res.more
    assert {c.entity for c in res.changes} >= {"unit", "incident", "assignment", "note", "field_report"}


async def test_compaction_forces_old_cursors_to_a_snapshot(db: Database) -> None:
    w = await make_world(db)
    ids = await _busy_shift(db, w)
    o1, d = w.device("officer1"), w.device("dispatcher")
    d.cursor = o1.cursor = 1  # old clients that saw only the first change
    head = (await row(db, "SELECT value FROM counters WHERE name = 'change_seq'"))["value"]
    low = await engine.compact(db, upto_seq=head - 2)
    assert low == head - 2
    assert (await row(db, "SELECT value FROM counters WHERE name = 'change_low_water'"))["value"] == low
    assert (await row(db, "SELECT MIN(seq) AS m FROM change_log"))["m"] == low + 1
    assert (await row(db, "SELECT COUNT(*) AS n FROM change_audience WHERE seq <= $1", low))["n"] == 0
    res = await engine.pull(db, o1.p, 1)
    assert res.snapshot
    for dev in (o1, d):
        await dev.pull_all(db)
        assert dev.state() == await server_state(db, dev.p)
    # a cursor at or after the mark still gets deltas
    res = await engine.pull(db, d.p, low)
    assert not res.snapshot
    # compaction never goes backwards
    assert await engine.compact(db, upto_seq=1) == low
    # by time: everything before a time
    await one(db, w.device("officer1"), "incident.add_note",
              {"note_id": new_id(), "incident_id": ids["inc1"], "body": "x"}, at=T0 + 3 * HOUR)
    low2 = await engine.compact(db, before_ms=T0 + 2 * HOUR)
    assert low2 == head


async def test_officer_without_unit_sees_nothing(db: Database) -> None:
    w = await make_world(db)
    await _busy_shift(db, w)
    p = w.principals["officer1"]
    import msgspec
    nobody = msgspec.structs.replace(p, unit_id=None)
    res = await engine.pull(db, nobody, 1)
    assert res.changes == [] and not res.more
    assert (await engine.pull(db, nobody, 0)).changes == []
