"""The scope matrix: each role against each read endpoint, in and out of scope,
and the audit trail for consultations of caller details."""

from __future__ import annotations

import time
from typing import Any

import pytest
import uuid6
from litestar.testing import AsyncTestClient

from tests.server.conftest import headers, sign_in


def _m(auth: dict[str, Any], name: str, args: dict[str, Any]) -> dict[str, Any]:
    device = auth["_me"]["device_id"]
    seq = auth["_seq"] = auth.get("_seq", 0) + 1
    # Device times from the real clock: the fixtures' statuses are stamped with it too, so a
    # fixed date here would start to lose to them once the calendar passed it.
    at = auth.setdefault("_t0", int(time.time() * 1000)) + seq
    return {"v": 1, "client_id": device, "seq": seq, "name": name, "hlc": f"{at:012x}-0000-{device}",
            "device_at": at, "base_version": None, "args": args}


async def _incident(api: AsyncTestClient, auth: dict[str, Any], org: str, unit: str | None,
                    caller: str = "Petar Petrović") -> tuple[str, str | None]:
    incident_id = str(uuid6.uuid7())
    muts = [_m(auth, "incident.create", {"incident_id": incident_id, "org_unit_id": org, "type": "theft",
                                            "priority": 2, "lat": 44.98, "lon": 19.61,
                                            "caller_name": caller, "caller_phone": "+381 64 111 222"})]
    assignment_id = None
    if unit:
        assignment_id = str(uuid6.uuid7())
        muts.append(_m(auth, "assignment.create", {"assignment_id": assignment_id, "incident_id": incident_id,
                                                      "unit_id": unit}))
    r = await api.post("/api/sync/push", json={"mutations": muts}, headers=headers(auth))
    assert r.status_code == 200 and {x["outcome"] for x in r.json()["results"]} == {"applied"}, r.text
    return incident_id, assignment_id


@pytest.fixture
async def incidents(api: AsyncTestClient) -> dict[str, str]:
    dispatcher = await sign_in(api, "dispatcher")
    in_a, _ = await _incident(api, dispatcher, "org-a", "unit-a")
    in_b, _ = await _incident(api, dispatcher, "org-b", "unit-b")
    foreign = await sign_in(api, "dispatcher-x")
    in_x, _ = await _incident(api, foreign, "org-x", "unit-x")
    return {"a": in_a, "b": in_b, "x": in_x}


# who -> which incidents they may see
VISIBLE = {
    "officer-a": {"a"}, "officer-b": {"b"}, "dispatcher": {"a", "b"}, "commander": {"a", "b"},
    "admin": {"a", "b"}, "dispatcher-x": {"x"},
}
UNITS = {"officer-a": {"A-11"}, "officer-b": {"B-21"}, "dispatcher": {"A-11", "B-21"},
         "commander": {"A-11", "B-21"}, "admin": {"A-11", "B-21"}, "dispatcher-x": {"X-31"}}


@pytest.mark.parametrize("username", sorted(VISIBLE))
async def test_incidents_and_units_follow_scope(api: AsyncTestClient, incidents: dict[str, str],
                                                username: str) -> None:
    auth = await sign_in(api, username)
    h = headers(auth)
    listed = {i["id"] for i in (await api.get("/api/incidents", headers=h)).json()}
    assert listed == {incidents[k] for k in VISIBLE[username]}
    for key, incident_id in incidents.items():
        for suffix in ("", "/caller"):
            r = await api.get(f"/api/incidents/{incident_id}{suffix}", headers=h)
            expected = 200 if key in VISIBLE[username] else 404
            assert r.status_code == expected, (username, key, suffix, r.text)
    units = {u["call_sign"] for u in (await api.get("/api/units", headers=h)).json()}
    assert units == UNITS[username]
    alerts = await api.get("/api/alerts", headers=h)
    assert alerts.status_code == 200


@pytest.mark.parametrize("username", ["officer-a", "officer-b"])
async def test_officers_cannot_use_desk_endpoints(api: AsyncTestClient, incidents: dict[str, str],
                                                  username: str) -> None:
    h = headers(await sign_in(api, username))
    assert (await api.get("/api/conflicts", headers=h)).status_code == 403
    r = await api.get(f"/api/incidents/{incidents['a']}/recommendations", headers=h)
    assert r.status_code == 403


