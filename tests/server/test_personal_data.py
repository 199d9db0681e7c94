"""Personal data (issue 11.5; EU Directive 2016/680 art. 25): caller details and
report persons travel only through the audited reads, and every write of them
through sync leaves an audit row in its own transaction.

The main test plants recognisable values in a small world (a caller name and
phone, report persons, conflicts over both, one of them resolved), then calls
every route of the app's route table as every kind of user, pulls every
scope from the start and from a cursor, and reads the raw change log: the
planted values appear nowhere but in the three audited endpoints, and each of
those reads leaves exactly one audit row naming who, what and when. A route
added later must be classified here (the test fails naming it).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uuid6
import websockets
from litestar.testing import AsyncTestClient

from server import audit
from server.storage import connect
from sync import changes, engine
from sync.store import Database, StorageError
from tests.server.conftest import headers, sign_in
from tests.support.live import LiveServer
from tests.support.world import prepare_world
from tests.sync.factories import T0, make_world, new_id, one

# What is planted; none of it may appear outside the audited reads.
CALLER = ["Zorana PLANTCALLER-one", "Zorana PLANTCALLER-two", "Zorana PLANTCALLER-three"]
PHONE = "+381 69 PLANTPHONE 7770001"
PERSONS = ["Milutin PLANTPERSON-one, 1970", "Milutin PLANTPERSON-two, 1970", "Milutin PLANTPERSON-three, 1970"]
NEEDLES = ("PLANTCALLER", "PLANTPHONE", "7770001", "PLANTPERSON")

# Routes that answer with the planted values, and the audit row each read must leave.
AUDITED = {
    ("GET", "/api/incidents/{incident_id:str}/caller"): ("incident", "incident", "caller_name,caller_phone"),
    ("GET", "/api/reports/{report_id:str}/persons"): ("field_report", "report", "persons"),
    ("GET", "/api/conflicts/{conflict_id:str}/values"): ("field_report", "report", "persons"),
}
# Served from the (empty, in tests) front-end build: static files, no data.
STATIC = {"/", "/console", "/analysis", "/sw.js", "/manifest.webmanifest", "/{file_path:path}"}
QUERY = {"/api/analytics/track": {"unit_id": "unit-a"}, "/api/analytics/track/csv": {"unit_id": "unit-a"},
         "/api/conflicts": {"state": "all"},
         "/api/shifts": {"from": str(int(time.time() * 1000) - 86_400_000),
                         "to": str(int(time.time() * 1000) + 86_400_000)}}
USERS = ("admin", "dispatcher", "commander", "officer-a", "officer-a2")


def leaks(text: str) -> list[str]:
    return [n for n in NEEDLES if n in text]


class Actor:
    def __init__(self, auth: dict[str, Any]) -> None:
        self.auth = auth
        self.device = auth["_me"]["device_id"]
        self.user_id = auth["_me"]["user_id"]
        self.seq = 0

    def m(self, name: str, args: dict[str, Any], base_version: int | None = None) -> dict[str, Any]:
        self.seq += 1
        at = int(time.time() * 1000) + self.seq
        return {"v": 1, "client_id": self.device, "seq": self.seq, "name": name,
                "hlc": f"{at:012x}-0000-{self.device}", "device_at": at, "base_version": base_version,
                "args": args}


async def push(http: httpx.AsyncClient, who: Actor, *muts: dict[str, Any]) -> dict[str, Any]:
    r = await http.post("/api/sync/push", json={"mutations": list(muts)}, headers=headers(who.auth))
    assert r.status_code == 200, r.text
    return r.json()


async def plant(http: httpx.AsyncClient, actors: dict[str, Actor]) -> dict[str, str]:
    """The planted world; returns the ids of what carries personal data."""
    d, c, oa, oa2 = actors["dispatcher"], actors["commander"], actors["officer-a"], actors["officer-a2"]
    inc, asg, rep = str(uuid6.uuid7()), str(uuid6.uuid7()), str(uuid6.uuid7())
    out = await push(http, d, d.m("incident.create", {
        "incident_id": inc, "org_unit_id": "org-a", "type": "theft", "priority": 2, "lat": 44.98,
        "lon": 19.61, "caller_name": CALLER[0], "caller_phone": PHONE}),
        d.m("assignment.create", {"assignment_id": asg, "incident_id": inc, "unit_id": "unit-a"}))
    assert [r["outcome"] for r in out["results"]] == ["applied", "applied"], out
    # Two desks change the caller's name concurrently (both saw version 1): a conflict.
    out = await push(http, d, d.m("incident.update", {"incident_id": inc, "caller_name": CALLER[1]}, 1))
    assert out["results"][0]["outcome"] == "applied", out
    out = await push(http, c, c.m("incident.update", {"incident_id": inc, "caller_name": CALLER[2]}, 1))
    assert out["results"][0]["outcome"] == "conflict", out
    caller_conflict = out["results"][0]["result"]["conflicts"][0]["id"]
    # Two phones of one unit write the report's persons concurrently: another conflict.
    out = await push(http, oa, oa.m("report.update", {"report_id": rep, "incident_id": inc, "summary": "theft",
                                                      "persons": PERSONS[0]}),
                     oa.m("report.update", {"report_id": rep, "incident_id": inc, "persons": PERSONS[1]}, 1))
    assert [r["outcome"] for r in out["results"]] == ["applied", "applied"], out
    out = await push(http, oa2, oa2.m("report.update", {"report_id": rep, "incident_id": inc,
                                                        "persons": PERSONS[2]}, 1))
    assert out["results"][0]["outcome"] == "conflict", out
    persons_conflict = out["results"][0]["result"]["conflicts"][0]["id"]
    # Every other kind of change too: status event, unit, note, alert.
    out = await push(http, oa, oa.m("unit.set_status", {"unit_id": "unit-a", "status": "en_route"}),
                     oa.m("incident.add_note", {"note_id": str(uuid6.uuid7()), "incident_id": inc,
                                                "body": "on our way"}),
                     oa.m("alert.raise", {"alert_id": str(uuid6.uuid7()), "lat": 44.98, "lon": 19.61}))
    assert {r["outcome"] for r in out["results"]} == {"applied"}, out
    # The caller conflict is decided without anyone reading the values: the outcome
    # (sent back and stored for replays) must not disclose the kept value either.
    out = await push(http, d, d.m("conflict.resolve", {"conflict_id": caller_conflict, "resolution": "server"}))
    assert out["results"][0]["outcome"] == "applied", out
    assert not leaks(json.dumps(out)), out
    return {"incident": inc, "report": rep, "caller_conflict": caller_conflict,
            "persons_conflict": persons_conflict}


async def _rows(db: Database, sql: str, *args: Any) -> list[dict[str, Any]]:
    async with db.read() as tx:
        return await tx.fetch(sql, *args)


async def test_personal_data_travels_only_through_audited_reads(api: AsyncTestClient, database_url: str) -> None:
    actors = {u: Actor(await sign_in(api, u)) for u in USERS}
    db = await connect(database_url)
    try:
        # A change before the planting, so a delta pull from cursor 1 covers all of it.
        oa = actors["officer-a"]
        await push(api, oa, oa.m("unit.set_status", {"unit_id": "unit-a", "status": "busy"}))
        ids = await plant(api, actors)
        await _check_routes(api, db, actors, ids)
        await _check_pulls(api, actors)
        await _check_stored(db, ids)
        await _check_sync_audit(db, actors, ids)
        assert (await audit.verify(db)).ok
    finally:
        await db.close()


async def _check_routes(api: AsyncTestClient, db: Database, actors: dict[str, Actor], ids: dict[str, str]) -> None:
    params = {"incident_id": ids["incident"], "report_id": ids["report"], "conflict_id": ids["persons_conflict"],
              "unit_id": "unit-a", "user_id": actors["officer-a"].user_id,
              "device_id": actors["officer-a"].device, "shift_id": "shift-a", "file_path": "index.html",
              "path": "openapi.json"}
    seen_ok: dict[str, bool] = {}
    writes: list[tuple[str, str]] = []
    routes = [r for r in api.app.routes]
    assert any(r.path == "/ws" for r in routes)  # live delivery: see test_live_delivery_* below
    for route in routes:
        methods = sorted(set(getattr(route, "methods", None) or ()) - {"OPTIONS", "HEAD"})
        for method in methods:
            if method != "GET":
                writes.append((method, route.path))
                continue
            names = re.findall(r"{(\w+):\w+}", route.path)
            missing = [n for n in names if n not in params]
            assert not missing, f"{route.path}: new path parameter(s) {missing}; classify the route here"
            url = re.sub(r"{(\w+):\w+}", lambda mt: params[mt.group(1)], route.path)
            seen_ok.setdefault(route.path, False)
            for username, who in actors.items():
                before = await _rows(db, "SELECT COALESCE(MAX(seq), 0) AS s FROM audit_log")
                t0 = int(time.time() * 1000)
                r = await api.get(url, params=QUERY.get(route.path), headers=headers(who.auth))
                t1 = int(time.time() * 1000)
                new = await _rows(db, "SELECT * FROM audit_log WHERE seq > $1 AND action = 'view' ORDER BY seq",
                                  before[0]["s"])
                seen_ok[route.path] |= r.status_code < 400
                audited = AUDITED.get((method, route.path))
                if audited is None or r.status_code != 200:
                    assert not leaks(r.text), (username, method, route.path, leaks(r.text))
                    assert not new, (username, route.path, "an audit row for a read that showed nothing")
                    continue
                assert leaks(r.text), (username, route.path, "the audited read shows the data")
                entity, key, fields = audited
                assert len(new) == 1, (username, route.path, new)
                row = new[0]
                assert (row["actor_id"], row["device_id"], row["entity"], row["entity_id"], row["fields"]) == \
                    (who.user_id, who.device, entity, ids[key], fields), row
                assert t0 - 1000 <= row["at"] <= t1 + 1000
    unreached = [p for p, ok in seen_ok.items() if not ok and p not in STATIC]
    assert not unreached, f"no user could read these (the check says nothing about them): {unreached}"
    assert {p for (_, p) in AUDITED} <= set(seen_ok)

    # The conflict over the caller's name: its values only through the audited read too.
    d = actors["dispatcher"]
    listed = (await api.get("/api/conflicts", params={"state": "all"}, headers=headers(d.auth))).json()
    by_id = {c["id"]: c for c in listed}
    for key in ("caller_conflict", "persons_conflict"):
        c = by_id[ids[key]]
        assert c["personal"] == 1 and c["values_ref"] == f"/api/conflicts/{ids[key]}/values"
        assert c["server_value"] is None and c["client_value"] is None and c["resolved_value"] is None
    before = (await _rows(db, "SELECT COALESCE(MAX(seq), 0) AS s FROM audit_log"))[0]["s"]
    r = await api.get(f"/api/conflicts/{ids['caller_conflict']}/values", headers=headers(d.auth))
    assert r.json()["server_value"] == CALLER[1] and r.json()["client_value"] == CALLER[2]
    assert r.json()["resolved_value"] == CALLER[1]
    new = await _rows(db, "SELECT * FROM audit_log WHERE seq > $1", before)
    assert [(x["action"], x["entity"], x["entity_id"], x["fields"], x["actor_id"]) for x in new] == \
        [("view", "incident", ids["incident"], "caller_name", d.user_id)]
    assert json.loads(new[0]["detail"]) == {"conflict_id": ids["caller_conflict"]}

    # Writes and the rest, with a session of their own (one of them signs out): whatever
    # they answer (mostly a refusal of the empty body) carries none of it.
    admin = Actor(await sign_in(api, "admin"))
    writes.sort(key=lambda w: w[1] == "/api/auth/logout")
    for method, path in writes:
        url = re.sub(r"{(\w+):\w+}", "no-such-id", path)
        r = await api.request(method, url, json={}, headers=headers(admin.auth))
        assert r.status_code < 500, (method, path, r.text)
        assert not leaks(r.text), (method, path, leaks(r.text))


async def _check_pulls(api: AsyncTestClient, actors: dict[str, Actor]) -> None:
    kinds: set[str] = set()
    for username, who in actors.items():
        for cursor in (0, 1):
            r = await api.post("/api/sync/pull", json={"cursor": cursor, "limit": 1000}, headers=headers(who.auth))
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["snapshot"] == (cursor == 0) and not body["more"]
            assert not leaks(r.text), (username, cursor, leaks(r.text))
            kinds |= {c["entity"] for c in body["changes"]}
            for ch in body["changes"]:
                if ch["entity"] == "field_report" and ch["op"] == "upsert":
                    assert ch["data"]["has_persons"] == 1 and "persons" not in ch["data"]
                if ch["entity"] == "incident" and ch["op"] == "upsert":
                    assert "caller_name" not in ch["data"] and "caller_phone" not in ch["data"]
    assert kinds >= set(changes.ENTITY_COLUMNS), set(changes.ENTITY_COLUMNS) - kinds


async def _check_stored(db: Database, ids: dict[str, str]) -> None:
    # Every change-log entity kind was written, and none of their stored snapshots (what the
    # hub sends live, what pulls read) holds the values.
    log = await _rows(db, "SELECT entity, data FROM change_log")
    assert {r["entity"] for r in log} >= set(changes.ENTITY_COLUMNS)
    for r in log:
        assert not leaks(r["data"]), r
    outcomes = await _rows(db, "SELECT name, result FROM applied_mutations WHERE result IS NOT NULL")
    for r in outcomes:
        assert not leaks(r["result"]), r
    for r in await _rows(db, "SELECT detail FROM audit_log WHERE detail IS NOT NULL"):
        assert not leaks(r["detail"]), r


async def _check_sync_audit(db: Database, actors: dict[str, Actor], ids: dict[str, str]) -> None:
    rows = await _rows(db, "SELECT * FROM audit_log WHERE action IN ('create', 'change') AND entity IN"
                           " ('incident', 'field_report') ORDER BY seq")
    got = [(r["action"], r["entity"], r["entity_id"], r["fields"], r["actor_id"], r["device_id"]) for r in rows]
    d, c, oa, oa2 = (actors[u] for u in ("dispatcher", "commander", "officer-a", "officer-a2"))
    inc, rep = ids["incident"], ids["report"]
    assert got == [
        ("create", "incident", inc, "caller_name,caller_phone", d.user_id, d.device),
        ("change", "incident", inc, "caller_name", d.user_id, d.device),
        ("change", "incident", inc, "caller_name", c.user_id, c.device),
        ("create", "field_report", rep, "persons", oa.user_id, oa.device),
        ("change", "field_report", rep, "persons", oa.user_id, oa.device),
        ("change", "field_report", rep, "persons", oa2.user_id, oa2.device),
        ("change", "incident", inc, "caller_name", d.user_id, d.device),  # the conflict decided
    ]
    details = [json.loads(r["detail"]) for r in rows]
    assert details[2]["conflicts"] == [ids["caller_conflict"]] and details[5]["conflicts"] == [ids["persons_conflict"]]
    assert details[6]["conflict_id"] == ids["caller_conflict"] and details[6]["resolution"] == "server"
    assert details[0]["mutation"] == "incident.create" and details[3]["mutation"] == "report.update"


# =========================================================================== live delivery


async def _frames(ws: Any, quiet_s: float) -> list[str]:
    out: list[str] = []
    while True:
        try:
            out.append(await asyncio.wait_for(ws.recv(), quiet_s))
        except TimeoutError:
            return out


async def test_live_delivery_carries_no_personal_data(database_url: str, tmp_path: Path) -> None:
    """The websocket (/ws): catch-up and live changes, to a desk and to the unit's phone."""
    await prepare_world(database_url)
    with LiveServer(database_url, tmp_path) as live:
        async with httpx.AsyncClient(base_url=live.http) as http:
            actors = {u: Actor(await sign_in(http, u)) for u in USERS}  # type: ignore[arg-type]
            sockets = []
            for u in ("dispatcher", "officer-a"):
                ws = await websockets.connect(live.ws, max_size=2**22)
                await ws.send(json.dumps({"type": "auth", "token": actors[u].auth["Authorization"][7:],
                                          "cursor": 0}))
                sockets.append(ws)
            text = [f for ws in sockets for f in await _frames(ws, 1.0)]  # hello and the catch-up
            await plant(http, actors)
            for ws in sockets:
                text += await _frames(ws, 1.5)
                await ws.close()
            # A reconnect from the start: the catch-up snapshot.
            ws = await websockets.connect(live.ws, max_size=2**22)
            await ws.send(json.dumps({"type": "auth", "token": actors["dispatcher"].auth["Authorization"][7:],
                                      "cursor": 0}))
            text += await _frames(ws, 1.0)
            await ws.close()
    joined = "\n".join(text)
    assert not leaks(joined), leaks(joined)
    for kind in ("field_report", "conflict", "incident"):  # the check saw them go by
        assert f'"entity":"{kind}"' in joined.replace(" ", ""), kind


