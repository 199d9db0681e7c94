"""Dispatcher console end to end: a dispatcher in Chromium, officers as HTTP sync clients.

The officer side pushes the same sync mutations the officer app sends
(`POST /api/sync/push` with an officer's token), so these tests do not depend
on the officer UI. Each test checks that the console updates live, over its
websocket, without a reload.
"""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from e2e.clients import PASSWORD, SyncClient, uuid7
from e2e.staffing import Crew

CONSOLE_PATH = "/console"


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


_officers: dict[str, SyncClient] = {}


def signed_in(base: str, username: str) -> SyncClient:
    """One signed-in client per officer and server (a phone stays signed in)."""
    c = _officers.get(username)
    if c is None or c.base != base:
        c = _officers[username] = SyncClient(base, username)
    return c


def officer_of(base: str, unit_id: str, crews: list[Crew]) -> SyncClient:
    """An officer on the crew of this unit now: the module's extra crews first, then the demo
    officers (whose sign-in unit includes a shift ending or starting within the hour)."""
    names = [c.usernames[0] for c in crews if c.unit["id"] == unit_id] + [f"officer{i:02d}" for i in range(1, 41)]
    for name in names:
        c = signed_in(base, name)
        if c.me["unit_id"] == unit_id:
            return c
    pytest.fail(f"no officer is on the crew of unit {unit_id} now")


def officers_with_units(base: str, crews: list[Crew], n: int,
                        want_status: tuple[str, ...] = ("available",)) -> list[tuple[SyncClient, dict[str, Any]]]:
    """`n` of the module's extra crews (e2e/staffing.py) whose unit is in one of `want_status`,
    has a position and no assignment now, each with its lead officer signed in."""
    desk = signed_in(base, "dispatcher5")
    units = {u["id"]: u for u in desk.get("/api/units")}
    out: list[tuple[SyncClient, dict[str, Any]]] = []
    for crew in crews:
        u = units[crew.unit["id"]]
        if u["status"] in want_status and not u["current_assignment_id"] and u["last_lat"] is not None:
            out.append((signed_in(base, crew.usernames[0]), u))
            if len(out) == n:
                return out
    pytest.fail(f"fewer than {n} of the extra crews are free and {'/'.join(want_status)}")


def empty_map_point(page) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """A point on the map near its centre with no marker under it."""
    return tuple(page.evaluate("""() => {
      const r = document.querySelector('[data-testid=map]').getBoundingClientRect();
      for (let d = 0; d < 300; d += 12) for (const [dx, dy] of [[d, 0], [0, d], [-d, 0], [0, -d], [d, d], [-d, -d]]) {
        const x = r.left + r.width / 2 + dx, y = r.top + r.height / 2 + dy;
        const el = document.elementFromPoint(x, y);
        if (el && el.closest('[data-testid=map]') && !el.closest('.mk-wrap, .leaflet-control')) return [x, y];
      }
      throw new Error('no empty point on the map');
    }"""))


def unit_row(page, unit_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f"[data-testid=unit-board] li[data-unit-id='{unit_id}']")


