"""Shared fixtures: a migrated database on SQLite and on PostgreSQL.

PostgreSQL tests use PATROL_TEST_PG_DSN (default
postgresql://postgres@127.0.0.1:5432/test). When it is unreachable they are
skipped with a message, unless PATROL_REQUIRE_PG=1 (set by .ci/run), which
turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from server.clock import ManualClock, using
from server.storage import connect
from server.storage.migrate import migrate
from sync.store import Database

from hypothesis import settings as hypothesis_settings

# Property tests: the same examples on every run by default, so CI is repeatable;
# HYPOTHESIS_PROFILE=explore draws new random examples (run it when changing sync/).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PG_DSN = os.environ.get("PATROL_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("PATROL_REQUIRE_PG", "") == "1"

_pg_state: dict[str, str | None] = {}


def _probe_pg() -> str | None:
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(PG_DSN, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
        return None
    except Exception as exc:  # any failure means: not reachable for tests
        return f"PostgreSQL not reachable at {PG_DSN}: {exc!r}"


def pytest_configure(config: pytest.Config) -> None:
    # Probed once, before any event loop runs, so fixtures can ask cheaply.
    _pg_state["reason"] = _probe_pg()


def pytest_report_header(config: pytest.Config) -> str:
    reason = _pg_state.get("reason")
    if reason is None:
        return f"PostgreSQL: reachable at {PG_DSN}; PostgreSQL tests will run"
    mode = "FAIL (PATROL_REQUIRE_PG=1)" if REQUIRE_PG else "be skipped"
    return f"PostgreSQL: {reason}; PostgreSQL tests will {mode}"


def pg_unavailable_reason() -> str | None:
    """None when PostgreSQL answers; otherwise why not (probed at start)."""
    return _pg_state.get("reason")


def require_pg() -> None:
    """Skip (or, with PATROL_REQUIRE_PG=1, fail) when PostgreSQL is unreachable."""
    reason = pg_unavailable_reason()
    if reason is None:
        return
    if REQUIRE_PG:
        pytest.fail(f"{reason} (PATROL_REQUIRE_PG=1, so this is an error, not a skip)")
    pytest.skip(f"{reason}; set PATROL_TEST_PG_DSN to run the PostgreSQL tests")


def _with_search_path(dsn: str, schema: str) -> str:
    sep = "&" if "?" in dsn else "?"
    return f"{dsn}{sep}options=-csearch_path%3D{schema}"


async def fresh_pg_database() -> tuple[Database, str]:
    """A migrated PostgreSQL database in a schema of its own (dropped by the caller)."""
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_DSN)
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()
    db = await connect(_with_search_path(PG_DSN, schema))
    await migrate(db)
    return db, schema


async def drop_pg_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_DSN)
    await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A freshly migrated database, once per adapter: the conformance matrix."""
    if request.param == "sqlite":
        database = await connect(f"sqlite:///{tmp_path / 'patrol.db'}")
        await migrate(database)
        try:
            yield database
        finally:
            await database.close()
        return
    require_pg()
    database, schema = await fresh_pg_database()
    try:
        yield database
    finally:
        await database.close()
        await drop_pg_schema(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL for an empty database, once per adapter (for app and CLI tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'patrol.db'}"
        return
    require_pg()
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_DSN)
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()
    try:
        yield _with_search_path(PG_DSN, schema)
    finally:
        await drop_pg_schema(schema)


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The server's clock, stopped at the real now: `clock.advance(minutes=61)` lets time pass.

    Installed process-wide, so a LiveServer (uvicorn in a thread) reads it too."""
    with using(ManualClock()) as manual:
        yield manual
