"""Officer app (PWA) in a real browser against a real server with the demo data.

One server for the module (the `server` fixture); a fresh browser context per
test. Dispatchers act through the HTTP sync API (and a websocket for the
emergency test), exactly as the console does. Each test uses its own unit so
the order of the tests does not matter.

The first visit opens `/` as a new phone would (served as text/html); after
that the service worker serves it, offline too.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from e2e.clients import PASSWORD, SyncClient
from e2e.staffing import Crew

GEO = {"latitude": 44.9700, "longitude": 19.6100}  # Sremska Mitrovica
RAW_KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)*\.[a-z_]+(?:\.[a-z_]+)*\b")


def now_ms() -> int:
    return int(time.time() * 1000)


def when(ms: int) -> datetime:
    """Playwright (Python) reads a bare number given to the clock as seconds: pass datetimes."""
    return datetime.fromtimestamp(ms / 1000, UTC)


class Desk(SyncClient):
    """A dispatcher talking to the server as the console does (HTTP sync); every push must
    be applied or merged."""

    def __init__(self, base: str, username: str = "dispatcher1") -> None:
        super().__init__(base, username)
        self.cursor = 0

    def push(self, name: str, args: dict[str, Any], base_version: int | None = None, *,
             at: int | None = None) -> dict[str, Any]:
        res = super().push(name, args, base_version, at=at)
        assert res["outcome"] in ("applied", "merged"), (name, res)
        return res

    def pull_all(self) -> list[dict[str, Any]]:
        """Changes since the last call (the first call reads up to the head)."""
        out: list[dict[str, Any]] = []
        while True:
            r = httpx.post(f"{self.base}/api/sync/pull", headers=self.headers,
                           json={"cursor": self.cursor, "limit": 1000}, timeout=30)
            r.raise_for_status()
            page = r.json()
            out.extend(page["changes"])
            self.cursor = page["cursor"]
            if not page["more"]:
                return out

    def new_assignment(self, unit_id: str, **incident: Any) -> tuple[str, str]:
        incident_id, assignment_id = str(uuid.uuid4()), str(uuid.uuid4())
        args = {"incident_id": incident_id, "type": "traffic_accident", "priority": 2, "lat": 44.9812,
                "lon": 19.6205, "address": "Kralja Petra I 12, Sremska Mitrovica",
                "description": "Two cars, no injuries reported", "hazards": "Fuel on the road",
                "caller_name": "Test Caller", "caller_phone": "+381 64 000 0000",
                "call_received_at": now_ms() - 30 * 60_000, **incident}
        self.push("incident.create", args)
        self.push("assignment.create", {"assignment_id": assignment_id, "incident_id": incident_id,
                                        "unit_id": unit_id})
        return incident_id, assignment_id


@pytest.fixture(scope="module")
def desk(server, crews: list[Crew]) -> Desk:
    # (after the extra crews signed on, so the pulls below see only what the tests make)
    d = Desk(server.base_url)
    # A cursor of 0 always gets a snapshot (state only, no status events), and a fresh
    # database has an empty change log: make one change, then move the cursor to the head
    # so later pulls are incremental and see only what the tests make.
    d.push("incident.create", {"incident_id": str(uuid.uuid4()), "type": "other", "priority": 4,
                               "lat": GEO["latitude"], "lon": GEO["longitude"],
                               "description": "e2e: start of the change log"})
    d.pull_all()
    assert d.cursor > 0
    return d


def pick(crews: list[Crew], index: int, member: int = 0) -> tuple[dict[str, Any], str]:
    """A unit of the module's extra crews (e2e/staffing.py) and one of its officers."""
    return crews[index].unit, crews[index].usernames[member]


def phone_context(browser, server) -> Iterator[BrowserContext]:  # type: ignore[no-untyped-def]
    """A phone-sized browser context at Sremska Mitrovica, closed afterwards (the fixtures below)."""
    ctx = browser.new_context(base_url=server.base_url, geolocation=GEO, permissions=["geolocation"],
                              viewport={"width": 412, "height": 900})
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def context(browser, server) -> Iterator[BrowserContext]:
    yield from phone_context(browser, server)


