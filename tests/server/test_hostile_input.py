"""Hostile input at the HTTP edge: numbers beyond 64 bits, absurd times, U+0000.

Each of these used to answer 500 (SQLite) or 503 (PostgreSQL, retried forever by
the apps): a huge ``since`` reached the driver, a push with ``device_now`` = 2^62
stored event times in the year -146136428, and a NUL in any text made PostgreSQL
refuse the whole push, so the outbox stayed stuck behind it. Now every number and
time is bounded at the edge (a 4xx naming the field) and a NUL is refused per
field: a 422 for REST, an ``invalid`` outcome for the one mutation of a push
(the next one in the same push is applied). Every test runs on SQLite and
PostgreSQL (the ``api`` fixture).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import httpx
import pytest
import websockets
from litestar.testing import AsyncTestClient
from websockets.exceptions import ConnectionClosed

from server.clock import now_ms
from server.web.logs import QuietInvalidUtf8
from tests.server.conftest import headers, sign_in
from tests.support.live import LiveServer
from tests.support.world import PASSWORD, new_device

HUGE = 10**30


def _mutation(device: str, seq: int, name: str, args: dict[str, Any], *, at: int | None = None,
              **envelope: Any) -> dict[str, Any]:
    at = now_ms() if at is None else at
    return {"v": 1, "client_id": device, "seq": seq, "name": name, "hlc": f"{at:012x}-0000-{device}",
            "device_at": at, "base_version": None, "args": args, **envelope}


def _note(device: str, seq: int, incident_id: str, body: str) -> dict[str, Any]:
    return _mutation(device, seq, "incident.add_note",
                     {"note_id": str(uuid.uuid4()), "incident_id": incident_id, "body": body})


def _refused(r: Any, field: str, *statuses: int) -> dict[str, Any]:
    """A 4xx in the one error shape, naming ``field``."""
    assert r.status_code in (statuses or (400, 422)), (r.status_code, r.text)
    body = r.json()
    assert set(body) <= {"code", "message", "field", "min", "max"}, body
    assert body["code"] and body["message"] and body.get("field") == field, body
    return body


async def _open_incident(api: AsyncTestClient, desk: dict[str, Any]) -> str:
    device = desk["_me"]["device_id"]
    incident_id = str(uuid.uuid4())
    r = await api.post("/api/sync/push", headers=headers(desk), json={"mutations": [
        _mutation(device, 1, "incident.create", {"incident_id": incident_id, "type": "traffic_accident",
                                                 "source": "112", "priority": 2, "org_unit_id": "org-a"})],
        "device_now": now_ms()})
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "applied", r.text
    return incident_id


# --------------------------------------------------------------------------- numbers and times


@pytest.mark.parametrize("name", ["since", "until", "closed_since", "closed_until"])
async def test_huge_incident_list_times_are_refused_naming_the_field(api: AsyncTestClient, name: str) -> None:
    desk = await sign_in(api, "dispatcher")
    for value in (HUGE, 2**63, -1):
        body = _refused(await api.get("/api/incidents", params={name: value}, headers=headers(desk)), name, 422)
        assert body["code"] == "out_of_range"
    ok = await api.get("/api/incidents", params={name: now_ms()}, headers=headers(desk))
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("name", ["since", "until", "limit"])
async def test_huge_status_event_times_are_refused_naming_the_field(api: AsyncTestClient, name: str) -> None:
    desk = await sign_in(api, "dispatcher")
    r = await api.get("/api/units/unit-a/status-events", params={name: HUGE}, headers=headers(desk))
    _refused(r, name, 422)


@pytest.mark.parametrize("params,field", [
    ({"from": "²", "to": "2025-01-31"}, "from"),
    ({"from": "2025-01-01", "to": "²"}, "to"),
    ({"from": str(HUGE - 1), "to": str(HUGE)}, "from"),
    ({"from": "-5", "to": "5"}, "from"),
    ({"from": "1", "to": str(2**63)}, "to"),
])
async def test_analytics_periods_are_bounded(api: AsyncTestClient, params: dict[str, str], field: str) -> None:
    commander = await sign_in(api, "commander")
    for path in ("/api/analytics/response-times", "/api/analytics/demand-coverage"):
        _refused(await api.get(path, params=params, headers=headers(commander)), field)
    r = await api.get("/api/analytics/track", params={"unit_id": "unit-a", **params}, headers=headers(commander))
    _refused(r, field)


async def test_shift_periods_are_bounded(api: AsyncTestClient) -> None:
    commander = await sign_in(api, "commander")
    _refused(await api.get("/api/shifts", params={"from": HUGE - 1, "to": HUGE}, headers=headers(commander)),
             "from", 422)
    _refused(await api.get("/api/shifts", params={"from": 0, "to": 2**64}, headers=headers(commander)), "to", 422)


async def test_pull_cursor_beyond_64_bits_is_refused(api: AsyncTestClient) -> None:
    officer = await sign_in(api, "officer-a")
    _refused(await api.post("/api/sync/pull", headers=headers(officer), json={"cursor": 2**64}), "cursor", 422)


@pytest.mark.parametrize("device_now", [HUGE, 2**62, 2**53, -1, 4_200_000_000_000])
async def test_a_push_with_an_absurd_device_now_is_422_naming_it(api: AsyncTestClient, device_now: int) -> None:
    officer = await sign_in(api, "officer-a")
    device = officer["_me"]["device_id"]
    r = await api.post("/api/sync/push", headers=headers(officer), json={
        "mutations": [_mutation(device, 1, "unit.set_status", {"unit_id": "unit-a", "status": "busy"})],
        "device_now": device_now})
    body = _refused(r, "device_now", 422)
    assert body["code"] == "out_of_range"
    # Nothing of the push was applied: the same mutation with a sane clock is new.
    r = await api.post("/api/sync/push", headers=headers(officer), json={
        "mutations": [_mutation(device, 1, "unit.set_status", {"unit_id": "unit-a", "status": "busy"})],
        "device_now": now_ms()})
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "applied", r.text
    assert not r.json()["results"][0]["replay"]


async def test_a_patrol_incident_from_a_device_far_in_the_future_is_refused_not_internal(
        api: AsyncTestClient) -> None:
    """device_now = 2^62 used to be stored as an offset of -4.6e18 ms; the officer's next
    incident.create failed `internal` ("year -146136428 is out of range")."""
    officer = await sign_in(api, "officer-a")
    device = officer["_me"]["device_id"]
    r = await api.post("/api/sync/push", headers=headers(officer), json={"mutations": [
        _mutation(device, 1, "incident.create", {"incident_id": str(uuid.uuid4()), "type": "traffic_accident",
                                                 "source": "patrol", "assignment_id": str(uuid.uuid4())})],
        "device_now": 2**62})
    _refused(r, "device_now", 422)
    r = await api.post("/api/sync/push", headers=headers(officer), json={"mutations": [
        _mutation(device, 1, "incident.create", {"incident_id": str(uuid.uuid4()), "type": "traffic_accident",
                                                 "source": "patrol", "assignment_id": str(uuid.uuid4())})]})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["outcome"] == "applied", r.json()


@pytest.mark.parametrize("patch,field", [
    ({"seq": 2**64}, "seq"),
    ({"seq": 2**53}, "seq"),
    ({"device_at": HUGE}, "device_at"),
    ({"device_at": 2**62}, "device_at"),
    ({"device_at": -1}, "device_at"),
    ({"base_version": 2**64}, "base_version"),
    ({"v": HUGE}, "v"),
])
async def test_a_bad_number_in_one_mutation_rejects_only_that_mutation(
        api: AsyncTestClient, patch: dict[str, Any], field: str) -> None:
    officer = await sign_in(api, "officer-a")
    device = officer["_me"]["device_id"]
    bad = {**_mutation(device, 1, "unit.set_status", {"unit_id": "unit-a", "status": "busy"}), **patch}
    good = _mutation(device, 2, "unit.set_status", {"unit_id": "unit-a", "status": "available"})
    r = await api.post("/api/sync/push", headers=headers(officer),
                       json={"mutations": [bad, good], "device_now": now_ms()})
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert (first["outcome"], first["reason_code"], first["result"]["field"]) == ("rejected", "invalid", field)
    assert second["outcome"] == "applied", second
    # The refusal is an answer the app can drop, and it does not wedge later pushes.
    again = await api.post("/api/sync/push", headers=headers(officer), json={"mutations": [bad, good]})
    assert again.status_code == 200, again.text
    assert again.json()["results"][0]["outcome"] == "rejected"


@pytest.mark.parametrize("args,field", [
    ({"pings": [{"at": HUGE, "lat": 45.0, "lon": 19.8}]}, "args.pings[0].at"),
    ({"pings": [{"at": 2**62, "lat": 45.0, "lon": 19.8}]}, "args.pings[0].at"),
    ({"pings": [{"at": 1_764_000_000_000, "lat": 45.0, "lon": 19.8, "accuracy_m": 1e300}]},
     "args.pings[0].accuracy_m"),
])
async def test_bad_numbers_inside_args_reject_only_that_mutation(api: AsyncTestClient, args: dict[str, Any],
                                                                  field: str) -> None:
    officer = await sign_in(api, "officer-a")
    device = officer["_me"]["device_id"]
    bad = _mutation(device, 1, "unit.report_location", {"unit_id": "unit-a", **args})
    good = _mutation(device, 2, "unit.report_location",
                     {"unit_id": "unit-a", "pings": [{"at": now_ms(), "lat": 45.0, "lon": 19.8}]})
    r = await api.post("/api/sync/push", headers=headers(officer),
                       json={"mutations": [bad, good], "device_now": now_ms()})
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert (first["outcome"], first["result"]["field"]) == ("rejected", field), first
    assert second["outcome"] == "applied", second


async def test_an_incident_call_time_beyond_64_bits_is_refused(api: AsyncTestClient) -> None:
    desk = await sign_in(api, "dispatcher")
    device = desk["_me"]["device_id"]
    r = await api.post("/api/sync/push", headers=headers(desk), json={"mutations": [
        _mutation(device, 1, "incident.create", {"incident_id": str(uuid.uuid4()), "type": "traffic_accident",
                                                 "source": "112", "call_received_at": HUGE,
                                                 "org_unit_id": "org-a"})]})
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    assert (res["outcome"], res["result"]["field"]) == ("rejected", "args.call_received_at"), res


# --------------------------------------------------------------------------- U+0000


@pytest.mark.parametrize("where", ["body", "name", "hlc", "args_key", "type"])
async def test_a_nul_in_a_mutation_rejects_that_mutation_and_the_next_is_applied(
        api: AsyncTestClient, where: str) -> None:
    desk = await sign_in(api, "dispatcher")
    incident_id = await _open_incident(api, desk)
    device = desk["_me"]["device_id"]
    bad = _note(device, 2, incident_id, "a note")
    field = {"body": "args.body", "name": "name", "hlc": "hlc", "args_key": "args.x\\u0000",
             "type": "args.type"}[where]
    if where == "body":
        bad["args"]["body"] = "before\x00after"
    elif where == "name":
        bad["name"] = "incident.add_note\x00"
    elif where == "hlc":
        bad["hlc"] = bad["hlc"] + "\x00"
    elif where == "args_key":
        bad["args"]["x\x00"] = 1
    else:
        bad = _mutation(device, 2, "incident.update", {"incident_id": incident_id, "type": "fire\x00"})
    good = _note(device, 3, incident_id, "the next note")
    for attempt in range(2):  # the retry answers the same (no 503 on every retry any more)
        r = await api.post("/api/sync/push", headers=headers(desk),
                           json={"mutations": [bad, good], "device_now": now_ms()})
        assert r.status_code == 200, r.text
        first, second = r.json()["results"]
        assert (first["outcome"], first["reason_code"], first["result"]["field"]) == (
            "rejected", "invalid", field), first
        assert "\x00" not in (first["reason"] or "")
        assert second["outcome"] == "applied", second
        assert second["replay"] is (attempt == 1)
    notes = await api.get(f"/api/incidents/{incident_id}", headers=headers(desk))
    assert notes.status_code == 200, notes.text
    assert [n["body"] for n in notes.json()["notes"]] == ["the next note"]


async def test_a_nul_in_a_rest_body_is_refused_naming_the_field(api: AsyncTestClient) -> None:
    r = await api.post("/api/auth/login", json={"username": "officer-a\x00", "password": "x",
                                                "device_id": str(uuid.uuid4())})
    assert _refused(r, "username", 422)["code"] == "invalid_text"
    r = await api.post("/api/auth/login", json={"username": "officer-a", "password": "x",
                                                "device_id": str(uuid.uuid4()), "device_label": "Pixel\x00"})
    assert _refused(r, "device_label", 422)["code"] == "invalid_text"
    commander = await sign_in(api, "commander")
    start = now_ms() + 86_400_000
    r = await api.post("/api/shifts", headers=headers(commander), json={
        "unit_id": "unit-a", "starts_at": start, "ends_at": start + 3_600_000, "notes": "x\x00",
        "members": [{"user_id": "user-officer-a", "role": "lead"}]})
    assert _refused(r, "notes", 422)["code"] == "invalid_text"
    r = await api.post("/api/shifts", headers=headers(commander), json={
        "unit_id": "unit-a", "starts_at": start, "ends_at": start + 3_600_000,
        "members": [{"user_id": "user-officer-a\x00", "role": "lead"}]})
    assert _refused(r, "members[0].user_id", 422)["code"] == "invalid_text"


@pytest.mark.parametrize("path,field", [
    ("/api/incidents/%00", "incident_id"),
    ("/api/incidents/abc%00def/caller", "incident_id"),
    ("/api/units/unit-a%00/status-events", "unit_id"),
    ("/api/shifts/x%00", "shift_id"),
    ("/api/reports/%00/persons", "report_id"),
    ("/api/analytics/incidents/%00/export", "incident_id"),
])
async def test_a_nul_in_a_path_segment_is_refused(api: AsyncTestClient, path: str, field: str) -> None:
    admin = await sign_in(api, "admin")
    r = await api.get(path, headers=headers(admin))
    assert _refused(r, field, 422)["code"] == "invalid_text"


@pytest.mark.parametrize("path,params,field", [
    ("/api/analytics/response-times", {"org_unit": "SM\x00"}, "org_unit"),
    ("/api/analytics/track", {"unit_id": "unit-a\x00"}, "unit_id"),
    ("/api/shifts/officers", {"org_unit": "\x00"}, "org_unit"),
    ("/api/conflicts", {"state": "open\x00"}, "state"),
])
async def test_a_nul_in_a_query_is_refused(api: AsyncTestClient, path: str, params: dict[str, str],
                                           field: str) -> None:
    admin = await sign_in(api, "admin")
    r = await api.get(path, params=params, headers=headers(admin))
    assert _refused(r, field, 422)["code"] == "invalid_text"


# --------------------------------------------------------------------------- websocket




async def _socket(srv: LiveServer, username: str) -> tuple[Any, str]:
    device = new_device()
    async with httpx.AsyncClient(base_url=srv.http) as h:
        r = await h.post("/api/auth/login", json={"username": username, "password": PASSWORD, "device_id": device})
    assert r.status_code == 200, r.text
    ws = await websockets.connect(srv.ws)
    await ws.send(json.dumps({"type": "auth", "token": r.json()["token"]}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "hello"
    return ws, device


async def _close_code(ws: Any) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(50):
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd is not None, "no close frame"
    return info.value.rcvd.code, info.value.rcvd.reason


async def test_an_invalid_utf8_frame_closes_1007_without_an_error_in_the_log(
        live: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    """uvicorn logged an ERROR with a traceback for each one: a client could fill the logs."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(level=logging.DEBUG)
    logging.getLogger("uvicorn.error").addHandler(keep)  # uvicorn's loggers do not reach the root
    try:
        with caplog.at_level(logging.INFO):
            for before_auth in (True, False):
                if before_auth:
                    ws = await websockets.connect(live.ws)
                else:
                    ws, _ = await _socket(live, "officer-a")
                await ws.send(b'{"type": "ping", "t": 1}\xff\xfe', text=True)
                assert (await _close_code(ws))[0] == 1007
            await asyncio.sleep(0.2)
    finally:
        logging.getLogger("uvicorn.error").removeHandler(keep)
    seen = records + [r for r in caplog.records if r not in records]
    assert not [r for r in seen if r.levelno >= logging.WARNING or r.exc_info], [
        (r.name, r.levelname, r.getMessage()) for r in seen]
    quiet = [r for r in seen if "UTF-8" in r.getMessage()]
    assert len(quiet) == 2 and all(r.levelno == logging.INFO for r in quiet)
    # The server is unharmed.
    ws, _ = await _socket(live, "officer-a")
    await ws.close()


