"""Sign-in, per-device sessions, revocation and login throttling.

A session belongs to a user on a device (an app installation, whose id is
also its sync client_id). Only a SHA-256 of the bearer token is stored. An
admin revoking a device ends all its sessions at once; the next request or
socket from it is told `device_revoked` so the app wipes its local data.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

import uuid6

from server import audit
from server.auth.passwords import hash_password, verify_password
from server.clock import now_ms
from server.settings import Settings
from sync.principal import Principal
from sync.store import Database, Tx

log = logging.getLogger("patrol.auth")

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Verified against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = hash_password("not-a-real-password")
_TOUCH_EVERY_MS = 60_000
# An officer may sign in a little before the shift starts and finish a little after.
SHIFT_SLACK_MS = 60 * 60_000


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginResult:
    token: str
    session_id: str
    expires_at: int
    principal: Principal
    device_secret: str | None = None  # issued at a device's first sign-in; the app keeps it


def device_may_sign_in(device: dict | None, user_id: str, secret: str | None) -> str:
    """May this sign-in use this device id? 'new' | 'proven' | 'claim' | 'refused'.

    * no such device yet: it is registered to this installation (``new``; a secret is issued);
    * the device has a secret: the right one must be presented (``proven``), whoever signs
      in — a shared duty phone keeps its secret across officers;
    * a device registered before secrets existed is claimed by the account that first
      used it (``claim``; a secret is issued now) and by no one else.
    """
    if device is None:
        return "new"
    if device["secret_hash"] is not None:
        if secret and hmac.compare_digest(device["secret_hash"], token_hash(secret)):
            return "proven"
        return "refused"
    return "claim" if device["first_user_id"] == user_id else "refused"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def valid_device_id(device_id: str) -> bool:
    return bool(_UUID.match(device_id))


async def scope_path_of(tx: Tx, org_unit_id: str) -> str:
    path = await tx.fetchval("SELECT path FROM org_units WHERE id = $1", org_unit_id)
    return str(path) if path else "/nowhere/"


async def current_unit_of(tx: Tx, user_id: str, now: int) -> str | None:
    """The unit of the officer's shift now (or starting/ending within the slack)."""
    row = await tx.fetchrow(
        "SELECT s.unit_id FROM shift_members m JOIN shifts s ON s.id = m.shift_id"
        " WHERE m.user_id = $1 AND s.starts_at - $3 <= $2 AND s.ends_at + $3 >= $2"
        " ORDER BY CASE WHEN s.starts_at <= $2 AND s.ends_at >= $2 THEN 0 ELSE 1 END, s.starts_at"
        " LIMIT 1",
        user_id, now, SHIFT_SLACK_MS,
    )
    return row["unit_id"] if row else None


async def principal_for(tx: Tx, user: dict, device_id: str, now: int) -> Principal:
    unit_id = await current_unit_of(tx, user["id"], now) if user["role"] == "officer" else None
    return Principal(user_id=user["id"], role=user["role"], org_unit_id=user["org_unit_id"],
                     scope_path=await scope_path_of(tx, user["org_unit_id"]), unit_id=unit_id,
                     device_id=device_id, display_name=user["full_name"])


# Failures from every source together before a username is throttled for unknown devices
# too (many addresses guessing at one account), as a multiple of PATROL_LOGIN_MAX_FAILURES.
USERNAME_WIDE_FACTOR = 10


async def _failures(tx: Tx, username: str, since: int, where: str = "", *args: object) -> tuple[int, int | None]:
    """Failed sign-ins for ``username`` after ``since`` and after the last success of the same
    source (``where``: an extra condition on the attempts, e.g. the address or the device)."""
    row = await tx.fetchrow(
        "SELECT COUNT(*) AS n, MIN(at) AS first FROM login_attempts"
        f" WHERE username = $1 AND ok = 0 AND at > $2{where}"
        f" AND at > COALESCE((SELECT MAX(at) FROM login_attempts WHERE username = $1 AND ok = 1{where}), 0)",
        username, since, *args,
    )
    assert row is not None
    return int(row["n"]), row["first"]


async def throttle_state(tx: Tx, settings: Settings, *, username: str, ip: str | None, device_id: str,
                         known_device: bool, now: int) -> tuple[int, int | None]:
    """(failures that count against this attempt, the first of them), by source.

    * a known device (its secret proven, this user signed in on it before) counts only its
      own failures: a stranger's guesses never lock out the dispatcher's own console;
    * anything else counts the failures from its address, and is also throttled when the
      username collected USERNAME_WIDE_FACTOR times the limit from all sources.
    """
    since = now - settings.login_lockout_s * 1000
    if known_device:
        return await _failures(tx, username, since, " AND device_id = $3", device_id)
    n, first = await _failures(tx, username, since, " AND COALESCE(ip, '') = COALESCE($3, '')", ip)
    if n >= settings.login_max_failures:
        return n, first
    wide, wide_first = await _failures(tx, username, since)
    if wide >= settings.login_max_failures * USERNAME_WIDE_FACTOR:
        return wide, wide_first
    return n, first


