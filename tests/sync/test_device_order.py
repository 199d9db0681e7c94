"""Device clocks end to end: one device's events keep their device order, and
transit / queueing delays of a push do not shift its event times (issue 10, item 3).

``device_now`` of a push is read on the phone when it sends; the server reads
``server_now`` when the push reaches the engine, so every sample of
``server_now - device_now`` is the true offset plus a delay >= 0. Helpers here
send a push at true time ``sent`` that the server sees ``delay`` ms later.
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import engine
from sync.store import Database

from .factories import MIN, T0, Device, World, make_world, new_id, open_incident, row, rows

SEC = 1000


async def push(db: Database, dev: Device, muts: list[dict[str, Any]], *, sent: int,
               delay: int = 0) -> engine.PushResult:
    """Send ``muts`` at true time ``sent`` (the phone's clock reads sent + skew); the
    server sees the push ``delay`` ms later."""
    res = await engine.apply_batch(db, dev.p, muts, device_now=sent + dev.skew, server_now=sent + delay)
    dev.clock.recv(res.hlc, sent + delay + dev.skew)
    return res


def status(dev: Device, w: World, s: str, at: int, **args: Any) -> dict[str, Any]:
    return dev.mut("unit.set_status", {"unit_id": w.units["pa11"], "status": s, **args}, at=at, queue=False)


async def unit(db: Database, w: World) -> dict[str, Any]:
    r = await row(db, "SELECT status, status_at, status_hlc FROM units WHERE id = $1", w.units["pa11"])
    assert r is not None
    return r


async def events(db: Database, dev: Device) -> list[dict[str, Any]]:
    """The device's status events by event time, then HLC (the order the server sees)."""
    out = await rows(db, "SELECT status, device_at, event_at, hlc, flags FROM unit_status_events"
                         " WHERE device_id = $1 ORDER BY event_at, hlc", dev.p.device_id)
    for r in out:
        r["flags"] = json.loads(r["flags"] or "{}")
    return out


async def device_row(db: Database, dev: Device) -> dict[str, Any]:
    r = await row(db, "SELECT clock_offset_ms, clock_offset_at, last_event_seq, last_event_at FROM devices"
                      " WHERE id = $1", dev.p.device_id)
    assert r is not None
    return r


# --------------------------------------------------------------------------- the reported defect


async def test_later_status_wins_when_the_first_push_is_answered_late(db: Database) -> None:
    """busy at t, available at t + 1 s; the first push reaches the server 1.5 s late, the
    second (sent at once) on time: available is the unit's status, applied, not merged."""
    w = await make_world(db)
    o1 = w.device("officer1", clock_skew_ms=-7 * MIN)  # the phone is 7 minutes slow
    t = T0 + 10 * MIN
    r1 = (await push(db, o1, [status(o1, w, "busy", t)], sent=t, delay=1500)).results[0]
    assert r1.outcome == "applied"
    r2 = (await push(db, o1, [status(o1, w, "available", t + SEC)], sent=t + SEC)).results[0]
    assert (r2.outcome, r2.reason_code) == ("applied", None), r2
    assert r2.result is not None and r2.result["current"] is True
    # the first push's sample was the phone's first: its offset was 1.5 s too big, so busy is at
    # t + 1.5 s; available (t + 1 s on the better offset) is kept after it, and says so
    assert r2.result["event_at"] == t + 1500
    assert r2.result["flags"]["clamped"] == "device_order"
    assert r2.result["flags"]["device_at"] == t + SEC - 7 * MIN
    assert (await unit(db, w))["status"] == "available"
    evs = await events(db, o1)
    assert [e["status"] for e in evs] == ["busy", "available"]
    # the better sample is the one kept from now on
    assert (await device_row(db, o1))["clock_offset_ms"] == 7 * MIN


async def test_later_status_wins_when_sent_after_the_late_answer(db: Database) -> None:
    """Same, but the phone sends the second push only after the first was answered."""
    w = await make_world(db)
    o1 = w.device("officer1", clock_skew_ms=3 * MIN)  # 3 minutes fast
    t = T0 + 10 * MIN
    await push(db, o1, [status(o1, w, "busy", t)], sent=t, delay=1500)
    r2 = (await push(db, o1, [status(o1, w, "available", t + SEC)], sent=t + 2 * SEC)).results[0]
    assert (r2.outcome, r2.reason_code) == ("applied", None), r2
    assert (await unit(db, w))["status"] == "available"


async def test_a_late_push_does_not_shift_times_once_a_good_sample_is_known(db: Database) -> None:
    """With an on-time sample stored, a later push's 1.5 s delay is transit, not clock:
    the stored offset is kept, so busy and available get their true times, unclamped."""
    w = await make_world(db)
    o1 = w.device("officer1", clock_skew_ms=-7 * MIN)
    t = T0 + 10 * MIN
    await push(db, o1, [status(o1, w, "available", t - MIN)], sent=t - MIN)  # on time
    r1 = (await push(db, o1, [status(o1, w, "busy", t)], sent=t, delay=1500)).results[0]
    r2 = (await push(db, o1, [status(o1, w, "available", t + SEC)], sent=t + SEC)).results[0]
    assert r1.result is not None and r2.result is not None
    assert (r1.result["event_at"], r2.result["event_at"]) == (t, t + SEC)
    assert "flags" not in r1.result and "flags" not in r2.result
    assert (r2.outcome, (await unit(db, w))["status"]) == ("applied", "available")


async def test_the_state_machine_checks_against_the_devices_previous_status(db: Database) -> None:
    """Off duty, then (late push) available, then en route 1 s later: checked against
    available, the status the phone had; on the raw time it would be checked against off
    duty and refused (off duty -> en route is illegal)."""
    w = await make_world(db)
    o1 = w.device("officer1")
    t = T0 + 10 * MIN
    await push(db, o1, [status(o1, w, "off_duty", t - 5 * MIN)], sent=t - 5 * MIN)
    await push(db, o1, [status(o1, w, "available", t)], sent=t, delay=1500)
    r = (await push(db, o1, [status(o1, w, "en_route", t + SEC)], sent=t + SEC)).results[0]
    assert (r.outcome, r.reason_code) == ("applied", None), r
    assert (await unit(db, w))["status"] == "en_route"


async def test_later_status_wins_when_it_comes_with_the_resent_first_one(db: Database) -> None:
    """The answer to the late first push is lost; the phone re-sends busy with available
    in one batch, on time: busy is a replay, available is current."""
    w = await make_world(db)
    o1 = w.device("officer1", clock_skew_ms=-7 * MIN)
    t = T0 + 10 * MIN
    busy = status(o1, w, "busy", t)
    await push(db, o1, [busy], sent=t, delay=1500)
    res = await push(db, o1, [busy, status(o1, w, "available", t + SEC)], sent=t + SEC)
    assert res.results[0].replay and not res.results[1].replay
    assert (res.results[1].outcome, res.results[1].reason_code) == ("applied", None), res.results[1]
    assert (await unit(db, w))["status"] == "available"


async def test_events_of_one_batch_keep_their_order_after_a_clamp(db: Database) -> None:
    """Inside one batch: on scene is clamped up to the call time (the console's first push was
    20 s late, so the call time is 20 s late too); available, made after it, is kept after it
    instead of becoming history, and clears the assignment."""
    w = await make_world(db)
    disp = w.device("dispatcher")
    inc_id, asg_id = new_id(), new_id()
    t = T0 + 10 * MIN
    create = disp.mut("incident.create", {"incident_id": inc_id, "type": "t", "priority": 2,
                                          "address": "Glavna 1"}, at=t, queue=False)
    assign = disp.mut("assignment.create", {"assignment_id": asg_id, "incident_id": inc_id,
                                            "unit_id": w.units["pa11"]}, at=t, queue=False)
    res = await push(db, disp, [create, assign], sent=t, delay=20 * SEC)
    assert [r.outcome for r in res.results] == ["applied", "applied"]
    o1 = w.device("officer1")
    res = await push(db, o1, [status(o1, w, "on_scene", t + 5 * SEC, assignment_id=asg_id),
                              status(o1, w, "available", t + 10 * SEC, assignment_id=asg_id)],
                     sent=t + 12 * SEC)
    on_scene, available = res.results
    assert on_scene.result is not None and on_scene.result["flags"]["clamped"] == "before_call"
    assert (available.outcome, available.reason_code) == ("applied", None), available
    assert available.result is not None and available.result["flags"]["clamped"] == "device_order"
    assert available.result["event_at"] == on_scene.result["event_at"] == t + 20 * SEC
    assert (await unit(db, w))["status"] == "available"
    asg = await row(db, "SELECT state, on_scene_at, cleared_at FROM assignments WHERE id = $1", asg_id)
    assert asg == {"state": "cleared", "on_scene_at": t + 20 * SEC, "cleared_at": t + 20 * SEC}


async def test_alerts_applied_first_do_not_move_the_earlier_mutations(db: Database) -> None:
    """The alert runs first in its batch but is seq 2: busy (seq 1) keeps its own time, and
    available (seq 3) is not held back by it either."""
    w = await make_world(db)
    o1 = w.device("officer1", clock_skew_ms=2 * MIN)
    t = T0 + 10 * MIN
    alert_id = new_id()
    batch = [status(o1, w, "busy", t),
             o1.mut("alert.raise", {"alert_id": alert_id, "lat": 45.0, "lon": 19.8}, at=t + 5 * SEC, queue=False),
             status(o1, w, "available", t + 10 * SEC)]
    res = await push(db, o1, batch, sent=t + 11 * SEC)
    assert res.changes[0].entity == "alert"  # still applied first
    assert [r.result["event_at"] if "event_at" in r.result else r.result["raised_at"]
            for r in res.results if r.result is not None] == [t, t + 5 * SEC, t + 10 * SEC]
    assert all("flags" not in r.result for r in res.results if r.result is not None)
    assert (await unit(db, w))["status"] == "available"
    assert await device_row(db, o1) == {"clock_offset_ms": -2 * MIN, "clock_offset_at": t + 11 * SEC,
                                        "last_event_seq": 3, "last_event_at": t + 10 * SEC}


async def test_an_alert_applied_first_still_comes_after_the_earlier_mutations(db: Database) -> None:
    """The phone's clock was set back 30 s between busy and the alert (one batch): the alert,
    though applied first, is kept after busy, which the phone did first; busy is not moved."""
    w = await make_world(db)
    o1 = w.device("officer1")
    t = T0 + 10 * MIN
    busy = status(o1, w, "busy", t)
    o1.skew = -30 * SEC
    alert = o1.mut("alert.raise", {"alert_id": new_id()}, at=t + 5 * SEC, queue=False)
    res = await push(db, o1, [busy, alert], sent=t + 6 * SEC)
    b, a = res.results
    assert b.result is not None and a.result is not None
    assert b.result["event_at"] == t + 30 * SEC  # one offset for the batch: the new clock's
    assert "flags" not in b.result
    assert a.result["raised_at"] == t + 30 * SEC
    assert a.result["flags"]["clamped"] == "device_order"


async def test_a_rejected_mutation_does_not_hold_back_the_next_ones(db: Database) -> None:
    """A rejected mutation leaves nothing behind, not even a floor for the device's next events."""
    w = await make_world(db)
    o1 = w.device("officer1")
    t = T0 + 10 * MIN
    await push(db, o1, [status(o1, w, "off_duty", t)], sent=t)
    # off duty -> on scene is illegal (rejected); made with the clock 10 s fast for a moment
    o1.skew = 10 * SEC
    bad = status(o1, w, "on_scene", t + SEC)
    o1.skew = 0
    ok = status(o1, w, "available", t + 2 * SEC)
    res = await push(db, o1, [bad, ok], sent=t + 3 * SEC)
    assert [r.outcome for r in res.results] == ["rejected", "applied"]
    assert res.results[1].result is not None and res.results[1].result["event_at"] == t + 2 * SEC
    assert "flags" not in res.results[1].result


# --------------------------------------------------------------------------- offline events


async def test_offline_events_keep_their_offline_times(db: Database) -> None:
    """Arrived at 10:05 (offline), synced at 10:20: on_scene_at stays 10:05, even though the
    last online push before (09:50) was answered 2 s late and left a later floor behind."""
    w = await make_world(db)
    ten = T0 + 60 * MIN  # call it 10:00
    inc_id, asg_id = await open_incident(db, w, at=ten - 15 * MIN)
    o1 = w.device("officer1", clock_skew_ms=-10 * MIN)  # 10 minutes slow
    await push(db, o1, [o1.mut("assignment.acknowledge", {"assignment_id": asg_id}, at=ten - 10 * MIN,
                               queue=False)], sent=ten - 10 * MIN, delay=2 * SEC)
    en_route = status(o1, w, "en_route", ten + MIN, assignment_id=asg_id)
    on_scene = status(o1, w, "on_scene", ten + 5 * MIN, assignment_id=asg_id)
    note = o1.mut("incident.add_note", {"note_id": new_id(), "incident_id": inc_id, "body": "2 cars"},
                  at=ten + 6 * MIN, queue=False)
    res = await push(db, o1, [en_route, on_scene, note], sent=ten + 20 * MIN)
    assert [r.outcome for r in res.results] == ["applied"] * 3
    asg = await row(db, "SELECT state, acknowledged_at, en_route_at, on_scene_at, flags FROM assignments"
                        " WHERE id = $1", asg_id)
    assert asg is not None
    assert (asg["acknowledged_at"], asg["en_route_at"], asg["on_scene_at"]) == \
        (ten - 10 * MIN + 2 * SEC, ten + MIN, ten + 5 * MIN)
    flags = json.loads(asg["flags"])
    assert flags["on_scene_at"] == {"offline": True, "sync_delay_ms": 15 * MIN}
    assert flags["en_route_at"] == {"offline": True, "sync_delay_ms": 19 * MIN}
    n = await row(db, "SELECT event_at, flags FROM notes WHERE incident_id = $1", inc_id)
    assert n is not None and n["event_at"] == ten + 6 * MIN
    assert "clamped" not in json.loads(n["flags"])


async def test_offline_events_are_not_moved_by_an_earlier_online_floor(db: Database) -> None:
    """The device's floor is its last event time, never the time it synced: an offline
    batch after an online push keeps every time."""
    w = await make_world(db)
    o1 = w.device("officer1", clock_skew_ms=90 * SEC)
    t = T0 + 10 * MIN
    await push(db, o1, [status(o1, w, "busy", t)], sent=t)
    batch = [status(o1, w, s, t + (k + 1) * MIN) for k, s in enumerate(["available", "busy", "available"])]
    res = await push(db, o1, batch, sent=t + 40 * MIN)
    assert [r.result["event_at"] for r in res.results if r.result] == [t + MIN, t + 2 * MIN, t + 3 * MIN]
    assert all(r.result and r.result["flags"] == {"offline": True, "sync_delay_ms": 40 * MIN - (k + 1) * MIN}
               for k, r in enumerate(res.results))


# --------------------------------------------------------------------------- the stored estimate


async def test_the_device_row_keeps_the_lowest_recent_sample(db: Database) -> None:
    from sync.merge import CLOCK_JUMP_MS, CLOCK_REFRESH_MS

    w = await make_world(db)
    o1 = w.device("officer1", clock_skew_ms=-5 * MIN)
    t = T0 + 10 * MIN
    note_inc, _ = await open_incident(db, w, at=T0)

    def note(at: int) -> dict[str, Any]:
        return o1.mut("incident.add_note", {"note_id": new_id(), "incident_id": note_inc, "body": "x"},
                      at=at, queue=False)

    async def sent(at: int, delay: int) -> tuple[int, dict[str, Any]]:
        r = (await push(db, o1, [note(at)], sent=at, delay=delay)).results[0]
        assert r.result is not None
        return r.result["event_at"], await device_row(db, o1)

    at, dev = await sent(t, 800)                       # first sample: taken as it is
    assert at == t + 800 and dev["clock_offset_ms"] == 5 * MIN + 800 and dev["clock_offset_at"] == t + 800
    at, dev = await sent(t + MIN, 200)                 # lower: taken at once
    assert at == t + MIN + 200 and dev["clock_offset_ms"] == 5 * MIN + 200
    assert dev["clock_offset_at"] == t + MIN + 200
    at, dev = await sent(t + 2 * MIN, 3000)            # higher, within the window: transit, ignored
    assert at == t + 2 * MIN + 200 and dev["clock_offset_ms"] == 5 * MIN + 200
    assert dev["clock_offset_at"] == t + MIN + 200 and dev["last_event_at"] == t + 2 * MIN + 200
    later = t + MIN + 200 + CLOCK_REFRESH_MS          # the kept sample is now too old: refreshed
    at, dev = await sent(later, 600)
    assert at == later + 600 and dev["clock_offset_ms"] == 5 * MIN + 600 and dev["clock_offset_at"] == later + 600
    o1.skew -= 3 * MIN                                 # the officer set the phone back 3 minutes
    assert 3 * MIN > CLOCK_JUMP_MS
    at, dev = await sent(later + MIN, 600)             # higher by more than transit explains: taken
    assert at == later + MIN + 600 and dev["clock_offset_ms"] == 8 * MIN + 600


async def test_a_push_without_device_now_uses_the_stored_offset(db: Database) -> None:
    w = await make_world(db)
    o1 = w.device("officer1", clock_skew_ms=-5 * MIN)
    t = T0 + 10 * MIN
    await push(db, o1, [status(o1, w, "busy", t)], sent=t)
    m = status(o1, w, "available", t + MIN)
    res = await engine.apply_batch(db, o1.p, [m], device_now=None, server_now=t + MIN + 5 * SEC)
    assert res.results[0].result is not None and res.results[0].result["event_at"] == t + MIN
    assert (await device_row(db, o1))["clock_offset_ms"] == 5 * MIN


async def test_a_device_clock_set_back_between_two_events_keeps_device_order(db: Database) -> None:
    """The phone's clock is put back a minute (less than the jump threshold) between busy
    and available: the seq order is what the phone did, so available is kept after busy."""
    w = await make_world(db)
    o1 = w.device("officer1")
    t = T0 + 10 * MIN
    await push(db, o1, [status(o1, w, "busy", t)], sent=t)
    o1.skew = -MIN
    r = (await push(db, o1, [status(o1, w, "available", t + 10 * SEC)], sent=t + 11 * SEC)).results[0]
    assert (r.outcome, r.reason_code) == ("applied", None), r
    assert r.result is not None and r.result["event_at"] == t
    assert r.result["flags"]["clamped"] == "device_order"
    assert (await unit(db, w))["status"] == "available"
    # and in one batch, after a clock set back by an hour while offline
    o3 = w.device("officer3")
    busy = status(o3, w, "busy", t + 20 * MIN)
    o3.skew = -60 * MIN
    available = status(o3, w, "available", t + 25 * MIN)
    res = await push(db, o3, [busy, available], sent=t + 26 * MIN)
    assert [r.outcome for r in res.results] == ["applied", "applied"], res.results
    assert (await unit(db, w))["status"] == "available"


# --------------------------------------------------------------------------- property


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(skew=st.integers(-3 * 3_600_000, 3 * 3_600_000),
       gaps=st.lists(st.integers(0, 3000), min_size=2, max_size=12),
       delays=st.lists(st.one_of(st.integers(0, 3000), st.integers(0, 200_000)), min_size=1, max_size=8),
       seed=st.integers(0, 2**32))
async def test_a_devices_last_status_is_current_whatever_the_delays(
        db: Database, skew: int, gaps: list[int], delays: list[int], seed: int) -> None:
    """One phone, any clock offset, statuses 0-3 s apart, sent in random pushes (one at a
    time, each after the last was answered; some answers lost, so re-sent), each reaching
    the server after a random delay: the phone's last status is current, its events' times
    never go backwards in seq order, and none is earlier than when it happened or later
    than that plus the largest delay."""
    rnd = random.Random(seed)
    w = await make_world(db)
    o1 = w.device("officer1", clock_skew_ms=skew)
    t = T0 + 10 * MIN
    muts, true_at = [], []
    for k, gap in enumerate(gaps):
        t += gap
        muts.append(status(o1, w, "busy" if k % 2 == 0 else "available", t, event_id=new_id()))
        true_at.append(t)
    cuts = sorted({rnd.randint(1, len(muts)) for _ in delays})
    confirmed: set[int] = set()
    answered = true_at[0]
    biggest = 0
    for cut, delay in zip(cuts, delays):
        ready = [m for m in muts[:cut] if m["seq"] not in confirmed]
        if not ready:
            continue
        sent = max(answered, true_at[cut - 1])
        res = await push(db, o1, ready, sent=sent, delay=delay)
        biggest = max(biggest, delay)
        answered = sent + delay + rnd.randint(0, 500)
        if rnd.random() < 0.25:
            continue  # the answer was lost: the same mutations go again
        confirmed |= {r.seq for r in res.results if r.seq is not None}
    rest = [m for m in muts if m["seq"] not in confirmed]
    if rest:
        await push(db, o1, rest, sent=max(answered, true_at[-1]))
    by_id = {e["id"]: e for e in await rows(db, "SELECT id, status, event_at FROM unit_status_events"
                                                " WHERE device_id = $1", o1.p.device_id)}
    assert len(by_id) == len(muts)
    times = [by_id[m["args"]["event_id"]]["event_at"] for m in muts]
    assert times == sorted(times)  # seq order kept
    for k, at in enumerate(times):
        assert true_at[k] <= at <= true_at[k] + biggest, (k, at - true_at[k], biggest)
    u = await unit(db, w)
    assert (u["status"], u["status_at"]) == (muts[-1]["args"]["status"], times[-1])
    cur = await row(db, "SELECT id FROM unit_status_events WHERE unit_id = $1 ORDER BY event_at DESC, hlc DESC"
                        " LIMIT 1", w.units["pa11"])
    assert cur == {"id": muts[-1]["args"]["event_id"]}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(st.tuples(st.sampled_from(["officer1", "officer3", "dispatcher"]),
                                 st.sampled_from(["available", "busy"]), st.integers(0, 120)),
                       min_size=1, max_size=10),
       seed=st.integers(0, 2**32))
