"""One transaction per pushed batch: per-mutation atomicity inside it, all-or-nothing on a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from sync import engine
from sync.mutations import Args
from sync.registry import ALL_ROLES, REGISTRY, Ctx, Outcome, Reject, mutation
from sync.store import Database, StorageError

from .factories import MIN, T0, make_world, new_id, open_incident, row, rows


class Probe(Args, kw_only=True):
    note_id: str
    incident_id: str
    fail: str  # 'none' | 'reject' | 'bug' | 'crash' (a storage failure, once)


_crashes = {"left": 0}
_gates: dict[str, Any] = {}


@pytest.fixture
def probe() -> Iterator[None]:
    """A test-only mutation that writes a note, then fails as told."""

    @mutation("test.probe", Probe, roles=ALL_ROLES, scope="org", merge="test only")
    async def run(ctx: Ctx, a: Probe) -> Outcome:
        if a.fail == "wait":  # hold the push's transaction open until the test opens the gate
            _gates["waiting"] = True
            await _gates["wait"].wait()
        await ctx.tx.execute(
            "INSERT INTO notes (id, incident_id, author_id, unit_id, device_id, body, device_at, event_at,"
            " server_at, hlc, late, flags) VALUES ($1, $2, $3, NULL, $4, 'probe', $5, $5, $5, $6, 0, '{}')",
            a.note_id, a.incident_id, ctx.principal.user_id, ctx.m.client_id, ctx.server_now, ctx.hlc)
        await ctx.tx.execute("UPDATE incidents SET description = 'probe' WHERE id = $1", a.incident_id)
        ctx.touch("note", a.note_id, incident_id=a.incident_id)
        if a.fail == "reject":
            raise Reject("probe", "Rejected after writing.")
        if a.fail == "bug":
            raise RuntimeError("a bug after writing")
        if a.fail == "crash" and _crashes["left"] > 0:
            _crashes["left"] -= 1
            raise StorageError("the disk went away")
        return Outcome("applied")

    try:
        yield
    finally:
        REGISTRY.pop("test.probe", None)
        _crashes["left"] = 0
        _gates.clear()


async def _head(db: Database) -> int:
    return int((await row(db, "SELECT value FROM counters WHERE name = 'change_seq'"))["value"])


async def _gap_free(db: Database) -> None:
    r = await row(db, "SELECT MIN(seq) AS lo, MAX(seq) AS hi, COUNT(*) AS n FROM change_log")
    assert int(r["hi"]) - int(r["lo"]) + 1 == int(r["n"]) and int(r["hi"]) == await _head(db)


def _note(dev: Any, inc: str, body: str, at: int) -> dict[str, Any]:
    return dev.mut("incident.add_note", {"note_id": new_id(), "incident_id": inc, "body": body}, at=at, queue=False)


@pytest.mark.parametrize("fail", ["reject", "bug"])
async def test_rejection_after_writes_mid_batch_leaves_nothing_and_the_rest_applies(
        db: Database, probe: None, fail: str) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w, assign=None)
    d = w.device("dispatcher")
    head = await _head(db)
    bad_note = new_id()
    batch = [_note(d, inc, "before", T0 + MIN),
             d.mut("test.probe", {"note_id": bad_note, "incident_id": inc, "fail": fail}, at=T0 + MIN, queue=False),
             _note(d, inc, "after", T0 + MIN)]
    res = await engine.apply_batch(db, d.p, batch, device_now=T0 + MIN, server_now=T0 + MIN)
    assert [r.outcome for r in res.results] == ["applied", "rejected", "applied"]
    assert res.results[1].reason_code == ("probe" if fail == "reject" else "internal")
    assert await row(db, "SELECT id FROM notes WHERE id = $1", bad_note) is None
    assert (await row(db, "SELECT description FROM incidents WHERE id = $1", inc))["description"] == "Two cars"
    assert sorted(r["body"] for r in await rows(db, "SELECT body FROM notes WHERE incident_id = $1", inc)) \
        == ["after", "before"]
    # the rejected mutation emitted no change; the others' changes are numbered without a gap
    assert [c.origin_seq for c in res.changes] == [batch[0]["seq"], batch[2]["seq"]]
    assert [c.seq for c in res.changes] == [head + 1, head + 2]
    await _gap_free(db)
    stored = await rows(db, "SELECT seq, outcome FROM applied_mutations WHERE client_id = $1 AND seq >= $2"
                            " ORDER BY seq", d.p.device_id, batch[0]["seq"])
    assert [(int(r["seq"]), r["outcome"]) for r in stored] == [
        (batch[0]["seq"], "applied"), (batch[1]["seq"], "rejected"), (batch[2]["seq"], "applied")]
    again = await engine.apply_batch(db, d.p, batch, device_now=T0 + 2 * MIN, server_now=T0 + 2 * MIN)
    assert all(r.replay for r in again.results) and again.changes == []
    assert [r.outcome for r in again.results] == ["applied", "rejected", "applied"]


async def test_constraint_failure_after_writes_mid_batch_rolls_back_that_mutation_only(db: Database) -> None:
    """A real handler: an officer's patrol incident whose assignment id is taken writes the
    incident (and takes an incident number) before the assignment insert fails."""
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    o1 = w.device("officer1")
    number = (await row(db, "SELECT value FROM counters WHERE name = 'incident_number'"))["value"]
    dup_inc = new_id()
    batch = [_note(o1, inc, "one", T0 + MIN),
             o1.mut("incident.create", {"incident_id": dup_inc, "type": "traffic_accident", "priority": 2,
                                        "source": "patrol", "assignment_id": asg, "address": "Road 1",
                                        "description": "Found on patrol"}, at=T0 + MIN, queue=False),
             _note(o1, inc, "two", T0 + MIN)]
    res = await engine.apply_batch(db, o1.p, batch, device_now=T0 + MIN, server_now=T0 + MIN)
    assert [r.outcome for r in res.results] == ["applied", "rejected", "applied"]
    assert res.results[1].reason_code == "invalid"
    assert await row(db, "SELECT id FROM incidents WHERE id = $1", dup_inc) is None
    assert (await row(db, "SELECT value FROM counters WHERE name = 'incident_number'"))["value"] == number
    assert len(await rows(db, "SELECT id FROM notes WHERE incident_id = $1", inc)) == 2
    assert all(c.entity_id != dup_inc for c in res.changes)
    await _gap_free(db)


async def test_crash_mid_batch_stores_nothing_of_it_and_loses_nothing_acknowledged(
        db: Database, probe: None) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w, assign=None)
    d = w.device("dispatcher")
    acked = [_note(d, inc, "acked 1", T0 + MIN), _note(d, inc, "acked 2", T0 + MIN)]
    first = await engine.apply_batch(db, d.p, acked, device_now=T0 + MIN, server_now=T0 + MIN)
    assert [r.outcome for r in first.results] == ["applied", "applied"]
    head = await _head(db)
    probe_note = new_id()
    batch = [_note(d, inc, "three", T0 + 2 * MIN),
             d.mut("test.probe", {"note_id": probe_note, "incident_id": inc, "fail": "crash"},
                   at=T0 + 2 * MIN, queue=False),
             _note(d, inc, "four", T0 + 2 * MIN)]
    _crashes["left"] = 1
    with pytest.raises(StorageError):
        await engine.apply_batch(db, d.p, batch, device_now=T0 + 2 * MIN, server_now=T0 + 2 * MIN)
    # nothing of the failed push, everything acknowledged before it
    assert sorted(r["body"] for r in await rows(db, "SELECT body FROM notes WHERE incident_id = $1", inc)) \
        == ["acked 1", "acked 2"]
    assert await row(db, "SELECT seq FROM applied_mutations WHERE client_id = $1 AND seq >= $2",
                     d.p.device_id, batch[0]["seq"]) is None
    assert await _head(db) == head
    # the phone sends its whole outbox again: each mutation applies exactly once
    res = await engine.apply_batch(db, d.p, acked + batch, device_now=T0 + 3 * MIN, server_now=T0 + 3 * MIN)
    assert [r.replay for r in res.results] == [True, True, False, False, False]
    assert [r.outcome for r in res.results] == ["applied"] * 5
    assert sorted(r["body"] for r in await rows(db, "SELECT body FROM notes WHERE incident_id = $1", inc)) \
        == ["acked 1", "acked 2", "four", "probe", "three"]
    await _gap_free(db)


async def test_repeated_seq_within_one_push_is_a_replay_of_the_first(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w, assign=None)
    d = w.device("dispatcher")
    n = _note(d, inc, "once", T0 + MIN)
    res = await engine.apply_batch(db, d.p, [n, n], device_now=T0 + MIN, server_now=T0 + MIN)
    a, b = res.results
    assert (a.outcome, a.replay, b.outcome, b.replay) == ("applied", False, "applied", True)
    assert b.result == a.result and b.name == a.name
    assert len(await rows(db, "SELECT id FROM notes WHERE incident_id = $1", inc)) == 1
    assert len(res.changes) == 1


async def test_concurrent_pushes_of_one_outbox_apply_each_mutation_once(db: Database) -> None:
    """A phone whose first push timed out sends it again while the server is still applying it."""
    w = await make_world(db)
    inc, _ = await open_incident(db, w, assign=None)
    d = w.device("dispatcher")
    batch = [_note(d, inc, f"n{i}", T0 + MIN) for i in range(8)]
    r1, r2, r3 = await asyncio.gather(*(engine.apply_batch(db, d.p, batch, device_now=T0 + MIN,
                                                           server_now=T0 + MIN) for _ in range(3)))
    fresh = [not r.replay for res in (r1, r2, r3) for r in res.results]
    assert sum(fresh) == len(batch)
    assert all(r.outcome == "applied" for res in (r1, r2, r3) for r in res.results)
    assert len(await rows(db, "SELECT id FROM notes WHERE incident_id = $1", inc)) == len(batch)
    assert len(r1.changes) + len(r2.changes) + len(r3.changes) == len(batch)
    assert r1.last_seq == r2.last_seq == r3.last_seq == batch[-1]["seq"]
    await _gap_free(db)


async def test_changes_of_a_batch_are_numbered_in_apply_order(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    o1 = w.device("officer1")
    head = await _head(db)
    batch = [o1.mut("assignment.acknowledge", {"assignment_id": asg}, at=T0 + MIN, queue=False),
             o1.mut("unit.set_status", {"unit_id": w.units["pa11"], "status": "en_route", "assignment_id": asg},
                    at=T0 + 2 * MIN, queue=False),
             _note(o1, inc, "on my way", T0 + 3 * MIN)]
    res = await engine.apply_batch(db, o1.p, batch, device_now=T0 + 4 * MIN, server_now=T0 + 4 * MIN)
    assert [c.seq for c in res.changes] == list(range(head + 1, head + 1 + len(res.changes)))
    origins = [c.origin_seq for c in res.changes]
    assert origins == sorted(origins) and set(origins) == {m["seq"] for m in batch}
    logged = await rows(db, "SELECT seq, origin_seq FROM change_log WHERE seq > $1 ORDER BY seq", head)
    assert [(int(r["seq"]), int(r["origin_seq"])) for r in logged] == [(c.seq, c.origin_seq) for c in res.changes]


async def test_push_rolled_back_by_the_database_is_redone(db: Database, probe: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A deadlock victim (TransientError) is run again; each mutation applies once."""
    from sync.store import TransientError

    w = await make_world(db)
    inc, _ = await open_incident(db, w, assign=None)
    d = w.device("dispatcher")
    calls = {"n": 0}
    spec = REGISTRY["incident.add_note"]

    async def flaky(ctx: Ctx, a: Any) -> Outcome:
        calls["n"] += 1
        if calls["n"] == 2:
            raise TransientError("deadlock detected")
        return await spec.fn(ctx, a)

    monkeypatch.setitem(REGISTRY, "incident.add_note", type(spec)(spec.name, spec.args, spec.roles, spec.scope,
                                                                  spec.merge_rule, flaky))
    batch = [_note(d, inc, f"n{i}", T0 + MIN) for i in range(3)]
    res = await engine.apply_batch(db, d.p, batch, device_now=T0 + MIN, server_now=T0 + MIN)
    assert [(r.outcome, r.replay) for r in res.results] == [("applied", False)] * 3
    assert calls["n"] == 5  # 2 in the rolled-back run, 3 in the one that committed
    assert len(await rows(db, "SELECT id FROM notes WHERE incident_id = $1", inc)) == 3
    assert len(res.changes) == 3
    await _gap_free(db)


