"""``/ws``: one socket carries mutations up and changes down, plus live events.

Authentication happens in the first frame (never in the URL, so tokens stay
out of access logs and browser history). See :mod:`server.realtime.frames`
for the frames and close codes, :mod:`server.realtime.connection` for the
state machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from server.auth.sessions import AuthError, authenticate
from server.clock import now_ms
from server.realtime import frames
from server.realtime.connection import Connection, State
from server.realtime.frames import Auth, FrameError, Ping, Pull, Push
from server.realtime.hub import Hub
from server.services.sync_service import SyncService
from server.settings import Settings
from sync.store import Database, StorageUnavailable, TransientError

log = logging.getLogger("patrol.ws")
AUTH_TIMEOUT_S = 10.0
# How long a socket trusts its resolved principal before re-reading it (the shift, and
# so the unit, can change). Revocation does not wait for this: the hub closes the socket.
PRINCIPAL_TTL_S = 60.0


class Closing(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close reason must fit in 123 bytes


async def _receive(socket: WebSocket[Any, Any, Any], max_bytes: int) -> frames.ClientFrame:
    message = await socket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(detail="client went away", code=message.get("code", 1000))
    data = message.get("text") if message.get("text") is not None else message.get("bytes")
    if data is None:
        raise Closing(frames.CLOSE_INVALID, "empty frame")
    if len(data) > max_bytes:
        raise Closing(frames.CLOSE_TOO_BIG, f"frame larger than {max_bytes} bytes")
    try:
        return frames.decode(data)
    except FrameError as exc:
        raise Closing(frames.CLOSE_INVALID, f"invalid frame: {exc}") from None


def _auth_close(exc: AuthError) -> Closing:
    if exc.code == "device_revoked":
        return Closing(frames.CLOSE_REVOKED, "device revoked")
    return Closing(frames.CLOSE_UNAUTHORIZED, exc.code)


async def _writer(socket: WebSocket[Any, Any, Any], conn: Connection) -> None:
    while True:
        frame = await conn.queue.get()
        await socket.send_data(frames.encode(frame), mode="text")


async def _serve(socket: WebSocket[Any, Any, Any], conn: Connection, hub: Hub, db: Database,
                 settings: Settings, service: SyncService) -> None:
    conn.to(State.AUTHENTICATING)
    try:
        first = await asyncio.wait_for(_receive(socket, settings.ws_max_frame_bytes), AUTH_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise Closing(frames.CLOSE_UNAUTHORIZED, "authentication timeout") from None
    if not isinstance(first, Auth):
        raise Closing(frames.CLOSE_UNAUTHORIZED, "the first frame must be auth")
    if first.protocol not in service.supported_protocols:
        raise Closing(frames.CLOSE_PROTOCOL, f"protocol {first.protocol} not supported: update the app")
    token = first.token
    try:
        principal, _session = await authenticate(db, token, settings)
    except AuthError as exc:
        raise _auth_close(exc) from None
    conn.principal, conn.device_id = principal, principal.device_id
    hub.route(conn)
    loop = asyncio.get_running_loop()
    resolved_at = loop.time()
    conn.to(State.CATCHING_UP)
    # `head`: the newest change-log sequence this instance has seen, so a client that
    # read state over REST can tell how far behind its cursor is.
    conn.reply({"type": "hello", "protocol": frames.PROTOCOL, "server_now": now_ms(), "head": hub.watermark,
                "me": msgspec.to_builtins(principal)})
    await conn.catch_up(service, first.cursor)

    while True:
        frame = await _receive(socket, settings.ws_max_frame_bytes)
        if isinstance(frame, Ping):
            conn.reply({"type": "pong", "t": frame.t, "server_now": now_ms()})
        elif isinstance(frame, Pull):
            page = await service.pull(conn.principal, frame.cursor, frame.limit)
            conn.reply({"type": "changes", "id": frame.id, **page}, barrier=True)
        elif isinstance(frame, Push):
            if loop.time() - resolved_at > PRINCIPAL_TTL_S:
                try:
                    fresh, _session = await authenticate(db, token, settings)
                except AuthError as exc:
                    raise _auth_close(exc) from None
                if fresh != conn.principal:
                    conn.principal_changed(fresh)
                hub.route(conn)
                resolved_at = loop.time()
            result = await service.push(conn.principal, frame.mutations, frame.device_now)
            conn.reply({"type": "results", "id": frame.id, **result})
        elif isinstance(frame, Auth):
            raise Closing(frames.CLOSE_INVALID, "already authenticated")


@websocket("/ws", name="gateway")
async def gateway(socket: WebSocket[Any, Any, Any]) -> None:
    state = socket.app.state
    hub: Hub = state.hub
    settings: Settings = state.settings
    service: SyncService = state.sync_service
    conn = Connection(settings.ws_queue_size)
    hub.add(conn)  # before accept: nothing committed from now on can be missed
    writer: asyncio.Task[None] | None = None
    others: list[asyncio.Task[Any]] = []
    try:
        await socket.accept()
        writer = asyncio.create_task(_writer(socket, conn))
        serve = asyncio.create_task(_serve(socket, conn, hub, state.db, settings, service))
        # Catches up again whenever the connection falls behind (see connection.py).
        keep_up = asyncio.create_task(conn.keep_up(service))
        overflow = asyncio.create_task(conn.overflowed.wait())
        revoked = asyncio.create_task(conn.revoked.wait())
        others = [serve, keep_up, overflow, revoked]
        done, _ = await asyncio.wait({writer, *others}, return_when=asyncio.FIRST_COMPLETED)
        for task in others:
            if task not in done:
                task.cancel()
        # The events, not `done`: a task that ended because of one may finish first.
        if conn.revoked.is_set():
            raise Closing(frames.CLOSE_REVOKED, "device revoked")
        if conn.overflowed.is_set():
            raise Closing(frames.CLOSE_TOO_SLOW, "too slow: reconnect and resume from your cursor")
        for task in (serve, keep_up):
            if task in done:
                task.result()  # re-raise Closing / disconnects / failures
    except Closing as exc:
        # Closed first: nothing is queued behind the frames already waiting
        # (after a 4429, nothing newer than what did not fit).
        if conn.state is not State.CLOSED:
            conn.to(State.CLOSED)
        await _drain(conn, writer)
        with contextlib.suppress(Exception):
            await socket.close(code=exc.code, reason=exc.reason)
    except WebSocketDisconnect:
        pass
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await socket.close(code=frames.CLOSE_GOING_AWAY, reason="server shutting down")
        raise
    except (StorageUnavailable, TransientError) as exc:
        # The database is down or busy: "try again later", not a server bug (no traceback);
        # the app reconnects with backoff and resumes from its cursor.
        log.warning("websocket closed, storage unavailable (device %s): %s", conn.device_id, exc)
        with contextlib.suppress(Exception):
            await socket.close(code=frames.CLOSE_TRY_AGAIN, reason="storage_unavailable")
    except Exception:
        log.exception("websocket handler failed (device %s)", conn.device_id)
        with contextlib.suppress(Exception):
            await socket.close(code=1011, reason="internal error")
    finally:
        hub.remove(conn)
        if conn.state is not State.CLOSED:
            conn.to(State.CLOSED)
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)


async def _drain(conn: Connection, writer: asyncio.Task[None] | None, timeout: float = 1.0) -> None:
    """Give queued replies a moment to leave before the close frame."""
    if writer is None or writer.done():
        return
    deadline = asyncio.get_running_loop().time() + timeout
    while len(conn.queue) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
