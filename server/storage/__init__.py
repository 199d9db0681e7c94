"""Storage adapters behind the :mod:`sync.store` port, and migrations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sync.store import Database, StorageError

__all__ = ["DatabaseUrl", "parse_database_url", "connect", "mask_url"]


@dataclass(frozen=True)
class DatabaseUrl:
    dialect: str        # 'sqlite' | 'postgresql'
    target: str         # file path for SQLite, DSN for PostgreSQL
    safe: str           # printable form with the password masked


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        netloc = f"{parts.username}:***@{host}"
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def parse_database_url(url: str, base_dir: Path | None = None) -> DatabaseUrl:
    """Understand ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` and
    ``postgresql://user@host:port/db``; anything else is a ValueError naming
    what was expected."""
    if url.startswith("sqlite://"):
        rest = url[len("sqlite://"):]
        if not rest.startswith("/"):
            raise ValueError("a SQLite URL looks like sqlite:///relative/file.db or sqlite:////abs/file.db")
        path = rest[1:]
        if not path:
            raise ValueError("the SQLite URL names no file (sqlite:///data/patrol.db)")
        if path != ":memory:" and not Path(path).is_absolute() and base_dir is not None:
            path = str(base_dir / path)
        return DatabaseUrl("sqlite", path, f"sqlite:///{path}")
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(url)
        if not parts.hostname and "host=" not in parts.query:
            raise ValueError("a PostgreSQL URL needs a host: postgresql://user@host:5432/dbname")
        if not parts.path.strip("/"):
            raise ValueError("a PostgreSQL URL needs a database name: postgresql://user@host:5432/dbname")
        return DatabaseUrl("postgresql", url, mask_url(url))
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise ValueError(f"unsupported scheme {scheme!r}: use sqlite:///path.db or postgresql://user@host/db")


async def connect(url: str, base_dir: Path | None = None) -> Database:
    """Open a database from its URL. Raises StorageError with one readable line."""
    try:
        parsed = parse_database_url(url, base_dir)
    except ValueError as exc:
        raise StorageError(f"PATROL_DATABASE_URL: {exc}") from exc
    if parsed.dialect == "sqlite":
        from .sqlite import SqliteDatabase

        return await SqliteDatabase.connect(parsed.target)
    from .postgres import PgDatabase

    return await PgDatabase.connect(parsed.target, parsed.safe)
