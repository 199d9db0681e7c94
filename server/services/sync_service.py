"""Push and pull for both transports (websocket and HTTP fallback).

After a push commits, the hub is woken (live delivery here and, through the
broker, on the other instances) and the push notifier is nudged to look at
the change log for new assignments and alerts (Web Push) — after the commit
and without blocking the reply.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import msgspec

from sync import engine
from sync.changes import Change
from sync.principal import Principal
from sync.store import Database

log = logging.getLogger("patrol.sync")


class Waker(Protocol):
    async def committed(self) -> None: ...


class ChangeListener(Protocol):
    def on_changes(self, changes: list[Change]) -> None: ...


class SyncService:
    supported_protocols = frozenset({1})

    def __init__(self, db: Database, hub: Waker, listeners: list[ChangeListener] | None = None) -> None:
        self.db = db
        self.hub = hub
        self.listeners = listeners or []

    async def push(self, principal: Principal, mutations: list[dict[str, Any]],
                   device_now: int | None) -> dict[str, Any]:
        result = await engine.apply_batch(self.db, principal, mutations, device_now)
        if result.changes:
            await self.hub.committed()
            for listener in self.listeners:
                try:
                    listener.on_changes(result.changes)
                except Exception:  # a side effect must never fail the push
                    log.exception("change listener failed")
        return {"results": msgspec.to_builtins(result.results), "last_seq": result.last_seq,
                "server_now": result.server_now}

    async def pull(self, principal: Principal, cursor: int, limit: int = 500) -> dict[str, Any]:
        result = await engine.pull(self.db, principal, cursor, limit)
        return {"changes": msgspec.to_builtins(result.changes), "cursor": result.cursor,
                "more": result.more, "last_seq": result.last_seq, "snapshot": result.snapshot}
