"""SQLite adapter: WAL, one writer connection, a few readers (aiosqlite).

SQLite allows one writer at a time; instead of letting connections fight over
the lock (SQLITE_BUSY), every write transaction goes through a single
connection guarded by an asyncio lock. Readers use their own connections and,
thanks to WAL, never wait for the writer.

Inside a write transaction the writer's statements run directly on the event
loop's thread: they are index lookups and small writes on a connection that
already holds the write lock, so they take microseconds, while a hop to a
worker thread per statement costs far more (it was most of the time of a
sync push). Only the steps that can wait, BEGIN IMMEDIATE (busy_timeout
against other processes) and COMMIT (a WAL checkpoint may fsync), go to the
writer's own worker thread.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Sequence

import aiosqlite

from sync.store import Dialect, IntegrityError, Row, StorageError, StorageUnavailable

_PLACEHOLDER = re.compile(r"\$(\d+)")


def to_sqlite_sql(sql: str) -> str:
    """Rewrite PostgreSQL-style ``$n`` placeholders to SQLite's ``?n``."""
    return _PLACEHOLDER.sub(r"?\1", sql)


# The file, not the statement, failed: locked past the busy timeout, a full or failing disk.
_UNAVAILABLE = ("database is locked", "database is busy", "disk i/o error", "unable to open",
                "database or disk is full")


def _wrap(exc: sqlite3.Error) -> StorageError:
    if isinstance(exc, sqlite3.IntegrityError):
        return IntegrityError(str(exc))
    if isinstance(exc, sqlite3.OperationalError) and any(m in str(exc).lower() for m in _UNAVAILABLE):
        return StorageUnavailable(f"SQLite: {exc}")
    return StorageError(f"SQLite: {exc}")


class _RowHelpers:
    """fetchrow/fetchval in terms of fetch, shared by both transaction kinds."""

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        raise NotImplementedError

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        if row is None:
            return None
        return next(iter(row.values()))


class SqliteTx(_RowHelpers):
    dialect: Dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        try:
            cur = await self._conn.execute(to_sqlite_sql(sql), args)
        except sqlite3.Error as exc:
            raise _wrap(exc) from exc
        count = cur.rowcount
        await cur.close()
        return count

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(to_sqlite_sql(sql), rows)
        except sqlite3.Error as exc:
            raise _wrap(exc) from exc

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            cur = await self._conn.execute(to_sqlite_sql(sql), args)
            rows = await cur.fetchall()
            await cur.close()
        except sqlite3.Error as exc:
            raise _wrap(exc) from exc
        return [dict(r) for r in rows]



class InlineSqliteTx(_RowHelpers):
    """The writer's transaction: statements run synchronously on the caller's thread."""

    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        try:
            cur = self._conn.execute(to_sqlite_sql(sql), args)
        except sqlite3.Error as exc:
            raise _wrap(exc) from exc
        count = cur.rowcount
        cur.close()
        return count

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(to_sqlite_sql(sql), rows).close()
        except sqlite3.Error as exc:
            raise _wrap(exc) from exc

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            cur = self._conn.execute(to_sqlite_sql(sql), args)
            rows = cur.fetchall()
            cur.close()
        except sqlite3.Error as exc:
            raise _wrap(exc) from exc
        return [dict(r) for r in rows]



_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=5000")


def _open_writer(path: str) -> sqlite3.Connection:
    # Used from the event loop and from the writer's worker thread, never at the same time
    # (the write lock), hence check_same_thread=False.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    for pragma in _PRAGMAS:
        conn.execute(pragma).close()
    return conn


async def _open(path: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=NORMAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA busy_timeout=5000")
    return conn


async def _settle(conn: aiosqlite.Connection) -> None:
    """Make a pooled reader clean before use.

    A read cancelled while its BEGIN or ROLLBACK was queued on the connection's
    thread leaves that statement to run later, possibly leaving a transaction
    open. aiosqlite runs statements in order, so a no-op first waits for any
    such leftover; then an open transaction is ended.
    """
    await conn.execute("SELECT 1")
    if conn.in_transaction:
        await conn.execute("ROLLBACK")


class SqliteDatabase:
    dialect: Dialect = "sqlite"

    def __init__(self, path: str, writer: sqlite3.Connection,
                 readers: list[aiosqlite.Connection]) -> None:
        self.path = path
        self.url_safe = f"sqlite:///{path}"
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self._writer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers = readers
        for r in readers:
            self._readers.put_nowait(r)

    @classmethod
    async def connect(cls, path: str, readers: int = 2) -> "SqliteDatabase":
        if path != ":memory:":
            parent = Path(path).parent
            if not parent.exists():
                raise StorageError(f"SQLite: directory {parent} does not exist")
        try:
            writer = await asyncio.get_running_loop().run_in_executor(None, _open_writer, path)
            # An in-memory database is private to its connection: read through the writer.
            reader_conns = [] if path == ":memory:" else [await _open(path) for _ in range(readers)]
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite: cannot open {path}: {exc}") from exc
        return cls(path, writer, reader_conns)

    async def _in_writer_thread(self, sql: str) -> None:
        fut = asyncio.get_running_loop().run_in_executor(self._writer_thread, self._writer.execute, sql)
        try:
            await asyncio.shield(fut)
        except asyncio.CancelledError:
            # The statement still runs in the thread: let it finish while we hold the write
            # lock, and leave the connection outside any transaction.
            await asyncio.wait([fut])
            if self._writer.in_transaction:
                self._writer.execute("ROLLBACK")
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[InlineSqliteTx]:
        async with self._write_lock:
            try:
                await self._in_writer_thread("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _wrap(exc) from exc
            try:
                yield InlineSqliteTx(self._writer)
            except BaseException:
                await self._rollback()
                raise
            else:
                try:
                    await self._in_writer_thread("COMMIT")
                except sqlite3.Error as exc:
                    await self._rollback()
                    raise _wrap(exc) from exc

    async def _rollback(self) -> None:
        if self._writer.in_transaction:
            # Quick (nothing to wait for) and must happen even when the task is being cancelled.
            self._writer.execute("ROLLBACK")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqliteTx | InlineSqliteTx]:
        if not self._all_readers:
            async with self._write_lock:
                yield InlineSqliteTx(self._writer)
            return
        conn = await self._readers.get()
        try:
            await _settle(conn)
            await conn.execute("BEGIN")  # one consistent snapshot for the whole read
            try:
                yield SqliteTx(conn)
            finally:
                await conn.execute("ROLLBACK")
        finally:
            # Back to the pool even when cancelled: the next reader settles it first.
            self._readers.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all_readers:
            await conn.close()
        async with self._write_lock:
            self._writer.close()
        self._writer_thread.shutdown(wait=True)
