from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from server.analytics import queries
from sync.store import Database
from tests.analytics.dataset import DAY_END, DAY_START, WEEK_END, WEEK_START, load, t
from tests.shifts.support import add_user, app_client

DAY = 86_400_000


async def _fill(db: Database) -> dict[str, Any]:
    """The analytics hand-made dataset, people to sign in, positions; and what the
    domain functions answer on it (computed here, before the app starts)."""
    await load(db)
    now = int(time.time() * 1000)
    async with db.transaction() as tx:
        await add_user(tx, "commander", "commander", "o-sm")
        await add_user(tx, "commander-ru", "commander", "o-ru")
        await add_user(tx, "dispatcher", "dispatcher", "o-sm")
        await add_user(tx, "admin-ns", "admin", "o-ns")
        await add_user(tx, "officer-ru", "officer", "o-ru")
        # Positions stored now (kept) and one stored 40 days ago (the retention job removes it).
        await tx.executemany(
            "INSERT INTO location_pings (unit_id, lat, lon, accuracy_m, device_at, event_at, server_at)"
            " VALUES ($1, $2, $3, $4, $5, $5, $6)",
            [("u-ru1", 45.01, 19.82, 10.0, t(15, 7), now),
             ("u-ru1", 45.00, 19.80, None, t(15, 6, 45), now),
             ("u-ru1", 45.05, 19.85, 9.0, t(15, 8), now - 40 * DAY),
             ("u-ru1", 45.02, 19.83, 8.0, t(15, 16), now)])
    expected = {
        "by_station": await queries.response_times(db, "/SM/", WEEK_START, WEEK_END, "station", 15),
        "by_hour_p12": await queries.response_times(db, "/SM/", WEEK_START, WEEK_END, "hour", 10, [1, 2]),
        "ru_by_type": await queries.response_times(db, "/SM/SM-RU/", WEEK_START, WEEK_END, "type", 10),
        "availability": await queries.availability_timeline(db, "/SM/", DAY_START, DAY_END),
        "demand": await queries.demand_vs_coverage(db, "/SM/", WEEK_START, WEEK_END, 0.5),
    }
    # The track as it will be once the retention job has run.
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM location_pings WHERE server_at < $1", now - 30 * DAY)
    expected["track"] = await queries.track(db, "u-ru1", t(15, 6), t(15, 15))
    expected["track_s1"] = await queries.track_for_shift(db, "s1")
    async with db.transaction() as tx:  # put the old ping back for the job to find
        await tx.execute(
            "INSERT INTO location_pings (unit_id, lat, lon, accuracy_m, device_at, event_at, server_at)"
            " VALUES ('u-ru1', 45.05, 19.85, 9.0, $1, $1, $2)", t(15, 8), now - 40 * DAY)
    return expected


@pytest.fixture
async def reports(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[AsyncTestClient, dict[str, Any]]]:
    """The app on the hand-made analytics dataset (both databases); the target
    default comes from settings (10 min here, not the built-in 15)."""
    async with app_client(database_url, tmp_path, _fill,
                          env={"PATROL_RESPONSE_TARGET_MIN": "10"}) as (client, expected):
        yield client, expected


def builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)
