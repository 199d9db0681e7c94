"""Start the app on a database that a callback fills first (SQLite and PostgreSQL).

The app runs its own event loop inside the test client, so extra data is
written through a separate connection of the test's loop *before* the client
starts, as ``tests/server/conftest.py`` does.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth.passwords import hash_password
from server.settings import load
from server.storage import connect
from server.storage.migrate import migrate
from sync.store import Database, Tx
from tests.support.world import PASSWORD, new_device

_HASH = hash_password(PASSWORD)


@contextlib.asynccontextmanager
async def app_client(database_url: str, tmp_path: Path, fill: Callable[[Database], Awaitable[Any]],
                     env: dict[str, str] | None = None) -> AsyncIterator[tuple[AsyncTestClient, Any]]:
    dist = tmp_path / "dist"
    dist.mkdir(exist_ok=True)
    settings = load({"PATROL_DATABASE_URL": database_url, "PATROL_PWA_DIR": str(dist),
                     "PATROL_DATA_DIR": str(tmp_path / "data"), **(env or {})})
    db = await connect(database_url)
    await migrate(db)
    try:
        extra = await fill(db)
    finally:
        await db.close()
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client, extra


async def add_user(tx: Tx, user_id: str, role: str, org_unit_id: str, *, active: int = 1,
                   full_name: str | None = None) -> None:
    await tx.execute(
        "INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash, active, created_at,"
        " updated_at) VALUES ($1, $1, $2, $3, $4, $5, $6, 0, 0)",
        user_id, full_name or user_id.replace("-", " ").title(), role, org_unit_id, _HASH, active)


async def sign_in(client: AsyncTestClient, username: str) -> dict[str, str]:
    r = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD,
                                                    "device_id": new_device()})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}