def open_app(page: Page) -> None:
    page.goto("/")
    # (wait_for_function evaluates a string, which the app's CSP forbids: poll instead)
    deadline = time.monotonic() + 15
    while not page.evaluate("() => !!navigator.serviceWorker.controller"):
        assert time.monotonic() < deadline, "the service worker never took control"
        page.wait_for_timeout(100)


def sign_in(page: Page, username: str, call_sign: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_test_id("call-sign")).to_have_text(call_sign, timeout=15_000)
    expect(page.locator(".sync")).to_have_attribute("data-state", "live", timeout=15_000)


def nav(page: Page, screen: str) -> None:
    page.locator(".bottom-nav__item").nth(["home", "assignment", "notes", "settings"].index(screen)).click()


def all_sent(page: Page, timeout: int = 20_000) -> None:
    expect(page.locator(".sync__pending")).not_to_have_class(re.compile("waiting"), timeout=timeout)
    expect(page.locator(".sync")).to_have_attribute("data-state", "live", timeout=timeout)


# --------------------------------------------------------------------------- install


def test_install_criteria(context: BrowserContext, server) -> None:
    page = context.new_page()
    open_app(page)
    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href
    manifest = page.evaluate("(h) => fetch(h).then((r) => r.json())", href)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert manifest["name"] and any(i["sizes"] == "512x512" for i in manifest["icons"])
    assert any(i["sizes"] == "192x192" for i in manifest["icons"])
    expect(page.locator("#username")).to_be_visible()

    context.set_offline(True)
    page.reload()
    expect(page.locator("#username")).to_be_visible(timeout=10_000)
    # The start URL itself comes from the service worker's precache.
    page.goto("/")
    expect(page.locator("#username")).to_be_visible(timeout=10_000)
    context.set_offline(False)


# --------------------------------------------------------------------------- the offline shift


def test_offline_shift_syncs_original_times_exactly_once(context: BrowserContext, server, desk: Desk,
                                                         crews) -> None:
    unit, username = pick(crews, 0)
    context.add_init_script("window.__buzz = []; navigator.vibrate = (p) => { window.__buzz.push(p); return true; };")
    page = context.new_page()
    # The phone's clock is ours to drive (and 10 minutes behind the server's, as phones are).
    page.clock.install(time=when(now_ms() - 10 * 60_000))
    open_app(page)
    sign_in(page, username, unit["call_sign"])

    incident_id, assignment_id = desk.new_assignment(unit["id"])
    card = page.get_by_test_id("assignment-card")
    expect(card).to_be_visible(timeout=5_000)  # arrived live over the websocket
    # ... and the phone vibrated, once (its clock is 10 minutes behind: "new" is judged on the server's)
    deadline = time.monotonic() + 5
    while page.evaluate("window.__buzz.length") == 0:
        assert time.monotonic() < deadline, "no vibration for the new assignment"
        page.wait_for_timeout(100)
    assert page.evaluate("window.__buzz.length") == 1
    card.click()
    expect(page.get_by_test_id("assignment-address")).to_contain_text("Kralja Petra I 12")
    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("assignment-state")).to_have_attribute("data-state", "acknowledged")
    all_sent(page)

    context.set_offline(True)
    expect(page.locator(".sync")).to_have_attribute("data-state", "offline", timeout=10_000)
    nav(page, "home")
    page.locator(".statuses .status-button[data-status=en_route]").click()
    expect(page.get_by_test_id("current-status")).to_contain_text("En route")
    # Time really passes offline, on the phone's (wrong) clock and the server's alike. (Jumping
    # only the phone's clock forward would be a clock change: the server then keeps the
    # device's order after its acknowledgement rather than an interval that cannot have
    # happened since.)
    page.wait_for_timeout(20_000)
    page.locator(".statuses .status-button[data-status=on_scene]").click()
    expect(page.get_by_test_id("current-status")).to_contain_text("On scene")
    nav(page, "notes")
    page.fill("#note-body", "Both drivers breathalysed, negative.")
    page.locator("form button[type=submit]").first.click()
    expect(page.get_by_test_id("notes")).to_contain_text("Both drivers breathalysed")
    expect(page.locator(".sync__pending")).to_have_text("3 changes waiting to send")

    # Still offline: the reload comes from the service worker, state and outbox from IndexedDB.
    page.reload()
    expect(page.get_by_test_id("current-status")).to_contain_text("On scene", timeout=10_000)
    assert page.evaluate("window.__buzz.length") == 0, "a reload does not announce the assignment again"
    expect(page.locator(".sync__pending")).to_have_text("3 changes waiting to send")
    nav(page, "notes")
    expect(page.get_by_test_id("notes")).to_contain_text("not sent yet")

    context.set_offline(False)
    all_sent(page)
    expect(page.get_by_test_id("notes")).not_to_contain_text("not sent yet", timeout=10_000)

    # The server has each event once, with the device's own times.
    detail = desk.get(f"/api/incidents/{incident_id}")
    kinds = [e["kind"] for e in detail["timeline"] if e.get("unit_id") == unit["id"] or e["kind"] == "note"]
    assert kinds.count("en_route") == 1 and kinds.count("on_scene") == 1 and kinds.count("note") == 1, kinds
    at = {e["kind"]: e["at"] for e in detail["timeline"]}
    asg = next(a for a in detail["assignments"] if a["id"] == assignment_id)
    assert asg["state"] == "on_scene"

    # What a dispatcher's pull sees: the status events, each once, with the device's times,
    # and the response-time interval exactly as the phone measured it, offline.
    changes = desk.pull_all()
    events = {c["entity_id"]: c["data"] for c in changes
              if c["entity"] == "unit_status_event" and c["data"]["unit_id"] == unit["id"]}
    device_times = sorted(e["device_at"] for e in events.values())
    assert len(device_times) == 2 and device_times[1] - device_times[0] >= 19_000, device_times
    assert at["on_scene"] - at["en_route"] == device_times[1] - device_times[0]
    # The phone's clock is ten minutes behind: the server's times are corrected by it.
    assert all(abs((e["event_at"] - e["device_at"]) - 10 * 60_000) < 60_000 for e in events.values()), events
    units = [c["data"] for c in changes if c["entity"] == "unit" and c["entity_id"] == unit["id"]]
    assert units and units[-1]["status"] == "on_scene"


