"""Push subscriptions over the storage port, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from server.push.subscriptions import (
    delete_subscription,
    subscriptions_for_devices,
    subscriptions_for_users,
    upsert_subscription,
    validate_auth,
    validate_endpoint,
    validate_p256dh,
)
from sync.store import Database, IntegrityError
from tests.push.helpers import BrowserKeys, b64url

EP = "https://fcm.googleapis.com/fcm/send/"


async def _setup(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO org_units (id, kind, code, name, path, created_at)"
                         " VALUES ('org', 'station', 'ST', 'Station', '/ST/', 1)")
        for user in ("u1", "u2"):
            await tx.execute("INSERT INTO users (id, username, full_name, role, org_unit_id,"
                             " password_hash, created_at, updated_at)"
                             " VALUES ($1, $1, $1, 'officer', 'org', 'x', 1, 1)", user)
        for device in ("d1", "d2", "d3"):
            await tx.execute("INSERT INTO devices (id, created_at) VALUES ($1, 1)", device)


async def test_upsert_and_look_up_by_user_and_device(db: Database) -> None:
    await _setup(db)
    b1, b2 = BrowserKeys(), BrowserKeys()
    s1 = await upsert_subscription(db, "d1", "u1", EP + "a", b1.p256dh, b1.auth)
    await upsert_subscription(db, "d2", "u1", EP + "b", b2.p256dh, b2.auth)
    assert s1.id and s1.device_id == "d1" and s1.user_id == "u1" and s1.p256dh == b1.p256dh
    assert [s.endpoint for s in await subscriptions_for_users(db, ["u1"])] == [EP + "a", EP + "b"]
    assert await subscriptions_for_users(db, ["u2"]) == []
    assert [s.endpoint for s in await subscriptions_for_devices(db, ["d2", "d2", "zz"])] == [EP + "b"]
    assert await subscriptions_for_users(db, []) == []


async def test_resubscribing_an_endpoint_moves_it_to_the_new_device_and_user(db: Database) -> None:
    await _setup(db)
    b = BrowserKeys()
    first = await upsert_subscription(db, "d1", "u1", EP + "a", b.p256dh, b.auth)
    b2 = BrowserKeys()
    moved = await upsert_subscription(db, "d2", "u2", EP + "a", b2.p256dh, b2.auth)
    assert moved.id == first.id and (moved.device_id, moved.user_id) == ("d2", "u2")
    assert moved.p256dh == b2.p256dh and moved.auth == b2.auth
    assert await subscriptions_for_users(db, ["u1"]) == []
    assert [s.id for s in await subscriptions_for_users(db, ["u2"])] == [first.id]


async def test_a_new_endpoint_for_a_device_replaces_its_old_one(db: Database) -> None:
    await _setup(db)
    b = BrowserKeys()
    await upsert_subscription(db, "d1", "u1", EP + "old", b.p256dh, b.auth)
    await upsert_subscription(db, "d1", "u1", EP + "new", b.p256dh, b.auth)
    assert [s.endpoint for s in await subscriptions_for_devices(db, ["d1"])] == [EP + "new"]


async def test_revoked_devices_and_inactive_users_get_nothing(db: Database) -> None:
    await _setup(db)
    b = BrowserKeys()
    await upsert_subscription(db, "d1", "u1", EP + "a", b.p256dh, b.auth)
    await upsert_subscription(db, "d3", "u2", EP + "c", b.p256dh, b.auth)
    async with db.transaction() as tx:
        await tx.execute("UPDATE devices SET revoked_at = 5 WHERE id = 'd1'")
        await tx.execute("UPDATE users SET active = 0 WHERE id = 'u2'")
    assert await subscriptions_for_users(db, ["u1", "u2"]) == []
    assert await subscriptions_for_devices(db, ["d1", "d3"]) == []


async def test_delete(db: Database) -> None:
    await _setup(db)
    b = BrowserKeys()
    await upsert_subscription(db, "d1", "u1", EP + "a", b.p256dh, b.auth)
    assert await delete_subscription(db, EP + "a") is True
    assert await delete_subscription(db, EP + "a") is False
    assert await subscriptions_for_devices(db, ["d1"]) == []


async def test_unknown_device_is_an_integrity_error(db: Database) -> None:
    await _setup(db)
    b = BrowserKeys()
    with pytest.raises(IntegrityError):
        await upsert_subscription(db, "nope", "u1", EP + "a", b.p256dh, b.auth)


async def test_many_ids_are_chunked(db: Database) -> None:
    await _setup(db)
    b = BrowserKeys()
    await upsert_subscription(db, "d3", "u2", EP + "c", b.p256dh, b.auth)
    ids = [f"x{i}" for i in range(1200)] + ["d3"]
    assert [s.device_id for s in await subscriptions_for_devices(db, ids)] == ["d3"]


# -- validation (no database needed) ------------------------------------------------

@pytest.mark.parametrize("endpoint, ok", [
    ("https://fcm.googleapis.com/fcm/send/abc", True),
    ("https://updates.push.services.mozilla.com/wpush/v2/gAAA", True),
    ("http://127.0.0.1:8123/push/x", True),
    ("http://localhost:9/p", True),
    ("http://[::1]:9/p", True),
    ("http://fcm.googleapis.com/fcm/send/abc", False),
    ("ftp://example.org/x", False),
    ("https://", False),
    ("https://user:pw@push.example.org/x", False),
    ("https://push.example.org/a b", False),
    ("https://push.example.org:99999/x", False),
    ("https://push.example.org/" + "a" * 3000, False),
    ("", False),
    (None, False),
])
def test_endpoint_validation(endpoint: object, ok: bool) -> None:
    if ok:
        assert validate_endpoint(endpoint) == endpoint
    else:
        with pytest.raises(ValueError, match="^endpoint: "):
            validate_endpoint(endpoint)


def test_p256dh_must_be_an_uncompressed_point_on_the_curve() -> None:
    b = BrowserKeys()
    assert validate_p256dh(b.p256dh) == b.p256dh
    assert validate_p256dh(b.p256dh + "=") == b.p256dh          # padding tolerated, normalised
    for bad in ["", "!!!", b64url(b"\x04" + b"\x00" * 63), b64url(b"\x02" + b"\x01" * 64),
                b64url(b"\x04" + b"\x01" * 64)]:   # too short / compressed tag / not on the curve
        with pytest.raises(ValueError, match="^p256dh: "):
            validate_p256dh(bad)


def test_auth_must_be_16_bytes() -> None:
    good = b64url(bytes(range(16)))
    assert validate_auth(good) == good
    for bad in ["", b64url(bytes(15)), b64url(bytes(17)), "***"]:
        with pytest.raises(ValueError, match="^auth: "):
            validate_auth(bad)


async def test_upsert_rejects_bad_input_before_touching_the_database(db: Database) -> None:
    b = BrowserKeys()
    with pytest.raises(ValueError, match="^endpoint: "):
        await upsert_subscription(db, "d1", "u1", "http://evil.example/x", b.p256dh, b.auth)
    with pytest.raises(ValueError, match="^auth: "):
        await upsert_subscription(db, "d1", "u1", EP + "a", b.p256dh, "short")
    with pytest.raises(ValueError, match="^device_id: "):
        await upsert_subscription(db, "", "u1", EP + "a", b.p256dh, b.auth)