# =========================================================================== sync layer


async def test_sync_audit_rows_are_written_in_the_mutations_transaction(db: Database,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    w = await make_world(db)
    disp = w.device("dispatcher")
    inc = new_id()
    args = {"incident_id": inc, "org_unit_id": w.org["ruma"], "type": "theft", "priority": 2,
            "caller_name": CALLER[0], "caller_phone": PHONE}

    # The batch fails at its very end (the change-log append, after every handler ran): the
    # incident and its audit row are rolled back together.
    def fail(*a: Any, **k: Any) -> Any:
        raise StorageError("the disk is full")

    monkeypatch.setattr(engine, "append_groups", fail)
    with pytest.raises(StorageError):
        await one(db, disp, "incident.create", args, at=T0)
    monkeypatch.undo()
    assert await _rows(db, "SELECT id FROM incidents WHERE id = $1", inc) == []
    assert await _rows(db, "SELECT seq FROM audit_log") == []
    assert (await audit.verify(db)).ok

    disp.seq -= 1  # the device sends the same mutation again
    r = await one(db, disp, "incident.create", args, at=T0)
    assert r.outcome == "applied", r
    rows = await _rows(db, "SELECT action, entity, entity_id, fields, actor_id, device_id, at FROM audit_log")
    assert rows == [{"action": "create", "entity": "incident", "entity_id": inc,
                     "fields": "caller_name,caller_phone", "actor_id": w.users["dispatcher"],
                     "device_id": w.principals["dispatcher"].device_id, "at": T0}]
    # An edit that writes no personal field is no personal-data event.
    r = await one(db, disp, "incident.update", {"incident_id": inc, "description": "a bike"}, at=T0 + 1000,
                  base_version=1)
    assert r.outcome == "applied", r
    assert len(await _rows(db, "SELECT seq FROM audit_log")) == 1
    verdict = await audit.verify(db)
    assert verdict.ok and verdict.rows == 1


async def test_change_log_rows_from_before_the_rule_are_cleaned_on_the_way_out(db: Database) -> None:
    w = await make_world(db)
    p = w.principals["commander"]
    rep, conflict = new_id(), new_id()
    # Rows as an older server wrote them: the report's persons and a conflict's values inside.
    old = [("unit", w.units["pa11"], {"id": w.units["pa11"], "status": "available"}),
           ("field_report", rep, {"id": rep, "incident_id": "i", "summary": "s", "persons": PERSONS[0]}),
           ("conflict", conflict, {"id": conflict, "entity": "incident", "entity_id": "i", "field": "caller_name",
                                   "server_value": CALLER[0], "client_value": CALLER[1], "state": "open"})]
    async with db.transaction() as tx:
        await changes.append(tx, [{"entity": e, "entity_id": i, "op": "upsert", "scope_path": w.paths["dir"],
                                   "unit_id": None, "audience": [], "data": d} for e, i, d in old], T0, None, None)
    pulled = await engine.pull(db, p, cursor=1)  # after the first row (cursor 0 would be a snapshot)
    assert pulled.snapshot is False and [c.entity for c in pulled.changes] == ["field_report", "conflict"]
    async with db.read() as tx:  # what the hub reads and sends live
        live = [changes.from_row(r) for r in await tx.fetch("SELECT * FROM change_log ORDER BY seq")]
    text = json.dumps([c.data for c in pulled.changes] + [c.data for c in live])
    assert not leaks(text), text
    report, conf = pulled.changes
    assert report.data["has_persons"] == 1 and "persons" not in report.data
    assert conf.data["personal"] == 1 and conf.data["values_ref"] == f"/api/conflicts/{conflict}/values"


async def test_resolving_a_caller_conflict_is_audited_and_names_no_value(db: Database) -> None:
    """Both ways a resolution goes: written, or kept in a new conflict against a later edit."""
    from tests.sync.factories import MIN, open_incident, row

    w = await make_world(db)
    disp, cmd = w.device("dispatcher"), w.device("commander")
    for later_edit in (False, True):
        inc, _ = await open_incident(db, w, assign=None, caller_name=CALLER[0])
        v = (await row(db, "SELECT version FROM incidents WHERE id = $1", inc))["version"]
        await one(db, disp, "incident.update", {"incident_id": inc, "caller_name": CALLER[1]}, at=T0 + 8 * MIN,
                  base_version=v)
        r = await one(db, cmd, "incident.update", {"incident_id": inc, "caller_name": CALLER[2]}, at=T0 + 9 * MIN,
                      base_version=v)
        assert r.outcome == "conflict", r
        cid = r.result["conflicts"][0]["id"]
        if later_edit:  # someone changes it again, knowing both values
            seen = (await row(db, "SELECT version FROM incidents WHERE id = $1", inc))["version"]
            r = await one(db, cmd, "incident.update", {"incident_id": inc, "caller_name": "Zorana PLANTCALLER-4"},
                          at=T0 + 20 * MIN, base_version=seen)
            assert r.outcome == "applied", r
        before = len(await _rows(db, "SELECT seq FROM audit_log"))
        r = await one(db, disp, "conflict.resolve", {"conflict_id": cid, "resolution": "server"}, at=T0 + 30 * MIN)
        assert r.outcome == ("conflict" if later_edit else "applied"), r
        assert not leaks(json.dumps(r.result)), r.result
        stored = await _rows(db, "SELECT result FROM applied_mutations WHERE client_id = $1 AND seq = $2",
                             disp.p.device_id, disp.seq)
        assert not leaks(stored[0]["result"])
        new = (await _rows(db, "SELECT action, entity, entity_id, fields, actor_id, detail FROM audit_log"
                               " ORDER BY seq"))[before:]
        assert [(x["action"], x["entity"], x["entity_id"], x["fields"], x["actor_id"]) for x in new] == \
            [("change", "incident", inc, "caller_name", w.users["dispatcher"])]
        detail = json.loads(new[0]["detail"])
        assert detail["conflict_id"] == cid and detail["resolution"] == "server"
        assert bool(detail.get("conflicts")) == later_edit
    assert (await audit.verify(db)).ok
