"""The change-log tail and the local connections it feeds.

Each instance keeps a watermark (the last change-log sequence it delivered)
and, when woken (a local commit, a broker message, a periodic safety tick),
reads everything after it in sequence order and offers it to every local
connection. The change log's sequence is gap-free and commits happen in
sequence order, so reading "after the watermark" never skips a change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from server.clock import now_ms
from server.realtime.broker import Broker
from sync.changes import Change, from_row
from sync.principal import Principal
from sync.store import Database

log = logging.getLogger("patrol.hub")
# Changes read (and offered to every socket at once) per tail query. A healthy
# socket's queue must hold a whole page, so settings require PATROL_WS_QUEUE_SIZE
# to be at least twice this (see server.settings.load).
TAIL_PAGE = 500


class Subscriber(Protocol):
    device_id: str | None
    principal: Principal | None

    def offer(self, changes: list[Change], cursor: int) -> None: ...
    async def close_revoked(self) -> None: ...
    def principal_changed(self, principal: Principal) -> None: ...


class Hub:
    def __init__(self, db: Database, broker: Broker, safety_tick_s: float = 5.0) -> None:
        self.db = db
        self.broker = broker
        self.safety_tick_s = safety_tick_s
        self.watermark = 0
        self.subscribers: set[Subscriber] = set()
        # Routing, so a change costs O(its audience + desk sockets), not O(all sockets):
        # sockets not yet authenticated get everything (they buffer until caught up).
        self._pending: set[Subscriber] = set()
        self._by_unit: dict[str, set[Subscriber]] = {}
        self._desk: set[Subscriber] = set()
        self._routes: dict[Subscriber, str | None] = {}
        self._tailing = False
        self._again = False
        self._tick: asyncio.Task[None] | None = None
        self._failing = False  # the last tail failed: an outage already logged
        self._boundaries_at: int | None = None  # shift boundaries checked up to (server ms)
        self.delivered = 0

    async def start(self) -> None:
        self._boundaries_at = now_ms()
        async with self.db.read() as tx:
            self.watermark = int(await tx.fetchval("SELECT COALESCE(MAX(seq), 0) FROM change_log"))
        await self.broker.start(self._on_message, self._poke_or_log)
        self._tick = asyncio.create_task(self._safety_ticks(), name="hub-safety-tick")

    async def stop(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            await asyncio.gather(self._tick, return_exceptions=True)
        await self.broker.stop()

    def add(self, sub: Subscriber) -> None:
        self.subscribers.add(sub)
        self._pending.add(sub)

    def route(self, sub: Subscriber) -> None:
        """(Re-)index a subscriber by its principal once it is known or has changed."""
        self._unroute(sub)
        p = sub.principal
        if p is None:
            self._pending.add(sub)
        elif p.role == "officer":
            if p.unit_id:
                self._by_unit.setdefault(p.unit_id, set()).add(sub)
                self._routes[sub] = p.unit_id
        else:
            self._desk.add(sub)

    def _unroute(self, sub: Subscriber) -> None:
        self._pending.discard(sub)
        self._desk.discard(sub)
        unit = self._routes.pop(sub, None)
        if unit is not None:
            peers = self._by_unit.get(unit)
            if peers is not None:
                peers.discard(sub)
                if not peers:
                    del self._by_unit[unit]

    def remove(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        self._unroute(sub)

    def _targets(self, changes: list[Change]) -> dict[Subscriber, list[Change]]:
        out: dict[Subscriber, list[Change]] = {sub: changes for sub in self._pending}
        for change in changes:
            for unit in change.audience or ():
                for sub in self._by_unit.get(unit, ()):
                    out.setdefault(sub, []).append(change)
            if change.scope_path:
                for sub in self._desk:
                    p = sub.principal
                    if p is not None and change.scope_path.startswith(p.scope_path):
                        out.setdefault(sub, []).append(change)
        return out

    async def committed(self) -> None:
        """A local transaction appended changes: deliver here and wake the other instances.

        The commit has happened whatever follows: a tail that fails here (the
        database went away just after) is retried by the safety tick, and the
        other instances are woken all the same (their own tick covers them too).
        """
        await self._poke_or_log()
        await self.broker.publish({"k": "c", "s": self.watermark})

    async def crew_changed(self, user_ids: Iterable[str]) -> None:
        """Shifts of these users were planned, moved or ended: their sockets learn their unit
        now (a `me` frame, re-routed), here and on the other instances."""
        ids = sorted(set(user_ids))
        await self.refresh_users(ids)
        for start in range(0, len(ids), 100):  # NOTIFY payloads stay far below 8,000 bytes
            await self.broker.publish({"k": "u", "u": ids[start:start + 100]})

    async def refresh_users(self, user_ids: Iterable[str]) -> int:
        """Re-resolve the principal of every local socket of these users; tell the ones whose
        view changed (their unit above all). Returns how many changed."""
        wanted = set(user_ids)
        subs = [s for s in list(self.subscribers) if s.principal is not None and s.principal.user_id in wanted]
        if not subs:
            return 0
        from server.auth.sessions import principal_for  # the one rule for "the unit of the shift now"

        now = now_ms()
        changed = 0
        async with self.db.read() as tx:
            users = {u: await tx.fetchrow("SELECT * FROM users WHERE id = $1", u)
                     for u in {s.principal.user_id for s in subs if s.principal}}
            for sub in subs:
                old, user = sub.principal, users.get(sub.principal.user_id if sub.principal else "")
                if old is None or user is None:
                    continue
                new = await principal_for(tx, user, old.device_id, now)
                if new != old:
                    sub.principal = new
                    self.route(sub)
                    sub.principal_changed(new)
                    changed += 1
        return changed

    async def _shift_boundaries(self) -> None:
        """Time passing changes units too: the users whose shift (with its sign-on slack)
        began or ended since the last tick are re-resolved."""
        now = now_ms()
        since, self._boundaries_at = self._boundaries_at, now
        if since is None or not any(s.principal is not None and s.principal.role == "officer"
                                    for s in self.subscribers):
            return
        from server.auth.sessions import SHIFT_SLACK_MS

        async with self.db.read() as tx:
            rows = await tx.fetch(
                "SELECT DISTINCT m.user_id FROM shift_members m JOIN shifts s ON s.id = m.shift_id"
                " WHERE (s.starts_at - $3 > $1 AND s.starts_at - $3 <= $2)"
                " OR (s.starts_at > $1 AND s.starts_at <= $2)"
                " OR (s.ends_at > $1 AND s.ends_at <= $2)"
                " OR (s.ends_at + $3 > $1 AND s.ends_at + $3 <= $2)", since, now, SHIFT_SLACK_MS)
        if rows:
            await self.refresh_users(r["user_id"] for r in rows)

    async def device_revoked(self, device_id: str) -> None:
        await self._close_device(device_id)
        await self.broker.publish({"k": "r", "d": device_id})

    async def _close_device(self, device_id: str) -> None:
        for sub in list(self.subscribers):
            if sub.device_id == device_id:
                await sub.close_revoked()

    async def _on_message(self, message: dict[str, Any]) -> None:
        """A broker message. Never raises: `PgBroker` runs this as a task of its own (and
        `MemoryBroker` inside the publishing request), so during a database outage every
        message would leave a traceback. A failed tail is logged once per outage and
        retried by the safety tick (a missed wake-up costs at most one tick, as a lost
        notification does)."""
        kind = message.get("k")
        try:
            if kind == "c":
                await self.poke()
            elif kind == "r" and isinstance(message.get("d"), str):
                await self._close_device(message["d"])
            elif kind == "u" and isinstance(message.get("u"), list):
                await self.refresh_users(u for u in message["u"] if isinstance(u, str))
        except Exception as exc:
            self._tail_failed(exc)

    async def _poke_or_log(self) -> None:
        try:
            await self.poke()
        except Exception as exc:
            self._tail_failed(exc)

    def _tail_failed(self, exc: Exception) -> None:
        if self._failing:
            log.debug("change-log tail still failing: %s", exc)
            return
        self._failing = True
        log.warning("change-log tail failed (retrying every %.0f s): %s", self.safety_tick_s, exc)

    async def _safety_ticks(self) -> None:
        # A lost notification (or a broker that was down) costs at most one tick of delay,
        # and so does a revocation made where no hub could hear it (the `patrol` CLI).
        while True:
            await asyncio.sleep(self.safety_tick_s)
            try:
                await self.poke()
                await self.sweep_revoked()
                await self._shift_boundaries()
            except Exception as exc:  # storage hiccup: try again next tick
                self._tail_failed(exc)

    async def sweep_revoked(self) -> None:
        devices = sorted({s.device_id for s in self.subscribers if s.device_id})
        if not devices:
            return
        revoked: list[str] = []
        async with self.db.read() as tx:
            for start in range(0, len(devices), 500):
                chunk = devices[start:start + 500]
                marks = ", ".join(f"${i + 1}" for i in range(len(chunk)))
                rows = await tx.fetch(
                    f"SELECT id FROM devices WHERE revoked_at IS NOT NULL AND id IN ({marks})", *chunk)
                revoked += [r["id"] for r in rows]
        for device_id in revoked:
            await self._close_device(device_id)

    async def poke(self) -> None:
        """Read the change log after the watermark and offer it to every connection."""
        if self._tailing:
            self._again = True
            return
        self._tailing = True
        try:
            while True:
                self._again = False
                async with self.db.read() as tx:
                    rows = await tx.fetch(
                        "SELECT * FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                        self.watermark, TAIL_PAGE)
                if self._failing:
                    self._failing = False
                    log.info("change-log tail works again")
                if rows:
                    changes = [from_row(r) for r in rows]
                    self.watermark = changes[-1].seq
                    for sub, mine in self._targets(changes).items():
                        sub.offer(mine, self.watermark)
                    self.delivered += len(changes)
                if len(rows) < TAIL_PAGE and not self._again:
                    return
        finally:
            self._tailing = False