def test_create_recommend_assign_and_acknowledge_live(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    page = console
    desk = SyncClient(server.base_url, "dispatcher5")

    # New incident from a call: `n`, type (priority follows the type), address, point from a map click.
    page.keyboard.press("n")
    form = page.locator("[data-testid=incident-form]")
    form.wait_for()
    types = desk.get("/api/incident-types")
    theft = next(t for t in types if t["code"] == "theft")
    form.locator("select[name=type]").select_option("theft")
    assert form.locator("select[name=priority]").input_value() == str(theft["default_priority"])
    form.locator("select[name=source]").select_option("113")
    form.locator("input[name=address]").fill("Glavna 1, Ruma")
    form.locator("textarea[name=description]").fill("Krađa bicikla ispred prodavnice.")
    form.locator("input[name=caller_name]").fill("Test Pozivalac")
    form.locator("input[name=caller_phone]").fill("+381 60 000 0000")
    x, y = empty_map_point(page)
    page.mouse.click(x, y)
    page.wait_for_selector("[data-testid=draft-marker]")
    form.locator("button[type=submit]").click()

    detail = page.locator("[data-testid=incident-detail]")
    detail.wait_for(timeout=5000)
    incident_id = detail.get_attribute("data-incident-id")
    assert incident_id
    inc = desk.get(f"/api/incidents/{incident_id}")["incident"]
    assert inc["type"] == "theft" and inc["source"] == "113" and inc["lat"] is not None

    # The first recommendation is the nearest available unit (computed here from /api/units).
    available = [u for u in desk.get("/api/units")
                 if u["status"] == "available" and not u["current_assignment_id"] and u["last_lat"] is not None]
    nearest = min(available, key=lambda u: haversine_m(inc["lat"], inc["lon"], u["last_lat"], u["last_lon"]))
    first = page.locator("[data-testid=recommendations] li").first
    first.wait_for(timeout=5000)
    assert first.get_attribute("data-unit-id") == nearest["id"]
    unit_id = nearest["id"]
    first.locator("button").click()

    # Assigned: the detail and the board show it pending, without a reload.
    asg = page.locator("[data-testid=assignments] li")
    asg.first.wait_for(timeout=5000)
    page.wait_for_function(
        "id => document.querySelector(`[data-testid=assignments] li`)?.dataset.state === 'pending'", arg=unit_id,
        timeout=5000)
    unit_row(page, unit_id).locator("[data-testid=unit-assignment]").wait_for(timeout=5000)
    assignment_id = asg.first.get_attribute("data-assignment-id")
    assert assignment_id

    # The officer acknowledges and goes en route: the console shows both live.
    officer = officer_of(server.base_url, unit_id, crews)
    assert officer.push("assignment.acknowledge", {"assignment_id": assignment_id})["outcome"] == "applied"
    page.wait_for_function(
        "() => document.querySelector('[data-testid=assignments] li')?.dataset.state === 'acknowledged'",
        timeout=3000)
    r = officer.push("unit.set_status", {"unit_id": unit_id, "status": "en_route", "assignment_id": assignment_id})
    assert r["outcome"] in ("applied", "merged"), r
    page.wait_for_function(
        "id => document.querySelector(`[data-testid=unit-board] li[data-unit-id='${id}']`)?.dataset.status === 'en_route'",
        arg=unit_id, timeout=3000)
    page.wait_for_function(
        "id => document.querySelector(`.mk--unit[data-unit-id='${id}']`)?.classList.contains('mk--en_route')",
        arg=unit_id, timeout=3000)
    # The timeline has the acknowledgement.
    page.wait_for_selector("[data-testid=timeline] li[data-kind=acknowledged]", timeout=3000)
    # The incident's marker is on the map.
    assert page.locator(f".mk--incident[data-incident-id='{incident_id}']").count() == 1


def test_officer_status_change_reaches_board_within_a_second(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    page = console
    [(officer, unit)] = officers_with_units(server.base_url, crews, 1, ("available", "busy"))
    row = unit_row(page, unit["id"])
    row.wait_for()
    for status in ("busy", "available"):
        if row.get_attribute("data-status") == status:
            continue
        t0 = time.monotonic()
        r = officer.push("unit.set_status", {"unit_id": unit["id"], "status": status})
        assert r["outcome"] in ("applied", "merged"), r
        page.wait_for_function(
            "([id, s]) => document.querySelector(`[data-testid=unit-board] li[data-unit-id='${id}']`)?.dataset.status === s",
            arg=[unit["id"], status], timeout=1000)
        elapsed = time.monotonic() - t0
        assert elapsed < 1.0, elapsed


def test_emergency_alert_sounds_and_is_acknowledged(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    page = console
    [(officer, unit)] = officers_with_units(server.base_url, crews, 1, ("available", "busy", "en_route", "on_scene"))
    alert_id = uuid7()
    r = officer.push("alert.raise", {"alert_id": alert_id, "unit_id": unit["id"], "lat": unit["last_lat"],
                                     "lon": unit["last_lon"], "note": "Pucnjava"})
    assert r["outcome"] == "applied", r
    banner = page.locator("[data-testid=alert-banner]")
    banner.wait_for(timeout=3000)
    item = banner.locator(f"[data-alert-id='{alert_id}']")
    item.wait_for()
    assert unit["call_sign"] in item.inner_text()
    page.wait_for_function(
        "([id, name]) => document.querySelector(`[data-alert-id='${id}']`)?.textContent.includes(name)",
        arg=[alert_id, officer.me["display_name"]], timeout=3000)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=alert-banner]')?.dataset.alarm === 'on'", timeout=3000)
    # The alert is on the map.
    assert page.locator(f".mk--alert[data-alert-id='{alert_id}']").count() == 1

    item.get_by_role("button", name="Acknowledge").click()
    banner.wait_for(state="detached", timeout=3000)
    desk = SyncClient(server.base_url, "dispatcher5")
    a = next(x for x in desk.get("/api/alerts?open=false") if x["id"] == alert_id)
    dispatcher1 = SyncClient(server.base_url, "dispatcher1").me
    assert a["state"] != "raised"
    assert a["acknowledged_by"] == dispatcher1["user_id"]
    assert a["acknowledged_at"]


def test_concurrent_edit_conflict_appears_and_is_resolved(server, console) -> None:  # type: ignore[no-untyped-def]
    page = console
    a = SyncClient(server.base_url, "dispatcher2")
    b = SyncClient(server.base_url, "dispatcher3")
    inc = next(i for i in a.get("/api/incidents?open=true"))
    base_version = inc["version"]
    ra = a.push("incident.update", {"incident_id": inc["id"], "address": "Adresa A 1"}, base_version)
    rb = b.push("incident.update", {"incident_id": inc["id"], "address": "Adresa B 2"}, base_version)
    assert ra["outcome"] == "applied", ra
    assert rb["outcome"] == "conflict", rb

    button = page.locator("[data-testid=conflicts-button] .count")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=conflicts-button] .count')?.textContent !== '0'", timeout=3000)
    assert button.inner_text() == "1"
    page.keyboard.press("c")
    dialog = page.locator("[data-testid=conflicts]")
    dialog.wait_for()
    item = dialog.locator("li.conflict[data-state=open]").first
    assert "Adresa A 1" in item.locator("[data-side=server]").inner_text()
    assert '"Adresa' not in item.inner_text(), "values are shown decoded, not as JSON text"
    assert "Adresa B 2" in item.locator("[data-side=client]").inner_text()
    # The values are live from the change stream; the names come from GET /api/conflicts a moment later.
    page.wait_for_function(
        "([a, b]) => { const li = document.querySelector('[data-testid=conflicts] li.conflict[data-state=open]');"
        " return li?.querySelector('[data-side=server]').textContent.includes(a)"
        " && li.querySelector('[data-side=client]').textContent.includes(b); }",
        arg=[a.me["display_name"], b.me["display_name"]], timeout=3000)
    conflict_id = item.get_attribute("data-conflict-id")
    item.locator("[data-testid=keep-client]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=conflicts-button] .count')?.textContent === '0'", timeout=3000)
    c = next(x for x in a.get("/api/conflicts?state=all") if x["id"] == conflict_id)
    assert c["state"] == "resolved" and c["resolution"] == "client"
    assert a.get(f"/api/incidents/{inc['id']}")["incident"]["address"] == "Adresa B 2"
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")


def test_keyboard_search_and_escape(server, console) -> None:  # type: ignore[no-untyped-def]
    page = console
    page.locator("body").click(position={"x": 5, "y": 5})
    call_sign = page.locator("[data-testid=unit-board] li").first.get_attribute("data-call-sign")
    assert call_sign
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.classList.contains('console__search')")
    page.keyboard.type(call_sign)
    page.wait_for_function(
        "s => [...document.querySelectorAll('[data-testid=unit-board] li')].every(li => li.dataset.callSign.includes(s))",
        arg=call_sign, timeout=2000)
    page.keyboard.press("Escape")  # clears the search
    assert page.locator(".console__search").input_value() == ""
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("n")
    page.locator("[data-testid=incident-form]").wait_for()
    page.keyboard.press("Escape")
    page.locator("[data-testid=incident-form]").wait_for(state="detached")
    page.locator("[data-testid=incident-list]").wait_for()


# ------------------------------------------------------------------ helpers for the action tests

def pull_all(client: SyncClient) -> dict[str, dict[str, Any]]:
    """Everything a sync client sees (HTTP pull from cursor 0 to the end): entity_id → data."""
    seen: dict[str, dict[str, Any]] = {}
    cursor = 0
    for _ in range(50):
        r = httpx.post(f"{client.base}/api/sync/pull", json={"cursor": cursor, "limit": 500},
                       headers={"authorization": f"Bearer {client.token}"}, timeout=10)
        r.raise_for_status()
        body = r.json()
        for c in body["changes"]:
            seen[c["entity_id"]] = {"entity": c["entity"], **(c.get("data") or {})}
        cursor = body["cursor"]
        if not body["more"]:
            break
    return seen


def new_incident(desk: SyncClient, near: dict[str, Any], address: str) -> str:
    """An incident made by another dispatcher (the console sees it live)."""
    incident_id = uuid7()
    r = desk.push("incident.create", {"incident_id": incident_id, "type": "theft", "priority": 2, "source": "112",
                                      "lat": near["last_lat"] + 0.001, "lon": near["last_lon"] + 0.001,
                                      "address": address})
    assert r["outcome"] == "applied", r
    return incident_id


def release(desk: SyncClient, incident_id: str) -> None:
    """Close a test's incident so its units are free for the next test (the module shares one server)."""
    inc = desk.get(f"/api/incidents/{incident_id}")["incident"]
    if inc["state"] not in ("closed", "cancelled"):
        assert desk.push("incident.close", {"incident_id": incident_id, "outcome": "false_alarm"})["outcome"] == "applied"


def positioned_unit(desk: SyncClient) -> dict[str, Any]:
    """Any unit with a position (a place to put a test incident)."""
    return next(u for u in desk.get("/api/units") if u["last_lat"] is not None)


def open_incident(page, incident_id: str):  # type: ignore[no-untyped-def]
    page.locator(f"[data-testid=incident-list] .incident[data-incident-id='{incident_id}']").click(timeout=5000)
    detail = page.locator(f"[data-testid=incident-detail][data-incident-id='{incident_id}']")
    detail.wait_for(timeout=5000)
    return detail


def wait_state(page, assignment_id: str, state: str, timeout: int = 5000) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "([id, s]) => document.querySelector(`[data-assignment-id='${id}']`)?.dataset.state === s",
        arg=[assignment_id, state], timeout=timeout)