async def login(db: Database, settings: Settings, *, username: str, password: str, device_id: str,
                device_label: str | None = None, user_agent: str | None = None,
                ip: str | None = None, device_secret: str | None = None) -> LoginResult:
    username = username.strip().lower()
    if not valid_device_id(device_id):
        raise AuthError(422, "invalid", "device_id must be a UUID made by the app")
    now = now_ms()
    window_ms = settings.login_lockout_s * 1000
    async with db.read() as tx:
        user = await tx.fetchrow("SELECT * FROM users WHERE username = $1", username)
        device = await tx.fetchrow("SELECT revoked_at, secret_hash, first_user_id FROM devices WHERE id = $1",
                                   device_id)
        known = (user is not None and device is not None
                 and device_may_sign_in(device, user["id"], device_secret) == "proven"
                 and bool(await tx.fetchval("SELECT 1 FROM sessions WHERE user_id = $1 AND device_id = $2 LIMIT 1",
                                            user["id"], device_id)))
        failures, first = await throttle_state(tx, settings, username=username, ip=ip, device_id=device_id,
                                               known_device=known, now=now)
    if failures >= settings.login_max_failures:
        retry = max(1, ((first or now) + window_ms - now) // 1000)
        log.warning("sign-in throttled for %r from %s (device %s): %d failures", username, ip, device_id, failures)
        raise AuthError(429, "too_many_attempts",
                        f"Too many failed sign-ins for this username. Try again in {retry} s.", retry)
    ok = await asyncio.to_thread(verify_password, user["password_hash"] if user else _DUMMY_HASH, password)
    ok = ok and user is not None and bool(user["active"])
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO login_attempts (username, ip, at, ok, device_id) VALUES ($1, $2, $3, $4, $5)",
                         username, ip, now, 1 if ok else 0, device_id)
    if not ok:
        log.info("failed sign-in for %r from %s (device %s)", username, ip, device_id)
    if not ok or user is None:
        raise AuthError(401, "invalid_credentials", "Wrong username or password.")
    if device is not None and device["revoked_at"] is not None:
        raise AuthError(403, "device_revoked",
                        "This device was revoked by an administrator. Ask them to re-enable it.")
    binding = device_may_sign_in(device, user["id"], device_secret)
    if binding == "refused":
        # The password was right, so saying why is safe; the app makes a new device id.
        async with db.transaction() as tx:
            await audit.record(tx, action="device_refused", entity="device", entity_id=device_id,
                               actor_id=user["id"], ip=ip)
        raise AuthError(403, "device_not_yours",
                        "This device id belongs to another installation. The app makes a new one.")
    issued = secrets.token_urlsafe(32) if binding in ("new", "claim") else None
    token = secrets.token_urlsafe(32)
    session_id = str(uuid6.uuid7())
    expires = now + settings.session_ttl_hours * 3_600_000
    async with db.transaction() as tx:
        if device is None:
            # ON CONFLICT: two first sign-ins racing with one id; the loser is refused below.
            created = await tx.execute(
                "INSERT INTO devices (id, label, user_agent, first_user_id, created_at, last_seen_at, secret_hash)"
                " VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT (id) DO NOTHING",
                device_id, (device_label or "")[:80] or None, (user_agent or "")[:300] or None, user["id"], now,
                token_hash(issued or ""))
            if not created:
                raise AuthError(403, "device_not_yours",
                                "This device id belongs to another installation. The app makes a new one.")
        elif binding == "claim":
            claimed = await tx.execute(
                "UPDATE devices SET secret_hash = $2, last_seen_at = $3 WHERE id = $1 AND secret_hash IS NULL",
                device_id, token_hash(issued or ""), now)
            if not claimed:
                raise AuthError(403, "device_not_yours",
                                "This device id belongs to another installation. The app makes a new one.")
        else:
            await tx.execute("UPDATE devices SET last_seen_at = $2, user_agent = COALESCE($3, user_agent)"
                             " WHERE id = $1", device_id, now, (user_agent or "")[:300] or None)
        await tx.execute(
            "INSERT INTO sessions (id, token_hash, user_id, device_id, created_at, last_used_at, expires_at)"
            " VALUES ($1, $2, $3, $4, $5, $5, $6)",
            session_id, token_hash(token), user["id"], device_id, now, expires)
        principal = await principal_for(tx, user, device_id, now)
        await audit.record(tx, action="login", entity="session", entity_id=session_id,
                           principal=principal, ip=ip)
    return LoginResult(token=token, session_id=session_id, expires_at=expires, principal=principal,
                       device_secret=issued)


