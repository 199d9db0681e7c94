"""One websocket connection as an explicit state machine.

    subscribed ─► authenticating ─► catching_up ─► live ─► closed
         └───────────────┴──────────────┴──────────────┘ (any state may close)

The connection joins the hub *before* the socket is accepted, so nothing that
commits while it authenticates and catches up from the database is missed:
live changes are buffered until the catch-up pull has reached the end, then
the buffer is replayed, skipping what the pull already sent.
"""

from __future__ import annotations

import asyncio
import logging
from enum import Enum
from typing import Any

import msgspec

from server.realtime.queue import COALESCIBLE, OutQueue, QueueOverflow
from sync.changes import Change
from sync.principal import Principal
from sync.scope import can_see

log = logging.getLogger("patrol.ws")
BUFFER_LIMIT = 5000


class State(str, Enum):
    SUBSCRIBED = "subscribed"
    AUTHENTICATING = "authenticating"
    CATCHING_UP = "catching_up"
    LIVE = "live"
    CLOSED = "closed"


_ALLOWED = {
    State.SUBSCRIBED: {State.AUTHENTICATING, State.CLOSED},
    State.AUTHENTICATING: {State.CATCHING_UP, State.CLOSED},
    State.CATCHING_UP: {State.LIVE, State.CLOSED},
    State.LIVE: {State.CLOSED},
    State.CLOSED: set(),
}


class IllegalTransition(RuntimeError):
    pass


class Connection:
    """Buffers, filters and queues live changes for one client."""

    def __init__(self, queue_size: int) -> None:
        self.state = State.SUBSCRIBED
        self.queue = OutQueue(queue_size)
        self.principal: Principal | None = None
        self.device_id: str | None = None
        self.sent_cursor = 0
        self._buffer: list[Change] = []
        self.resync_needed = False
        self.overflowed = asyncio.Event()
        self.revoked = asyncio.Event()

    def to(self, new: State) -> None:
        if new not in _ALLOWED[self.state]:
            raise IllegalTransition(f"{self.state.value} -> {new.value}")
        self.state = new

    # -- fed by the hub -------------------------------------------------
    def offer(self, changes: list[Change], cursor: int) -> None:
        if self.state in (State.SUBSCRIBED, State.AUTHENTICATING, State.CATCHING_UP):
            if len(self._buffer) + len(changes) > BUFFER_LIMIT:
                self._buffer.clear()
                self.resync_needed = True  # the catch-up will pull again instead
            else:
                self._buffer.extend(changes)
        elif self.state is State.LIVE:
            self._enqueue(changes)

    async def close_revoked(self) -> None:
        self.revoked.set()

    # -- used by the gateway ---------------------------------------------
    def go_live(self, cursor: int) -> None:
        """The catch-up pull reached `cursor`: replay the buffer after it and go live."""
        self.sent_cursor = cursor
        buffered, self._buffer = self._buffer, []
        self.to(State.LIVE)
        self._enqueue(buffered)

    def _enqueue(self, changes: list[Change]) -> None:
        principal = self.principal
        if principal is None:
            return
        try:
            for change in changes:
                if change.seq <= self.sent_cursor or not can_see(principal, change):
                    continue
                frame = {"type": "change", "cursor": change.seq, "change": msgspec.to_builtins(change)}
                key = (change.entity, change.entity_id) if change.entity in COALESCIBLE else None
                self.queue.put(frame, key)
                self.sent_cursor = change.seq
        except QueueOverflow:
            log.info("closing a slow consumer (device %s)", self.device_id)
            self.overflowed.set()

    def reply(self, frame: dict[str, Any]) -> None:
        """Replies are never coalesced; an overflow closes the connection."""
        try:
            self.queue.put(frame)
        except QueueOverflow:
            self.overflowed.set()