async def test_recommendations_rank_nearest_available_first(api: AsyncTestClient,
                                                            incidents: dict[str, str]) -> None:
    dispatcher = await sign_in(api, "dispatcher")
    # Unit A-11 is now busy with incident a; free it by a new incident near B-21.
    incident_id, _ = await _incident(api, dispatcher, "org-b", None)
    r = await api.get(f"/api/incidents/{incident_id}/recommendations", headers=headers(dispatcher))
    assert r.status_code == 200
    ranked = r.json()
    assert all(u["status"] == "available" for u in ranked)
    assert "A-11" not in [u["call_sign"] for u in ranked]  # assigned to incident a


async def test_reading_caller_details_is_audited(api: AsyncTestClient, incidents: dict[str, str]) -> None:
    dispatcher = await sign_in(api, "dispatcher")
    r = await api.get(f"/api/incidents/{incidents['a']}/caller", headers=headers(dispatcher))
    assert r.json() == {"incident_id": incidents["a"], "caller_name": "Petar Petrović",
                        "caller_phone": "+381 64 111 222"}
    admin = await sign_in(api, "admin")
    entries = (await api.get("/api/admin/audit", params={"entity": "incident", "action": "view"},
                             headers=headers(admin))).json()
    assert len(entries) == 1
    entry = entries[0]
    assert entry["entity_id"] == incidents["a"] and entry["actor"] == "dispatcher"
    assert entry["fields"] == "caller_name,caller_phone" and entry["device_id"] == dispatcher["_me"]["device_id"]
    # A plain detail read does not expose caller data and is not a consultation.
    detail = (await api.get(f"/api/incidents/{incidents['a']}", headers=headers(dispatcher))).json()
    assert "caller_name" not in detail["incident"] and "caller_phone" not in detail["incident"]


async def test_conflict_filter_is_validated_by_its_wire_name(api: AsyncTestClient) -> None:
    dispatcher = await sign_in(api, "dispatcher")
    r = await api.get("/api/conflicts", params={"state": "bogus"}, headers=headers(dispatcher))
    assert r.status_code == 400 and r.json()["field"] == "state"
    assert (await api.get("/api/conflicts", params={"state": "all"}, headers=headers(dispatcher))).json() == []


async def test_unit_status_history_and_closed_filter(api: AsyncTestClient, incidents: dict[str, str]) -> None:
    officer = await sign_in(api, "officer-a")
    for status in ("en_route", "on_scene"):
        r = await api.post("/api/sync/push", json={"mutations": [_m(officer, "unit.set_status",
                                                                    {"unit_id": "unit-a", "status": status})]},
                           headers=headers(officer))
        assert r.json()["results"][0]["outcome"] == "applied", r.text
    dispatcher = await sign_in(api, "dispatcher")
    events = (await api.get("/api/units/unit-a/status-events", headers=headers(dispatcher))).json()
    assert [e["status"] for e in events][:2] == ["on_scene", "en_route"]
    assert events[0]["user_name"] == "Officer-A"
    assert (await api.get("/api/units/unit-a/status-events", headers=headers(officer))).status_code == 200
    assert (await api.get("/api/units/unit-b/status-events", headers=headers(officer))).status_code == 404
    foreign = await sign_in(api, "dispatcher-x")
    assert (await api.get("/api/units/unit-a/status-events", headers=headers(foreign))).status_code == 404
    # Closed filter: nothing closed yet, then one.
    assert (await api.get("/api/incidents", params={"closed": "true"}, headers=headers(dispatcher))).json() == []
    r = await api.post("/api/sync/push", json={"mutations": [_m(dispatcher, "incident.close",
                                                                {"incident_id": incidents["b"], "outcome": "done"})]},
                       headers=headers(dispatcher))
    assert r.json()["results"][0]["outcome"] == "applied", r.text
    closed = (await api.get("/api/incidents", params={"closed_since": 0}, headers=headers(dispatcher))).json()
    assert [i["id"] for i in closed] == [incidents["b"]]


