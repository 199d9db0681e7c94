"""Time passes: sessions, sliding expiry, lockouts and shifts aged past every threshold.

Every test runs on SQLite and PostgreSQL with the server's clock (`clock`
fixture) moved by hand. The first one is the outage that no test saw: on
PostgreSQL the session touch after one idle minute failed ("inconsistent types
deduced for parameter $2"), so every request of a phone idle for a minute
answered 503, forever.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from litestar.testing import AsyncTestClient

from server.clock import ManualClock
from server.storage import connect
from tests.server.conftest import headers, sign_in
from tests.support.live import LiveServer

async def _session_row(api: AsyncTestClient, auth: dict[str, Any]) -> dict[str, Any]:
    # The app's pool lives on the test client's own loop: read through a connection of ours.
    db = await connect(api.app.state.settings.database_url)
    try:
        async with db.read() as tx:
            row = await tx.fetchrow("SELECT last_used_at, expires_at FROM sessions WHERE device_id = $1",
                                    auth["_me"]["device_id"])
    finally:
        await db.close()
    assert row is not None
    return row


def _mutation(device: str, seq: int, at: int, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"v": 1, "client_id": device, "seq": seq, "name": name, "hlc": f"{at:012x}-0000-{device}",
            "device_at": at, "base_version": None, "args": args}


async def test_a_session_idle_past_the_touch_interval_keeps_working(clock: ManualClock,
                                                                     api: AsyncTestClient) -> None:
    auth = await sign_in(api, "officer-a")
    before = await _session_row(api, auth)
    clock.advance(seconds=61)
    r = await api.get("/api/auth/me", headers=headers(auth))
    assert r.status_code == 200, r.text
    after = await _session_row(api, auth)
    assert after["last_used_at"] == clock.now_ms()
    assert after["expires_at"] > before["expires_at"], "the expiry slides with use"

    # The sync paths after the idle minute too: push, then pull.
    device = auth["_me"]["device_id"]
    clock.advance(minutes=5)
    push = await api.post("/api/sync/push", headers=headers(auth), json={
        "mutations": [_mutation(device, 1, clock.now_ms(), "unit.set_status",
                                {"unit_id": "unit-a", "status": "busy"})],
        "device_now": clock.now_ms()})
    assert push.status_code == 200, push.text
    assert push.json()["results"][0]["outcome"] == "applied", push.json()
    clock.advance(minutes=2)
    pull = await api.post("/api/sync/pull", headers=headers(auth), json={"cursor": 0})
    assert pull.status_code == 200, pull.text
    assert any(c["entity"] == "unit" and c["data"]["status"] == "busy" for c in pull.json()["changes"])


async def test_sliding_expiry_keeps_a_used_session_and_ends_an_idle_one(clock: ManualClock,
                                                                         api: AsyncTestClient) -> None:
    ttl = api.app.state.settings.session_ttl_hours
    used = await sign_in(api, "officer-a")
    idle = await sign_in(api, "dispatcher")
    # Used every ttl/2 for three ttl periods: never expires.
    for _ in range(6):
        clock.advance(hours=ttl / 2)
        r = await api.get("/api/auth/me", headers=headers(used))
        assert r.status_code == 200, r.text
    r = await api.get("/api/auth/me", headers=headers(idle))
    assert r.status_code == 401
    assert r.json()["code"] == "session_expired"
    # Exactly at the edge: one millisecond past the expiry is expired.
    row = await _session_row(api, used)
    clock.set(row["expires_at"] + 1)
    r = await api.get("/api/auth/me", headers=headers(used))
    assert r.status_code == 401 and r.json()["code"] == "session_expired"


async def test_a_lockout_ends_when_its_window_has_passed(clock: ManualClock, api: AsyncTestClient) -> None:
    window_s = api.app.state.settings.login_lockout_s
    for _ in range(3):  # PATROL_LOGIN_MAX_FAILURES=3 in the fixture
        r = await api.post("/api/auth/login", json={"username": "officer-b", "password": "wrong",
                                                     "device_id": "0b7c6f1e-8d2a-4c3b-9e5f-1a2b3c4d5e6f"})
        assert r.status_code == 401
    r = await api.post("/api/auth/login", json={"username": "officer-b", "password": "wrong",
                                                 "device_id": "0b7c6f1e-8d2a-4c3b-9e5f-1a2b3c4d5e6f"})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) <= window_s
    clock.advance(seconds=window_s - 2)
    r = await api.post("/api/auth/login", json={"username": "officer-b", "password": "wrong",
                                                 "device_id": "0b7c6f1e-8d2a-4c3b-9e5f-1a2b3c4d5e6f"})
    assert r.status_code == 429, "still inside the window"
    clock.advance(seconds=3)
    await sign_in(api, "officer-b")  # asserts 200


async def test_an_officer_leaves_the_unit_when_the_shift_and_its_slack_are_over(
        clock: ManualClock, api: AsyncTestClient) -> None:
    auth = await sign_in(api, "officer-a")
    assert auth["_me"]["unit_id"] == "unit-a"
    # The world's shift ends 7 h after its build; the sign-on/off slack is one hour.
    clock.advance(hours=7, minutes=59)
    r = await api.get("/api/auth/me", headers=headers(auth))
    assert r.json()["unit_id"] == "unit-a", "inside the slack after the shift"
    clock.advance(minutes=2)
    r = await api.get("/api/auth/me", headers=headers(auth))
    assert r.status_code == 200
    assert r.json()["unit_id"] is None


@pytest.fixture
def live_env(clock: ManualClock) -> dict[str, str]:
    # Depends on `clock`: the manual clock is installed before the server starts.
    return {}


async def test_a_websocket_signs_on_after_an_idle_minute(clock: ManualClock, live: LiveServer) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=live.http) as h:
        r = await h.post("/api/auth/login", json={"username": "dispatcher", "password": "correct horse battery",
                                                   "device_id": "5f0e8d1c-2b3a-4c5d-8e9f-0a1b2c3d4e5f"})
        token = r.json()["token"]
    clock.advance(seconds=61)
    ws = await websockets.connect(live.ws)
    try:
        await ws.send(json.dumps({"type": "auth", "token": token, "cursor": 0}))
        hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert hello["type"] == "hello", hello
        assert hello["server_now"] == clock.now_ms(), "the gateway reads the same clock"
    finally:
        await ws.close()
    clock.advance(hours=live.settings.session_ttl_hours + 1)
    ws = await websockets.connect(live.ws)
    await ws.send(json.dumps({"type": "auth", "token": token, "cursor": 0}))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "session_expired")