async def test_current_status_follows_each_devices_order_whatever_its_clock(
        db: Database, events: list[tuple[str, str, int]], seed: int) -> None:
    """Three devices set one unit's status at random device times (a device's clock may
    run backwards between its events); each device's pushes arrive in its seq order (the
    protocol), interleaved with the others' in any order. Every event is kept, and the
    current status is the latest by (event time, HLC), where a device's event time is
    never before its earlier events' (the device order floor)."""
    w = await make_world(db)
    u = w.units["pa11"]
    made = [(who, w.device(who).mut("unit.set_status", {"unit_id": u, "status": st_, "event_id": new_id()},
                                    at=T0 + m * MIN, queue=False)) for who, st_, m in events]
    # the model: a device's k-th event is at the latest device time of its first k
    expect: dict[str, int] = {}
    floor: dict[str, int] = {}
    for who, m in made:
        floor[who] = max(floor.get(who, m["device_at"]), m["device_at"])
        expect[m["args"]["event_id"]] = floor[who]
    # arrival: any interleaving of the devices, each device's own in seq order
    rnd = random.Random(seed)
    queues = {who: [m for d, m in made if d == who] for who, _ in made}
    k = 0
    while any(queues.values()):
        who = rnd.choice([d for d, q in queues.items() if q])
        m = queues[who].pop(0)
        res = await w.device(who).push(db, at=T0 + 3 * 3_600_000 + k, mutations=[m])
        k += 1
        assert res.results[0].outcome in ("applied", "merged"), res.results[0]
    got = {r["id"]: r["event_at"] for r in await rows(db, "SELECT id, event_at FROM unit_status_events"
                                                             " WHERE unit_id = $1", u)}
    assert got == expect
    latest = max((m for _, m in made), key=lambda m: (expect[m["args"]["event_id"]], m["hlc"]))
    unit_row = await row(db, "SELECT status, status_at, status_hlc FROM units WHERE id = $1", u)
    assert unit_row == {"status": latest["args"]["status"], "status_at": expect[latest["args"]["event_id"]],
                        "status_hlc": latest["hlc"]}
