"""Sync benchmark: apply throughput and the cost of a pull after an 8-hour shift.

    python -m server.services.sync_bench [--units 20] [--rounds 12] [--only sqlite|postgresql]

For each database (a temporary SQLite file; a throwaway schema in the
PostgreSQL at PATROL_TEST_PG_DSN, default postgresql://postgres@127.0.0.1:5432/test):

1. apply throughput: ``--units`` patrol units work a busy stretch. Every
   round the dispatcher opens an incident for each unit and assigns it; each
   officer's phone then pushes one batch with a realistic mix (acknowledge,
   en route, on scene, a location batch of 10 pings, a note, a field-report
   edit, an incident edit, available) — 10 mutations per officer batch.
   Mutations/s = all mutations / wall time spent in ``apply_batch``.
2. reconnect storm (``--storm-devices`` × ``--storm-queue``, default 500 × 20):
   every phone comes back online at once with a queue of edits (acknowledge,
   en route, location batches, notes, report edits, on scene, available) and
   pushes it concurrently; then a fifth of the phones, which never saw the
   answer, push the same queue again. Mutations/s = first-wave mutations /
   wall time of the first wave. Exactly-once is verified by counting rows
   (outcomes, notes, pings, status events) and checking the change log has
   no gaps.
3. 8-hour shift: one unit works 8 incidents in 8 hours with pings every 30 s
   (pushed every 5 minutes), statuses, notes and a report each; then a phone
   that was offline since the start of the shift pulls everything (limit 500
   per page): time and bytes of the JSON it receives.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from typing import Any

import msgspec
from uuid6 import uuid7

from server.storage import connect
from server.storage.migrate import migrate
from server.storage.scratch import scratch_schema
from sync import engine
from sync.hlc import HLC
from sync.principal import Principal
from sync.store import Database

PG_DSN = os.environ.get("PATROL_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
T0 = 1_764_000_000_000
MIN = 60_000


def nid() -> str:
    return str(uuid7())


class Phone:
    def __init__(self, p: Principal) -> None:
        self.p, self.seq, self.clock = p, 0, HLC(p.device_id)

    def mut(self, name: str, args: dict[str, Any], at: int, base: int | None = None) -> dict[str, Any]:
        self.seq += 1
        return {"v": 1, "client_id": self.p.device_id, "seq": self.seq, "name": name,
                "hlc": self.clock.now(at), "device_at": at, "base_version": base, "args": args}


async def seed(db: Database, units: int) -> tuple[Principal, list[Principal]]:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO org_units (id, kind, code, name, path, created_at)"
                         " VALUES ('o-sm', 'directorate', 'SM', 'Sremska Mitrovica', '/SM/', $1)", T0)
        await tx.execute("INSERT INTO org_units (id, parent_id, kind, code, name, path, created_at)"
                         " VALUES ('o-ruma', 'o-sm', 'station', 'SM-RUMA', 'Ruma', '/SM/SM-RUMA/', $1)", T0)
        await tx.execute("INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash,"
                         " created_at, updated_at) VALUES ('u-d', 'disp', 'Dispatcher', 'dispatcher', 'o-ruma',"
                         " 'x', $1, $1)", T0)
        for i in range(units):
            await tx.execute("INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash,"
                             " created_at, updated_at) VALUES ($1, $2, $2, 'officer', 'o-ruma', 'x', $3, $3)",
                             f"u-{i}", f"officer{i}", T0)
            await tx.execute("INSERT INTO units (id, call_sign, kind, org_unit_id, status, created_at, updated_at)"
                             " VALUES ($1, $2, 'car', 'o-ruma', 'available', $3, $3)", f"unit-{i}", f"PA-{i}", T0)
    disp = Principal(user_id="u-d", role="dispatcher", org_unit_id="o-ruma", scope_path="/SM/SM-RUMA/",
                     device_id="dev-disp")
    officers = [Principal(user_id=f"u-{i}", role="officer", org_unit_id="o-ruma", scope_path="/SM/SM-RUMA/",
                          unit_id=f"unit-{i}", device_id=f"dev-{i}") for i in range(units)]
    return disp, officers


def officer_batch(ph: Phone, unit: str, inc: str, asg: str, rep: str, at: int) -> list[dict[str, Any]]:
    pings = [{"at": at + k * 30_000, "lat": 45.0 + k / 1e4, "lon": 19.8, "accuracy_m": 8.0} for k in range(10)]
    return [
        ph.mut("assignment.acknowledge", {"assignment_id": asg}, at + 1000),
        ph.mut("unit.set_status", {"unit_id": unit, "status": "en_route", "assignment_id": asg}, at + 2000),
        ph.mut("unit.report_location", {"unit_id": unit, "pings": pings}, at + 300_000),
        ph.mut("unit.set_status", {"unit_id": unit, "status": "on_scene", "assignment_id": asg}, at + 600_000),
        ph.mut("incident.add_note", {"note_id": nid(), "incident_id": inc, "body": "Arrived, two vehicles."},
               at + 660_000),
        ph.mut("incident.update", {"incident_id": inc, "hazards": "fuel on road"}, at + 700_000, base=2),
        ph.mut("report.update", {"report_id": rep, "incident_id": inc, "summary": "Minor collision",
                                 "vehicles": "NS-123-AB, SM-456-CD"}, at + 900_000),
        ph.mut("report.update", {"report_id": rep, "incident_id": inc, "actions_taken": "Traffic directed"},
               at + 1_000_000),
        ph.mut("incident.add_note", {"note_id": nid(), "incident_id": inc, "body": "Tow truck called."},
               at + 1_100_000),
        ph.mut("unit.set_status", {"unit_id": unit, "status": "available"}, at + 1_500_000),
    ]


def dispatch(dph: Phone, unit_ids: list[str], at: int, street: str
             ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """A dispatcher's push opening one incident per unit and assigning it; returns the
    mutations and the (incident, assignment) ids per unit."""
    batch: list[dict[str, Any]] = []
    plan: list[tuple[str, str]] = []
    for i, unit_id in enumerate(unit_ids):
        inc, asg = nid(), nid()
        batch.append(dph.mut("incident.create", {"incident_id": inc, "type": "traffic", "priority": 2,
                                                 "address": f"{street} {i}", "description": "Call"}, at))
        batch.append(dph.mut("assignment.create", {"assignment_id": asg, "incident_id": inc,
                                                   "unit_id": unit_id}, at + 500))
        plan.append((inc, asg))
    return batch, plan


async def throughput(db: Database, units: int, rounds: int) -> dict[str, float]:
    disp, officers = await seed(db, units)
    dph = Phone(disp)
    phones = [Phone(p) for p in officers]
    n_mut = 0
    spent = 0.0
    for r in range(rounds):
        at = T0 + r * 40 * MIN
        batch, plan = dispatch(dph, [f"unit-{i}" for i in range(units)], at, "Street")
        t = time.perf_counter()
        res = await engine.apply_batch(db, disp, batch, device_now=at + 1000, server_now=at + 1000)
        spent += time.perf_counter() - t
        n_mut += len(batch)
        bad = [x for x in res.results if x.outcome == "rejected"]
        assert not bad, bad[:2]
        for i, ph in enumerate(phones):
            inc, asg = plan[i]
            b = officer_batch(ph, f"unit-{i}", inc, asg, nid(), at + 1000)
            t = time.perf_counter()
            res = await engine.apply_batch(db, ph.p, b, device_now=at + 1_600_000, server_now=at + 1_600_000)
            spent += time.perf_counter() - t
            n_mut += len(b)
            bad = [x for x in res.results if x.outcome == "rejected"]
            assert not bad, bad[:2]
    return {"mutations": n_mut, "seconds": spent, "per_s": n_mut / spent}


def storm_queue(ph: Phone, unit: str, inc: str, asg: str, rep: str, at: int, n: int) -> list[dict[str, Any]]:
    """``n`` queued edits of one phone that was offline while working an incident."""
    q = [ph.mut("assignment.acknowledge", {"assignment_id": asg}, at + 1000),
         ph.mut("unit.set_status", {"unit_id": unit, "status": "en_route", "assignment_id": asg}, at + 2000),
         ph.mut("unit.set_status", {"unit_id": unit, "status": "on_scene", "assignment_id": asg}, at + 600_000)]
    k = 0
    while len(q) < n - 1:
        t = at + 610_000 + k * 60_000
        kind = k % 4
        if kind == 0:
            pings = [{"at": t + j * 5000, "lat": 45.0 + j / 1e4, "lon": 19.8} for j in range(6)]
            q.append(ph.mut("unit.report_location", {"unit_id": unit, "pings": pings}, t))
        elif kind == 1:
            q.append(ph.mut("incident.add_note", {"note_id": nid(), "incident_id": inc,
                                                  "body": f"Queued note {k}"}, t))
        elif kind == 2:
            q.append(ph.mut("report.update", {"report_id": rep, "incident_id": inc,
                                              "summary": f"Summary v{k}"}, t))
        else:
            q.append(ph.mut("incident.update", {"incident_id": inc, "hazards": f"hazard {k}"}, t))
        k += 1
    q.append(ph.mut("unit.set_status", {"unit_id": unit, "status": "available"}, at + 3_000_000))
    return q[:n]


async def storm(db: Database, devices: int, queue: int) -> dict[str, Any]:
    """Reconnect storm: ``devices`` phones push ``queue`` queued mutations each, all at once."""
    async with db.transaction() as tx:
        await tx.executemany("INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash,"
                             " created_at, updated_at) VALUES ($1, $2, $2, 'officer', 'o-ruma', 'x', $3, $3)",
                             [(f"su-{i}", f"storm{i}", T0) for i in range(devices)])
        await tx.executemany("INSERT INTO units (id, call_sign, kind, org_unit_id, status, created_at, updated_at)"
                             " VALUES ($1, $2, 'car', 'o-ruma', 'available', $3, $3)",
                             [(f"sunit-{i}", f"ST-{i}", T0) for i in range(devices)])
    disp = Principal(user_id="u-d", role="dispatcher", org_unit_id="o-ruma", scope_path="/SM/SM-RUMA/",
                     device_id="dev-storm-disp")
    dph = Phone(disp)
    at = T0 + 400 * 60 * MIN
    plan = []
    for lo in range(0, devices, 100):
        batch, part = dispatch(dph, [f"sunit-{i}" for i in range(lo, min(devices, lo + 100))], at, "Storm")
        plan += part
        res = await engine.apply_batch(db, disp, batch, device_now=at + 1000, server_now=at + 1000)
        assert all(r.outcome != "rejected" for r in res.results), [r for r in res.results if r.outcome == "rejected"][:2]
    phones = [Phone(Principal(user_id=f"su-{i}", role="officer", org_unit_id="o-ruma",
                              scope_path="/SM/SM-RUMA/", unit_id=f"sunit-{i}", device_id=f"sdev-{i}"))
              for i in range(devices)]
    queues = [storm_queue(ph, f"sunit-{i}", plan[i][0], plan[i][1], nid(), at + 1000, queue)
              for i, ph in enumerate(phones)]
    async with db.read() as tx:
        seq0 = int(await tx.fetchval("SELECT value FROM counters WHERE name = 'change_seq'"))
    now = at + 4_000_000

    async def push(i: int) -> engine.PushResult:
        return await engine.apply_batch(db, phones[i].p, queues[i], device_now=now, server_now=now)

    t = time.perf_counter()
    first = await asyncio.gather(*(push(i) for i in range(devices)))
    wave1 = time.perf_counter() - t
    again = list(range(0, devices, 5))
    t = time.perf_counter()
    second = await asyncio.gather(*(push(i) for i in again))
    wave2 = time.perf_counter() - t
    # exactly once: every mutation has one stored outcome, the re-send changed nothing
    n = devices * queue
    assert sum(len(r.results) for r in first) == n
    assert all(not x.replay and x.outcome != "rejected" for r in first for x in r.results), \
        [x for r in first for x in r.results if x.outcome == "rejected"][:3]
    assert all(x.replay for r in second for x in r.results) and all(not r.changes for r in second)
    for i, r in zip(again, second):
        assert [x.outcome for x in r.results] == [x.outcome for x in first[i].results]
    notes = sum(1 for q in queues for m in q if m["name"] == "incident.add_note")
    pings = sum(len(m["args"]["pings"]) for q in queues for m in q if m["name"] == "unit.report_location")
    statuses = sum(1 for q in queues for m in q if m["name"] == "unit.set_status")
    async with db.read() as tx:
        got_m = await tx.fetchval("SELECT COUNT(*) FROM applied_mutations WHERE client_id LIKE 'sdev-%'")
        got_n = await tx.fetchval("SELECT COUNT(*) FROM notes WHERE device_id LIKE 'sdev-%'")
        got_p = await tx.fetchval("SELECT COUNT(*) FROM location_pings WHERE device_id LIKE 'sdev-%'")
        got_s = await tx.fetchval("SELECT COUNT(*) FROM unit_status_events WHERE device_id LIKE 'sdev-%'")
        lo, hi, cnt = (await tx.fetchrow("SELECT MIN(seq) AS lo, MAX(seq) AS hi, COUNT(*) AS n FROM change_log"
                                         " WHERE seq > $1", seq0)).values()
    assert (int(got_m), int(got_n), int(got_p), int(got_s)) == (n, notes, pings, statuses), \
        (got_m, n, got_n, notes, got_p, pings, got_s, statuses)
    assert int(lo) == seq0 + 1 and int(hi) - int(lo) + 1 == int(cnt) == sum(len(r.changes) for r in first)
    return {"storm_mutations": n, "storm_s": wave1, "storm_per_s": n / wave1, "storm_resend": len(again) * queue,
            "storm_resend_s": wave2, "storm_changes": int(cnt)}


async def shift_pull(db: Database) -> dict[str, float]:
    """One unit's 8-hour shift, then a pull from the shift's start."""
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO units (id, call_sign, kind, org_unit_id, status, created_at, updated_at)"
                         " VALUES ('unit-shift', 'PA-99', 'car', 'o-ruma', 'off_duty', $1, $1)", T0)
        await tx.execute("INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash,"
                         " created_at, updated_at) VALUES ('u-shift', 'shift', 'Shift', 'officer', 'o-ruma',"
                         " 'x', $1, $1)", T0)
    p = Principal(user_id="u-shift", role="officer", org_unit_id="o-ruma", scope_path="/SM/SM-RUMA/",
                  unit_id="unit-shift", device_id="dev-shift")
    disp = Principal(user_id="u-d", role="dispatcher", org_unit_id="o-ruma", scope_path="/SM/SM-RUMA/",
                     device_id="dev-disp-2")
    async with db.read() as tx:
        start_cursor = int(await tx.fetchval("SELECT value FROM counters WHERE name = 'change_seq'"))
    ph, dph = Phone(p), Phone(disp)
    start = T0 + 100 * 60 * MIN
    n_mut = 0
    await engine.apply_batch(db, p, [ph.mut("unit.set_status", {"unit_id": "unit-shift", "status": "available"},
                                            start)], device_now=start, server_now=start)
    for h in range(8):
        at = start + h * 60 * MIN
        inc, asg, rep = nid(), nid(), nid()
        await engine.apply_batch(db, disp, [
            dph.mut("incident.create", {"incident_id": inc, "type": "traffic", "priority": 2,
                                        "address": f"Road {h}", "description": "Call"}, at),
            dph.mut("assignment.create", {"assignment_id": asg, "incident_id": inc, "unit_id": "unit-shift"},
                    at + 500)], device_now=at + 1000, server_now=at + 1000)
        batch = officer_batch(ph, "unit-shift", inc, asg, rep, at + 1000)
        # the rest of the hour: pings every 30 s, pushed every 5 minutes
        for k in range(6, 12):
            t5 = at + k * 5 * MIN
            pings = [{"at": t5 + j * 30_000, "lat": 45.0, "lon": 19.8 + j / 1e4} for j in range(10)]
            batch.append(ph.mut("unit.report_location", {"unit_id": "unit-shift", "pings": pings}, t5))
        res = await engine.apply_batch(db, p, batch, device_now=at + 59 * MIN, server_now=at + 59 * MIN)
        n_mut += len(batch) + 2
        assert all(r.outcome != "rejected" for r in res.results), [r for r in res.results if r.outcome == "rejected"]
    enc = msgspec.json.Encoder()
    t = time.perf_counter()
    cursor, pages, nbytes, nchanges = start_cursor, 0, 0, 0
    while True:
        res = await engine.pull(db, p, cursor, 500)
        pages += 1
        nbytes += len(enc.encode(res))
        nchanges += len(res.changes)
        cursor = res.cursor
        if not res.more:
            break
    pull_s = time.perf_counter() - t
    t = time.perf_counter()
    snap = await engine.pull(db, p, 0, 500)
    snap_s = time.perf_counter() - t
    return {"shift_mutations": n_mut, "pull_ms": pull_s * 1000, "pull_bytes": nbytes, "pull_changes": nchanges,
            "pull_pages": pages, "snapshot_ms": snap_s * 1000, "snapshot_bytes": len(enc.encode(snap)),
            "snapshot_entities": len(snap.changes)}


async def run_one(kind: str, units: int, rounds: int, storm_devices: int = 0,
                  storm_queue_len: int = 20) -> dict[str, Any]:
    async def measure(db: Database) -> dict[str, Any]:
        await migrate(db)
        tp = await throughput(db, units, rounds)
        sp = await shift_pull(db)
        st = await storm(db, storm_devices, storm_queue_len) if storm_devices else {}
        return {**tp, **sp, **st}

    if kind == "postgresql":
        async with scratch_schema(PG_DSN) as db:
            return await measure(db)
    tmpdir = tempfile.mkdtemp(prefix="patrol-bench-")
    db = await connect(f"sqlite:///{tmpdir}/bench.db")
    try:
        return await measure(db)
    finally:
        await db.close()
        shutil.rmtree(tmpdir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    ap.add_argument("--storm-devices", type=int, default=500, help="0 skips the reconnect storm")
    ap.add_argument("--storm-queue", type=int, default=20)
    a = ap.parse_args()
    engine.reset_clock("bench")
    for kind in ([a.only] if a.only else ["sqlite", "postgresql"]):
        try:
            r = asyncio.run(run_one(kind, a.units, a.rounds, a.storm_devices, a.storm_queue))
        except Exception as exc:  # e.g. PostgreSQL not reachable
            print(f"{kind:10s}  skipped: {exc!r}")
            continue
        print(f"{kind:10s}  apply: {r['mutations']} mutations in {r['seconds']:.2f} s = "
              f"{r['per_s']:,.0f} mutations/s")
        print(f"{'':10s}  8-hour shift of one unit ({r['shift_mutations']} mutations): pull from shift start "
              f"{r['pull_changes']} changes in {r['pull_pages']} page(s), {r['pull_ms']:.1f} ms, "
              f"{r['pull_bytes']:,} bytes JSON; snapshot {r['snapshot_entities']} entities, "
              f"{r['snapshot_ms']:.1f} ms, {r['snapshot_bytes']:,} bytes")
        if "storm_mutations" in r:
            print(f"{'':10s}  reconnect storm: {a.storm_devices} phones x {a.storm_queue} queued = "
                  f"{r['storm_mutations']} mutations in {r['storm_s']:.2f} s = {r['storm_per_s']:,.0f} mutations/s; "
                  f"re-send of {r['storm_resend']} in {r['storm_resend_s']:.2f} s, all replays; "
                  f"exactly once verified ({r['storm_changes']} changes, no gaps)")


if __name__ == "__main__":
    main()
