"""Time every analytics report over the 30-day demo data set.

    python -m server.analytics.bench [--runs 7] [--scale 1 10] [--no-pg] [--no-sqlite]

Seeds a throwaway SQLite file and a throwaway PostgreSQL schema (in
``PATROL_TEST_PG_DSN``, default ``postgresql://postgres@127.0.0.1:5432/test``)
with :func:`server.seed.demo.seed_demo`, optionally multiplies the incidents
and assignments (``--scale 10`` = ten copies of every incident, shifted by a
few seconds, to look at a busier directorate), then runs each report
``--runs`` times and prints the median and the worst wall time in ms.
Everything it creates is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from server.seed.demo import DAY, seed_demo
from server.storage import connect
from server.storage.migrate import migrate
from server.storage.scratch import scratch_schema
from sync.store import Database

from .export import export_incident
from .queries import availability_timeline, demand_vs_coverage, response_times, to_csv, track
from .retention import prune_location_pings

PG_DSN = os.environ.get("PATROL_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
NOW_MS = 1_737_367_200_000  # 2025-01-20 10:00 UTC: fixed so every run sees the same data
SEED = 20241218

_INCIDENT_COLS = ("org_unit_id, source, call_received_at, type, priority, lat, lon, address, description,"
                  " hazards, caller_name, caller_phone, state, outcome, closed_at, created_by,"
                  " created_at, updated_at, version, field_meta")
_ASSIGNMENT_COLS = ("unit_id, state, is_primary, assigned_by, assigned_at, acknowledged_at, declined_at,"
                    " decline_reason, en_route_at, on_scene_at, action_at, cleared_at, ended_at,"
                    " replaced_by_unit_id, flags, version, created_at, updated_at")


async def _scale(db: Database, factor: int) -> None:
    """Add ``factor - 1`` copies of every incident and its assignments (portable SQL)."""
    async with db.transaction() as tx:
        for k in range(2, factor + 1):
            sfx, shift = f"~x{k}", k * 7_000
            await tx.execute(
                f"INSERT INTO incidents (id, number, {_INCIDENT_COLS})"
                f" SELECT id || '{sfx}', NULL, {_INCIDENT_COLS.replace('call_received_at', f'call_received_at + {shift}')}"
                " FROM incidents WHERE id NOT LIKE '%~x%'")
            cols = _ASSIGNMENT_COLS
            for c in ("assigned_at", "acknowledged_at", "declined_at", "en_route_at", "on_scene_at",
                      "action_at", "cleared_at", "ended_at"):
                cols = cols.replace(f" {c},", f" {c} + {shift},", 1)
            await tx.execute(
                f"INSERT INTO assignments (id, incident_id, {_ASSIGNMENT_COLS})"
                f" SELECT id || '{sfx}', incident_id || '{sfx}', {cols.strip()}"
                " FROM assignments WHERE id NOT LIKE '%~x%'")


async def _time(fn: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, float, Any]:
    result = await fn()  # warm-up (first statement preparation, caches)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times), result


def _size(result: Any) -> str:
    if isinstance(result, list):
        return f"{len(result)} units"
    rows = getattr(result, "rows", None)
    if rows is not None:
        return f"{len(rows)} rows, {result.total.incidents} incidents"
    if hasattr(result, "areas"):
        return f"{len(result.areas) + 1} areas x 168 h"
    if hasattr(result, "points"):
        return f"{len(result.points)} fixes, {len(result.statuses)} statuses"
    if hasattr(result, "timeline"):
        return f"{len(result.timeline)} events"
    if isinstance(result, str):
        return f"{result.count(chr(10))} lines"
    return str(result)


async def bench_database(db: Database, label: str, runs: int, scale: int) -> list[tuple[str, ...]]:
    await migrate(db)
    t0 = time.perf_counter()
    await seed_demo(db, seed=SEED, now_ms=NOW_MS)
    if scale > 1:
        await _scale(db, scale)
    seeded_s = time.perf_counter() - t0
    async with db.read() as tx:
        scope = await tx.fetchval("SELECT path FROM org_units WHERE code = 'SM'")
        n_inc = await tx.fetchval("SELECT COUNT(*) FROM incidents")
        busy_unit = await tx.fetchval(
            "SELECT unit_id FROM location_pings GROUP BY unit_id ORDER BY COUNT(*) DESC, unit_id LIMIT 1")
        some_incident = await tx.fetchval(
            "SELECT incident_id FROM assignments GROUP BY incident_id ORDER BY COUNT(*) DESC, incident_id LIMIT 1")
    start, end = NOW_MS - 30 * DAY, NOW_MS
    day_start = NOW_MS - DAY
    print(f"\n## {label} (scale {scale}: {n_inc} incidents; seeded in {seeded_s:.1f} s)", flush=True)
    cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        (f"response_times group_by={g}", (lambda g=g: response_times(db, scope, start, end, g, 15)))
        for g in ("station", "hour", "weekday", "type", "priority", "week")
    ]
    cases += [
        ("response_times P1 only", lambda: response_times(db, scope, start, end, "station", 10, [1])),
        ("availability_timeline 1 day", lambda: availability_timeline(db, scope, day_start, NOW_MS)),
        ("availability_timeline 7 days", lambda: availability_timeline(db, scope, NOW_MS - 7 * DAY, NOW_MS)),
        ("demand_vs_coverage 30 days", lambda: demand_vs_coverage(db, scope, start, end)),
        ("track busiest unit, 1 day", lambda: track(db, busy_unit, day_start, NOW_MS)),
        ("export_incident", lambda: export_incident(db, some_incident, now_ms=NOW_MS)),
    ]
    out = []
    for name, fn in cases:
        med, worst, result = await _time(fn, runs)
        out.append((label, str(scale), name, f"{med:.1f}", f"{worst:.1f}", _size(result)))
        print(f"| {name} | {med:.1f} | {worst:.1f} | {_size(result)} |", flush=True)
    rep = await response_times(db, scope, start, end, "hour", 15)

    async def csv_of_rep() -> str:
        return to_csv(rep)

    med, worst, result = await _time(csv_of_rep, runs)
    out.append((label, str(scale), "to_csv(response by hour)", f"{med:.1f}", f"{worst:.1f}", _size(result)))
    med, worst, result = await _time(lambda: prune_location_pings(db, 30, NOW_MS), runs)
    out.append((label, str(scale), "prune_location_pings (nothing due)", f"{med:.1f}", f"{worst:.1f}",
                f"{result} deleted"))
    return out


async def _sqlite(runs: int, scale: int) -> list[tuple[str, ...]]:
    with tempfile.TemporaryDirectory() as tmp:
        db = await connect(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            return await bench_database(db, "SQLite", runs, scale)
        finally:
            await db.close()


async def _pg(runs: int, scale: int) -> list[tuple[str, ...]]:
    async with scratch_schema(PG_DSN) as db:
        return await bench_database(db, "PostgreSQL", runs, scale)


async def main_async(args: argparse.Namespace) -> None:
    results: list[tuple[str, ...]] = []
    for scale in args.scale:
        if not args.no_sqlite:
            results += await _sqlite(args.runs, scale)
        if not args.no_pg:
            results += await _pg(args.runs, scale)
    print("\n| database | scale | report | median ms | worst ms | size |")
    print("| --- | --- | --- | ---: | ---: | --- |")
    for r in results:
        print("| " + " | ".join(r) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7, help="timed runs per report (after one warm-up)")
    p.add_argument("--scale", type=int, nargs="+", default=[1], help="copies of every incident")
    p.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    p.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
