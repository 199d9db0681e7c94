"""Retention prunes only old location pings, in batches, on a schedule."""

from __future__ import annotations

import asyncio

from server.analytics.retention import DAY_MS, RetentionJob, prune_location_pings
from sync.store import Database

from .dataset import load

NOW = 1_737_000_000_000


async def _pings(db: Database, ages_days: list[float]) -> None:
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO location_pings (unit_id, lat, lon, device_at, server_at) VALUES ($1, 45, 19, $2, $3)",
            # device clock deliberately wrong (far future): age is judged by server_at
            [("u-ru1", NOW + 10 * DAY_MS, NOW - int(a * DAY_MS)) for a in ages_days],
        )


async def _count(db: Database, sql: str = "SELECT COUNT(*) FROM location_pings") -> int:
    async with db.read() as tx:
        return int(await tx.fetchval(sql))


async def test_prune_deletes_only_old_pings_in_batches(db: Database) -> None:
    await load(db)
    await _pings(db, [40, 31, 30.5, 30.01, 29.99, 10, 0])
    incidents = await _count(db, "SELECT COUNT(*) FROM incidents")
    deleted = await prune_location_pings(db, 30, NOW, batch_size=2)
    assert deleted == 4
    async with db.read() as tx:
        left = [r["server_at"] for r in await tx.fetch("SELECT server_at FROM location_pings ORDER BY server_at")]
    assert left == [NOW - int(29.99 * DAY_MS), NOW - 10 * DAY_MS, NOW]
    assert await _count(db, "SELECT COUNT(*) FROM incidents") == incidents
    assert await prune_location_pings(db, 30, NOW) == 0


async def test_prune_exact_batch_multiple(db: Database) -> None:
    await load(db)
    await _pings(db, [40, 41, 42, 43])
    assert await prune_location_pings(db, 7, NOW, batch_size=2) == 4
    assert await _count(db) == 0


async def test_retention_job_runs_and_stops(db: Database) -> None:
    await load(db)
    await _pings(db, [40, 1])
    job = RetentionJob(db, days=30, interval_s=0.05, clock=lambda: NOW)
    await job.start()
    assert job.running
    for _ in range(100):
        if job.runs >= 2:
            break
        await asyncio.sleep(0.02)
    await job.stop()
    assert not job.running and job.runs >= 2 and job.last_error is None
    assert await _count(db) == 1
    await job.stop()  # idempotent