def assignments_of(desk: SyncClient, incident_id: str) -> list[dict[str, Any]]:
    return list(desk.get(f"/api/incidents/{incident_id}")["assignments"])


# ------------------------------------------------------------------ unit panel, reassign, cancel, edit, close

def test_unit_panel_assign_then_reassign_reaches_the_new_officer(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    page = console
    desk = SyncClient(server.base_url, "dispatcher5")
    (old_officer, old_unit), (new_officer, new_unit) = officers_with_units(server.base_url, crews, 2)
    incident_id = new_incident(desk, old_unit, "Reassign 1, Ruma")
    page.locator(f"[data-testid=incident-list] .incident[data-incident-id='{incident_id}']").wait_for(timeout=5000)

    # The unit panel: crew, position age, no assignment; "Assign to incident…" from there.
    unit_row(page, old_unit["id"]).locator("[data-testid=unit-open]").click()
    panel = page.locator(f"[data-testid=unit-detail][data-unit-id='{old_unit['id']}']")
    panel.wait_for(timeout=3000)
    page.wait_for_function(
        "name => document.querySelector('[data-testid=unit-crew]')?.textContent.includes(name)",
        arg=old_officer.me["display_name"], timeout=5000)
    assert "ago" in panel.locator("[data-testid=unit-position-age]").inner_text()
    panel.locator("[data-testid=assign-to-incident]").click()
    panel.locator("[data-testid=assign-form] select[name=incident]").select_option(incident_id)
    panel.locator("[data-testid=assign-form] button[type=submit]").click()
    detail = page.locator(f"[data-testid=incident-detail][data-incident-id='{incident_id}']")
    detail.wait_for(timeout=3000)
    row = detail.locator("[data-testid=assignments] li").first
    row.wait_for(timeout=3000)
    old_asg = row.get_attribute("data-assignment-id")
    assert old_asg
    page.wait_for_function("() => /assigned/i.test(document.querySelector('.toasts')?.textContent ?? '')", timeout=5000)
    assert [a["unit_id"] for a in assignments_of(desk, incident_id)] == [old_unit["id"]]

    # The unit panel now shows the assignment and today's history.
    unit_row(page, old_unit["id"]).locator("[data-testid=unit-open]").click()
    page.wait_for_function(
        "n => document.querySelector('[data-testid=unit-current]')?.textContent.includes(n)",
        arg=desk.get(f"/api/incidents/{incident_id}")["incident"]["number"], timeout=5000)
    page.locator("[data-testid=unit-history] li[data-kind=assigned]").wait_for(timeout=5000)
    page.locator("[data-testid=unit-current] button").click()
    detail.wait_for(timeout=3000)

    # Reassign to the other unit.
    row = detail.locator(f"[data-assignment-id='{old_asg}']")
    row.get_by_role("button", name="Reassign").first.click()
    row.locator("select[name=unit]").select_option(new_unit["id"])
    row.locator("input[name=reason]").fill("closer unit")
    row.locator("form button[type=submit]").click()
    wait_state(page, old_asg, "reassigned")
    page.wait_for_function(
        "id => [...document.querySelectorAll('[data-testid=assignments] li')].some(li => li.dataset.state === 'pending'"
        " && li.textContent.includes(id))", arg=new_unit["call_sign"], timeout=5000)
    rows = {a["unit_id"]: a for a in assignments_of(desk, incident_id)}
    assert rows[old_unit["id"]]["state"] == "reassigned"
    assert rows[new_unit["id"]]["state"] == "pending"
    new_asg = rows[new_unit["id"]]["id"]

    # The new officer's phone gets the assignment over sync; the old officer's acknowledgement is
    # refused with a reason that names the new unit.
    seen = pull_all(new_officer)
    assert seen.get(new_asg, {}).get("unit_id") == new_unit["id"], "the new unit's phone has the assignment"
    r = old_officer.push("assignment.acknowledge", {"assignment_id": old_asg})
    assert r["outcome"] == "rejected", r
    assert r["reason_code"] == "assignment_reassigned", r
    assert new_unit["call_sign"] in r["reason"], r
    assert new_officer.push("assignment.acknowledge", {"assignment_id": new_asg})["outcome"] == "applied"
    wait_state(page, new_asg, "acknowledged")
    release(desk, incident_id)


def test_cancel_an_assignment(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    page = console
    desk = SyncClient(server.base_url, "dispatcher5")
    [(_officer, unit)] = officers_with_units(server.base_url, crews, 1)
    incident_id = new_incident(desk, unit, "Cancel 2, Ruma")
    asg = uuid7()
    assert desk.push("assignment.create", {"assignment_id": asg, "incident_id": incident_id,
                                           "unit_id": unit["id"]})["outcome"] == "applied"
    detail = open_incident(page, incident_id)
    wait_state(page, asg, "pending")
    row = detail.locator(f"[data-assignment-id='{asg}']")
    # The first click only asks, in place (no native dialog stopping the page); "No" and
    # Escape change nothing, "Yes" cancels.
    row.get_by_role("button", name="Cancel assignment").click()
    row.get_by_role("group").get_by_role("button", name="No").click()
    row.get_by_role("button", name="Cancel assignment").click()
    expect(row.get_by_role("group")).to_be_visible()
    page.keyboard.press("Escape")
    expect(row.get_by_role("group")).to_have_count(0)
    assert page.locator("[data-testid=incident-detail]").count() == 1, "Escape closed the question, not the incident"
    assert [x["state"] for x in assignments_of(desk, incident_id) if x["id"] == asg] == ["pending"]
    row.get_by_role("button", name="Cancel assignment").click()
    row.get_by_role("group").get_by_role("button", name="Yes").click()
    wait_state(page, asg, "cancelled")
    a = next(x for x in assignments_of(desk, incident_id) if x["id"] == asg)
    assert a["state"] == "cancelled"
    page.wait_for_function(
        "id => !document.querySelector(`[data-testid=unit-board] li[data-unit-id='${id}'] [data-testid=unit-assignment]`)",
        arg=unit["id"], timeout=5000)
    release(desk, incident_id)


def test_edit_and_close_with_an_outcome(server, console) -> None:  # type: ignore[no-untyped-def]
    page = console
    desk = SyncClient(server.base_url, "dispatcher5")
    incident_id = new_incident(desk, positioned_unit(desk), "Edit 3, Ruma")
    detail = open_incident(page, incident_id)

    detail.get_by_role("button", name="Edit").click()
    form = page.locator("[data-testid=incident-form]")
    form.locator("input[name=address]").fill("Edited 33, Ruma")
    form.locator("textarea[name=description]").fill("Opis posle izmene.")
    form.locator("button[type=submit]").click()
    detail.wait_for(timeout=3000)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=incident-detail]')?.textContent.includes('Edited 33, Ruma')",
        timeout=3000)
    deadline = time.monotonic() + 5
    while desk.get(f"/api/incidents/{incident_id}")["incident"]["address"] != "Edited 33, Ruma":
        assert time.monotonic() < deadline, "the edit did not reach the server"
        time.sleep(0.1)
    assert desk.get(f"/api/incidents/{incident_id}")["incident"]["description"] == "Opis posle izmene."

    detail.get_by_role("button", name="Close incident").first.click()
    close = page.locator("[data-testid=close-form]")
    close.locator("select[name=outcome]").select_option("report_filed")
    close.locator("button[type=submit]").click()
    page.locator("[data-testid=incident-list]").wait_for(timeout=3000)
    assert page.locator(f"[data-testid=incident-list] .incident[data-incident-id='{incident_id}']").count() == 0
    deadline = time.monotonic() + 5
    while desk.get(f"/api/incidents/{incident_id}")["incident"]["state"] != "closed":
        assert time.monotonic() < deadline, "the close did not reach the server"
        time.sleep(0.1)
    assert desk.get(f"/api/incidents/{incident_id}")["incident"]["outcome"] == "report_filed"
    # It is listed under "Closed in the last 24 h", and opens from there.
    recent = page.locator("[data-testid=closed-recent]")
    recent.locator("summary").click()
    recent.locator(f".incident[data-incident-id='{incident_id}']").click()
    page.locator(f"[data-testid=incident-detail][data-incident-id='{incident_id}']").wait_for(timeout=3000)
    assert "Closed" in page.locator("[data-testid=incident-state]").inner_text()


