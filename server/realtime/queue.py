"""A bounded per-connection outgoing queue that coalesces, never drops what matters.

Entity snapshots are full state, so a newer snapshot of the same unit can
replace an older one still waiting in the queue without losing anything: that
is how positions are coalesced for slow consumers. Everything else
(assignments, alerts, notes, replies) is never dropped: when the queue is
full, the connection is closed and the client resumes from its cursor, which
loses nothing because the change log keeps it all.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Hashable

# Entities whose queued snapshot may be replaced by a newer one of the same id.
COALESCIBLE = frozenset({"unit"})


class QueueOverflow(Exception):
    """The consumer is too slow and nothing more can be coalesced."""


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
        self.coalesced = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, frame: dict[str, Any], key: Hashable | None = None) -> None:
        """Queue a frame; with a key, replace a waiting frame with the same key in place.

        A replacement keeps the waiting frame's place and its ``cursor`` (the
        client may only advance its cursor in log order), so a resume after a
        broken socket re-sends the newer snapshot rather than skipping it.
        """
        if key is not None and key in self._by_key:
            waiting = self._items[self._by_key[key]]
            if "cursor" in waiting.frame:
                frame = {**frame, "cursor": waiting.frame["cursor"]}
            waiting.frame = frame
            self.coalesced += 1
            return
        if len(self._items) >= self.maxsize:
            raise QueueOverflow(f"{len(self._items)} frames waiting")
        slot = self._next
        self._next += 1
        self._items[slot] = Item(frame, key)
        if key is not None:
            self._by_key[key] = slot
        self._ready.set()

    async def get(self) -> dict[str, Any]:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        slot, item = self._items.popitem(last=False)
        if item.key is not None:
            self._by_key.pop(item.key, None)
        return item.frame