async def authenticate(db: Database, token: str, settings: Settings | None = None) -> tuple[Principal, str]:
    """Resolve a bearer token to (principal, session_id) or raise AuthError(401)."""
    if not token or len(token) > 200:
        raise AuthError(401, "invalid_token", "Sign in again.")
    now = now_ms()
    async with db.read() as tx:
        row = await tx.fetchrow(
            "SELECT s.id AS session_id, s.device_id, s.expires_at, s.revoked_at, s.last_used_at,"
            " d.revoked_at AS device_revoked_at, u.*"
            " FROM sessions s JOIN users u ON u.id = s.user_id JOIN devices d ON d.id = s.device_id"
            " WHERE s.token_hash = $1", token_hash(token))
        if row is None:
            raise AuthError(401, "invalid_token", "Sign in again.")
        if row["device_revoked_at"] is not None:
            raise AuthError(401, "device_revoked", "This device was revoked by an administrator.")
        if row["revoked_at"] is not None:
            raise AuthError(401, "session_ended", "You were signed out. Sign in again.")
        if row["expires_at"] < now:
            raise AuthError(401, "session_expired", "Your sign-in expired. Sign in again.")
        if not row["active"]:
            raise AuthError(401, "account_disabled", "This account is disabled.")
        principal = await principal_for(tx, row, row["device_id"], now)
    if now - row["last_used_at"] > _TOUCH_EVERY_MS:
        # Sliding expiry: computed here, not in SQL, so each parameter has one plain type
        # (PostgreSQL refused `CASE WHEN $3 > 0 THEN $2 + $3`: $2 inferred integer and bigint).
        expires = now + settings.session_ttl_hours * 3_600_000 if settings else None
        async with db.transaction() as tx:
            await tx.execute("UPDATE sessions SET last_used_at = $2, expires_at = COALESCE($3, expires_at)"
                             " WHERE id = $1", row["session_id"], now, expires)
            await tx.execute("UPDATE devices SET last_seen_at = $2 WHERE id = $1", row["device_id"], now)
    return principal, row["session_id"]


async def logout(db: Database, session_id: str) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                         session_id, now_ms())


def device_in_scope(param: int, alias: str = "d") -> str:
    """SQL: the device ``alias`` is in the scope path given as parameter ``$param``.

    A device belongs to the people who use it: the account that registered it or
    any account with a session on it (a shared duty phone) in the admin's subtree.
    One rule for listing, revoking and restoring, so an admin acts only where they read.
    """
    return (f"EXISTS (SELECT 1 FROM users su JOIN org_units so ON so.id = su.org_unit_id"
            f" WHERE so.path LIKE ${param} AND (su.id = {alias}.first_user_id OR su.id IN"
            f" (SELECT ss.user_id FROM sessions ss WHERE ss.device_id = {alias}.id)))")


async def revoke_device(db: Database, device_id: str, by_user_id: str | None,
                        scope_path: str | None = None) -> bool:
    """Revoke a device and end its sessions. False if there is no such device (in scope).

    ``scope_path`` None: no scope limit (the `patrol` CLI, run by the operator)."""
    now = now_ms()
    async with db.transaction() as tx:
        if not await _device_visible(tx, device_id, scope_path):
            return False
        await tx.execute(
            "UPDATE devices SET revoked_at = $2, revoked_by = $3 WHERE id = $1 AND revoked_at IS NULL",
            device_id, now, by_user_id)
        await tx.execute("UPDATE sessions SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL",
                         device_id, now)
        await audit.record(tx, action="revoke", entity="device", entity_id=device_id, actor_id=by_user_id)
    return True


async def _device_visible(tx: Tx, device_id: str, scope_path: str | None) -> bool:
    if scope_path is None:
        return bool(await tx.fetchval("SELECT 1 FROM devices WHERE id = $1", device_id))
    return bool(await tx.fetchval(f"SELECT 1 FROM devices d WHERE d.id = $1 AND {device_in_scope(2)}",
                                  device_id, scope_path + "%"))


async def restore_device(db: Database, device_id: str, by_user_id: str | None,
                         scope_path: str | None = None) -> bool:
    async with db.transaction() as tx:
        if not await _device_visible(tx, device_id, scope_path):
            return False
        changed = await tx.execute("UPDATE devices SET revoked_at = NULL, revoked_by = NULL WHERE id = $1",
                                   device_id)
        if changed:
            await audit.record(tx, action="restore", entity="device", entity_id=device_id, actor_id=by_user_id)
    return bool(changed)