async def test_rest_reads_follow_the_pull_rule_for_officers(api: AsyncTestClient) -> None:
    """One visibility rule (issue 11.3, 12.1): a unit reads what it works on, wherever the
    incident belongs, and nothing more once it declined (its pull evicts it too)."""
    dispatcher = await sign_in(api, "dispatcher")
    officer = await sign_in(api, "officer-a")
    # An incident of station B, assigned to station A's unit.
    incident_id, assignment_id = await _incident(api, dispatcher, "org-b", "unit-a")
    h = headers(officer)
    for suffix in ("", "/caller"):
        r = await api.get(f"/api/incidents/{incident_id}{suffix}", headers=h)
        assert r.status_code == 200, (suffix, r.text)
    assert incident_id in {i["id"] for i in (await api.get("/api/incidents", headers=h)).json()}

    r = await api.post("/api/sync/push", headers=h, json={"mutations": [
        _m(officer, "assignment.decline", {"assignment_id": assignment_id, "reason": "flat tyre"})]})
    assert r.json()["results"][0]["outcome"] == "applied", r.text
    note = _m(dispatcher, "incident.add_note", {"note_id": str(uuid6.uuid7()), "incident_id": incident_id,
                                                 "body": "caller says the thief went north"})
    r = await api.post("/api/sync/push", headers=headers(dispatcher), json={"mutations": [note]})
    assert r.json()["results"][0]["outcome"] == "applied", r.text

    for suffix in ("", "/caller"):
        r = await api.get(f"/api/incidents/{incident_id}{suffix}", headers=h)
        assert r.status_code == 404, (suffix, r.text)
    assert incident_id not in {i["id"] for i in (await api.get("/api/incidents", headers=h)).json()}
    pulled = (await api.post("/api/sync/pull", headers=h, json={"cursor": 0})).json()["changes"]
    ops = [c["op"] for c in pulled if c["entity"] == "incident" and c["entity_id"] == incident_id]
    assert not ops or ops[-1] == "delete", "the pull leaves the incident out of the replica too"
    assert not any(c["entity"] == "note" and c["data"].get("incident_id") == incident_id for c in pulled)


async def test_a_console_incident_belongs_to_the_station_of_its_place(api: AsyncTestClient) -> None:
    """Issue 12.1: made at the directorate's desk with no station chosen, it was stored under
    the directorate, numbered without the prefix, and the assigned officer got 404."""
    dispatcher = await sign_in(api, "dispatcher")  # a directorate dispatcher (SM)
    incident_id = str(uuid6.uuid7())
    assignment_id = str(uuid6.uuid7())
    r = await api.post("/api/sync/push", headers=headers(dispatcher), json={"mutations": [
        _m(dispatcher, "incident.create", {"incident_id": incident_id, "type": "theft", "priority": 2,
                                           "lat": 45.0075, "lon": 19.8210, "caller_name": "Ana"}),
        _m(dispatcher, "assignment.create", {"assignment_id": assignment_id, "incident_id": incident_id,
                                             "unit_id": "unit-b"})]})
    created, assigned = r.json()["results"]
    assert created["outcome"] == "applied", created
    assert created["result"]["number"].startswith("SM-"), created
    assert assigned["outcome"] == "applied", assigned
    officer = await sign_in(api, "officer-b")
    detail = await api.get(f"/api/incidents/{incident_id}", headers=headers(officer))
    assert detail.status_code == 200, detail.text
    assert detail.json()["incident"]["org_unit_id"] == "org-b"
    assert {"call_received", "created", "assigned"} <= {e["kind"] for e in detail.json()["timeline"]}
    assert (await api.get(f"/api/incidents/{incident_id}/caller", headers=headers(officer))).status_code == 200

    # No place and no station: the directorate's dispatcher is asked to choose.
    r = await api.post("/api/sync/push", headers=headers(dispatcher), json={"mutations": [
        _m(dispatcher, "incident.create", {"incident_id": str(uuid6.uuid7()), "type": "theft"})]})
    res = r.json()["results"][0]
    assert (res["outcome"], res["reason_code"], res["result"]["field"]) == \
        ("rejected", "station_required", "args.org_unit_id")


