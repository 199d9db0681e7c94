from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import load
from server.storage import connect
from server.storage.migrate import migrate
from tests.support.live import LiveServer
from tests.support.world import PASSWORD, World, build_world, new_device, prepare_world


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncTestClient]:
    """The app on a fresh database (SQLite and PostgreSQL) with the small test world."""
    dist = tmp_path / "dist"
    dist.mkdir()
    settings = load({"PATROL_DATABASE_URL": database_url, "PATROL_PWA_DIR": str(dist),
                     "PATROL_DATA_DIR": str(tmp_path / "data"), "PATROL_LOGIN_MAX_FAILURES": "3",
                     "PATROL_MAX_REQUEST_BYTES": "65536"})
    # The world is built on a connection of this test's loop: the app runs its
    # own loop (and pool) inside the test client.
    db = await connect(database_url)
    await migrate(db)
    world = await build_world(db)
    await db.close()
    async with AsyncTestClient(app=create_app(settings)) as client:
        client.world = world  # type: ignore[attr-defined]
        yield client


# device id -> the secret the server issued at its first sign-in, as the app keeps it.
DEVICE_SECRETS: dict[str, str] = {}


@pytest.fixture
def live_env() -> dict[str, str]:
    """Extra PATROL_* settings for this module's `live` server (override it in the module)."""
    return {}


@pytest.fixture
async def live(database_url: str, tmp_path: Path, live_env: dict[str, str]) -> AsyncIterator[LiveServer]:
    """A real server (uvicorn in a thread) on a fresh database with the small test world."""
    await prepare_world(database_url)
    with LiveServer(database_url, tmp_path, **live_env) as srv:
        yield srv


async def sign_in(client: AsyncTestClient, username: str, device_id: str | None = None) -> dict[str, Any]:
    device_id = device_id or new_device()
    body_in: dict[str, Any] = {"username": username, "password": PASSWORD, "device_id": device_id}
    if device_id in DEVICE_SECRETS:
        body_in["device_secret"] = DEVICE_SECRETS[device_id]
    r = await client.post("/api/auth/login", json=body_in)
    assert r.status_code == 200, r.text
    body = r.json()
    if body.get("device_secret"):
        DEVICE_SECRETS[device_id] = body["device_secret"]
    return {"Authorization": f"Bearer {body['token']}", "_me": body["me"]}


def headers(auth: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": auth["Authorization"]}


__all__ = ["World", "sign_in", "headers"]
