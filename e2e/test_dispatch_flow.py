"""The whole dispatch loop with both people in a browser: a dispatcher in the console,
an officer in the officer app (two browser contexts, one server).

The dispatcher zooms the map to a crew, takes a call there, assigns the first
recommendation (that crew); the officer's phone shows the assignment live, the
officer acknowledges and goes en route with taps, and the console shows each
step live, the status change on the board within a second on loopback.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from e2e.staffing import Crew
from e2e.test_officer import open_app, sign_in


@pytest.fixture
def phone(server, browser, crews: list[Crew]) -> Iterator[BrowserContext]:  # type: ignore[no-untyped-def]
    unit = crews[0].unit
    ctx = browser.new_context(base_url=server.base_url, viewport={"width": 412, "height": 900},
                              geolocation={"latitude": unit["last_lat"], "longitude": unit["last_lon"]},
                              permissions=["geolocation"])
    try:
        yield ctx
    finally:
        ctx.close()


def board_status(page: Page, unit_id: str) -> str | None:
    return page.locator(f"[data-testid=unit-board] li[data-unit-id='{unit_id}']").get_attribute("data-status")


def test_call_to_acknowledged_en_route_across_two_browsers(console: Page, phone: BrowserContext,
                                                           crews: list[Crew]) -> None:
    crew = crews[0]
    unit = crew.unit
    officer = phone.new_page()
    open_app(officer)
    sign_in(officer, crew.usernames[0], crew.call_sign)

    # The dispatcher finds the crew on the board, which centres the map on it, and zooms in.
    desk = console
    desk.locator(f"[data-testid=unit-board] li[data-unit-id='{unit['id']}'] [data-testid=unit-open]").click()
    marker = desk.locator(f".mk--unit[data-unit-id='{unit['id']}']")
    marker.wait_for(timeout=5000)
    for _ in range(4):
        desk.locator(".leaflet-control-zoom-in").click()
        desk.wait_for_timeout(350)  # Leaflet's zoom animation

    # A call from a few metres away: type, address and a point clicked on the map beside the crew.
    desk.keyboard.press("Escape")
    desk.keyboard.press("n")
    form = desk.locator("[data-testid=incident-form]")
    form.wait_for(timeout=5000)
    form.locator("select[name=type]").select_option("traffic_accident")
    form.locator("input[name=address]").fill("Pored patrole 1")
    form.locator("textarea[name=description]").fill("Sudar dva vozila, bez povređenih.")
    form.locator("input[name=caller_name]").fill("Ana Anić")
    box = marker.bounding_box()
    assert box is not None
    desk.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] + 25)
    desk.wait_for_selector("[data-testid=draft-marker]", timeout=5000)
    form.locator("button[type=submit]").click()

    # The first recommendation is the crew next to the call; one click assigns it.
    detail = desk.locator("[data-testid=incident-detail]")
    detail.wait_for(timeout=5000)
    first = desk.locator("[data-testid=recommendations] li").first
    first.wait_for(timeout=5000)
    assert first.get_attribute("data-unit-id") == unit["id"], first.inner_text()
    first.locator("button").click()
    row = detail.locator("[data-testid=assignments] li").first
    row.wait_for(timeout=5000)
    assert row.get_attribute("data-state") == "pending"

    # The officer's phone shows it live and the officer acknowledges with a tap.
    card = officer.get_by_test_id("assignment-card")
    expect(card).to_be_visible(timeout=5000)
    expect(card).to_contain_text("Pored patrole 1")
    card.click()
    # The incident made in the console opens on the phone (it once answered 404: stored under
    # the directorate, not a station): its timeline, and the caller on request.
    officer.locator("[data-testid=timeline] li[data-kind=created]").wait_for(timeout=10000)
    officer.get_by_role("button", name="Show caller").click()
    expect(officer.get_by_test_id("caller")).to_contain_text("Ana Anić", timeout=10000)
    expect(detail).to_contain_text(re.compile(r"SM-\d{4}-\d{6}"), timeout=5000)
    officer.get_by_test_id("acknowledge").click()
    expect(row).to_have_attribute("data-state", "acknowledged", timeout=5000)
    desk.locator("[data-testid=timeline] li[data-kind=acknowledged]").wait_for(timeout=5000)

    # En route: a tap on the phone, on the dispatcher's board within a second (loopback).
    assert board_status(desk, unit["id"]) == "available"
    t0 = time.monotonic()
    officer.locator(".status-button[data-status=en_route]").first.click()
    desk.wait_for_function(
        "id => document.querySelector(`[data-testid=unit-board] li[data-unit-id='${id}']`)?.dataset.status"
        " === 'en_route'", arg=unit["id"], timeout=5000)
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0, f"the board showed en route {elapsed:.2f} s after the tap"
    expect(marker).to_have_class(re.compile(r"\bmk--en_route\b"), timeout=3000)
    expect(row).to_have_attribute("data-state", "en_route", timeout=3000)

    # Times on both screens are on the 24-hour clock, English included (no AM/PM on a night shift).
    assert not re.search(r"\b(AM|PM)\b", detail.inner_text()), detail.inner_text()
    officer.locator(".bottom-nav__item").first.click()
    since = officer.get_by_test_id("status-since")
    expect(since).to_contain_text(re.compile(r"\b\d{2}:\d{2}\b"))
    assert not re.search(r"\b(AM|PM)\b", since.inner_text()), since.inner_text()
