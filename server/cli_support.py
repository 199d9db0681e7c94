"""What every `patrol` command shares: the user-facing error and database access."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from server.settings import Settings
from sync.store import Database


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def _run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def _with_db(settings: Settings, fn: Callable[[Database], Awaitable[Any]], migrate: bool = True) -> Any:
    from server.storage import connect
    from server.storage.migrate import migrate as do_migrate

    settings.data_path.mkdir(parents=True, exist_ok=True)
    db = await connect(settings.effective_database_url)
    try:
        if migrate:
            await do_migrate(db)
        return await fn(db)
    finally:
        await db.close()
