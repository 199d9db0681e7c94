"""A bounded per-connection outgoing queue that coalesces, never drops what matters.

Entity snapshots are full state, so a newer snapshot of the same unit can
replace an older one still waiting in the queue without losing anything: that
is how positions are coalesced for slow consumers. Nothing else is ever
replaced or dropped here: when a frame does not fit, :class:`QueueOverflow`
tells the connection, which decides what that means (a live change puts it
into resync, a reply closes it; see :mod:`server.realtime.connection`).

The queue also gives the catch-up pulls their backpressure
(:meth:`OutQueue.wait_below`) and counts what the writer has taken
(:attr:`OutQueue.taken`), so a socket that stopped draining can be told
from one that is merely slow.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Hashable

# Entities whose queued snapshot may be replaced by a newer one of the same id.
COALESCIBLE = frozenset({"unit"})


class QueueOverflow(Exception):
    """The frame does not fit and nothing more can be coalesced."""


@dataclass
class Item:
    frame: dict[str, Any]
    key: Hashable | None  # set for coalescible items


class OutQueue:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[int, Item] = OrderedDict()
        self._by_key: dict[Hashable, int] = {}
        self._next = 0
        self._ready = asyncio.Event()
        self._taken = asyncio.Event()
        self.coalesced = 0
        self.taken = 0  # frames handed to the writer so far

    def __len__(self) -> int:
        return len(self._items)

    def put(self, frame: dict[str, Any], key: Hashable | None = None, *,
            limit: int | None = None, barrier: bool = False) -> None:
        """Queue a frame; with a key, replace a waiting frame with the same key in place.

        A replacement keeps the waiting frame's place and its ``cursor`` (the
        client may only advance its cursor in log order), so a resume after a
        broken socket re-sends the newer snapshot rather than skipping it.

        ``limit`` (at most ``maxsize``) is the length at which this frame no
        longer fits; live changes use a lower one than replies, so replies
        always have room. A coalescing replacement always fits: it adds nothing.

        ``barrier``: no later frame may be coalesced into one queued before
        this one. Used for ``changes`` pages, which carry unit snapshots of
        their own: a newer unit snapshot moved in front of a page would be
        overwritten by the page's older one when the client applies it, and
        nothing after the page would put it right.
        """
        if key is not None and key in self._by_key:
            waiting = self._items[self._by_key[key]]
            if "cursor" in waiting.frame:
                frame = {**frame, "cursor": waiting.frame["cursor"]}
            waiting.frame = frame
            self.coalesced += 1
            return
        bound = self.maxsize if limit is None else min(limit, self.maxsize)
        if len(self._items) >= bound:
            raise QueueOverflow(f"{len(self._items)} frames waiting")
        slot = self._next
        self._next += 1
        self._items[slot] = Item(frame, key)
        if barrier:
            self._by_key.clear()
        elif key is not None:
            self._by_key[key] = slot
        self._ready.set()

    async def get(self) -> dict[str, Any]:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        slot, item = self._items.popitem(last=False)
        if item.key is not None and self._by_key.get(item.key) == slot:
            del self._by_key[item.key]
        self.taken += 1
        self._taken.set()
        return item.frame

    async def wait_below(self, n: int) -> None:
        """Return once fewer than ``n`` frames wait (the writer has drained the rest)."""
        while len(self._items) >= n:
            self._taken.clear()
            await self._taken.wait()
