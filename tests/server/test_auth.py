"""Sign-in, sessions per device, throttling, revocation, admin scope."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from tests.server.conftest import headers, sign_in
from tests.support.world import PASSWORD, new_device


async def test_login_returns_token_and_principal(api: AsyncTestClient) -> None:
    auth = await sign_in(api, "officer-a")
    me = auth["_me"]
    assert me["role"] == "officer" and me["scope_path"] == "/SM/SM-A/" and me["unit_id"] == "unit-a"
    r = await api.get("/api/auth/me", headers=headers(auth))
    assert r.status_code == 200 and r.json()["user_id"] == "user-officer-a"


async def test_dispatcher_has_directorate_scope_and_no_unit(api: AsyncTestClient) -> None:
    me = (await sign_in(api, "dispatcher"))["_me"]
    assert me["scope_path"] == "/SM/" and me["unit_id"] is None


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"username": "officer-a", "password": "wrong", "device_id": "d" * 36}, 422, "invalid"),
    ({"username": "officer-a", "password": "wrong"}, 400, "invalid"),
    ({"username": "nobody", "password": PASSWORD, "device_id": new_device()}, 401, "invalid_credentials"),
    ({"username": "officer-a", "password": "wrong", "device_id": new_device()}, 401, "invalid_credentials"),
])
async def test_bad_logins_get_clear_errors(api: AsyncTestClient, body: dict, status: int, code: str) -> None:
    r = await api.post("/api/auth/login", json=body)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["message"]


async def test_missing_field_is_named(api: AsyncTestClient) -> None:
    r = await api.post("/api/auth/login", json={"username": "officer-a", "password": "x"})
    assert r.status_code == 400
    assert "device_id" in r.json()["message"]


async def test_requests_without_token_are_401(api: AsyncTestClient) -> None:
    for h in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        r = await api.get("/api/auth/me", headers=h)
        assert r.status_code == 401
        assert r.json()["code"] in ("unauthorized", "invalid_token")


async def test_repeated_failures_are_throttled(api: AsyncTestClient) -> None:
    device = new_device()
    for _ in range(3):
        r = await api.post("/api/auth/login", json={"username": "officer-b", "password": "nope", "device_id": device})
        assert r.status_code == 401
    r = await api.post("/api/auth/login", json={"username": "officer-b", "password": PASSWORD, "device_id": device})
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_attempts" and int(r.headers["retry-after"]) > 0
    # Other usernames are not affected.
    assert (await api.post("/api/auth/login", json={"username": "officer-a", "password": PASSWORD,
                                                   "device_id": device})).status_code == 200


async def test_logout_ends_only_that_session(api: AsyncTestClient) -> None:
    phone, tablet = await sign_in(api, "officer-a"), await sign_in(api, "officer-a")
    assert (await api.post("/api/auth/logout", headers=headers(phone))).status_code == 200
    r = await api.get("/api/auth/me", headers=headers(phone))
    assert r.status_code == 401 and r.json()["code"] == "session_ended"
    assert (await api.get("/api/auth/me", headers=headers(tablet))).status_code == 200


async def test_admin_revokes_a_lost_phone(api: AsyncTestClient) -> None:
    device = new_device()
    officer = await sign_in(api, "officer-a", device)
    admin = await sign_in(api, "admin")
    r = await api.post(f"/api/admin/devices/{device}/revoke", headers=headers(admin))
    assert r.status_code == 200
    r = await api.get("/api/auth/me", headers=headers(officer))
    assert r.status_code == 401 and r.json()["code"] == "device_revoked"
    r = await api.post("/api/auth/login", json={"username": "officer-a", "password": PASSWORD, "device_id": device})
    assert r.status_code == 403 and r.json()["code"] == "device_revoked"
    # Restored, it may sign in again.
    assert (await api.post(f"/api/admin/devices/{device}/restore", headers=headers(admin))).status_code == 200
    await sign_in(api, "officer-a", device)


async def test_only_admins_administer(api: AsyncTestClient) -> None:
    for username in ("officer-a", "dispatcher", "commander"):
        auth = await sign_in(api, username)
        for path in ("/api/admin/users", "/api/admin/devices", "/api/admin/audit"):
            r = await api.get(path, headers=headers(auth))
            assert r.status_code == 403, (username, path)
            assert r.json()["code"] == "forbidden"


async def test_admin_sees_and_creates_users_only_in_scope(api: AsyncTestClient) -> None:
    admin, admin_x = await sign_in(api, "admin"), await sign_in(api, "admin-x")
    names = {u["username"] for u in (await api.get("/api/admin/users", headers=headers(admin))).json()}
    assert "officer-b" in names and "dispatcher-x" not in names
    names_x = {u["username"] for u in (await api.get("/api/admin/users", headers=headers(admin_x))).json()}
    assert names_x == {"dispatcher-x", "admin-x"}
    body = {"username": "novi", "password": "a-long-password", "role": "officer", "full_name": "Novi Novak",
            "org_unit_code": "SM-B"}
    r = await api.post("/api/admin/users", json=body, headers=headers(admin_x))
    assert r.status_code == 422 and r.json()["field"] == "org_unit"
    r = await api.post("/api/admin/users", json=body, headers=headers(admin))
    assert r.status_code == 201 and r.json()["org_unit_code"] == "SM-B"
    r = await api.post("/api/admin/users", json=body, headers=headers(admin))
    assert r.status_code == 422 and r.json()["field"] == "username"
    r = await api.post("/api/admin/users", json={**body, "username": "kratka", "password": "short"},
                       headers=headers(admin))
    assert r.status_code == 422 and r.json()["field"] == "password"


async def test_deactivated_user_loses_sessions(api: AsyncTestClient) -> None:
    officer, admin = await sign_in(api, "officer-b"), await sign_in(api, "admin")
    r = await api.post("/api/admin/users/user-officer-b/deactivate", headers=headers(admin))
    assert r.status_code == 200
    assert (await api.get("/api/auth/me", headers=headers(officer))).status_code == 401


async def test_logins_and_revocations_are_audited(api: AsyncTestClient) -> None:
    device = new_device()
    await sign_in(api, "officer-a", device)
    admin = await sign_in(api, "admin")
    await api.post(f"/api/admin/devices/{device}/revoke", headers=headers(admin))
    entries = (await api.get("/api/admin/audit", headers=headers(admin))).json()
    actions = [(e["action"], e["entity"]) for e in entries]
    assert ("login", "session") in actions and ("revoke", "device") in actions
    revoke = next(e for e in entries if e["action"] == "revoke")
    assert revoke["entity_id"] == device and revoke["actor"] == "admin"


async def test_oversized_body_is_rejected(api: AsyncTestClient) -> None:
    r = await api.post("/api/auth/login", content=b"{" + b" " * 70_000 + b"}",
                       headers={"content-type": "application/json"})
    assert r.status_code == 413
