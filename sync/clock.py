"""Wall time as an input: one clock every rule and timer reads, replaceable in tests.

Sessions expire, leases lapse, lockouts end, retention deletes, watchdogs fire:
all of it depends on "now". Reading the time through :func:`now_ms` (instead
of ``time.time()`` at each call site) lets a test install a
:class:`ManualClock` and let a minute, a day or a week pass in one line, on
both databases, without sleeping. The production clock is the system's.

The clock lives in ``sync/`` because the sync layer needs it and must not
import ``server/``; ``server.clock`` re-exports it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the epoch (UTC)."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told to (thread-safe: the test client runs the app in a thread)."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = SystemClock().now_ms() if start_ms is None else int(start_ms)
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def advance(self, ms: int = 0, *, seconds: float = 0, minutes: float = 0, hours: float = 0,
                days: float = 0) -> int:
        """Let time pass; returns the new now."""
        step = int(ms + seconds * 1000 + minutes * MINUTE_MS + hours * HOUR_MS + days * DAY_MS)
        if step < 0:
            raise ValueError("a clock does not go backwards; use set() to model a clock jump")
        with self._lock:
            self._now += step
            return self._now

    def set(self, at_ms: int) -> None:
        with self._lock:
            self._now = int(at_ms)


_current: Clock = SystemClock()


def now_ms() -> int:
    """Now, in epoch milliseconds, from the installed clock."""
    return _current.now_ms()


def current() -> Clock:
    return _current


def install(clock: Clock) -> Clock:
    """Make ``clock`` the process's clock; returns the previous one."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Install ``clock`` for the duration of a block (a test)."""
    previous = install(clock)
    try:
        yield clock
    finally:
        install(previous)
