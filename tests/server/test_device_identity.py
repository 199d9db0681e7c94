"""A device id is public; the installation that registered it proves itself with a secret.

The attack this closes (issue 11.1): an officer signs in with their own password
but a colleague's device id (seen in change data desks receive); pushes under
that id then replayed the colleague's stored outcomes, and junk at the
colleague's next seq made the colleague's real note be answered as a replay
and never stored.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar.testing import AsyncTestClient

from server.storage import connect
from tests.server.conftest import DEVICE_SECRETS, headers, sign_in
from tests.support.world import PASSWORD, new_device


def _note(device: str, seq: int, text: str, incident_id: str = "inc-none") -> dict[str, Any]:
    at = int(time.time() * 1000)
    return {"v": 1, "client_id": device, "seq": seq, "name": "unit.set_status",
            "hlc": f"{at:012x}-{seq:04x}-{device}", "device_at": at, "base_version": None,
            "args": {"unit_id": "unit-a", "status": text}}


async def _login(api: AsyncTestClient, username: str, device: str, secret: str | None = None) -> Any:
    body: dict[str, Any] = {"username": username, "password": PASSWORD, "device_id": device}
    if secret is not None:
        body["device_secret"] = secret
    return await api.post("/api/auth/login", json=body)


async def _rows(api: AsyncTestClient, sql: str, *args: Any) -> list[dict[str, Any]]:
    db = await connect(api.app.state.settings.database_url)
    try:
        async with db.read() as tx:
            return await tx.fetch(sql, *args)
    finally:
        await db.close()


async def test_a_colleagues_device_id_is_refused_without_its_secret(api: AsyncTestClient) -> None:
    victim_device = new_device()
    first = await _login(api, "officer-a", victim_device)
    assert first.status_code == 200
    secret = first.json()["device_secret"]
    assert len(secret) >= 32
    for attempt in (None, "guessed-" + "x" * 40, secret[:-1] + ("A" if secret[-1] != "A" else "B")):
        r = await _login(api, "officer-a2", victim_device, attempt)
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "device_not_yours"
    sessions = await _rows(api, "SELECT user_id FROM sessions WHERE device_id = $1", victim_device)
    assert [s["user_id"] for s in sessions] == ["user-officer-a"], "no session was made for the attacker"
    refused = await _rows(api, "SELECT actor_id FROM audit_log WHERE action = 'device_refused'"
                               " AND entity_id = $1", victim_device)
    assert len(refused) == 3 and refused[0]["actor_id"] == "user-officer-a2"
    # The secret is answered once, at registration, never again.
    again = await _login(api, "officer-a", victim_device, secret)
    assert again.status_code == 200 and "device_secret" not in again.json()


async def test_a_shared_duty_phone_signs_in_anyone_who_holds_its_secret(api: AsyncTestClient) -> None:
    phone = new_device()
    a = await sign_in(api, "officer-a", phone)
    await api.post("/api/auth/logout", headers=headers(a))
    b = await sign_in(api, "officer-a2", phone)  # sends the phone's secret, as the app does
    assert b["_me"]["device_id"] == phone


async def test_the_victims_note_is_stored_whatever_the_attacker_tries(api: AsyncTestClient) -> None:
    victim_device = new_device()
    victim = await sign_in(api, "officer-a", victim_device)
    r = await api.post("/api/sync/push", headers=headers(victim),
                       json={"mutations": [_note(victim_device, 1, "busy")]})
    assert r.json()["results"][0]["outcome"] == "applied"

    assert (await _login(api, "officer-a2", victim_device)).status_code == 403
    attacker = await sign_in(api, "officer-a2")
    # Under their own session the attacker can neither read the victim's outcome (seq 1)
    # nor take the victim's next seq (2).
    r = await api.post("/api/sync/push", headers=headers(attacker),
                       json={"mutations": [_note(victim_device, 1, "available"),
                                           _note(victim_device, 2, "available")]})
    for res in r.json()["results"]:
        assert res["outcome"] == "rejected" and res["reason_code"] == "forbidden"
        assert not res.get("replay")
    r = await api.post("/api/sync/push", headers=headers(victim),
                       json={"mutations": [_note(victim_device, 2, "available")]})
    res = r.json()["results"][0]
    assert res["outcome"] == "applied" and not res.get("replay"), res
    events = await _rows(api, "SELECT status FROM unit_status_events WHERE device_id = $1 ORDER BY event_at",
                         victim_device)
    assert [e["status"] for e in events] == ["busy", "available"]


async def test_a_device_from_before_secrets_is_claimed_by_its_first_user_only(api: AsyncTestClient) -> None:
    legacy = new_device()
    await sign_in(api, "officer-a", legacy)
    DEVICE_SECRETS.pop(legacy)
    db = await connect(api.app.state.settings.database_url)
    try:
        async with db.transaction() as tx:
            await tx.execute("UPDATE devices SET secret_hash = NULL WHERE id = $1", legacy)
    finally:
        await db.close()
    assert (await _login(api, "officer-a2", legacy)).json()["code"] == "device_not_yours"
    claim = await _login(api, "officer-a", legacy)
    assert claim.status_code == 200 and claim.json()["device_secret"]
    assert (await _login(api, "officer-a", legacy)).json()["code"] == "device_not_yours", \
        "once claimed, the secret is needed"


async def test_two_first_sign_ins_racing_for_one_id_register_it_once(api: AsyncTestClient) -> None:
    device = new_device()
    answers = await asyncio.gather(_login(api, "officer-a", device), _login(api, "officer-a2", device))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 403], [r.text for r in answers]
    winner = next(r for r in answers if r.status_code == 200)
    assert winner.json()["device_secret"]
    rows = await _rows(api, "SELECT COUNT(*) AS n FROM sessions WHERE device_id = $1", device)
    assert rows[0]["n"] == 1


async def test_an_admin_revokes_and_restores_only_devices_of_their_subtree(api: AsyncTestClient) -> None:
    db = await connect(api.app.state.settings.database_url)
    try:
        async with db.transaction() as tx:  # a station admin of SM-B
            await tx.execute(
                "INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash, created_at, updated_at)"
                " SELECT 'user-admin-b', 'admin-b', 'Admin B', 'admin', 'org-b', password_hash, created_at, updated_at"
                " FROM users WHERE id = 'user-admin'")
    finally:
        await db.close()
    a_phone, b_phone = new_device(), new_device()
    await sign_in(api, "officer-a", a_phone)
    await sign_in(api, "officer-b", b_phone)
    station_admin = await sign_in(api, "admin-b")
    foreign_admin = await sign_in(api, "admin-x")
    for who in (station_admin, foreign_admin):
        for action in ("revoke", "restore"):
            r = await api.post(f"/api/admin/devices/{a_phone}/{action}", headers=headers(who))
            assert r.status_code == 404, (action, r.text)
        listed = (await api.get("/api/admin/devices", headers=headers(who))).json()
        assert a_phone not in {d["id"] for d in listed}
    revoked = await _rows(api, "SELECT revoked_at FROM devices WHERE id = $1", a_phone)
    assert revoked[0]["revoked_at"] is None, "nothing happened to the other station's phone"

    assert a_phone not in {d["id"] for d in (await api.get("/api/admin/devices",
                                                           headers=headers(station_admin))).json()}
    r = await api.post(f"/api/admin/devices/{b_phone}/revoke", headers=headers(station_admin))
    assert r.status_code == 200, r.text
    r = await api.post(f"/api/admin/devices/{b_phone}/restore", headers=headers(station_admin))
    assert r.status_code == 200, r.text
    directorate_admin = await sign_in(api, "admin")
    r = await api.post(f"/api/admin/devices/{a_phone}/revoke", headers=headers(directorate_admin))
    assert r.status_code == 200, "the directorate's admin covers every station"