# --------------------------------------------------------------------------- reassigned while offline


def test_reassignment_while_offline_gives_a_readable_notice(context: BrowserContext, server, desk: Desk,
                                                            crews) -> None:
    unit, username = pick(crews, 1)
    other = next(u for u in desk.get("/api/units") if u["status"] == "off_duty" and not u.get("crew"))
    page = context.new_page()
    open_app(page)
    sign_in(page, username, unit["call_sign"])
    _, assignment_id = desk.new_assignment(unit["id"], type="burglary", address="Trg Svetog Stefana 1")
    page.get_by_test_id("assignment-card").click()
    expect(page.get_by_test_id("assignment-state")).to_have_attribute("data-state", "pending", timeout=5_000)

    context.set_offline(True)
    expect(page.locator(".sync")).to_have_attribute("data-state", "offline", timeout=10_000)
    desk.push("assignment.reassign", {"assignment_id": assignment_id, "new_assignment_id": str(uuid.uuid4()),
                                      "unit_id": other["id"], "additional": True})
    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("assignment-state")).to_have_attribute("data-state", "acknowledged")

    context.set_offline(False)
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text("Not accepted: acknowledging the assignment", timeout=20_000)
    expect(notice).to_contain_text(f"given to {other['call_sign']}")
    all_sent(page)
    notice.get_by_role("button").click()
    expect(notice).to_have_count(0)


