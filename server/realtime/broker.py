"""Fan-out between server instances.

Every instance tails the same change log; a broker only wakes the others up.
``MemoryBroker`` serves a single instance (SQLite). ``PgBroker`` uses
PostgreSQL LISTEN/NOTIFY on a dedicated connection that it re-opens after a
PostgreSQL restart; because NOTIFY stores nothing, every (re)connect is
followed by a catch-up from the change log, so nothing is lost while it was
down. Payloads are tiny (a kind and an id), far below NOTIFY's 8,000 bytes.

Litestar's channels plugin has an asyncpg backend, but as measured (see
STACK-NOTES) it publishes on a new connection per message and has no
listener reconnect; waking a tailer needs neither its history nor its
subscriptions, so this small broker is simpler and sturdier.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Protocol

log = logging.getLogger("patrol.broker")

CHANNEL = "patrol_events"
Handler = Callable[[dict[str, Any]], Awaitable[None]]


class Broker(Protocol):
    async def start(self, handler: Handler, on_reconnect: Callable[[], Awaitable[None]]) -> None: ...
    async def publish(self, message: dict[str, Any]) -> None: ...
    async def stop(self) -> None: ...


class MemoryBroker:
    """One instance: messages go straight back to this instance's handler."""

    def __init__(self) -> None:
        self._handler: Handler | None = None

    async def start(self, handler: Handler, on_reconnect: Callable[[], Awaitable[None]]) -> None:
        self._handler = handler

    async def publish(self, message: dict[str, Any]) -> None:
        if self._handler is not None:
            await self._handler(message)

    async def stop(self) -> None:
        self._handler = None


class PgBroker:
    """LISTEN/NOTIFY with a self-healing listener connection and a publish pool."""

    def __init__(self, dsn: str, instance_id: str, retry_s: float = 1.0) -> None:
        self.dsn = dsn
        self.instance_id = instance_id
        self.retry_s = retry_s
        self._handler: Handler | None = None
        self._on_reconnect: Callable[[], Awaitable[None]] | None = None
        self._listener: Any = None
        self._pool: Any = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._stopping = False
        self._handling: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()

    async def start(self, handler: Handler, on_reconnect: Callable[[], Awaitable[None]]) -> None:
        import asyncpg

        self._handler = handler
        self._on_reconnect = on_reconnect
        self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=4)
        await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="pg-broker-supervisor")

    async def _connect(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.dsn)
        conn.add_termination_listener(lambda _c: self._lost.set())
        await conn.add_listener(CHANNEL, self._on_notify)
        self._listener = conn
        self._lost.clear()
        self.connected.set()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("ignoring malformed notification %r", payload[:100])
            return
        if message.get("i") == self.instance_id or self._handler is None:
            return
        # Held until done (the loop keeps only a weak reference to a task), and its
        # outcome is always read: no "Task exception was never retrieved".
        task = asyncio.get_running_loop().create_task(self._handler(message))
        self._handling.add(task)
        task.add_done_callback(self._handled)

    def _handled(self, task: asyncio.Task[None]) -> None:
        self._handling.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("a notification handler failed: %r", task.exception())

    async def _supervise(self) -> None:
        while not self._stopping:
            await self._lost.wait()
            if self._stopping:
                return
            self.connected.clear()
            log.warning("lost the LISTEN connection to PostgreSQL; reconnecting")
            while not self._stopping:
                try:
                    await self._connect()
                except (OSError, Exception) as exc:  # server restarting: keep trying
                    log.info("PostgreSQL not back yet (%s); retrying in %.1f s", exc, self.retry_s)
                    await asyncio.sleep(self.retry_s)
                    continue
                log.info("LISTEN connection restored; catching up from the change log")
                if self._on_reconnect is not None:
                    try:
                        await self._on_reconnect()
                    except Exception as exc:  # the supervisor must outlive it; the safety tick retries
                        log.warning("catch-up after reconnecting failed: %s", exc)
                break

    async def publish(self, message: dict[str, Any]) -> None:
        payload = json.dumps({**message, "i": self.instance_id}, separators=(",", ":"))
        try:
            async with self._pool.acquire() as conn:
                await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
        except Exception as exc:  # the other instances will catch up at their next wake-up
            log.warning("could not publish a notification: %s", exc)

    async def stop(self) -> None:
        self._stopping = True
        self._lost.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self._handling):
            task.cancel()
        await asyncio.gather(*self._handling, return_exceptions=True)
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        if self._pool is not None:
            await self._pool.close()
