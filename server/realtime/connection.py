"""One websocket connection as an explicit state machine.

    subscribed ─► authenticating ─► catching_up ─► live ⇄ resyncing
         └───────────────┴──────────────┴──────────┴────────┴─► closed (any state may close)

The connection joins the hub *before* the socket is accepted, so nothing that
commits while it authenticates and catches up from the database is missed:
live changes are buffered until the catch-up pull has reached the end, then
the buffer is replayed, skipping what the pull already sent.

A slow consumer never skips a change. When a live change does not fit in the
queue, the connection does not drop it and carry on (later changes would move
the client's cursor past the dropped one, and its resume would never fetch
it), nor is it closed (in a reconnect storm that closed every console, and a
reconnect only repeats the same catch-up anyway). It moves to ``resyncing``:
it stops queuing live changes, so ``sent_cursor`` stays at the last change
actually queued; live offers are buffered as during the first catch-up; and
:meth:`Connection.keep_up`, once the writer has drained the queue to a
low-water mark, pulls pages from the change log after ``sent_cursor`` (the
``changes`` frames the client knows from its first catch-up) and goes live
again. Pages wait for room in the queue instead of overflowing it.

The socket is closed with 4429 only when the consumer truly cannot keep up:

* a reply (``pong``, ``results``, a ``pull`` answer) does not fit: live
  changes may only fill the queue to ``live_limit`` and catch-up pages wait
  for the low-water mark, so the room above is the replies'; filling it
  means the client keeps asking without reading the answers;
* the writer took no frame at all for ``STALL_S`` while a catch-up waited
  for room: the link is as good as dead, and a reconnect gets a fresh one.

Either way the connection goes straight to ``closed``, so nothing is queued
after the frame that did not fit: the client never sees anything newer than
what it missed, and resumes from its cursor.
"""

from __future__ import annotations

import asyncio
import logging
from enum import Enum
from typing import Any, Protocol

import msgspec

from server.realtime.queue import COALESCIBLE, OutQueue, QueueOverflow
from sync.changes import Change
from sync.principal import Principal
from sync.scope import can_see

log = logging.getLogger("patrol.ws")
BUFFER_LIMIT = 5000
PAGE = 500
# A socket whose writer has not taken a single frame for this long while a
# catch-up waits for room is closed (4429). Generous: a console on a poor
# mobile link may take many seconds per frame and still be worth keeping.
STALL_S = 60.0


class State(str, Enum):
    SUBSCRIBED = "subscribed"
    AUTHENTICATING = "authenticating"
    CATCHING_UP = "catching_up"
    LIVE = "live"
    RESYNCING = "resyncing"   # fell behind while live: catching up from the log again
    CLOSED = "closed"


_ALLOWED = {
    State.SUBSCRIBED: {State.AUTHENTICATING, State.CLOSED},
    State.AUTHENTICATING: {State.CATCHING_UP, State.CLOSED},
    State.CATCHING_UP: {State.LIVE, State.CLOSED},
    State.LIVE: {State.RESYNCING, State.CLOSED},
    State.RESYNCING: {State.LIVE, State.CLOSED},
    State.CLOSED: set(),
}
# While in these states live changes are buffered; the catch-up pull delivers them.
_BUFFERING = frozenset({State.SUBSCRIBED, State.AUTHENTICATING, State.CATCHING_UP, State.RESYNCING})


class IllegalTransition(RuntimeError):
    pass


class Puller(Protocol):
    async def pull(self, principal: Principal, cursor: int, limit: int = 500) -> dict[str, Any]: ...


