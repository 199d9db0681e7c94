"""User accounts: creation and listing, within an admin's scope."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import msgspec
import uuid6

from server import audit
from server.auth.passwords import hash_password
from server.clock import now_ms
from sync.principal import ROLES, Principal
from sync.store import Database, IntegrityError

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 10


class UserError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UserOut(msgspec.Struct):
    id: str
    username: str
    full_name: str
    role: str
    org_unit_id: str
    org_unit_code: str
    badge_no: str | None
    active: bool


def _out(row: dict[str, Any]) -> UserOut:
    return UserOut(id=row["id"], username=row["username"], full_name=row["full_name"], role=row["role"],
                   org_unit_id=row["org_unit_id"], org_unit_code=row["code"], badge_no=row["badge_no"],
                   active=bool(row["active"]))


def validate(username: str, password: str, role: str, full_name: str) -> None:
    if not _USERNAME.match(username):
        raise UserError("username", "username: 2-40 lowercase letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD:
        raise UserError("password", f"password: at least {MIN_PASSWORD} characters")
    if role not in ROLES:
        raise UserError("role", f"role: one of {', '.join(ROLES)}")
    if not full_name.strip():
        raise UserError("full_name", "full_name: required")


async def create_user(db: Database, *, username: str, password: str, role: str, full_name: str,
                      org_code: str, badge_no: str | None = None, locale: str = "sr-Latn",
                      by: Principal | None = None) -> UserOut:
    username = username.strip().lower()
    validate(username, password, role, full_name)
    pw_hash = await asyncio.to_thread(hash_password, password)
    now = now_ms()
    user_id = str(uuid6.uuid7())
    async with db.transaction() as tx:
        org = await tx.fetchrow("SELECT id, path FROM org_units WHERE code = $1", org_code)
        if org is None:
            raise UserError("org_unit", f"org_unit: no org unit with code {org_code!r}")
        if by is not None and not by.in_scope(org["path"]):
            raise UserError("org_unit", "org_unit: outside your scope")
        try:
            await tx.execute(
                "INSERT INTO users (id, username, full_name, role, org_unit_id, badge_no, password_hash,"
                " locale, active, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,1,$9,$9)",
                user_id, username, full_name.strip(), role, org["id"], badge_no, pw_hash, locale, now)
        except IntegrityError:
            raise UserError("username", f"username: {username!r} is taken") from None
        await audit.record(tx, action="create", entity="user", entity_id=user_id, principal=by,
                           fields=audit.PERSONAL_FIELDS["user"])
        row = await tx.fetchrow("SELECT u.*, o.code FROM users u JOIN org_units o ON o.id = u.org_unit_id"
                                " WHERE u.id = $1", user_id)
    assert row is not None
    return _out(row)


async def list_users(db: Database, scope_path: str) -> list[UserOut]:
    async with db.read() as tx:
        rows = await tx.fetch(
            "SELECT u.*, o.code FROM users u JOIN org_units o ON o.id = u.org_unit_id"
            " WHERE o.path LIKE $1 ORDER BY u.username", scope_path + "%")
    return [_out(r) for r in rows]


async def set_active(db: Database, user_id: str, active: bool, by: Principal | None) -> bool:
    async with db.transaction() as tx:
        row = await tx.fetchrow("SELECT o.path FROM users u JOIN org_units o ON o.id = u.org_unit_id"
                                " WHERE u.id = $1", user_id)
        if row is None or (by is not None and not by.in_scope(row["path"])):
            return False
        await tx.execute("UPDATE users SET active = $2, updated_at = $3 WHERE id = $1",
                         user_id, 1 if active else 0, now_ms())
        if not active:
            await tx.execute("UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                             user_id, now_ms())
        await audit.record(tx, action="activate" if active else "deactivate", entity="user",
                           entity_id=user_id, principal=by)
    return True
