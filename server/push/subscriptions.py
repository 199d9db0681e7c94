"""Stored Web Push subscriptions, over the storage port (:mod:`sync.store`).

A subscription is what the browser's ``PushSubscription.toJSON()`` gives:
an endpoint URL at the browser vendor's push service plus two keys, ``p256dh``
(the browser's P-256 public key) and ``auth`` (a 16-byte secret). The
endpoint is unique: subscribing the same endpoint again moves it to the new
device and user. A device (one installation of the app, one service worker)
has at most one live subscription, so a new endpoint for a device replaces
the device's old one (browsers rotate endpoints).

Lookups skip revoked devices (a lost phone must not get alerts) and
deactivated users.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from sync.clock import now_ms
from sync.store import Database, Row

MAX_ENDPOINT_LENGTH = 2048
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_IN_CHUNK = 500  # ids per IN (...) list: far below both databases' parameter limits

_COLUMNS = "s.id, s.device_id, s.user_id, s.endpoint, s.p256dh, s.auth, s.failures, s.last_success_at"


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str          # base64url, no padding: 65-byte uncompressed P-256 point
    auth: str            # base64url, no padding: 16 bytes
    id: str | None = None
    device_id: str | None = None
    user_id: str | None = None
    failures: int = 0
    last_success_at: int | None = None

    @classmethod
    def from_row(cls, row: Row) -> Subscription:
        return cls(endpoint=row["endpoint"], p256dh=row["p256dh"], auth=row["auth"],
                   id=row["id"], device_id=row["device_id"], user_id=row["user_id"],
                   failures=int(row.get("failures") or 0), last_success_at=row.get("last_success_at"))

    def as_webpush(self) -> dict[str, Any]:
        """The ``PushSubscription.toJSON()`` shape."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


# -- validation --------------------------------------------------------------

def b64url_decode(value: str) -> bytes:
    """Decode base64url with or without padding (standard alphabet tolerated)."""
    text = value.strip().replace("+", "-").replace("/", "_").rstrip("=")
    if not text or any(c not in _B64URL for c in text):
        raise binascii.Error("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def validate_endpoint(endpoint: Any) -> str:
    if not isinstance(endpoint, str) or not endpoint:
        raise ValueError("endpoint: required (the push service URL from PushSubscription)")
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise ValueError(f"endpoint: longer than {MAX_ENDPOINT_LENGTH} characters")
    if any(c.isspace() for c in endpoint) or not endpoint.isprintable():
        raise ValueError("endpoint: must not contain whitespace or control characters")
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("endpoint: not a valid URL") from None
    if not host:
        raise ValueError("endpoint: the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("endpoint: must not contain credentials")
    if parts.scheme == "https":
        return endpoint
    if parts.scheme == "http" and host in LOCAL_HOSTS:
        return endpoint  # a local receiver (tests, development)
    raise ValueError("endpoint: must be an https:// URL")


def validate_p256dh(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("p256dh: required (base64url public key from PushSubscription.keys)")
    try:
        raw = b64url_decode(value)
    except (binascii.Error, ValueError):
        raise ValueError("p256dh: not base64url") from None
    if len(raw) != 65 or raw[0] != 0x04:
        raise ValueError(f"p256dh: must be a 65-byte uncompressed P-256 point, got {len(raw)} bytes")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise ValueError("p256dh: not a point on the P-256 curve") from None
    return b64url_encode(raw)


def validate_auth(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("auth: required (base64url secret from PushSubscription.keys)")
    try:
        raw = b64url_decode(value)
    except (binascii.Error, ValueError):
        raise ValueError("auth: not base64url") from None
    if len(raw) != 16:
        raise ValueError(f"auth: must decode to 16 bytes, got {len(raw)}")
    return b64url_encode(raw)


def _validate_id(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValueError(f"{name}: required (a non-empty id)")
    return value


# -- store functions ----------------------------------------------------------



async def upsert_subscription(db: Database, device_id: str, user_id: str, endpoint: str,
                              p256dh: str, auth: str) -> Subscription:
    """Store (or move) a subscription; return it as stored.

    Raises ValueError naming the field for bad input; an unknown device or
    user surfaces as the port's IntegrityError.
    """
    device_id = _validate_id("device_id", device_id)
    user_id = _validate_id("user_id", user_id)
    endpoint = validate_endpoint(endpoint)
    p256dh = validate_p256dh(p256dh)
    auth = validate_auth(auth)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO push_subscriptions (id, device_id, user_id, endpoint, p256dh, auth,"
            " created_at, failures) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)"
            " ON CONFLICT (endpoint) DO UPDATE SET device_id = excluded.device_id,"
            " user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,"
            " failures = 0",
            str(uuid.uuid4()), device_id, user_id, endpoint, p256dh, auth, now_ms(),
        )
        # One live subscription per installation: drop the device's older endpoints.
        await tx.execute("DELETE FROM push_subscriptions WHERE device_id = $1 AND endpoint <> $2",
                         device_id, endpoint)
        row = await tx.fetchrow(f"SELECT {_COLUMNS} FROM push_subscriptions s WHERE s.endpoint = $1",
                                endpoint)
    assert row is not None
    return Subscription.from_row(row)


async def delete_subscription(db: Database, endpoint: str) -> bool:
    """Forget a subscription; True if one was deleted."""
    async with db.transaction() as tx:
        return await tx.execute("DELETE FROM push_subscriptions WHERE endpoint = $1", endpoint) > 0


async def record_delivery(db: Database, endpoint: str, ok: bool) -> None:
    """Note a delivery outcome: success resets the failure count, failure increments it."""
    async with db.transaction() as tx:
        if ok:
            await tx.execute("UPDATE push_subscriptions SET last_success_at = $1, failures = 0"
                             " WHERE endpoint = $2", now_ms(), endpoint)
        else:
            await tx.execute("UPDATE push_subscriptions SET failures = failures + 1"
                             " WHERE endpoint = $1", endpoint)


async def _live_subscriptions(db: Database, column: str, ids: Iterable[str]) -> list[Subscription]:
    wanted: Sequence[str] = sorted({i for i in ids if isinstance(i, str) and i})
    out: dict[str, Subscription] = {}
    async with db.read() as tx:
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start:start + _IN_CHUNK]
            marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
            rows = await tx.fetch(
                f"SELECT {_COLUMNS} FROM push_subscriptions s"
                " JOIN devices d ON d.id = s.device_id"
                " JOIN users u ON u.id = s.user_id"
                f" WHERE s.{column} IN ({marks}) AND d.revoked_at IS NULL AND u.active = 1"
                " ORDER BY s.endpoint",
                *chunk,
            )
            for row in rows:
                out[row["endpoint"]] = Subscription.from_row(row)
    return [out[k] for k in sorted(out)]


async def subscriptions_for_users(db: Database, user_ids: Iterable[str]) -> list[Subscription]:
    """Live subscriptions of these users (revoked devices and inactive users skipped)."""
    return await _live_subscriptions(db, "user_id", user_ids)


async def subscriptions_for_devices(db: Database, device_ids: Iterable[str]) -> list[Subscription]:
    """Live subscriptions of these devices (revoked devices and inactive users skipped)."""
    return await _live_subscriptions(db, "device_id", device_ids)
