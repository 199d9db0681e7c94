"""Two server instances on one PostgreSQL: LISTEN/NOTIFY fan-out, and recovery
when the listener's connection is killed (as in a PostgreSQL restart)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import AsyncIterator

import asyncpg
import pytest

from server.storage import connect
from server.storage.migrate import migrate
from tests.conftest import PG_DSN, _with_search_path, drop_pg_schema, require_pg
from tests.server.test_realtime import Client, next_change, open_socket
from tests.support.live import LiveServer
from tests.support.world import build_world


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    require_pg()
    import uuid

    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_DSN)
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()
    url = _with_search_path(PG_DSN, schema)
    db = await connect(url)
    await migrate(db)
    await build_world(db)
    await db.close()
    try:
        yield url
    finally:
        await drop_pg_schema(schema)


async def _status(officer: Client, ws: object, status: str) -> None:
    await ws.send(json.dumps({"type": "push", "mutations": [  # type: ignore[attr-defined]
        officer.mutation("unit.set_status", {"unit_id": "unit-a", "status": status})]}))


async def test_officer_on_instance_a_reaches_dispatcher_on_instance_b(pg_url: str, tmp_path: Path) -> None:
    with LiveServer(pg_url, tmp_path / "a") as a, LiveServer(pg_url, tmp_path / "b") as b:
        assert a.app.state.instance_id != b.app.state.instance_id
        officer = await Client(a, "officer-a").login()
        dispatcher = await Client(b, "dispatcher").login()
        d_ws, _, _ = await open_socket(b, dispatcher)
        o_ws, _, _ = await open_socket(a, officer)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await _status(officer, o_ws, "busy")
        frame = await next_change(d_ws, lambda c: c["entity"] == "unit" and c["data"]["status"] == "busy",
                                  timeout=2.0)
        # Woken by NOTIFY, not by the 5 s safety tick.
        assert loop.time() - started < 2.0
        assert frame["change"]["entity_id"] == "unit-a"
        await d_ws.close()
        await o_ws.close()


async def test_listener_connection_loss_is_healed(pg_url: str, tmp_path: Path) -> None:
    with LiveServer(pg_url, tmp_path / "a") as a, LiveServer(pg_url, tmp_path / "b") as b:
        officer = await Client(a, "officer-a").login()
        dispatcher = await Client(b, "dispatcher").login()
        d_ws, _, _ = await open_socket(b, dispatcher)
        o_ws, _, _ = await open_socket(a, officer)
        # Kill every LISTEN connection (what a PostgreSQL restart does to them).
        admin = await asyncpg.connect(PG_DSN)
        killed = await admin.fetchval(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()")
        await admin.close()
        assert killed >= 2
        broker = b.app.state.hub.broker
        for _ in range(100):  # the broker notices and reconnects
            if broker.connected.is_set() and broker._listener is not None and not broker._listener.is_closed():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        await _status(officer, o_ws, "busy")
        frame = await next_change(d_ws, lambda c: c["entity"] == "unit" and c["data"]["status"] == "busy",
                                  timeout=4.0)
        assert frame["change"]["entity_id"] == "unit-a"
        await d_ws.close()
        await o_ws.close()
