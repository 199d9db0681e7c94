"""The storage port: the small async protocol every adapter implements.

SQL is written once, in the PostgreSQL placeholder style (``$1, $2 …``), and
kept to the portable subset both SQLite (3.35+) and PostgreSQL understand;
the SQLite adapter rewrites the placeholders to its numbered ``?1`` form.
Rows come back as plain dicts so callers never see driver types.

Transactions are explicit: writes happen only inside ``db.transaction()``;
``db.read()`` gives a read-only view for queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol, runtime_checkable

Row = dict[str, Any]
Dialect = Literal["sqlite", "postgresql"]


class StorageError(Exception):
    """A storage failure with a message fit for an operator."""


class IntegrityError(StorageError):
    """A constraint (unique, foreign key, check) refused the write."""


class StorageUnavailable(StorageError):
    """The database cannot be reached or dropped the connection (down, restarting,
    network cut). Nothing was committed by the failing call; try again shortly."""


class TransientError(StorageError):
    """The database gave up on the transaction (deadlock, serialization failure);
    it was rolled back and running it again may well succeed."""


@runtime_checkable
class Tx(Protocol):
    """One open transaction (or read snapshot)."""

    dialect: Dialect

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; return the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per row of arguments."""
        ...

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        ...

    async def fetchval(self, sql: str, *args: Any) -> Any:
        ...


@runtime_checkable
class Database(Protocol):
    """A connected database: the only way the rest of Patrol touches storage."""

    dialect: Dialect
    url_safe: str  # the URL with any password masked, for logs and /api/health

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """A read-write transaction: committed on normal exit, rolled back on error."""
        ...

    def read(self) -> AbstractAsyncContextManager[Tx]:
        """A read-only view (no commit needed)."""
        ...

    async def close(self) -> None:
        ...