def test_assign_offline_survives_a_reload_and_is_applied_once(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    page = console
    desk = SyncClient(server.base_url, "dispatcher5")
    [(_officer, unit)] = officers_with_units(server.base_url, crews, 1)
    incident_id = new_incident(desk, unit, "Offline 4, Ruma")
    detail = open_incident(page, incident_id)
    rec = detail.locator(f"[data-testid=recommendations] li[data-unit-id='{unit['id']}']")
    rec.wait_for(timeout=5000)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")  # the reload needs the app shell offline

    page.context.set_offline(True)
    page.wait_for_selector(".sync[data-state=offline]", timeout=5000)
    rec.locator("button").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=assignments] li')?.dataset.state === 'pending'", timeout=3000)
    page.wait_for_selector(".sync__pending--waiting", timeout=3000)
    assert assignments_of(desk, incident_id) == [], "nothing reached the server while offline"

    page.reload()  # still offline: the shell from the service worker, the action from the outbox
    page.wait_for_selector(".sync[data-state=offline]", timeout=10_000)
    page.wait_for_selector(".sync__pending--waiting", timeout=5000)
    assert assignments_of(desk, incident_id) == []
    # The last known board is still there (the desk replica is stored), with the pending assignment.
    page.locator(f"[data-testid=unit-board] li[data-unit-id='{unit['id']}']").wait_for(timeout=5000)
    page.locator(f"[data-testid=incident-list] .incident[data-incident-id='{incident_id}']").wait_for(timeout=5000)

    page.context.set_offline(False)
    page.wait_for_selector(".sync[data-state=live]", timeout=20_000)
    page.wait_for_selector(".sync__pending:not(.sync__pending--waiting)", timeout=10_000)
    rows = assignments_of(desk, incident_id)
    assert [(a["unit_id"], a["state"]) for a in rows] == [(unit["id"], "pending")], rows
    page.wait_for_function(
        "id => document.querySelector(`[data-testid=unit-board] li[data-unit-id='${id}'] [data-testid=unit-assignment]`)",
        arg=unit["id"], timeout=5000)
    # Once more after a second reload: still exactly one.
    page.reload()
    page.wait_for_selector(".sync[data-state=live]", timeout=15_000)
    time.sleep(0.5)
    assert len(assignments_of(desk, incident_id)) == 1
    release(desk, incident_id)


