from __future__ import annotations

import pytest

from sync import engine


@pytest.fixture(autouse=True)
def _fresh_server_clock() -> None:
    # Tests use fixed times; a fresh clock per test keeps the logical counter small.
    engine.reset_clock("srv")
