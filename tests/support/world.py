"""A small hand-made world for API tests: two stations, users of every role.

Kept tiny so tests stay fast; the demo seed is tested on its own.
"""

from __future__ import annotations

import uuid

import msgspec

from server.auth.passwords import hash_password
from sync.clock import now_ms
from collections.abc import Awaitable, Callable

from sync.store import Database, Tx

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)

ORGS = [  # id, parent, kind, code, path, lat, lon
    ("org-sm", None, "directorate", "SM", "/SM/", 44.9764, 19.6122),
    ("org-a", "org-sm", "station", "SM-A", "/SM/SM-A/", 44.9764, 19.6122),
    ("org-b", "org-sm", "station", "SM-B", "/SM/SM-B/", 45.0081, 19.8222),
    ("org-x", None, "directorate", "NS", "/NS/", 45.2671, 19.8335),
]
USERS = [  # username, role, org
    ("admin", "admin", "org-sm"),
    ("dispatcher", "dispatcher", "org-sm"),
    ("commander", "commander", "org-sm"),
    ("officer-a", "officer", "org-a"),
    ("officer-a2", "officer", "org-a"),
    ("officer-b", "officer", "org-b"),
    ("dispatcher-x", "dispatcher", "org-x"),
    ("admin-x", "admin", "org-x"),
]
UNITS = [("unit-a", "A-11", "org-a", 44.98, 19.61), ("unit-b", "B-21", "org-b", 45.01, 19.82),
         ("unit-x", "X-31", "org-x", 45.26, 19.83)]


class World(msgspec.Struct):
    users: dict[str, str]   # username -> id
    now: int


async def build_world(db: Database) -> World:
    now = now_ms()
    ids = {u: f"user-{u}" for u, _, _ in USERS}
    async with db.transaction() as tx:
        for oid, parent, kind, code, path, lat, lon in ORGS:
            await tx.execute(
                "INSERT INTO org_units (id, parent_id, kind, code, name, path, lat, lon, created_at)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)", oid, parent, kind, code, f"Org {code}", path, lat, lon, now)
        for username, role, org in USERS:
            await tx.execute(
                "INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash, created_at,"
                " updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$7)",
                ids[username], username, username.title(), role, org, _HASH, now)
        for uid, call_sign, org, lat, lon in UNITS:
            await tx.execute(
                "INSERT INTO units (id, call_sign, kind, org_unit_id, status, status_at, last_lat, last_lon,"
                " last_position_at, created_at, updated_at)"
                " VALUES ($1,$2,'car',$3,'available',$4,$5,$6,$4,$4,$4)", uid, call_sign, org, now, lat, lon)
        # Today's shifts: officer-a and officer-a2 on A-11, officer-b on B-21.
        for sid, unit, org, members in (("shift-a", "unit-a", "org-a", ["officer-a", "officer-a2"]),
                                        ("shift-b", "unit-b", "org-b", ["officer-b"])):
            await tx.execute(
                "INSERT INTO shifts (id, org_unit_id, unit_id, starts_at, ends_at, created_at, updated_at)"
                " VALUES ($1,$2,$3,$4,$5,$4,$4)", sid, org, unit, now - 3_600_000, now + 7 * 3_600_000)
            for m in members:
                await tx.execute("INSERT INTO shift_members (shift_id, user_id) VALUES ($1, $2)", sid, ids[m])
    return World(users=ids, now=now)


def new_device() -> str:
    return str(uuid.uuid4())


async def prepare_world(database_url: str, extra: Callable[[Tx], Awaitable[None]] | None = None) -> None:
    """Migrate an empty database and load the small world (plus ``extra``'s rows) on a
    connection of the caller's loop: the server to be started opens its own."""
    from server.storage import connect
    from server.storage.migrate import migrate

    db = await connect(database_url)
    try:
        await migrate(db)
        await build_world(db)
        if extra is not None:
            async with db.transaction() as tx:
                await extra(tx)
    finally:
        await db.close()
