"""The websocket gateway over a real server: auth and close codes, catch-up,
live fan-out by scope, reconnect-and-resume without loss, malformed frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from server.storage import connect
from tests.support.live import LiveServer
from tests.support.world import PASSWORD, new_device


@pytest.fixture
def live_env() -> dict[str, str]:
    return {"PATROL_WS_MAX_FRAME_BYTES": "4096"}


class Client:
    """A signed-in device: HTTP for login/push, a websocket for live changes."""

    def __init__(self, srv: LiveServer, username: str) -> None:
        self.srv, self.username = srv, username
        self.device = new_device()
        self.seq = 0
        self.token = ""
        self.me: dict[str, Any] = {}

    async def login(self) -> "Client":
        async with httpx.AsyncClient(base_url=self.srv.http) as h:
            r = await h.post("/api/auth/login", json={"username": self.username, "password": PASSWORD,
                                                       "device_id": self.device})
        r.raise_for_status()
        self.token, self.me = r.json()["token"], r.json()["me"]
        return self

    def mutation(self, name: str, args: dict[str, Any], device_at: int | None = None) -> dict[str, Any]:
        import time

        self.seq += 1
        at = device_at or int(time.time() * 1000)
        return {"v": 1, "client_id": self.device, "seq": self.seq, "name": name,
                "hlc": f"{at:012x}-0000-{self.device}", "device_at": at, "base_version": None, "args": args}

    async def push_http(self, *mutations: dict[str, Any]) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.srv.http) as h:
            r = await h.post("/api/sync/push", json={"mutations": list(mutations)},
                             headers={"Authorization": f"Bearer {self.token}"})
        assert r.status_code == 200, r.text
        return r.json()


async def open_socket(srv: LiveServer, client: Client, cursor: int = 0) -> tuple[Any, dict[str, Any], int]:
    """Authenticate, read hello and the catch-up pages; return (ws, hello, cursor)."""
    ws = await websockets.connect(srv.ws, max_size=2**22)
    await ws.send(json.dumps({"type": "auth", "token": client.token, "cursor": cursor}))
    hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert hello["type"] == "hello"
    while True:
        page = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert page["type"] == "changes"
        cursor = page["cursor"]
        if not page["more"]:
            return ws, hello, cursor


async def next_change(ws: Any, predicate: Any, timeout: float = 3.0) -> dict[str, Any]:
    async def loop() -> dict[str, Any]:
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "change" and predicate(frame["change"]):
                return frame
    return await asyncio.wait_for(loop(), timeout)


async def expect_close(ws: Any, code: int) -> str:
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(50):
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd is not None, "no close frame"
    assert info.value.rcvd.code == code, info.value.rcvd
    return info.value.rcvd.reason


async def test_auth_failures_close_with_codes(live: LiveServer) -> None:
    ws = await websockets.connect(live.ws)
    await ws.send(json.dumps({"type": "auth", "token": "not-a-token"}))
    assert await expect_close(ws, 4401) == "invalid_token"

    ws = await websockets.connect(live.ws)
    await ws.send(json.dumps({"type": "ping"}))
    assert "first frame must be auth" in await expect_close(ws, 4401)

    officer = await Client(live, "officer-a").login()
    ws = await websockets.connect(live.ws)
    await ws.send(json.dumps({"type": "auth", "token": officer.token, "protocol": 99}))
    assert "protocol 99" in await expect_close(ws, 4426)


@pytest.mark.parametrize(("payload", "code"), [
    ("this is not json", 1007),
    (json.dumps({"type": "launch", "x": 1}), 1007),
    (json.dumps({"type": "pull", "cursor": -5}), 1007),
    ("x" * 5000, 1009),
])
async def test_malformed_and_oversized_frames_close_cleanly(live: LiveServer, payload: str, code: int) -> None:
    officer = await Client(live, "officer-a").login()
    ws, _, _ = await open_socket(live, officer)
    await ws.send(payload)
    reason = await expect_close(ws, code)
    assert reason
    # The server is unharmed: a new connection works.
    ws2, hello, _ = await open_socket(live, officer)
    assert hello["me"]["unit_id"] == "unit-a"
    await ws2.close()


async def test_status_change_reaches_dispatcher_but_not_other_station(live: LiveServer) -> None:
    officer = await Client(live, "officer-a").login()
    dispatcher = await Client(live, "dispatcher").login()
    other_officer = await Client(live, "officer-b").login()
    foreign = await Client(live, "dispatcher-x").login()
    d_ws, _, _ = await open_socket(live, dispatcher)
    b_ws, _, _ = await open_socket(live, other_officer)
    x_ws, _, _ = await open_socket(live, foreign)
    o_ws, _, _ = await open_socket(live, officer)

    await o_ws.send(json.dumps({"type": "push", "id": "r1",
                                "mutations": [officer.mutation("unit.set_status",
                                                               {"unit_id": "unit-a", "status": "busy"})]}))
    frame = await next_change(d_ws, lambda c: c["entity"] == "unit" and c["entity_id"] == "unit-a")
    assert frame["change"]["data"]["status"] == "busy"
    results = await next_frame(o_ws, "results")
    assert results["id"] == "r1" and results["results"][0]["outcome"] == "applied"
    for ws in (b_ws, x_ws):
        with pytest.raises(asyncio.TimeoutError):
            await next_change(ws, lambda c: c["entity_id"] == "unit-a", timeout=0.5)
    for ws in (d_ws, b_ws, x_ws, o_ws):
        await ws.close()


async def next_frame(ws: Any, kind: str, timeout: float = 3.0) -> dict[str, Any]:
    async def loop() -> dict[str, Any]:
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame
    return await asyncio.wait_for(loop(), timeout)


async def test_reconnect_and_resume_without_loss(live: LiveServer) -> None:
    officer = await Client(live, "officer-a").login()
    dispatcher = await Client(live, "dispatcher").login()
    await officer.push_http(officer.mutation("unit.set_status", {"unit_id": "unit-a", "status": "available"}))
    d_ws, _, cursor = await open_socket(live, dispatcher)
    assert cursor > 0
    await d_ws.close()
    # While the dispatcher is away, the officer changes status three times over HTTP.
    statuses = ["busy", "available", "busy"]
    for status in statuses:
        out = await officer.push_http(officer.mutation("unit.set_status", {"unit_id": "unit-a", "status": status}))
        assert out["results"][0]["outcome"] in ("applied", "merged"), out
    # Resuming from the old cursor delivers every status event, in order, exactly once.
    ws = await websockets.connect(live.ws)
    await ws.send(json.dumps({"type": "auth", "token": dispatcher.token, "cursor": cursor}))
    assert json.loads(await ws.recv())["type"] == "hello"
    page = json.loads(await ws.recv())
    assert page["type"] == "changes" and not page["snapshot"]
    events = [c["data"]["status"] for c in page["changes"] if c["entity"] == "unit_status_event"]
    assert events == statuses
    seqs = [c["seq"] for c in page["changes"]]
    assert seqs == sorted(set(seqs)) and min(seqs) > cursor
    await ws.close()


async def test_ping_pong_and_pull_frame(live: LiveServer) -> None:
    officer = await Client(live, "officer-a").login()
    await officer.push_http(officer.mutation("unit.set_status", {"unit_id": "unit-a", "status": "busy"}))
    ws, hello, cursor = await open_socket(live, officer)
    assert cursor > 0 and hello["head"] >= cursor
    await ws.send(json.dumps({"type": "ping", "t": 123}))
    pong = await next_frame(ws, "pong")
    assert pong["t"] == 123 and pong["server_now"] > 0
    await ws.send(json.dumps({"type": "pull", "cursor": cursor, "id": "p1"}))
    page = await next_frame(ws, "changes")
    assert page["id"] == "p1" and page["changes"] == [] and page["more"] is False
    await ws.close()


async def test_revoked_device_is_disconnected_at_once(live: LiveServer) -> None:
    officer = await Client(live, "officer-a").login()
    admin = await Client(live, "admin").login()
    ws, _, _ = await open_socket(live, officer)
    async with httpx.AsyncClient(base_url=live.http) as h:
        r = await h.post(f"/api/admin/devices/{officer.device}/revoke",
                         headers={"Authorization": f"Bearer {admin.token}"})
    assert r.status_code == 200
    assert await expect_close(ws, 4403) == "device revoked"
    ws = await websockets.connect(live.ws)
    await ws.send(json.dumps({"type": "auth", "token": officer.token}))
    assert await expect_close(ws, 4403) == "device revoked"


async def test_a_socket_that_never_authenticates_is_closed(live: LiveServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing is sent before auth, and a silent socket is closed with 4401 (the server's
    limit is 10 s; shortened here — the live server runs in this process)."""
    from server.realtime import gateway

    monkeypatch.setattr(gateway, "AUTH_TIMEOUT_S", 0.5)
    ws = await websockets.connect(live.ws)
    assert await expect_close(ws, 4401) == "authentication timeout"


async def test_revocation_from_the_cli_also_disconnects(live: LiveServer) -> None:
    """`patrol device revoke` runs in another process: the hub's sweep notices."""
    officer = await Client(live, "officer-a").login()
    ws, _, _ = await open_socket(live, officer)
    from server.auth.sessions import revoke_device
    from server.storage import connect

    db = await connect(live.settings.effective_database_url)
    assert await revoke_device(db, officer.device, None)
    await db.close()
    assert await expect_close(ws, 4403) == "device revoked"  # within the hub's 5 s sweep
