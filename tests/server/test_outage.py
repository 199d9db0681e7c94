"""A PostgreSQL outage, played through a TCP proxy: retryable 503s, then recovery.

Seen from outside before: with connections reset or refused, pushes answered
500 `internal` with a traceback each. The driver's connection errors are the
documented "try again shortly" case (503 `storage_unavailable` with
Retry-After), and nothing is lost or applied twice across the outage.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from server.storage import connect
from sync.store import StorageUnavailable
from tests.conftest import PG_DSN, _with_search_path, drop_pg_schema, fresh_pg_database, require_pg
from tests.support.live import LiveServer
from tests.support.tcp_proxy import TcpProxy
from tests.support.world import PASSWORD, build_world, new_device


@pytest.fixture
async def pg_schema() -> Any:
    require_pg()
    db, schema = await fresh_pg_database()
    await build_world(db)
    await db.close()
    yield schema
    await drop_pg_schema(schema)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    host = PG_DSN.split("@")[-1].split("/")[0]
    name, _, port = host.partition(":")
    with TcpProxy(name or "127.0.0.1", int(port or 5432)) as p:
        yield p


async def test_the_adapter_says_unavailable_when_the_connection_is_cut(pg_schema: str, proxy: TcpProxy) -> None:
    db = await connect(_with_search_path(proxy.rewrite(PG_DSN), pg_schema))
    try:
        async with db.read() as tx:
            assert await tx.fetchval("SELECT COUNT(*) FROM users") > 0
        proxy.down()
        with pytest.raises(StorageUnavailable):
            async with db.read() as tx:
                await tx.fetchval("SELECT COUNT(*) FROM users")
        with pytest.raises(StorageUnavailable):
            async with db.transaction() as tx:
                await tx.execute("UPDATE users SET updated_at = updated_at")
        # An error of the caller's own code inside a transaction is not the driver's.
        proxy.up()
        with pytest.raises(KeyError):
            async with db.transaction() as tx:
                await tx.fetchval("SELECT 1")
                raise KeyError("mine")
        async with db.read() as tx:
            assert await tx.fetchval("SELECT COUNT(*) FROM users") > 0
    finally:
        await db.close()


def _status_mutation(device: str, seq: int, status: str) -> dict[str, Any]:
    at = int(time.time() * 1000)
    return {"v": 1, "client_id": device, "seq": seq, "name": "unit.set_status",
            "hlc": f"{at:012x}-0000-{device}", "device_at": at, "base_version": None,
            "args": {"unit_id": "unit-a", "status": status}}


async def test_requests_during_an_outage_answer_503_and_nothing_is_applied_twice(
        pg_schema: str, proxy: TcpProxy, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = _with_search_path(proxy.rewrite(PG_DSN), pg_schema)
    with LiveServer(url, tmp_path) as srv:
        async with httpx.AsyncClient(base_url=srv.http, timeout=30) as h:
            device = new_device()
            r = await h.post("/api/auth/login", json={"username": "officer-a", "password": PASSWORD,
                                                       "device_id": device})
            auth = {"Authorization": f"Bearer {r.json()['token']}"}
            caplog.clear()
            proxy.down()
            push = {"mutations": [_status_mutation(device, 1, "busy")], "device_now": int(time.time() * 1000)}
            for request in (h.post("/api/sync/push", json=push, headers=auth),
                            h.post("/api/sync/pull", json={"cursor": 0}, headers=auth),
                            h.get("/api/units", headers=auth)):
                r = await request
                assert r.status_code == 503, r.text
                assert r.json()["code"] == "storage_unavailable"
                assert int(r.headers["retry-after"]) >= 1
            errors = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
            assert not errors, [rec.getMessage() for rec in errors]

            proxy.up()
            for _ in range(2):  # the phone retries the same push; the second is a replay
                r = await h.post("/api/sync/push", json=push, headers=auth)
                assert r.status_code == 200, r.text
            assert r.json()["results"][0]["outcome"] == "applied"
            assert r.json()["results"][0].get("replay") is True

    db = await connect(_with_search_path(PG_DSN, pg_schema))
    try:
        async with db.read() as tx:
            assert await tx.fetchval("SELECT COUNT(*) FROM unit_status_events WHERE device_id = $1", device) == 1
            assert await tx.fetchval("SELECT status FROM units WHERE id = 'unit-a'") == "busy"
    finally:
        await db.close()


async def test_a_socket_during_an_outage_is_told_to_try_again_later(
        pg_schema: str, proxy: TcpProxy, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import json

    import websockets

    url = _with_search_path(proxy.rewrite(PG_DSN), pg_schema)
    with LiveServer(url, tmp_path) as srv:
        async with httpx.AsyncClient(base_url=srv.http, timeout=30) as h:
            r = await h.post("/api/auth/login", json={"username": "dispatcher", "password": PASSWORD,
                                                       "device_id": new_device()})
            token = r.json()["token"]
        caplog.clear()
        proxy.down()
        ws = await websockets.connect(srv.ws)
        await ws.send(json.dumps({"type": "auth", "token": token, "cursor": 0}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1013, "storage_unavailable")
        assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
        proxy.up()
