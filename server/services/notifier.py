"""Web Push for what must reach a phone whose app is closed.

A new assignment (including one created by a reassignment) goes to the
officers on the unit's current shift; an emergency alert goes to the desk
staff whose scope covers it (and urgently). Runs after the commit, resolves
recipients in a background task and hands them to the push sender's queue,
so the request that caused it never waits for a push service.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from server.clock import now_ms
from server.push.sender import PushSender, alert_notification, assignment_notification
from sync.changes import Change
from sync.store import Database

log = logging.getLogger("patrol.notify")


class PushNotifier:
    def __init__(self, db: Database, sender: PushSender, public_url: str) -> None:
        self.db = db
        self.sender = sender
        self.public_url = public_url
        self._tasks: set[asyncio.Task[None]] = set()

    def on_changes(self, changes: list[Change]) -> None:
        wanted = [c for c in changes if self._is_news(c)]
        if not wanted:
            return
        task = asyncio.get_running_loop().create_task(self._notify(wanted))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _is_news(c: Change) -> bool:
        if c.op != "upsert":
            return False
        if c.entity == "assignment":
            return c.data.get("state") == "pending" and c.data.get("version", 1) == 1
        if c.entity == "alert":
            return c.data.get("state") == "raised"
        return False

    async def _notify(self, changes: list[Change]) -> None:
        try:
            for c in changes:
                if c.entity == "assignment":
                    await self._assignment(c.data)
                else:
                    await self._alert(c.data)
        except Exception:
            log.exception("could not prepare push notifications")

    async def _assignment(self, a: dict[str, Any]) -> None:
        now = now_ms()
        async with self.db.read() as tx:
            inc = await tx.fetchrow("SELECT id, number, type, priority, address FROM incidents WHERE id = $1",
                                    a["incident_id"])
            crew = await tx.fetch(
                "SELECT m.user_id FROM shifts s JOIN shift_members m ON m.shift_id = s.id"
                " WHERE s.unit_id = $1 AND s.starts_at <= $2 AND s.ends_at > $2", a["unit_id"], now)
            earlier = await tx.fetchval(
                "SELECT COUNT(*) FROM assignments WHERE incident_id = $1 AND id <> $2"
                " AND state IN ('reassigned', 'declined')", a["incident_id"], a["id"])
        if inc is None or not crew:
            return
        note = assignment_notification(
            assignment_id=a["id"], incident_id=inc["id"], summary=str(inc["type"]).replace("_", " "),
            public_url=self.public_url, address=inc["address"], priority=inc["priority"],
            incident_number=inc["number"], reassignment=bool(earlier),
            urgency="high" if inc["priority"] <= 2 else "normal")
        self.sender.enqueue(note, user_ids=[r["user_id"] for r in crew])

    async def _alert(self, alert: dict[str, Any]) -> None:
        async with self.db.read() as tx:
            path = await tx.fetchval("SELECT path FROM org_units WHERE id = $1", alert["org_unit_id"])
            unit = await tx.fetchrow("SELECT call_sign FROM units WHERE id = $1", alert.get("unit_id") or "")
            officer = await tx.fetchval("SELECT full_name FROM users WHERE id = $1", alert.get("user_id") or "")
            desk = await tx.fetch(
                "SELECT u.id FROM users u JOIN org_units o ON o.id = u.org_unit_id"
                " WHERE u.role IN ('dispatcher', 'commander') AND u.active = 1"
                " AND $1 LIKE o.path || '%'", path or "")
        note = alert_notification(alert_id=alert["id"], call_sign=unit["call_sign"] if unit else "?",
                                  public_url=self.public_url, officer_name=officer)
        self.sender.enqueue(note, user_ids=[r["id"] for r in desk])

    async def stop(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)