def test_refused_offline_action_is_shown_after_a_reload_until_read(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    page = console
    desk = SyncClient(server.base_url, "dispatcher5")
    [(_officer, unit)] = officers_with_units(server.base_url, crews, 1)
    incident_id = new_incident(desk, unit, "Refused 5, Ruma")  # closed below by another dispatcher
    detail = open_incident(page, incident_id)
    rec = detail.locator(f"[data-testid=recommendations] li[data-unit-id='{unit['id']}']")
    rec.wait_for(timeout=5000)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.context.set_offline(True)
    page.wait_for_selector(".sync[data-state=offline]", timeout=5000)
    rec.locator("button").click()
    page.wait_for_selector(".sync__pending--waiting", timeout=3000)
    # Meanwhile another dispatcher closes the incident.
    assert desk.push("incident.close", {"incident_id": incident_id, "outcome": "false_alarm"})["outcome"] == "applied"
    page.reload()
    page.wait_for_selector(".sync[data-state=offline]", timeout=10_000)
    page.context.set_offline(False)
    notice = page.locator("[data-testid=notices] li[data-state=rejected]")
    notice.wait_for(timeout=20_000)
    assert notice.get_attribute("data-reason-code") == "incident_closed"
    assert "Assignment" in notice.inner_text()
    assert assignments_of(desk, incident_id) == []
    notice.get_by_role("button", name="OK").click()
    notice.wait_for(state="detached", timeout=3000)


def test_closed_earlier_loads_from_the_server_on_demand(server, console) -> None:  # type: ignore[no-untyped-def]
    page = console
    desk = SyncClient(server.base_url, "dispatcher5")
    day_ago = int(time.time() * 1000) - 86_400_000
    older = [i for i in desk.get(f"/api/incidents?since={day_ago - 6 * 86_400_000}&limit=500")
             if i["state"] in ("closed", "cancelled") and (i.get("closed_at") or i["call_received_at"]) < day_ago]
    if not older:
        pytest.skip("the demo data has no incident closed more than a day ago")
    earlier = page.locator("[data-testid=closed-earlier]")
    assert earlier.locator(".incident").count() == 0, "nothing is read before the dispatcher asks"
    earlier.locator("summary").click()
    earlier.locator(".incident").first.wait_for(timeout=5000)
    ids = {earlier.locator(".incident").nth(i).get_attribute("data-incident-id")
           for i in range(earlier.locator(".incident").count())}
    assert older[0]["id"] in ids
    earlier.locator(f".incident[data-incident-id='{older[0]['id']}']").click()
    page.locator(f"[data-testid=incident-detail][data-incident-id='{older[0]['id']}']").wait_for(timeout=5000)
    page.locator("[data-testid=timeline] li[data-kind=closed]").wait_for(timeout=5000)


def test_opened_from_an_alert_notification_the_map_goes_to_the_alert(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    """Alert pushes link to /console?alert=<id> (server/push/sender.py)."""
    page = console
    [(officer, unit)] = officers_with_units(server.base_url, crews, 1, ("available", "busy", "en_route", "on_scene"))
    alert_id = uuid7()
    lat, lon = unit["last_lat"] + 0.05, unit["last_lon"] - 0.05  # somewhere the map is not looking
    assert officer.push("alert.raise", {"alert_id": alert_id, "unit_id": unit["id"], "lat": lat,
                                        "lon": lon})["outcome"] == "applied"
    page.goto(f"{server.base_url}{CONSOLE_PATH}?alert={alert_id}")
    page.wait_for_selector(".sync[data-state=live]", timeout=15_000)
    marker = page.locator(f".mk--alert[data-alert-id='{alert_id}']")
    marker.wait_for(timeout=5000)
    page.wait_for_function("() => !location.search", timeout=5000)
    page.wait_for_timeout(400)  # the pan
    box, area = marker.bounding_box(), page.locator("[data-testid=map]").bounding_box()
    assert box and area
    dx = box["x"] + box["width"] / 2 - (area["x"] + area["width"] / 2)
    dy = box["y"] + box["height"] / 2 - (area["y"] + area["height"] / 2)
    assert abs(dx) < 40 and abs(dy) < 40, (dx, dy)
    page.locator(f"[data-testid=alert-banner] [data-alert-id='{alert_id}']").get_by_role("button", name="Acknowledge").click()


def test_the_crew_coming_on_within_the_hour_is_shown(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    """An officer of the next shift may sign in up to an hour early and act for the unit:
    the board and the unit panel say who is coming, and the search finds them."""
    page = console
    unit = crews[-1].unit
    admin, commander = SyncClient(server.base_url, "admin"), SyncClient(server.base_url, "commander")
    user = admin.post("/api/admin/users", {"username": f"next-{unit['call_sign'].lower()}", "password": PASSWORD,
                                           "role": "officer", "org_unit_code": unit["org_unit_code"],
                                           "full_name": "Vesna Sledeća"})
    starts = int(time.time() * 1000) + 40 * 60_000
    commander.post("/api/shifts", {"unit_id": unit["id"], "starts_at": starts, "ends_at": starts + 8 * 3_600_000,
                                   "members": [{"user_id": user["id"], "role": "lead"}]})
    page.reload()
    page.wait_for_selector(".sync[data-state=live]", timeout=15_000)
    row = unit_row(page, unit["id"])
    row.locator("[data-testid=unit-next-crew]").wait_for(timeout=5000)
    text = row.locator("[data-testid=unit-next-crew]").inner_text()
    assert "Vesna Sledeća" in text and "Next crew" in text, text
    page.fill(".console__search", "sledeć")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=unit-board] li.unit').length === 1",
                           timeout=3000)
    page.fill(".console__search", "")
    row.locator("[data-testid=unit-open]").click()
    detail = page.locator(f"[data-testid=unit-detail][data-unit-id='{unit['id']}'] [data-testid=unit-next-crew]")
    assert "Vesna Sledeća" in detail.inner_text(timeout=3000)


def test_from_the_console_to_planning_and_analysis_without_signing_in_again(server, console) -> None:  # type: ignore[no-untyped-def]
    page = console
    page.get_by_test_id("to-analysis").click()
    page.wait_for_url("**/analysis")
    page.locator("[data-testid=kpi-median]").wait_for(timeout=15_000)
    assert page.locator("input[name=password]").count() == 0


def test_the_desk_reads_field_reports_and_persons_on_request(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    """Issue 12.9: the console had no view of field reports at all."""
    page = console
    desk = SyncClient(server.base_url, "dispatcher5")
    [(officer, unit)] = officers_with_units(server.base_url, crews, 1)
    incident_id = new_incident(desk, unit, "Izveštaj 4, Ruma")
    asg = uuid7()
    assert desk.push("assignment.create", {"assignment_id": asg, "incident_id": incident_id,
                                           "unit_id": unit["id"]})["outcome"] == "applied"
    r = officer.push("report.update", {"report_id": uuid7(), "incident_id": incident_id,
                                       "summary": "Window broken, nothing taken.",
                                       "persons": "Witness: Jovan Jovanović, +381 64 555 1234"})
    assert r["outcome"] == "applied", r
    detail = open_incident(page, incident_id)
    report = detail.get_by_test_id("report")
    expect(report).to_contain_text("Window broken, nothing taken.", timeout=10_000)
    expect(report).not_to_contain_text("Jovan Jovanović")
    report.get_by_test_id("show-persons").click()
    expect(report.get_by_test_id("persons")).to_contain_text("Jovan Jovanović", timeout=10_000)
    release(desk, incident_id)


def test_suggestions_that_failed_offline_come_back_with_the_link(server, console, crews) -> None:  # type: ignore[no-untyped-def]
    """Issue 12.12: a failed fetch said "No unit is available" and stayed so after reconnecting,
    with a raw "Failed to fetch" toast."""
    page = console
    desk = SyncClient(server.base_url, "dispatcher5")
    [(_officer, unit)] = officers_with_units(server.base_url, crews, 1)
    incident_id = new_incident(desk, unit, "Veza 7, Ruma")
    page.locator(f"[data-testid=incident-list] .incident[data-incident-id='{incident_id}']").wait_for(timeout=10_000)
    page.context.set_offline(True)
    try:
        detail = open_incident(page, incident_id)
        expect(detail.get_by_test_id("recs-failed")).to_be_visible(timeout=15_000)
        expect(detail).not_to_contain_text("No unit is available")
        expect(page.locator("body")).not_to_contain_text("Failed to fetch")
    finally:
        page.context.set_offline(False)
    expect(detail.get_by_test_id("recs-failed")).to_have_count(0, timeout=30_000)
    expect(detail.locator("[data-testid=recommendations] li").first).to_be_visible(timeout=15_000)
    release(desk, incident_id)


def test_an_incident_exports_from_its_panel(server, console, crews, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 12.22: the per-incident export (docs/incident-export.md) had no button."""
    import json as _json

    page = console
    desk = SyncClient(server.base_url, "dispatcher5")
    [(_officer, unit)] = officers_with_units(server.base_url, crews, 1)
    incident_id = new_incident(desk, unit, "Izvoz 3, Ruma")
    detail = open_incident(page, incident_id)
    with page.expect_download(timeout=15_000) as info:
        detail.get_by_test_id("incident-export").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    doc = _json.loads(path.read_text(encoding="utf-8"))
    assert info.value.suggested_filename.startswith("incident-SM-")
    assert doc["incident"]["id"] == incident_id
    assert "Izvoz 3" in path.read_text(encoding="utf-8")
    release(desk, incident_id)


@pytest.mark.parametrize("width", [1440, 1280])
def test_the_console_layout_holds_at_desk_widths(server, browser, width) -> None:  # type: ignore[no-untyped-def]
    """Issue 12.20: the header wrapped to two rows at 1440 and 1280 px, the map's zoom buttons
    were drawn over the settings, off-duty units were mixed in with loud 'stale' warnings."""
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = ctx.new_page()
        page.goto(server.base_url + "/console")
        page.fill("input[name=username]", "dispatcher2")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_selector("[data-testid=unit-board] li", timeout=20_000)
        header = page.locator(".console__header").bounding_box()
        assert header is not None and header["height"] < 70, header
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scroll"
        # The settings popover is on top of the map's zoom buttons.
        page.locator("details.console__prefs > summary").click()
        zoom = page.locator(".leaflet-control-zoom-in").bounding_box()
        panel = page.locator(".console__prefs-panel").bounding_box()
        assert zoom is not None and panel is not None
        x, y = zoom["x"] + zoom["width"] / 2, zoom["y"] + zoom["height"] / 2
        if panel["x"] <= x <= panel["x"] + panel["width"] and panel["y"] <= y <= panel["y"] + panel["height"]:
            on_top = page.evaluate("([x, y]) => !!document.elementFromPoint(x, y)?.closest('.console__prefs-panel')",
                                   [x, y])
            assert on_top, "the zoom button is drawn over the settings"
        page.locator("details.console__prefs > summary").click()
        # Off-duty units last, and never warned stale.
        statuses = page.locator("[data-testid=unit-board] li").evaluate_all("els => els.map(e => e.dataset.status)")
        first_off = statuses.index("off_duty") if "off_duty" in statuses else len(statuses)
        assert all(s == "off_duty" for s in statuses[first_off:]), statuses
        stale_off = page.locator("[data-testid=unit-board] li[data-status=off_duty] .unit__pos--stale")
        assert stale_off.count() == 0
    finally:
        ctx.close()
