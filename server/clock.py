"""Server wall clock in epoch milliseconds (one place to fake it in tests)."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
