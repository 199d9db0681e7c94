"""Shifts and roster over HTTP: validation, scope, copy week, audit (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

from litestar.testing import AsyncTestClient

from server.analytics.stats import TZ

from .support import sign_in

H = 3_600_000


def at(day: int, hour: int, month: int = 3, minute: int = 0) -> int:
    """Local (Europe/Belgrade) time in March/April 2030, in ms."""
    return int(datetime(2030, month, day, hour, minute, tzinfo=TZ).timestamp() * 1000)


def shift(unit: str, start: int, end: int, *members: tuple[str, str], **extra: object) -> dict:
    return {"unit_id": unit, "starts_at": start, "ends_at": end,
            "members": [{"user_id": u, "role": r} for u, r in members], **extra}


async def create(client: AsyncTestClient, auth: dict, body: dict, status: int = 201) -> dict:
    r = await client.post("/api/shifts", json=body, headers=auth)
    assert r.status_code == status, r.text
    return r.json()


async def test_create_list_update_delete_with_audit(planning: AsyncTestClient) -> None:
    cmd = await sign_in(planning, "commander")
    s = await create(planning, cmd, shift("unit-a", at(4, 7), at(4, 15), ("user-officer-a", "lead"),
                                          ("user-officer-a2", "member"),
                                          planned_area="  Ruma – centar ", notes="radar"))
    assert (s["call_sign"], s["org_unit_code"], s["planned_area"], s["notes"]) == (
        "A-11", "SM-A", "Ruma – centar", "radar")
    assert [(m["user_id"], m["role"]) for m in s["members"]] == [
        ("user-officer-a", "lead"), ("user-officer-a2", "member")]
    await create(planning, cmd, shift("unit-b", at(5, 19), at(6, 7), ("user-officer-b", "lead")))

    day = (await planning.get("/api/shifts", params={"day": "2030-03-04"}, headers=cmd)).json()
    assert [x["id"] for x in day] == [s["id"]]
    week = (await planning.get("/api/shifts", params={"week": "2030-03-06"}, headers=cmd)).json()
    assert [x["call_sign"] for x in week] == ["A-11", "B-21"]
    # the night shift Tue 19:00 – Wed 07:00 is on both days
    wed = (await planning.get("/api/shifts", params={"day": "2030-03-06"}, headers=cmd)).json()
    assert [x["call_sign"] for x in wed] == ["B-21"]
    only_a = (await planning.get("/api/shifts", params={"week": "2030-03-04", "org_unit": "SM-A"},
                                 headers=cmd)).json()
    assert [x["call_sign"] for x in only_a] == ["A-11"]
    got = (await planning.get(f"/api/shifts/{s['id']}", headers=cmd)).json()
    assert got == s

    # update: same crew, later end (does not clash with itself), officer-a2 dropped
    r = await planning.put(f"/api/shifts/{s['id']}", headers=cmd,
                           json=shift("unit-a2", at(4, 8), at(4, 16), ("user-officer-a", "lead")))
    assert r.status_code == 200, r.text
    up = r.json()
    assert (up["call_sign"], up["starts_at"], up["ends_at"], len(up["members"])) == (
        "A-12", at(4, 8), at(4, 16), 1)
    assert up["planned_area"] is None

    r = await planning.delete(f"/api/shifts/{s['id']}", headers=cmd)
    assert r.status_code == 204
    assert (await planning.get(f"/api/shifts/{s['id']}", headers=cmd)).status_code == 404
    assert (await planning.delete(f"/api/shifts/{s['id']}", headers=cmd)).status_code == 404

    admin = await sign_in(planning, "admin")
    trail = (await planning.get("/api/admin/audit", params={"entity": "shift", "entity_id": s["id"]},
                                headers=admin)).json()
    assert [e["action"] for e in trail] == ["delete", "update", "create"]
    assert {e["actor"] for e in trail} == {"commander"}


async def test_validation_errors_name_the_field(planning: AsyncTestClient) -> None:
    cmd = await sign_in(planning, "commander")

    async def invalid(body: dict) -> dict:
        r = await planning.post("/api/shifts", json=body, headers=cmd)
        assert r.status_code == 422, r.text
        return r.json()

    err = await invalid(shift("unit-a", at(4, 15), at(4, 7)))
    assert (err["code"], err["field"]) == ("invalid", "ends_at")
    assert "end after it starts" in err["message"]
    assert (await invalid(shift("unit-a", at(4, 7), at(4, 7))))["field"] == "ends_at"
    assert (await invalid(shift("unit-a", at(4, 7), at(5, 8))))["field"] == "ends_at"   # > 24 h
    assert (await invalid(shift("no-such-unit", at(4, 7), at(4, 15))))["field"] == "unit_id"
    # a member who is not an officer
    err = await invalid(shift("unit-a", at(4, 7), at(4, 15), ("user-officer-a", "lead"),
                              ("user-dispatcher", "member")))
    assert err["field"] == "members[1].user_id" and "not an officer" in err["message"]
    assert (await invalid(shift("unit-a", at(4, 7), at(4, 15), ("user-officer-a", "lead"),
                                ("user-officer-a", "member"))))["field"] == "members[1].user_id"
    assert (await invalid(shift("unit-a", at(4, 7), at(4, 15), ("officer-gone", "member"))))[
        "field"] == "members[0].user_id"
    assert (await invalid(shift("unit-a", at(4, 7), at(4, 15), ("user-officer-a", "lead"),
                                ("user-officer-a2", "lead"))))["field"] == "members"
    # a wrong member role is a malformed body (400), not a planning error
    r = await planning.post("/api/shifts", headers=cmd,
                            json=shift("unit-a", at(4, 7), at(4, 15), ("user-officer-a", "boss")))
    assert r.status_code == 400

    # overlap: officer-a2 on A-11 07–15, then on A-12 14–22
    await create(planning, cmd, shift("unit-a", at(4, 7), at(4, 15), ("user-officer-a2", "lead")))
    err = await invalid(shift("unit-a2", at(4, 14), at(4, 22), ("user-officer-a", "lead"),
                              ("user-officer-a2", "member")))
    assert err["field"] == "members[1].user_id"
    assert "A-11" in err["message"] and "overlapping" in err["message"]
    # back to back is fine (periods are half-open)
    await create(planning, cmd, shift("unit-a2", at(4, 15), at(4, 23), ("user-officer-a2", "lead")))
    # the world's current shift: officer-a is on A-11 now
    r = await planning.get("/api/shifts", params={"from": 0, "to": 1}, headers=cmd)
    assert r.status_code == 200 and r.json() == []
    assert (await planning.get("/api/shifts", headers=cmd)).status_code == 422
    assert (await planning.get("/api/shifts", params={"day": "31.1.2030"}, headers=cmd)).json()[
        "field"] == "day"


async def test_scope_and_roles(planning: AsyncTestClient) -> None:
    cmd_a = await sign_in(planning, "commander-a")
    # station B's unit and officer, another directorate's officer: outside station A
    r = await planning.post("/api/shifts", headers=cmd_a, json=shift("unit-b", at(4, 7), at(4, 15)))
    assert (r.status_code, r.json()["field"]) == (422, "unit_id")
    r = await planning.post("/api/shifts", headers=cmd_a,
                            json=shift("unit-a", at(4, 7), at(4, 15), ("user-officer-b", "lead")))
    assert (r.status_code, r.json()["field"]) == (422, "members[0].user_id")
    r = await planning.post("/api/shifts", headers=cmd_a,
                            json=shift("unit-a", at(4, 7), at(4, 15), ("officer-x", "lead")))
    assert (r.status_code, r.json()["field"]) == (422, "members[0].user_id")
    mine = await create(planning, cmd_a, shift("unit-a", at(4, 7), at(4, 15), ("user-officer-a", "lead")))

    cmd = await sign_in(planning, "commander")
    theirs = await create(planning, cmd, shift("unit-b", at(4, 7), at(4, 15), ("user-officer-b", "lead")))
    # commander-a neither sees nor changes station B's shift
    week = (await planning.get("/api/shifts", params={"week": "2030-03-04"}, headers=cmd_a)).json()
    assert [x["id"] for x in week] == [mine["id"]]
    assert (await planning.get(f"/api/shifts/{theirs['id']}", headers=cmd_a)).status_code == 404
    assert (await planning.delete(f"/api/shifts/{theirs['id']}", headers=cmd_a)).status_code == 404
    r = await planning.put(f"/api/shifts/{theirs['id']}", headers=cmd_a,
                           json=shift("unit-a", at(4, 16), at(4, 20)))
    assert r.status_code == 404
    r = await planning.get("/api/shifts", params={"week": "2030-03-04", "org_unit": "org-b"}, headers=cmd_a)
    assert r.status_code == 403
    r = await planning.get("/api/shifts/officers", headers=cmd_a)
    assert [o["id"] for o in r.json()] == ["user-officer-a", "user-officer-a2"]

    # dispatchers read, cannot write; officers neither; another directorate's admin sees nothing
    disp = await sign_in(planning, "dispatcher")
    week = (await planning.get("/api/shifts", params={"week": "2030-03-04"}, headers=disp)).json()
    assert len(week) == 2
    r = await planning.post("/api/shifts", headers=disp, json=shift("unit-a", at(5, 7), at(5, 15)))
    assert r.status_code == 403
    assert (await planning.delete(f"/api/shifts/{mine['id']}", headers=disp)).status_code == 403
    off = await sign_in(planning, "officer-a")
    assert (await planning.get("/api/shifts", params={"week": "2030-03-04"}, headers=off)).status_code == 403
    adm_x = await sign_in(planning, "admin-x")
    assert (await planning.get("/api/shifts", params={"week": "2030-03-04"}, headers=adm_x)).json() == []
    r = await planning.post("/api/shifts", headers=adm_x, json=shift("unit-a", at(5, 7), at(5, 15)))
    assert (r.status_code, r.json()["field"]) == (422, "unit_id")
    assert (await planning.get("/api/shifts", params={"week": "2030-03-04"})).status_code == 401


async def test_copy_week_to_next_week(planning: AsyncTestClient) -> None:
    cmd = await sign_in(planning, "commander")
    # the week of Mon 25 March 2030; summer time starts on Sunday 31 March
    a = await create(planning, cmd, shift("unit-a", at(25, 7), at(25, 15), ("user-officer-a", "lead"),
                                          ("user-officer-a2", "member"), planned_area="Centar"))
    await create(planning, cmd, shift("unit-b", at(31, 19), at(1, 7, month=4), ("user-officer-b", "lead")))
    await create(planning, cmd, shift("unit-a2", at(1, 7, month=4), at(1, 8, month=4)))  # already next week
    r = await planning.post("/api/shifts/copy-week", json={"week": "2030-03-27"}, headers=cmd)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["source_week"], body["target_week"]) == ("2030-03-25", "2030-04-01")
    created = body["created"]
    assert [(c["call_sign"], c["starts_at"], c["ends_at"]) for c in created] == [
        ("A-11", at(1, 7, month=4), at(1, 15, month=4)),       # 07:00 local stays 07:00 across DST
        ("B-21", at(7, 19, month=4), at(8, 7, month=4))]
    assert created[0]["starts_at"] - a["starts_at"] == 7 * 24 * H - H
    assert [(m["user_id"], m["role"]) for m in created[0]["members"]] == [
        ("user-officer-a", "lead"), ("user-officer-a2", "member")]
    assert created[0]["planned_area"] == "Centar"
    nxt = (await planning.get("/api/shifts", params={"week": "2030-04-01"}, headers=cmd)).json()
    # the copied A-11 and B-21, the A-12 planned there, and the Sunday night shift reaching Monday
    assert len(nxt) == 4

    # copying again would double the roster: refused, nothing written
    r = await planning.post("/api/shifts/copy-week", json={"week": "2030-03-25"}, headers=cmd)
    assert (r.status_code, r.json()["field"]) == (422, "week")
    assert len((await planning.get("/api/shifts", params={"week": "2030-04-01"}, headers=cmd)).json()) == 4
    # an empty week, a station filter, a station outside the scope
    r = await planning.post("/api/shifts/copy-week", json={"week": "2030-05-06"}, headers=cmd)
    assert (r.status_code, r.json()["field"]) == (422, "week")
    r = await planning.post("/api/shifts/copy-week", json={"week": "2030-04-01", "org_unit_id": "SM-A"},
                            headers=cmd)
    assert r.status_code == 201, r.text
    assert [c["call_sign"] for c in r.json()["created"]] == ["A-11", "A-12"]
    cmd_a = await sign_in(planning, "commander-a")
    r = await planning.post("/api/shifts/copy-week", json={"week": "2030-03-25", "org_unit_id": "SM-B"},
                            headers=cmd_a)
    assert r.status_code == 403
    disp = await sign_in(planning, "dispatcher")
    r = await planning.post("/api/shifts/copy-week", json={"week": "2030-03-25"}, headers=disp)
    assert r.status_code == 403
    r = await planning.post("/api/shifts/copy-week", json={"week": "soon"}, headers=cmd)
    assert (r.status_code, r.json()["field"]) == (422, "week")
    admin = await sign_in(planning, "admin")
    trail = (await planning.get("/api/admin/audit", params={"entity": "shift", "action": "copy_week"},
                                headers=admin)).json()
    assert len(trail) == 2
