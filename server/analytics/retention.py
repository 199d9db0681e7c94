"""Retention of the high-volume position history.

Only ``location_pings`` are pruned: incidents, assignments, status events and
notes are records and are kept. A ping's age is taken from ``server_at``
(when the server stored it, indexed) rather than the phone's clock, so a
device with a wrong clock can neither keep pings forever nor lose them early.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sync.clock import now_ms
from sync.store import Database

log = logging.getLogger("patrol.analytics.retention")

DAY_MS = 86_400_000


async def prune_location_pings(db: Database, older_than_days: float, now_ms: int, *,
                               batch_size: int = 5_000) -> int:
    """Delete pings stored more than ``older_than_days`` before ``now_ms``.

    Deletes in batches of ``batch_size`` rows, one short transaction each, so
    writers (sync, live positions) are never blocked for long. Returns the
    number of rows deleted.
    """
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    cutoff = now_ms - int(older_than_days * DAY_MS)
    total = 0
    while True:
        async with db.transaction() as tx:
            n = await tx.execute(
                "DELETE FROM location_pings WHERE id IN (SELECT id FROM location_pings"
                " WHERE server_at < $1 ORDER BY server_at, id LIMIT $2)",
                cutoff, batch_size,
            )
        total += n
        if n < batch_size:
            return total
        await asyncio.sleep(0)  # let other tasks at the database between batches


class RetentionJob:
    """Runs :func:`prune_location_pings` every ``interval_s`` seconds.

    ``await job.start()`` in the server's lifespan start-up, ``await job.stop()``
    at shutdown. The first run happens right after start. A failing run is
    logged and retried at the next interval; it never stops the job.
    """

    def __init__(self, db: Database, days: float, interval_s: float = 3600.0, *,
                 batch_size: int = 5_000, clock: Callable[[], int] = now_ms) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.db = db
        self.days = days
        self.interval_s = interval_s
        self.batch_size = batch_size
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.runs = 0
        self.last_deleted: int | None = None
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def run_once(self) -> int:
        deleted = await prune_location_pings(self.db, self.days, self._clock(),
                                             batch_size=self.batch_size)
        self.runs += 1
        self.last_deleted = deleted
        if deleted:
            log.info("retention: deleted %d location pings older than %s days", deleted, self.days)
        return deleted

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep the job alive; the next run retries
                self.last_error = str(exc)
                log.exception("retention run failed")
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval_s)
            except TimeoutError:
                pass

    async def start(self) -> None:
        if self.running:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name="patrol-retention")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        task, self._task = self._task, None
        try:
            await asyncio.wait_for(task, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
