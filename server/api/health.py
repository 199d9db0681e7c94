"""``/api/health``: is the server up, which storage, which schema version."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.datastructures import State

from server.storage.migrate import latest_version
from sync.store import Database


class Health(msgspec.Struct):
    status: str
    storage: str
    schema_version: int
    schema_latest: int
    version: str


@get("/api/health", tags=["system"], summary="Liveness, storage backend and schema version")
async def health(state: State) -> Health:
    from importlib.metadata import PackageNotFoundError, version

    db: Database = state.db
    try:
        app_version = version("patrol")
    except PackageNotFoundError:
        app_version = "dev"
    async with db.read() as tx:
        schema = int(await tx.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
    return Health(status="ok" if schema == latest_version() else "migrations_pending",
                  storage=db.dialect, schema_version=schema,
                  schema_latest=latest_version(), version=app_version)
