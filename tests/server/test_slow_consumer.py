"""Slow consumers never skip a change (issue 10): a connection whose queue fills
falls back to catching up from the change log instead of dropping and carrying
on; one hub page fits a healthy socket; a storage outage under the broker's
callback is logged once and retried, never left as an unretrieved task.

On SQLite and PostgreSQL wherever the change log is involved."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import websockets

from server.realtime import connection as connection_mod
from server.realtime import hub as hub_mod
from server.realtime.broker import CHANNEL, MemoryBroker, PgBroker
from server.realtime.connection import Connection, State
from server.realtime.hub import Hub
from server.realtime.queue import OutQueue
from server.services.sync_service import SyncService
from server.settings import SettingsError, load
from server.storage import connect
from server.storage.migrate import migrate
from sync import engine
from sync.principal import Principal
from sync.store import Database, StorageUnavailable
from tests.server.test_realtime import Client
from tests.support.live import LiveServer
from tests.support.world import World, build_world

WAIT_S = 60.0  # generous: a loaded two-core machine


def desk(world: World) -> Principal:
    return Principal(user_id=world.users["dispatcher"], role="dispatcher", org_unit_id="org-sm",
                     scope_path="/SM/", device_id=str(uuid.uuid4()))


class Pusher:
    """Mutations as one desk device, through the sync service (so the hub is woken) or not."""

    def __init__(self, principal: Principal) -> None:
        self.p = principal
        self.seq = 0

    def mutation(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        at = int(time.time() * 1000)
        return {"v": 1, "client_id": self.p.device_id, "seq": self.seq, "name": name,
                "hlc": f"{at:012x}-{self.seq % 0xFFFF:04x}-{self.p.device_id}", "device_at": at,
                "base_version": None, "args": args}

    def incident(self, **extra: Any) -> dict[str, Any]:
        return self.mutation("incident.create", {"incident_id": str(uuid.uuid4()), "org_unit_id": "org-a",
                                                 "type": "theft", "priority": 2, "lat": 44.98, "lon": 19.61,
                                                 **extra})

    async def apply(self, db: Database, *mutations: dict[str, Any]) -> None:
        res = await engine.apply_batch(db, self.p, list(mutations), int(time.time() * 1000))
        assert all(r.outcome in ("applied", "merged") for r in res.results), res.results


async def desk_seqs(db: Database, after: int) -> list[int]:
    """Every change a /SM/ desk sees after `after`, units excepted (they may be coalesced)."""
    async with db.read() as tx:
        rows = await tx.fetch("SELECT seq FROM change_log WHERE seq > $1 AND substr(scope_path, 1, 4) = '/SM/'"
                              " AND entity <> 'unit' ORDER BY seq", after)
    return [int(r["seq"]) for r in rows]


async def log_head(db: Database) -> int:
    async with db.read() as tx:
        return int(await tx.fetchval("SELECT COALESCE(MAX(seq), 0) FROM change_log"))


def live_connection(hub: Hub, principal: Principal, queue_size: int, cursor: int) -> Connection:
    """A connection in `live` from `cursor`, as the gateway leaves it after the first catch-up."""
    conn = Connection(queue_size)
    hub.add(conn)
    conn.to(State.AUTHENTICATING)
    conn.principal, conn.device_id = principal, principal.device_id
    hub.route(conn)
    conn.to(State.CATCHING_UP)
    conn.go_live(cursor)
    return conn


class Received:
    """What a client made of the frames: the change seqs in arrival order, and its cursor."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.units: list[int] = []
        self.cursor = 0
        self.kinds: list[str] = []

    def take(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "change":
            changes = [frame["change"]]
        elif frame["type"] == "changes":
            assert not frame["snapshot"]
            changes = frame["changes"]
        else:
            return
        self.kinds.append(frame["type"])
        for ch in changes:
            # Never anything at or below the cursor the client already holds (exactly once),
            # except a coalesced unit snapshot, which keeps its older frame's cursor.
            if ch["entity"] == "unit":
                self.units.append(ch["seq"])
            else:
                assert ch["seq"] > self.cursor, (ch["seq"], self.cursor)
                self.seqs.append(ch["seq"])
        assert frame["cursor"] >= self.cursor  # the cursor only moves forward
        self.cursor = frame["cursor"]

    @property
    def resynced(self) -> bool:
        """A `changes` page after a live `change` frame: the connection caught up from the log."""
        return "changes" in self.kinds[self.kinds.index("change"):] if "change" in self.kinds else False


async def read_until(conn: Connection, head: int, got: Received) -> None:
    async def loop() -> None:
        while got.cursor < head:
            got.take(await conn.queue.get())
    await asyncio.wait_for(loop(), WAIT_S)


# --------------------------------------------------------------------------- queue


async def test_a_changes_page_is_a_coalescing_barrier() -> None:
    """A newer unit snapshot never jumps in front of a page that carries an older one."""
    q = OutQueue(10)
    q.put({"type": "change", "cursor": 1, "change": {"v": 1}}, ("unit", "u"))
    q.put({"type": "change", "cursor": 2, "change": {"v": 2}}, ("unit", "u"))  # coalesced: fine
    q.put({"type": "changes", "cursor": 5, "changes": []}, barrier=True)
    q.put({"type": "change", "cursor": 6, "change": {"v": 6}}, ("unit", "u"))
    q.put({"type": "change", "cursor": 7, "change": {"v": 7}}, ("unit", "u"))  # coalesced behind the page
    frames = [await q.get() for _ in range(len(q))]
    assert [(f["cursor"], f.get("change")) for f in frames] == [(1, {"v": 2}), (5, None), (6, {"v": 7})]


# --------------------------------------------------------------------------- connection


async def test_a_consumer_that_stops_reading_gets_every_change_once_in_order(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection_mod, "STALL_S", 3600.0)  # paused on purpose, however slow this machine
    world = await build_world(db)
    hub = Hub(db, MemoryBroker(), safety_tick_s=3600)
    await hub.start()
    service = SyncService(db, hub)
    p = desk(world)
    pusher = Pusher(p)
    await pusher.apply(db, pusher.incident())  # a log to resume in (cursor 0 means "snapshot")
    await hub.poke()
    start = await log_head(db)
    conn = live_connection(hub, p, queue_size=16, cursor=start)
    keep_up = asyncio.create_task(conn.keep_up(service))
    try:
        # The consumer reads nothing while 30 incidents, 30 assignments and 30 alerts commit,
        # one transaction each (several live offers), far more than the 16 frames its queue holds.
        async def push(m: dict[str, Any]) -> None:
            out = await service.push(p, [m], None)
            assert out["results"][0]["outcome"] == "applied", out

        for _ in range(30):
            inc = pusher.incident()
            await push(inc)
            await push(pusher.mutation("assignment.create", {
                "assignment_id": str(uuid.uuid4()), "incident_id": inc["args"]["incident_id"],
                "unit_id": "unit-a", "additional": True}))
            await push(pusher.mutation("alert.raise", {"alert_id": str(uuid.uuid4()), "unit_id": "unit-a"}))
        assert conn.state is State.RESYNCING and not conn.overflowed.is_set()
        # It reads again: every change arrives, exactly once, in cursor order, no gap.
        got = Received()
        await read_until(conn, await log_head(db), got)
        assert got.seqs == await desk_seqs(db, start)
        assert len(got.seqs) >= 90 and conn.resyncs >= 1 and got.resynced
        assert not conn.overflowed.is_set()
        # And it is live again: the next change comes as a live frame.
        await service.push(p, [pusher.incident()], None)
        frame = await asyncio.wait_for(conn.queue.get(), WAIT_S)
        assert conn.state is State.LIVE
        assert frame["type"] == "change" and frame["cursor"] == await log_head(db)
    finally:
        keep_up.cancel()
        await asyncio.gather(keep_up, return_exceptions=True)
        await hub.stop()


async def test_one_hub_page_reaches_an_idle_fast_console_live(db: Database) -> None:
    """500 distinct changes in one tail page: all live, no resync, no close (default queue)."""
    world = await build_world(db)
    hub = Hub(db, MemoryBroker(), safety_tick_s=3600)
    await hub.start()
    p = desk(world)
    start = await log_head(db)
    conn = live_connection(hub, p, queue_size=load({}).ws_queue_size, cursor=start)
    pusher = Pusher(p)
    for _ in range(5):  # committed without waking the hub: one poke then reads them all at once
        await pusher.apply(db, *(pusher.incident() for _ in range(100)))
    assert len(await desk_seqs(db, start)) == hub_mod.TAIL_PAGE
    got = Received()
    reader = asyncio.create_task(read_until(conn, start + hub_mod.TAIL_PAGE, got))
    await hub.poke()
    await reader
    assert got.seqs == await desk_seqs(db, start)
    assert set(got.kinds) == {"change"}
    assert conn.state is State.LIVE and conn.resyncs == 0 and not conn.overflowed.is_set()
    await hub.stop()


async def test_a_socket_that_takes_nothing_is_closed_with_nothing_newer_queued(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one live-change case that still closes (4429): no frame taken for STALL_S."""
    monkeypatch.setattr(connection_mod, "STALL_S", 0.2)
    world = await build_world(db)
    hub = Hub(db, MemoryBroker(), safety_tick_s=3600)
    await hub.start()
    service = SyncService(db, hub)
    p = desk(world)
    conn = live_connection(hub, p, queue_size=16, cursor=await log_head(db))
    keep_up = asyncio.create_task(conn.keep_up(service))
    try:
        pusher = Pusher(p)
        await service.push(p, [pusher.incident() for _ in range(40)], None)
        await asyncio.wait_for(conn.overflowed.wait(), WAIT_S)
        assert conn.state is State.CLOSED
        queued = [await conn.queue.get() for _ in range(len(conn.queue))]
        await service.push(p, [pusher.incident()], None)  # closed: nothing more is queued
        assert len(conn.queue) == 0
        seqs = [f["cursor"] for f in queued]
        assert seqs == sorted(seqs) and max(seqs) == conn.sent_cursor
    finally:
        keep_up.cancel()
        await asyncio.gather(keep_up, return_exceptions=True)
        await hub.stop()


def test_replies_that_do_not_fit_close_and_stop_the_queue() -> None:
    conn = Connection(16)
    for i in range(20):
        conn.reply({"type": "pong", "t": i})
    assert conn.overflowed.is_set() and conn.state is State.CLOSED
    assert len(conn.queue) == 16  # the 17th did not fit, and nothing after it was queued


def test_the_queue_must_hold_two_hub_pages() -> None:
    with pytest.raises(SettingsError) as info:
        load({"PATROL_WS_QUEUE_SIZE": "256"})
    assert "PATROL_WS_QUEUE_SIZE" in str(info.value) and "1000" in str(info.value)
    assert load({}).ws_queue_size >= 2 * hub_mod.TAIL_PAGE


# --------------------------------------------------------------------------- gateway


async def test_a_console_that_reads_slowly_over_a_real_socket_misses_nothing(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A small queue (and so a small hub page, which must fit twice) to overflow with few changes;
    # the live server runs in this process, so the hub uses the patched page.
    monkeypatch.setattr(hub_mod, "TAIL_PAGE", 20)
    monkeypatch.setattr(connection_mod, "STALL_S", 3600.0)
    db = await connect(database_url)
    await migrate(db)
    world = await build_world(db)
    pusher = Pusher(desk(world))
    await pusher.apply(db, pusher.incident())  # a log to resume in (cursor 0 means "snapshot")
    with LiveServer(database_url, tmp_path, PATROL_WS_QUEUE_SIZE="40",
                    PATROL_MAX_REQUEST_BYTES="4000000") as live:
        dispatcher = await Client(live, "dispatcher").login()
        # A receive buffer of a few KB, so the server's writer (not the kernel) holds the backlog.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", live.port))
        ws = await websockets.connect(live.ws, sock=sock, max_size=None, max_queue=1)
        await ws.send(json.dumps({"type": "auth", "token": dispatcher.token, "cursor": 0}))
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))["type"] == "hello"
        page = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
        assert page["type"] == "changes" and page["snapshot"] and not page["more"]
        start = page["cursor"]

        # The console stops reading while 200 big incidents commit (about 8 MB of frames).
        text = "x" * 20_000
        for _ in range(20):
            await dispatcher.push_http(*(dispatcher.mutation("incident.create", {
                "incident_id": str(uuid.uuid4()), "org_unit_id": "org-a", "type": "theft",
                "description": text, "hazards": text}) for _ in range(10)))
        head = await log_head(db)

        # Then reads slowly, and still gets every change with contiguous cursors, and no close.
        got = Received()
        got.cursor = start

        async def read() -> None:
            while got.cursor < head:
                frame = json.loads(await ws.recv())
                got.take(frame)
                await asyncio.sleep(0.002)
        await asyncio.wait_for(read(), WAIT_S * 2)
        assert got.seqs == await desk_seqs(db, start)
        assert len(got.seqs) == 200
        assert got.resynced, "the console never fell behind: the test did not test anything"
        # Still open and live: a ping is answered.
        await ws.send(json.dumps({"type": "ping", "t": 1}))
        while (frame := json.loads(await asyncio.wait_for(ws.recv(), WAIT_S)))["type"] != "pong":
            pass
        await ws.close()
    await db.close()


# --------------------------------------------------------------------------- hub and broker


class Outage:
    """The database, with a switch that makes every read fail as an unreachable server does."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.down = False

    def read(self) -> Any:
        if self.down:
            raise StorageUnavailable("the database is not reachable")
        return self._db.read()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


class Recorder:
    def __init__(self, principal: Principal) -> None:
        self.principal: Principal | None = principal
        self.device_id: str | None = principal.device_id
        self.seqs: list[int] = []

    def offer(self, changes: list[Any], cursor: int) -> None:
        self.seqs += [c.seq for c in changes]

    async def close_revoked(self) -> None:
        pass


async def test_a_broker_wake_up_during_an_outage_is_logged_once_and_retried(
        db: Database, caplog: pytest.LogCaptureFixture) -> None:
    world = await build_world(db)
    flaky = Outage(db)
    hub = Hub(flaky, MemoryBroker(), safety_tick_s=0.05)  # type: ignore[arg-type]
    await hub.start()
    broker = PgBroker("postgresql://unused", "this-instance")  # never started: only its callback
    broker._handler = hub._on_message
    unhandled: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    p = desk(world)
    sub = Recorder(p)
    hub.add(sub)
    hub.route(sub)
    try:
        caplog.set_level(logging.DEBUG, logger="patrol.hub")
        flaky.down = True
        pusher = Pusher(p)
        await pusher.apply(db, pusher.incident())  # committed; the hub cannot read it yet
        for _ in range(20):
            await hub._on_message({"k": "c"})  # what MemoryBroker.publish awaits: must not raise
            broker._on_notify(None, 0, CHANNEL, json.dumps({"k": "c", "i": "other-instance"}))
        await asyncio.sleep(0.5)  # several safety ticks fail too
        warnings = [r for r in caplog.records if r.name == "patrol.hub" and r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "not reachable" in warnings[0].getMessage()
        assert sub.seqs == []

        flaky.down = False  # the safety tick delivers what the failed wake-ups could not
        deadline = loop.time() + WAIT_S
        while not sub.seqs and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert sub.seqs == [await log_head(db)]
        assert any("works again" in r.getMessage() for r in caplog.records if r.name == "patrol.hub")
        gc.collect()
        await asyncio.sleep(0)
        assert unhandled == []
    finally:
        loop.set_exception_handler(None)
        await hub.stop()


async def test_a_failing_notification_handler_is_logged_not_left_unretrieved(
        caplog: pytest.LogCaptureFixture) -> None:
    broker = PgBroker("postgresql://unused", "this-instance")

    async def failing(message: dict[str, Any]) -> None:
        raise RuntimeError("handler broke")

    broker._handler = failing
    unhandled: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        broker._on_notify(None, 0, CHANNEL, json.dumps({"k": "c", "i": "other-instance"}))
        await asyncio.sleep(0.05)
        gc.collect()
        await asyncio.sleep(0)
        assert unhandled == []
        assert any("handler broke" in r.getMessage() for r in caplog.records if r.name == "patrol.broker")
    finally:
        loop.set_exception_handler(None)