def test_reassignment_while_online_says_why_and_asks_for_the_next_status(context: BrowserContext, server,
                                                                        desk: Desk, crews) -> None:
    """Issue 12.6: the assignment just vanished from the screen, and the unit stayed en route."""
    unit, username = pick(crews, 2)
    other = next(u for u in desk.get("/api/units") if u["status"] == "off_duty" and not u.get("crew"))
    page = context.new_page()
    open_app(page)
    sign_in(page, username, unit["call_sign"])
    _, assignment_id = desk.new_assignment(unit["id"], type="burglary", address="Zmaj Jovina 3")
    expect(page.get_by_test_id("assignment-card")).to_be_visible(timeout=15_000)
    page.locator(".status-button[data-status=en_route]").first.click()
    expect(page.get_by_test_id("current-status")).to_contain_text("En route", timeout=15_000)
    all_sent(page)

    desk.push("assignment.reassign", {"assignment_id": assignment_id, "new_assignment_id": str(uuid.uuid4()),
                                      "unit_id": other["id"], "additional": True,
                                      "reason": "a closer unit is free"})
    notice = page.get_by_test_id("ended-notice")
    expect(notice).to_be_visible(timeout=15_000)
    expect(notice).to_have_attribute("data-state", "reassigned")
    expect(page.get_by_test_id("ended-reason")).to_contain_text("a closer unit is free")
    expect(page.get_by_test_id("assignment-card")).to_have_count(0)
    page.get_by_test_id("ended-available").click()
    expect(page.get_by_test_id("current-status")).to_contain_text("Available", timeout=15_000)
    expect(notice).to_have_count(0)
    all_sent(page)
    page.reload()
    expect(page.get_by_test_id("current-status")).to_contain_text("Available", timeout=15_000)
    expect(page.get_by_test_id("ended-notice")).to_have_count(0), "dismissed stays dismissed"


def test_a_shift_planned_after_sign_in_is_picked_up_without_signing_in_again(context: BrowserContext, server,
                                                                            crews) -> None:
    """Issue 12.2: the stored `me` was reused; only sign-out and sign-in helped."""
    from e2e.clients import SyncClient

    admin, commander = SyncClient(server.base_url, "admin"), SyncClient(server.base_url, "commander")
    taken = {c.unit["id"] for c in crews}
    unit = next(u for u in commander.get("/api/units")
                if not u["crew"] and not u["current_assignment_id"] and u["id"] not in taken)
    name = f"late-{uuid.uuid4().hex[:6]}"
    user = admin.post("/api/admin/users", {"username": name, "password": PASSWORD, "role": "officer",
                                           "org_unit_code": unit["org_unit_code"], "full_name": "Late Planned",
                                           "locale": "en"})
    page = context.new_page()
    open_app(page)
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator(".banner--warn")).to_contain_text("not on a unit's shift", timeout=15_000)
    expect(page.locator(".sync")).to_have_attribute("data-state", "live", timeout=15_000)

    now = now_ms()
    commander.post("/api/shifts", {"unit_id": unit["id"], "starts_at": now - 60_000, "ends_at": now + 4 * 3_600_000,
                                   "members": [{"user_id": user["id"], "role": "lead"}]})
    expect(page.get_by_test_id("call-sign")).to_have_text(unit["call_sign"], timeout=15_000)
    expect(page.locator(".status-button[data-status=available]")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("call-sign")).to_have_text(unit["call_sign"], timeout=15_000)


def test_the_report_can_be_finished_after_tapping_available(context: BrowserContext, server, desk: Desk,
                                                           crews) -> None:
    """Issue 12.9: after Available the notes screen said the note needed an assignment."""
    unit, username = pick(crews, 3, member=1)
    page = context.new_page()
    open_app(page)
    sign_in(page, username, unit["call_sign"])
    incident_id, _ = desk.new_assignment(unit["id"], type="theft", address="Sremska 9")
    expect(page.get_by_test_id("assignment-card")).to_be_visible(timeout=15_000)
    page.locator(".status-button[data-status=on_scene]").first.click()
    expect(page.get_by_test_id("current-status")).to_contain_text("On scene", timeout=15_000)
    page.locator(".status-button[data-status=available]").first.click()
    expect(page.get_by_test_id("current-status")).to_contain_text("Available", timeout=15_000)
    expect(page.get_by_test_id("assignment-card")).to_have_count(0, timeout=15_000)

    nav(page, "notes")
    expect(page.get_by_test_id("worked-incident")).to_contain_text("Sremska 9", timeout=15_000)
    page.fill("#report-summary", "Bicycle recovered, returned to the owner.")
    page.locator("form.report button[type=submit]").click()
    all_sent(page)
    detail = desk.get(f"/api/incidents/{incident_id}")
    assert [r["summary"] for r in detail["reports"]] == ["Bicycle recovered, returned to the owner."], detail["reports"]


