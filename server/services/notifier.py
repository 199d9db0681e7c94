"""Web Push for what must reach a phone whose app is closed, driven by the change log.

A new assignment (including one created by a reassignment) goes to the
officers on the unit's current shift; an emergency alert goes to the desk
staff whose scope covers it (and urgently).

The change log is the journal: `push_journal.seq` is how far pushes are done.
The instance holding the journal's lease reads new assignment and alert
changes after it, hands each to the push sender, and moves `seq` on once
everything up to it is delivered or given up. So a notification is not lost
when the server restarts (or dies) with it still queued or being retried:
the next holder starts from `seq` and sends it again. A resend can repeat a
notification that did get through just before the restart; phones show it
once, because it carries the same tag. With several instances only the lease
holder sends; another takes over when the lease runs out.

A change older than its notification's time-to-live is not pushed: after a
long outage nobody wants an hour-old assignment buzzing, and the app shows it
anyway when opened.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from server.clock import now_ms
from server.push.sender import Notification, alert_notification, assignment_notification
from sync.changes import Change
from sync.store import Database, Tx

log = logging.getLogger("patrol.notify")

LEASE_MS = 30_000
POLL_S = 1.0
BATCH = 200


class Sender(Protocol):
    def enqueue(self, notification: Notification, *, user_ids: Iterable[str] = (),
                device_ids: Iterable[str] = (), on_done: Callable[[], None] | None = None) -> None: ...


class PushNotifier:
    def __init__(self, db: Database, sender: Sender, public_url: str, instance_id: str, *,
                 clock: Callable[[], int] = now_ms, lease_ms: int = LEASE_MS, poll_s: float = POLL_S) -> None:
        self.db = db
        self.sender = sender
        self.public_url = public_url
        self.instance_id = instance_id
        self.clock = clock
        self.lease_ms = lease_ms
        self.poll_s = poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._reset()

    def _reset(self) -> None:
        self._holding = False
        self._lease_until = 0
        self._read_upto: int | None = None     # highest seq handed over (or skipped)
        self._saved: int | None = None         # push_journal.seq as last written
        self._pending: dict[int, int] = {}     # seq -> deliveries not yet done
        self._expires: dict[int, int] = {}     # seq -> when it no longer matters (ms)

    # -- wiring ----------------------------------------------------------------------

    def on_changes(self, changes: list[Change]) -> None:
        """Called after a push committed here: look now rather than at the next poll."""
        if any(c.entity in ("assignment", "alert") for c in changes):
            self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="push-journal")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._holding:
            try:
                await self._advance()
                async with self.db.transaction() as tx:
                    # Let the next instance (or this one restarted) take over at once.
                    await tx.execute("UPDATE push_journal SET lease_until = 0 WHERE id = 1 AND owner = $1",
                                     self.instance_id)
            except Exception:
                log.exception("push journal: could not release the lease")
        self._reset()

    async def _run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("push journal: step failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            except TimeoutError:
                pass
            self._wake.clear()

    # -- one round ---------------------------------------------------------------------

    async def step(self) -> int:
        """Take or keep the lease, hand new notifications to the sender, save progress.
        Returns how many notifications were handed over."""
        if not await self._lease():
            return 0
        handed = 0
        while True:
            async with self.db.read() as tx:
                if self._read_upto is None:
                    self._read_upto = self._saved = int(await tx.fetchval(
                        "SELECT seq FROM push_journal WHERE id = 1"))
                # Commits happen in sequence order, so everything up to the head is there.
                head = int(await tx.fetchval("SELECT COALESCE(MAX(seq), 0) FROM change_log"))
                rows = await tx.fetch(
                    "SELECT seq, at, entity, op, data FROM change_log WHERE seq > $1 AND seq <= $2"
                    " AND entity IN ('assignment', 'alert') ORDER BY seq LIMIT $3",
                    self._read_upto, head, BATCH)
                jobs = [job for r in rows if (job := await self._job(tx, r)) is not None]
            for seq, note, user_ids in jobs:
                self._pending[seq] = self._pending.get(seq, 0) + 1
                self._expires[seq] = self.clock() + note.ttl_s * 1000
                self.sender.enqueue(note, user_ids=user_ids, on_done=self._done_callback(seq))
                handed += 1
            self._read_upto = int(rows[-1]["seq"]) if len(rows) == BATCH else max(self._read_upto, head)
            if len(rows) < BATCH:
                break
        await self._advance()
        return handed

    async def _lease(self) -> bool:
        now = self.clock()
        if self._holding and now < self._lease_until - self.lease_ms // 2:
            return True  # renewed at half time, not on every round (a write a second otherwise)
        async with self.db.transaction() as tx:
            held = await tx.execute(
                "UPDATE push_journal SET owner = $1, lease_until = $2"
                " WHERE id = 1 AND (owner = $1 OR owner IS NULL OR lease_until < $3)",
                self.instance_id, now + self.lease_ms, now)
        if not held and self._holding:
            log.warning("push journal: lease lost to another instance")
            self._reset()  # it starts from the saved seq; what is in flight here may be sent twice
        elif held and not self._holding:
            log.info("push journal: this instance sends Web Push")
        self._holding = bool(held)
        if held:
            self._lease_until = now + self.lease_ms
        return self._holding

    def _done_callback(self, seq: int) -> Callable[[], None]:
        pending = self._pending

        def done() -> None:
            # (the dict of the lease this was handed over under; a lost lease starts a new one)
            left = pending.get(seq, 0) - 1
            if left > 0:
                pending[seq] = left
            else:
                pending.pop(seq, None)
                self._wake.set()
        return done

    async def _advance(self) -> None:
        """Save the highest seq with nothing pending at or below it."""
        if self._read_upto is None:
            return
        now = self.clock()
        for seq in [s for s, until in self._expires.items() if until <= now or s not in self._pending]:
            # Past its time-to-live a notification is not worth waiting for (or resending).
            self._pending.pop(seq, None)
            self._expires.pop(seq, None)
        upto = min(self._pending) - 1 if self._pending else self._read_upto
        if self._saved is not None and upto <= self._saved:
            return
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE push_journal SET seq = $1 WHERE id = 1 AND owner = $2 AND seq < $1",
                             upto, self.instance_id)
        self._saved = upto

    # -- what to send, to whom ------------------------------------------------------------

    async def _job(self, tx: Tx, row: dict[str, Any]) -> tuple[int, Notification, list[str]] | None:
        if row["op"] != "upsert":
            return None
        data = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        if row["entity"] == "assignment":
            if data.get("state") != "pending" or data.get("version", 1) != 1:
                return None
            made = await self._assignment(tx, data)
        else:
            if data.get("state") != "raised":  # (a change while still raised repeats it under the same tag)
                return None
            made = await self._alert(tx, data)
        if made is None:
            return None
        note, user_ids = made
        age_s = max(0, (self.clock() - int(row["at"])) // 1000)
        if age_s >= note.ttl_s:
            return None
        if age_s:
            note = dataclasses.replace(note, ttl_s=note.ttl_s - age_s)
        return int(row["seq"]), note, user_ids

    async def _assignment(self, tx: Tx, a: dict[str, Any]) -> tuple[Notification, list[str]] | None:
        now = self.clock()
        inc = await tx.fetchrow("SELECT id, number, type, priority, address FROM incidents WHERE id = $1",
                                a["incident_id"])
        crew = await tx.fetch(
            "SELECT m.user_id FROM shifts s JOIN shift_members m ON m.shift_id = s.id"
            " WHERE s.unit_id = $1 AND s.starts_at <= $2 AND s.ends_at > $2", a["unit_id"], now)
        if inc is None or not crew:
            return None
        earlier = await tx.fetchval(
            "SELECT COUNT(*) FROM assignments WHERE incident_id = $1 AND id <> $2"
            " AND state IN ('reassigned', 'declined')", a["incident_id"], a["id"])
        note = assignment_notification(
            assignment_id=a["id"], incident_id=inc["id"], summary=str(inc["type"]).replace("_", " "),
            public_url=self.public_url, address=inc["address"], priority=inc["priority"],
            incident_number=inc["number"], reassignment=bool(earlier),
            urgency="high" if inc["priority"] <= 2 else "normal")
        return note, [r["user_id"] for r in crew]

    async def _alert(self, tx: Tx, alert: dict[str, Any]) -> tuple[Notification, list[str]] | None:
        path = await tx.fetchval("SELECT path FROM org_units WHERE id = $1", alert["org_unit_id"])
        unit = await tx.fetchrow("SELECT call_sign FROM units WHERE id = $1", alert.get("unit_id") or "")
        officer = await tx.fetchval("SELECT full_name FROM users WHERE id = $1", alert.get("user_id") or "")
        desk = await tx.fetch(
            "SELECT u.id FROM users u JOIN org_units o ON o.id = u.org_unit_id"
            " WHERE u.role IN ('dispatcher', 'commander') AND u.active = 1"
            " AND $1 LIKE o.path || '%'", path or "")
        if not desk:
            return None
        note = alert_notification(alert_id=alert["id"], call_sign=unit["call_sign"] if unit else "?",
                                  public_url=self.public_url, officer_name=officer)
        return note, [r["id"] for r in desk]