def test_the_quiet_filter_leaves_every_other_error_alone() -> None:
    quiet = QuietInvalidUtf8()

    def record(msg: str, exc: BaseException) -> logging.LogRecord:
        try:
            raise exc
        except BaseException:
            import sys

            return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, msg, None, sys.exc_info())

    for other in (record("Exception in ASGI application\n", RuntimeError("boom")),
                  record("Invalid UTF-8 sequence received from client.", RuntimeError("not a decode error"))):
        assert quiet.filter(other) and other.levelno == logging.ERROR and other.exc_info
    noisy = record("Invalid UTF-8 sequence received from client.", UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"))
    assert quiet.filter(noisy) and noisy.levelno == logging.INFO and noisy.exc_info is None


async def test_websocket_push_bounds_device_now_and_refuses_a_nul_per_mutation(live: LiveServer) -> None:
    ws, device = await _socket(live, "officer-a")
    while True:  # the catch-up pages
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame["type"] == "changes" and not frame["more"]:
            break
    bad = _mutation(device, 1, "unit.set_status", {"unit_id": "unit-a", "status": "busy\x00"})
    good = _mutation(device, 2, "unit.set_status", {"unit_id": "unit-a", "status": "busy"})
    await ws.send(json.dumps({"type": "push", "id": "p1", "device_now": now_ms(), "mutations": [bad, good]}))
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame["type"] == "results":
            break
    first, second = frame["results"]
    assert (first["outcome"], first["result"]["field"]) == ("rejected", "args.status"), first
    assert second["outcome"] == "applied", second
    await ws.send(json.dumps({"type": "push", "id": "p2", "device_now": 2**62, "mutations": [good]}))
    code, reason = await _close_code(ws)
    assert code == 1007 and "device_now" in reason, (code, reason)
    # Nested deeper than the decoder goes: an invalid frame too, not a handler failure (1011).
    ws, _ = await _socket(live, "officer-a")
    await ws.send('{"type": "push", "mutations": [' + "[" * 5000 + "]" * 5000 + "]}")
    code, reason = await _close_code(ws)
    assert code == 1007, (code, reason)


@pytest.mark.parametrize("path", ["/api/sync/push", "/api/sync/pull", "/api/shifts", "/api/auth/login"])
async def test_deeply_nested_json_is_a_400_not_a_500(api: AsyncTestClient, path: str) -> None:
    commander = await sign_in(api, "commander")
    for body in (b'{"mutations": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                 b'{"mutations": [' + b'{"a":' * 3000 + b'"\\u0000"' + b"}" * 3000 + b"]}"):
        r = await api.post(path, content=body, headers={**headers(commander), "Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert r.json()["code"]
