from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from sync.store import Database
from tests.support.world import build_world

from .support import add_user, app_client


async def _fill(db: Database) -> None:
    await build_world(db)
    async with db.transaction() as tx:
        await add_user(tx, "commander-a", "commander", "org-a")   # station A only
        await add_user(tx, "officer-x", "officer", "org-x")       # another directorate
        await add_user(tx, "officer-gone", "officer", "org-a", active=0)
        await tx.execute(
            "INSERT INTO units (id, call_sign, kind, org_unit_id, created_at, updated_at)"
            " VALUES ('unit-a2', 'A-12', 'car', 'org-a', 0, 0)")


@pytest.fixture
async def planning(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncTestClient]:
    """The app with the small test world plus a station-A commander (both databases)."""
    async with app_client(database_url, tmp_path, _fill) as (client, _):
        yield client
