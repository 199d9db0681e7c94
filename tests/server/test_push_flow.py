"""Web Push end to end on the server side: a new assignment and an emergency
alert reach the subscribed devices (decrypted at a local receiver)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import uuid6

from tests.push.helpers import BrowserKeys, PushReceiver
from tests.server.test_realtime import Client
from tests.support.live import LiveServer
from tests.support.world import prepare_world


@pytest.fixture
def live_env() -> dict[str, str]:
    return {"PATROL_PUSH_ALLOW_LOCAL_ENDPOINTS": "1"}


async def _subscribe(srv: LiveServer, client: Client, receiver: PushReceiver, keys: BrowserKeys,
                     name: str) -> None:
    async with httpx.AsyncClient(base_url=srv.http) as h:
        r = await h.post("/api/push/subscriptions",
                         json={"endpoint": receiver.endpoint(name), "keys": {"p256dh": keys.p256dh, "auth": keys.auth}},
                         headers={"Authorization": f"Bearer {client.token}"})
    assert r.status_code == 201, r.text


async def _wait_for(receiver: PushReceiver, name: str, n: int = 1, timeout: float = 5.0) -> list[Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while len(receiver.by_path(name)) < n:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no push arrived at {name}")
        await asyncio.sleep(0.05)
    return receiver.by_path(name)


async def test_new_assignment_and_alert_are_pushed(live: LiveServer) -> None:
    officer = await Client(live, "officer-a").login()
    crewmate = await Client(live, "officer-a2").login()
    dispatcher = await Client(live, "dispatcher").login()
    o_keys, c_keys, d_keys = BrowserKeys(), BrowserKeys(), BrowserKeys()
    async with PushReceiver() as receiver:
        await _subscribe(live, officer, receiver, o_keys, "officer")
        await _subscribe(live, crewmate, receiver, c_keys, "crewmate")
        await _subscribe(live, dispatcher, receiver, d_keys, "dispatcher")

        incident_id, assignment_id = str(uuid6.uuid7()), str(uuid6.uuid7())
        out = await dispatcher.push_http(
            dispatcher.mutation("incident.create", {"incident_id": incident_id, "type": "burglary", "priority": 1,
                                                    "lat": 44.98, "lon": 19.61, "address": "Glavna 1"}),
            dispatcher.mutation("assignment.create", {"assignment_id": assignment_id, "incident_id": incident_id,
                                                      "unit_id": "unit-a"}))
        assert [r["outcome"] for r in out["results"]] == ["applied", "applied"], out

        for name, keys in (("officer", o_keys), ("crewmate", c_keys)):
            req = (await _wait_for(receiver, name))[0]
            payload = keys.decrypt(req.body)
            assert payload["kind"] == "assignment" and assignment_id in payload["url"]
            assert req.headers["urgency"] == "high"  # priority 1
            assert int(req.headers["ttl"]) > 0
        assert receiver.by_path("dispatcher") == []

        alert_id = str(uuid6.uuid7())
        out = await officer.push_http(officer.mutation("alert.raise", {"alert_id": alert_id, "unit_id": "unit-a",
                                                                        "lat": 44.98, "lon": 19.61}))
        assert out["results"][0]["outcome"] == "applied", out
        req = (await _wait_for(receiver, "dispatcher"))[0]
        payload = d_keys.decrypt(req.body)
        assert payload["kind"] == "alert" and alert_id in payload["url"] and "A-11" in payload["title"] + payload["body"]
        assert req.headers["urgency"] == "high"


async def test_push_is_not_blocking_when_the_push_service_hangs(live: LiveServer) -> None:
    officer = await Client(live, "officer-a").login()
    dispatcher = await Client(live, "dispatcher").login()
    async with PushReceiver(default="hang") as receiver:
        await _subscribe(live, officer, receiver, BrowserKeys(), "officer")
        incident_id = str(uuid6.uuid7())
        loop = asyncio.get_running_loop()
        started = loop.time()
        out = await dispatcher.push_http(
            dispatcher.mutation("incident.create", {"incident_id": incident_id, "org_unit_id": "org-a", "type": "theft",
                                                    "priority": 3}),
            dispatcher.mutation("assignment.create", {"assignment_id": str(uuid6.uuid7()),
                                                      "incident_id": incident_id, "unit_id": "unit-a"}))
        assert loop.time() - started < 2.0
        assert out["results"][1]["outcome"] == "applied"
        await _wait_for(receiver, "officer")  # it was attempted, in the background


LOCAL_ENDPOINTS = ["http://127.0.0.1:9/push", "https://localhost/push", "https://10.1.2.3/push",
                   "https://[::1]/push", "https://169.254.169.254/x"]


async def test_local_endpoints_are_refused_unless_allowed(database_url: str, tmp_path: Path) -> None:
    await prepare_world(database_url)
    with LiveServer(database_url, tmp_path) as srv:
        officer = await Client(srv, "officer-a").login()
        keys = BrowserKeys()
        async with httpx.AsyncClient(base_url=srv.http) as h:
            for endpoint in LOCAL_ENDPOINTS:
                r = await h.post("/api/push/subscriptions",
                                 json={"endpoint": endpoint, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}},
                                 headers={"Authorization": f"Bearer {officer.token}"})
                assert r.status_code == 422 and r.json()["field"] == "endpoint", endpoint