# --------------------------------------------------------------------------- emergency


def _desk_socket(base: str, token: str, seen: list[tuple[float, dict[str, Any]]], ready: threading.Event,
                 stop: threading.Event) -> None:
    from websockets.sync.client import connect

    with connect(base.replace("http", "ws", 1) + "/ws", max_size=None) as ws:
        ws.send(json.dumps({"type": "auth", "token": token, "cursor": 0, "protocol": 1}))
        while not stop.is_set():
            try:
                frame = json.loads(ws.recv(timeout=0.2))
            except TimeoutError:
                continue
            if frame["type"] == "changes" and not frame["more"]:
                ready.set()
            elif frame["type"] == "change" and frame["change"]["entity"] == "alert":
                seen.append((time.monotonic(), frame["change"]))


def test_emergency_hold_reaches_dispatch_within_a_second(context: BrowserContext, server, desk: Desk,
                                                         crews) -> None:
    unit, username = pick(crews, 0, member=1)
    seen: list[tuple[float, dict[str, Any]]] = []
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=_desk_socket, args=(server.base_url, desk.token, seen, ready, stop),
                              daemon=True)
    thread.start()
    try:
        assert ready.wait(30), "dispatcher socket did not catch up"
        page = context.new_page()
        open_app(page)
        sign_in(page, username, unit["call_sign"])
        button = page.get_by_test_id("emergency")

        # A short press does nothing.
        button.hover()
        page.mouse.down()
        page.wait_for_timeout(400)
        page.mouse.up()
        page.wait_for_timeout(300)
        expect(page.get_by_test_id("alert-banner")).to_have_count(0)

        page.mouse.down()
        expect(button).to_have_class(re.compile("is-holding"))
        page.wait_for_timeout(1600)
        held = time.monotonic()
        page.mouse.up()
        expect(page.get_by_test_id("alert-banner")).to_be_visible(timeout=2_000)
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen, "the dispatcher never saw the alert"
        arrived, change = seen[0]
        assert change["data"]["unit_id"] == unit["id"] and change["data"]["state"] == "raised"
        assert change["data"]["lat"] == pytest.approx(GEO["latitude"], abs=1e-3)
        assert arrived - held < 1.0, f"alert took {arrived - held:.2f} s"
        expect(page.get_by_test_id("alert-banner")).to_contain_text("Delivered to dispatch")

        # Acknowledged: the officer sees who at dispatch and when (it used to just vanish).
        desk.push("alert.acknowledge", {"alert_id": change["entity_id"]})
        banner = page.get_by_test_id("alert-banner")
        expect(banner).to_have_attribute("data-state", "acknowledged", timeout=15_000)
        expect(page.get_by_test_id("alert-acked")).to_contain_text(desk.me["display_name"])
        expect(page.get_by_test_id("alert-acked")).to_contain_text(re.compile(r"\b\d{2}:\d{2}\b"))
        # Ending it needs a reason, which dispatch receives.
        page.get_by_test_id("alert-end").click()
        expect(page.get_by_test_id("alert-end-confirm")).to_be_disabled()
        page.fill("#alert-end-reason", "pressed by mistake in the car")
        page.get_by_test_id("alert-end-confirm").click()
        expect(banner).to_have_count(0, timeout=15_000)
        all_sent(page)
        ended = [c["data"] for c in desk.pull_all() if c["entity"] == "alert" and c["entity_id"] == change["entity_id"]]
        assert ended and ended[-1]["state"] == "resolved", ended
        assert ended[-1]["end_reason"] == "pressed by mistake in the car"
        assert ended[-1]["ended_by_name"] == f"Marko Test {unit['call_sign']}"  # the crew's second officer
    finally:
        stop.set()
        thread.join(5)


# --------------------------------------------------------------------------- Serbian Cyrillic


def no_raw_keys(page: Page) -> None:
    text = page.locator("body").inner_text()
    keys = [k for k in RAW_KEY.findall(text) if not re.match(r"^\d", k)]
    assert keys == [], f"untranslated keys on screen: {keys}"