async def test_unit_assigned_while_a_push_is_open_gets_its_note(db: Database, probe: None) -> None:
    """Officer A's push has written a note (audience: A's unit) and is still open when a
    dispatcher assigns unit B to the incident. B must get the note, as a catch-up copy or
    in the note's audience, whichever commit comes first."""
    w = await make_world(db)
    inc, _ = await open_incident(db, w)  # PA-11 (officer1) works on it
    a, b = w.device("officer1"), w.device("officer2")
    await b.pull_all(db)
    gate = asyncio.Event()
    _gates["wait"] = gate
    note_id = new_id()
    a_batch = [a.mut("incident.add_note", {"note_id": note_id, "incident_id": inc, "body": "suspect fled"},
                     at=T0 + MIN, queue=False),
               a.mut("test.probe", {"note_id": new_id(), "incident_id": inc, "fail": "wait"},
                     at=T0 + MIN, queue=False)]
    a_push = asyncio.create_task(engine.apply_batch(db, a.p, a_batch, device_now=T0 + MIN, server_now=T0 + MIN))
    while not _gates.get("waiting"):
        await asyncio.sleep(0.01)
    d = w.device("dispatcher")
    assign = d.mut("assignment.create", {"assignment_id": new_id(), "incident_id": inc,
                                         "unit_id": w.units["pa12"], "additional": True}, at=T0 + MIN, queue=False)
    d_push = asyncio.create_task(engine.apply_batch(db, d.p, [assign], device_now=T0 + MIN, server_now=T0 + MIN))
    await asyncio.sleep(0.3)  # the dispatcher's push runs (or waits) while A's is open
    gate.set()
    ra, rd = await asyncio.wait_for(asyncio.gather(a_push, d_push), 10)
    assert [r.outcome for r in ra.results] == ["applied", "applied"]
    assert rd.results[0].outcome == "applied"
    await b.pull_all(db)
    assert ("note", note_id) in b.replica
