"""PostgreSQL adapter (asyncpg): a connection pool, explicit transactions."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Sequence

import asyncpg

from sync.store import Dialect, IntegrityError, Row, StorageError, StorageUnavailable, TransientError

log = logging.getLogger("patrol.storage")

# The connection, not the statement, failed: the server is down, restarting, unreachable
# or cut the connection. These are the "try again shortly" cases (HTTP 503 with Retry-After),
# never a server bug; the driver raises them from pool.acquire() and mid-statement alike.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,                                   # refused, reset, unreachable
    TimeoutError,                              # acquire/connect timed out
    asyncpg.InterfaceError,                    # incl. ConnectionDoesNotExistError (closed mid-query)
    asyncpg.PostgresConnectionError,           # 08xxx
    asyncpg.CannotConnectNowError,             # 57P03: starting up / shutting down
    asyncpg.OperatorInterventionError,         # 57xxx: admin shutdown, crash shutdown
)


_DRIVER_ERRORS = (asyncpg.PostgresError, *_CONNECTION_ERRORS)


def _wrap(exc: BaseException) -> StorageError:
    if isinstance(exc, _CONNECTION_ERRORS):
        return StorageUnavailable(f"PostgreSQL connection failed: {type(exc).__name__}: {exc}")
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
        except _DRIVER_ERRORS as exc:
            raise _wrap(exc) from exc
        # Status strings look like 'UPDATE 3' or 'INSERT 0 1'.
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(sql, rows)
        except _DRIVER_ERRORS as exc:
            raise _wrap(exc) from exc

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            return [dict(r) for r in await self._conn.fetch(sql, *args)]
        except _DRIVER_ERRORS as exc:
            raise _wrap(exc) from exc

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        try:
            row = await self._conn.fetchrow(sql, *args)
        except _DRIVER_ERRORS as exc:
            raise _wrap(exc) from exc
        return dict(row) if row is not None else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        try:
            return await self._conn.fetchval(sql, *args)
        except _DRIVER_ERRORS as exc:
            raise _wrap(exc) from exc


@asynccontextmanager
async def _transaction(tr: Any) -> AsyncIterator[None]:
    try:
        await tr.start()
    except _DRIVER_ERRORS as exc:
        raise _wrap(exc) from exc
    try:
        yield
    except BaseException:
        try:
            await tr.rollback()
        except _DRIVER_ERRORS as exc:  # the connection is gone: nothing was committed anyway
            log.info("rollback failed: %r", exc)
        raise
    try:
        await tr.commit()
    except _DRIVER_ERRORS as exc:  # e.g. a serialization failure or a cut connection at COMMIT
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
        async with self._connection() as conn:
            async with _transaction(conn.transaction()):
                yield PgTx(conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[PgTx]:
        async with self._connection() as conn:
            async with _transaction(conn.transaction(readonly=True, isolation="repeatable_read")):
                yield PgTx(conn)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        # Only the driver's own steps are wrapped (acquire here, BEGIN/COMMIT in
        # _transaction, statements in PgTx): an error of the caller's code passes unchanged.
        try:
            conn = await self.pool.acquire()
        except _DRIVER_ERRORS as exc:
            raise _wrap(exc) from exc
        try:
            yield conn
        finally:
            try:
                await self.pool.release(conn)
            except _DRIVER_ERRORS as exc:  # a broken connection: the pool replaces it
                log.info("releasing a PostgreSQL connection failed: %r", exc)

    async def close(self) -> None:
        await self.pool.close()