def test_cyrillic_flows_have_no_missing_strings(context: BrowserContext, server, desk: Desk, crews) -> None:
    unit, username = pick(crews, 2)
    context.add_init_script("localStorage.setItem('patrol.language', 'sr-Cyrl')")
    page = context.new_page()
    open_app(page)
    expect(page.locator("html")).to_have_attribute("lang", "sr-Cyrl")
    no_raw_keys(page)
    sign_in(page, username, unit["call_sign"])
    expect(page.locator(".sync__state")).to_have_text("На мрежи")
    no_raw_keys(page)
    desk.new_assignment(unit["id"], type="assault")
    page.get_by_test_id("assignment-card").click()
    expect(page.locator("#assignment-title")).to_have_text("Напад / туча", timeout=5_000)
    no_raw_keys(page)
    page.get_by_test_id("acknowledge").click()
    context.set_offline(True)
    expect(page.locator(".sync")).to_have_attribute("data-state", "offline", timeout=10_000)
    nav(page, "home")
    page.locator(".statuses .status-button[data-status=en_route]").click()
    expect(page.get_by_test_id("current-status")).to_contain_text("На путу")
    no_raw_keys(page)
    nav(page, "notes")
    page.fill("#note-body", "Белешка")
    page.locator("form button[type=submit]").first.click()
    no_raw_keys(page)
    nav(page, "settings")
    no_raw_keys(page)
    context.set_offline(False)
    all_sent(page)
    nav(page, "assignment")
    no_raw_keys(page)


# --------------------------------------------------------------------------- a push arrives


def test_a_pushed_assignment_is_shown_and_acknowledged_from_the_notification(
        context: BrowserContext, server, desk: Desk, crews) -> None:
    """The service worker's push handler gets a real (trusted) push event through the
    DevTools protocol, with the payload the server builds; the notification's tap handler
    is unit-tested in pwa/test/notification-click.test.js, and its "Acknowledge" reaches
    the page as the message checked here."""
    from server.push.sender import assignment_notification

    unit, username = pick(crews, 3)
    context.grant_permissions(["notifications"])
    page = context.new_page()
    open_app(page)
    sign_in(page, username, unit["call_sign"])
    incident_id, assignment_id = desk.new_assignment(unit["id"], priority=1)
    note = assignment_notification(assignment_id=assignment_id, incident_id=incident_id, summary="traffic accident",
                                   public_url=server.base_url, address="Kralja Petra I 12", priority=1,
                                   urgency="high")

    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations:
        assert time.monotonic() < deadline, "no service worker registration reported"
        page.wait_for_timeout(100)
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": server.base_url,
                                                  "registrationId": registrations[0]["registrationId"],
                                                  "data": json.dumps(note.payload())})
    shown: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not shown:
        assert time.monotonic() < deadline, "the service worker showed no notification"
        page.wait_for_timeout(100)
        shown = page.evaluate("""() => navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) =>
            ns.map((n) => ({title: n.title, body: n.body, tag: n.tag, actions: n.actions.map((a) => a.action),
                            requireInteraction: n.requireInteraction, vibrate: [...n.vibrate], url: n.data && n.data.url})))""")
    [n] = shown
    assert n["title"] == note.title and "Kralja Petra I 12" in n["body"]
    assert n["tag"] == f"incident:{incident_id}"
    assert n["actions"] == ["open", "acknowledge"]
    assert n["requireInteraction"] is True, "a P1 call stays on screen until tapped"
    assert len(n["vibrate"]) >= 3
    assert n["url"] == f"{server.base_url}/?assignment={assignment_id}"

    # "Acknowledge" on the notification: the worker tells the open page, which sends it.
    [worker] = context.service_workers
    worker.evaluate("url => self.clients.matchAll({type: 'window'}).then((cs) =>"
                    " cs.forEach((c) => c.postMessage({type: 'ACKNOWLEDGE', url})))", n["url"])
    expect(page.get_by_test_id("assignment-state")).to_have_attribute("data-state", "acknowledged", timeout=5_000)
    all_sent(page)
    detail = desk.get(f"/api/incidents/{incident_id}")
    assert next(a for a in detail["assignments"] if a["id"] == assignment_id)["state"] == "acknowledged"


# --------------------------------------------------------------------------- push without a push service


