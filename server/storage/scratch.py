"""A throwaway PostgreSQL schema for benchmarks: created, connected, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sync.store import Database

from . import connect


def with_search_path(dsn: str, schema: str) -> str:
    """The DSN with ``schema`` as the search path of every pooled connection."""
    sep = "&" if "?" in dsn else "?"
    return f"{dsn}{sep}options=-csearch_path%3D{schema}"


@asynccontextmanager
async def scratch_schema(dsn: str, prefix: str = "bench") -> AsyncIterator[Database]:
    """A database connected to a new, empty schema of its own (not migrated); the schema is
    dropped on the way out, whatever happened."""
    import asyncpg

    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    db = await connect(with_search_path(dsn, schema))
    try:
        yield db
    finally:
        await db.close()
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()