async def test_a_declined_incident_goes_back_to_the_queue_and_the_decliner_ranks_last(
        api: AsyncTestClient) -> None:
    """Issue 12.7: it stayed 'dispatched' with no unit, and the decliner came first."""
    dispatcher = await sign_in(api, "dispatcher")
    officer = await sign_in(api, "officer-a")
    incident_id, assignment_id = await _incident(api, dispatcher, "org-a", "unit-a")
    r = await api.post("/api/sync/push", headers=headers(officer), json={"mutations": [
        _m(officer, "assignment.decline", {"assignment_id": assignment_id, "reason": "flat tyre"})]})
    assert r.json()["results"][0]["outcome"] == "applied"
    detail = (await api.get(f"/api/incidents/{incident_id}", headers=headers(dispatcher))).json()
    assert detail["incident"]["state"] == "new"
    recs = (await api.get(f"/api/incidents/{incident_id}/recommendations", headers=headers(dispatcher))).json()
    assert recs[-1]["unit_id"] == "unit-a" and recs[-1]["reason_code"] == "declined", recs
    assert recs[0]["unit_id"] != "unit-a"


async def test_reassign_and_cancel_reasons_are_kept_and_shown(api: AsyncTestClient) -> None:
    """Issue 12.8: the reassign reason was dropped by the server."""
    dispatcher = await sign_in(api, "dispatcher")
    incident_id, assignment_id = await _incident(api, dispatcher, "org-a", "unit-a")
    second = str(uuid6.uuid7())
    r = await api.post("/api/sync/push", headers=headers(dispatcher), json={"mutations": [
        _m(dispatcher, "assignment.reassign", {"assignment_id": assignment_id, "new_assignment_id": second,
                                               "unit_id": "unit-b", "reason": "B-21 is closer"}),
        _m(dispatcher, "assignment.cancel", {"assignment_id": second, "reason": "caller called back: false alarm"})]})
    assert [x["outcome"] for x in r.json()["results"]] == ["applied", "applied"], r.text
    detail = (await api.get(f"/api/incidents/{incident_id}", headers=headers(dispatcher))).json()
    texts = {e["kind"]: e["text"] for e in detail["timeline"] if e["kind"] in ("reassigned", "cancelled")}
    assert texts == {"reassigned": "B-21 is closer", "cancelled": "caller called back: false alarm"}
    assert detail["incident"]["state"] == "new", "no unit left: back in the queue"
    # The crew it was taken from learns why from its pull (the assignment snapshot carries it).
    officer = await sign_in(api, "officer-a")
    pulled = (await api.post("/api/sync/pull", headers=headers(officer), json={"cursor": 0})).json()["changes"]
    mine = [c for c in pulled if c["entity"] == "assignment" and c["entity_id"] == assignment_id]
    assert mine and mine[-1]["data"]["end_reason"] == "B-21 is closer", mine


@pytest.mark.parametrize(("offset_ms", "code"), [
    (-(36 * 365 * 86_400_000), "call_time_too_old"),    # 1990 typed for today
    (-(8 * 86_400_000), "call_time_too_old"),
    (73 * 365 * 86_400_000, "call_time_future"),          # 2099
    (10 * 60_000, "call_time_future"),
])
async def test_implausible_call_times_are_refused_with_their_limit(api: AsyncTestClient, offset_ms: int,
                                                                   code: str) -> None:
    """Issue 12.10: 1990 was accepted (numbered 1990-..., '13,485 d ago'); 2099 became now."""
    dispatcher = await sign_in(api, "dispatcher")
    m = _m(dispatcher, "incident.create", {"incident_id": str(uuid6.uuid7()), "org_unit_id": "org-a",
                                            "type": "theft", "call_received_at": 0})
    m["args"]["call_received_at"] = m["device_at"] + offset_ms
    r = await api.post("/api/sync/push", headers=headers(dispatcher),
                       json={"mutations": [m], "device_now": m["device_at"]})
    res = r.json()["results"][0]
    assert (res["outcome"], res["reason_code"], res["result"]["field"]) == \
        ("rejected", code, "args.call_received_at"), res


async def test_a_call_time_from_minutes_ago_or_a_clock_a_minute_ahead_is_taken(api: AsyncTestClient) -> None:
    dispatcher = await sign_in(api, "dispatcher")
    for offset_ms in (-25 * 60_000, 90_000):
        m = _m(dispatcher, "incident.create", {"incident_id": str(uuid6.uuid7()), "org_unit_id": "org-a",
                                                "type": "theft", "call_received_at": 0})
        m["args"]["call_received_at"] = m["device_at"] + offset_ms
        r = await api.post("/api/sync/push", headers=headers(dispatcher),
                           json={"mutations": [m], "device_now": m["device_at"]})
        assert r.json()["results"][0]["outcome"] == "applied", r.text
