"""Server wall clock in epoch milliseconds: the one clock of :mod:`sync.clock`.

Everything on the server that asks "what time is it" (sessions, lockouts,
leases, retention, audit stamps) calls :func:`now_ms`, so a test can install a
:class:`ManualClock` and let minutes or days pass.
"""

from __future__ import annotations

from sync.clock import DAY_MS, HOUR_MS, MINUTE_MS, Clock, ManualClock, SystemClock, current, install, now_ms, using

__all__ = ["Clock", "ManualClock", "SystemClock", "now_ms", "current", "install", "using",
           "MINUTE_MS", "HOUR_MS", "DAY_MS"]
