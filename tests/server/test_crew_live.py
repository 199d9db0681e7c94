"""An officer learns their unit from the server, live (issue 12.2): signed in while not on a
shift, they stayed "not on a unit's shift" after the commander planned one, even after a
reload; only signing out and in again helped."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest
import websockets

from server.clock import ManualClock
from tests.support.live import LiveServer
from sync.store import Tx
from tests.support.world import PASSWORD, new_device, prepare_world

HOUR = 3_600_000


@pytest.fixture
async def live(clock: ManualClock, database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    async def officer_without_a_shift(tx: Tx) -> None:  # of station A
        await tx.execute(
            "INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash, created_at, updated_at)"
            " SELECT 'user-officer-new', 'officer-new', 'Officer New', 'officer', 'org-a', password_hash,"
            " created_at, updated_at FROM users WHERE id = 'user-officer-a'")

    await prepare_world(database_url, officer_without_a_shift)
    # A one-second safety tick, so time passing is noticed quickly in the test.
    with LiveServer(database_url, tmp_path) as srv:
        srv.app.state.hub.safety_tick_s = 1.0
        yield srv


async def _login(srv: LiveServer, username: str) -> str:
    async with httpx.AsyncClient(base_url=srv.http, timeout=30) as h:
        r = await h.post("/api/auth/login", json={"username": username, "password": PASSWORD,
                                                   "device_id": new_device()})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


async def _frame(ws: Any, kind: str, timeout: float = 30.0) -> dict[str, Any]:
    async def loop() -> dict[str, Any]:
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame
    return await asyncio.wait_for(loop(), timeout)


async def _plan(srv: LiveServer, token: str, starts_at: int, ends_at: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=srv.http, timeout=30) as h:
        r = await h.post("/api/shifts/", headers={"Authorization": f"Bearer {token}"}, json={
            "unit_id": "unit-b", "starts_at": starts_at, "ends_at": ends_at,
            "members": [{"user_id": "user-officer-new"}]})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_shift_planned_after_sign_in_reaches_the_open_socket(clock: ManualClock, live: LiveServer) -> None:
    officer = await _login(live, "officer-new")
    commander = await _login(live, "commander")
    ws = await websockets.connect(live.ws)
    try:
        await ws.send(json.dumps({"type": "auth", "token": officer, "cursor": 0}))
        hello = await _frame(ws, "hello")
        assert hello["me"]["unit_id"] is None
        now = clock.now_ms()
        await _plan(live, commander, now - HOUR, now + 7 * HOUR)
        me = await _frame(ws, "me")
        assert me["me"]["unit_id"] == "unit-b"
    finally:
        await ws.close()
    # A new connection (a reload) says the same from the start.
    ws = await websockets.connect(live.ws)
    try:
        await ws.send(json.dumps({"type": "auth", "token": officer, "cursor": 0}))
        assert (await _frame(ws, "hello"))["me"]["unit_id"] == "unit-b"
    finally:
        await ws.close()


async def test_the_unit_arrives_when_the_shift_begins_while_connected(clock: ManualClock,
                                                                       live: LiveServer) -> None:
    officer = await _login(live, "officer-new")
    commander = await _login(live, "commander")
    now = clock.now_ms()
    await _plan(live, commander, now + 3 * HOUR, now + 11 * HOUR)  # tonight, beyond the sign-on hour
    ws = await websockets.connect(live.ws)
    try:
        await ws.send(json.dumps({"type": "auth", "token": officer, "cursor": 0}))
        assert (await _frame(ws, "hello"))["me"]["unit_id"] is None
        clock.advance(hours=2, minutes=1)  # now inside the sign-on hour before the shift
        me = await _frame(ws, "me")
        assert me["me"]["unit_id"] == "unit-b"
        clock.advance(hours=10)            # the shift and its slack are over
        me = await _frame(ws, "me")
        assert me["me"]["unit_id"] is None
    finally:
        await ws.close()
