"""PostgreSQL adapter (asyncpg): a connection pool, explicit transactions."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Sequence

import asyncpg

from sync.store import Dialect, IntegrityError, Row, StorageError, TransientError


def _wrap(exc: Exception) -> StorageError:
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(str(exc))
    if isinstance(exc, asyncpg.TransactionRollbackError):  # deadlock, serialization failure
        return TransientError(f"PostgreSQL: {exc}")
    return StorageError(f"PostgreSQL: {exc}")


class PgTx:
    dialect: Dialect = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        try:
            status = await self._conn.execute(sql, *args)
        except asyncpg.PostgresError as exc:
            raise _wrap(exc) from exc
        # Status strings look like 'UPDATE 3' or 'INSERT 0 1'.
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(sql, rows)
        except asyncpg.PostgresError as exc:
            raise _wrap(exc) from exc

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            return [dict(r) for r in await self._conn.fetch(sql, *args)]
        except asyncpg.PostgresError as exc:
            raise _wrap(exc) from exc

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        try:
            row = await self._conn.fetchrow(sql, *args)
        except asyncpg.PostgresError as exc:
            raise _wrap(exc) from exc
        return dict(row) if row is not None else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        try:
            return await self._conn.fetchval(sql, *args)
        except asyncpg.PostgresError as exc:
            raise _wrap(exc) from exc


class PgDatabase:
    dialect: Dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url_safe: str) -> None:
        self.pool = pool
        self.url_safe = url_safe

    @classmethod
    async def connect(cls, dsn: str, url_safe: str, min_size: int = 2,
                      max_size: int = 10, timeout: float = 5.0) -> "PgDatabase":
        try:
            pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size,
                                             timeout=timeout, command_timeout=60)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            raise StorageError(f"PostgreSQL at {url_safe} is unreachable: {exc}") from exc
        return cls(pool, url_safe)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgTx]:
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                yield PgTx(conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[PgTx]:
        async with self.pool.acquire() as conn:
            async with conn.transaction(readonly=True, isolation="repeatable_read"):
                yield PgTx(conn)

    async def close(self) -> None:
        await self.pool.close()