def test_push_subscription_failure_is_explained(browser, server, crews) -> None:
    unit, username = pick(crews, 1, member=1)
    ctx = browser.new_context(base_url=server.base_url, permissions=["notifications", "geolocation"],
                              geolocation=GEO)
    try:
        page = ctx.new_page()
        open_app(page)
        sign_in(page, username, unit["call_sign"])
        nav(page, "settings")
        page.get_by_test_id("push-toggle").click()
        # No internet here: subscribe() fails or hangs; the app gives up within its 8 s timeout.
        expect(page.get_by_test_id("push-state")).to_contain_text("could not register", timeout=12_000)
        expect(page.get_by_test_id("push-toggle")).to_be_enabled()
    finally:
        ctx.close()


# --------------------------------------------------------------------------- a revoked (lost) phone


def test_revoked_device_is_wiped(context: BrowserContext, server, crews) -> None:
    unit, username = pick(crews, 2, member=1)
    page = context.new_page()
    open_app(page)
    sign_in(page, username, unit["call_sign"])
    device_id = page.evaluate("""() => new Promise((resolve, reject) => {
        const req = indexedDB.open('patrol');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
            const get = req.result.transaction('meta').objectStore('meta').get('client_id');
            get.onsuccess = () => { resolve(get.result); req.result.close(); };
        };
    })""")
    admin = Desk(server.base_url, "admin")
    r = httpx.post(f"{server.base_url}/api/admin/devices/{device_id}/revoke", headers=admin.headers, timeout=30)
    assert r.status_code < 300, r.text
    # The server closes the live socket with 4403 at once: the app wipes itself.
    expect(page.get_by_test_id("end-reason")).to_contain_text("revoked", timeout=10_000)
    counts = page.evaluate("""() => new Promise((resolve) => {
        const req = indexedDB.open('patrol');
        req.onsuccess = () => {
            const tx = req.result.transaction(['entities', 'outbox', 'meta']);
            const out = {};
            let n = 0;
            for (const s of ['entities', 'outbox', 'meta']) {
                const c = tx.objectStore(s).count();
                c.onsuccess = () => { out[s] = c.result; if (++n === 3) { resolve(out); req.result.close(); } };
            }
        };
    })""")
    assert counts["entities"] == 0 and counts["outbox"] == 0, counts
    # A new device id next time: the revoked one can never sync again.
    assert counts["meta"] <= 2, counts  # at most language + last_hlc written after the wipe


def test_report_persons_are_shown_on_request_and_never_overwritten_blind(context: BrowserContext, server,
                                                                        desk: Desk, crews) -> None:
    """Persons in a report are personal data: pulls no longer carry them (audited reads only), so
    the phone's field must load them before it can be edited, never show empty and replace them."""
    unit, username = pick(crews, 1, member=1)
    page = context.new_page()
    open_app(page)
    sign_in(page, username, unit["call_sign"])
    incident_id, _ = desk.new_assignment(unit["id"], type="theft", address="Trg 2")
    desk.push("report.update", {"report_id": str(uuid.uuid4()), "incident_id": incident_id,
                                "summary": "Started at the desk", "persons": "Witness: Ana Anić"})
    expect(page.get_by_test_id("assignment-card")).to_be_visible(timeout=15_000)
    nav(page, "notes")
    expect(page.locator("#report-summary")).to_have_value("Started at the desk", timeout=15_000)
    expect(page.locator("textarea#report-persons")).to_have_count(0)
    page.get_by_test_id("report-show-persons").click()
    expect(page.locator("textarea#report-persons")).to_have_value("Witness: Ana Anić", timeout=15_000)
    page.fill("#report-persons", "Witness: Ana Anić; driver: Petar Perić")
    page.locator("form.report button[type=submit]").click()
    all_sent(page)
    r = httpx.get(f"{server.base_url}/api/reports/{desk.get(f'/api/incidents/{incident_id}')['reports'][0]['id']}/persons",
                  headers=desk.headers, timeout=30)
    assert r.json()["persons"] == "Witness: Ana Anić; driver: Petar Perić"
    desk.push("assignment.cancel", {"assignment_id": next(
        a["id"] for a in desk.get(f"/api/incidents/{incident_id}")["assignments"] if a["state"] != "cancelled")})