class Connection:
    """Buffers, filters and queues live changes for one client."""

    def __init__(self, queue_size: int) -> None:
        self.state = State.SUBSCRIBED
        self.queue = OutQueue(queue_size)
        # Live changes may fill the queue to `live_limit`; the rest is kept for replies.
        self.live_limit = queue_size - max(4, queue_size // 8)
        # A catch-up page is queued only when fewer frames than this wait.
        self.low_water = max(1, queue_size // 4)
        self.principal: Principal | None = None
        self.device_id: str | None = None
        self.sent_cursor = 0  # the last change queued (or pulled) for this client
        self._buffer: list[Change] = []
        self.resync_needed = False
        self.lagging = asyncio.Event()     # set while resyncing: keep_up() has work
        self.overflowed = asyncio.Event()  # gave up on the consumer: close with 4429
        self.revoked = asyncio.Event()
        self.resyncs = 0

    def to(self, new: State) -> None:
        if new not in _ALLOWED[self.state]:
            raise IllegalTransition(f"{self.state.value} -> {new.value}")
        self.state = new

    # -- fed by the hub -------------------------------------------------
    def offer(self, changes: list[Change], cursor: int) -> None:
        if self.state in _BUFFERING:
            self._hold(changes)
        elif self.state is State.LIVE:
            self._enqueue(changes)
        # closed: nothing more is queued (see give_up)

    def _hold(self, changes: list[Change]) -> None:
        if len(self._buffer) + len(changes) > BUFFER_LIMIT:
            self._buffer.clear()
            self.resync_needed = True  # the catch-up will pull again instead
        else:
            self._buffer.extend(changes)

    async def close_revoked(self) -> None:
        self.revoked.set()

    # -- used by the gateway ---------------------------------------------
    def go_live(self, cursor: int) -> None:
        """The catch-up pull reached `cursor`: replay the buffer after it and go live."""
        if self.state is State.CLOSED:
            return
        self.sent_cursor = cursor
        buffered, self._buffer = self._buffer, []
        self.to(State.LIVE)
        self.lagging.clear()
        self._enqueue(buffered)

    def _enqueue(self, changes: list[Change]) -> None:
        principal = self.principal
        if principal is None:
            return
        for i, change in enumerate(changes):
            if change.seq <= self.sent_cursor or not can_see(principal, change):
                continue
            frame = {"type": "change", "cursor": change.seq, "change": msgspec.to_builtins(change)}
            key = (change.entity, change.entity_id) if change.entity in COALESCIBLE else None
            try:
                self.queue.put(frame, key, limit=self.live_limit)
            except QueueOverflow:
                self._fall_behind(changes[i:])
                return
            self.sent_cursor = change.seq

    def _fall_behind(self, rest: list[Change]) -> None:
        """Live -> resyncing: stop queuing at `sent_cursor`; keep_up() pulls the rest."""
        self.to(State.RESYNCING)
        self.resyncs += 1
        self._buffer = []
        self._hold(rest)
        self.lagging.set()
        log.info("slow consumer (device %s): catching up from the log after %d", self.device_id, self.sent_cursor)

    def principal_changed(self, principal: Principal) -> None:
        """The hub re-resolved who this socket is (a shift planned or ended): tell the app."""
        self.principal = principal
        self.reply({"type": "me", "me": msgspec.to_builtins(principal)})

    def reply(self, frame: dict[str, Any], *, barrier: bool = False) -> None:
        """Replies are never coalesced; one that does not fit closes the connection (4429)."""
        if self.state is State.CLOSED:
            return
        try:
            self.queue.put(frame, barrier=barrier)
        except QueueOverflow:
            self.give_up("replies do not fit in the queue")

    def give_up(self, why: str) -> None:
        """Close with 4429. Straight to closed, so nothing is queued after what did not fit."""
        if self.state is State.CLOSED:
            return
        log.info("closing a slow consumer (device %s): %s", self.device_id, why)
        self.to(State.CLOSED)
        self.overflowed.set()

    # -- the catch-up, first and after falling behind ------------------------
    async def catch_up(self, puller: Puller, cursor: int) -> None:
        """Pull pages after `cursor` until the end of the log, then go live.

        Used from ``catching_up`` (the first catch-up) and ``resyncing``. A
        page is queued only when the queue has drained below ``low_water``.
        If the buffer of live changes overflowed meanwhile, pull on from
        where the pages reached rather than replay an incomplete buffer.
        """
        while self.state in (State.CATCHING_UP, State.RESYNCING):
            self.resync_needed = False
            while True:
                await self._room()
                if self.state is State.CLOSED or self.principal is None:
                    return
                page = await puller.pull(self.principal, cursor, PAGE)
                self.reply({"type": "changes", **page}, barrier=True)
                cursor = page["cursor"]
                if not page["more"]:
                    break
            if not self.resync_needed:
                self.go_live(cursor)
                return

    async def keep_up(self, puller: Puller) -> None:
        """Run for the connection's life: catch up whenever it falls behind."""
        while True:
            await self.lagging.wait()
            if self.state is not State.RESYNCING:
                return  # closed
            await self.catch_up(puller, self.sent_cursor)

    async def _room(self) -> None:
        """Backpressure: wait for the queue to drain below `low_water`; give up on a stalled socket."""
        while len(self.queue) >= self.low_water and self.state is not State.CLOSED:
            taken = self.queue.taken
            try:
                await asyncio.wait_for(self.queue.wait_below(self.low_water), STALL_S)
            except asyncio.TimeoutError:
                if self.queue.taken == taken:
                    self.give_up(f"the socket took no frame for {STALL_S:.0f} s")
