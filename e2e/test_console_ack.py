"""Dispatcher console: an assignment not acknowledged within ack_timeout_s is highlighted and beeps.

Its own server with the shortest allowed timeout (10 s), so the test waits seconds, not minutes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from e2e.conftest import Server, start_server, stop_server
from e2e.clients import PASSWORD, SyncClient, uuid7
from e2e.test_console import CONSOLE_PATH

ACK_TIMEOUT_S = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("patrol-e2e-ack"), {"PATROL_ACK_TIMEOUT_S": str(ACK_TIMEOUT_S)})
    try:
        yield srv
    finally:
        stop_server(srv)


def test_unacknowledged_assignment_is_highlighted_and_beeps(server, browser, crews) -> None:  # type: ignore[no-untyped-def]
    desk = SyncClient(server.base_url, "dispatcher2")
    inc = desk.get("/api/incidents?open=true")[0]
    unit = crews[0].unit

    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    # The dispatcher PC's clock is an hour fast: ages and the acknowledgement timer must
    # still be measured on the server's clock (pwa/src/shared/clock.js).
    page.clock.install(time=datetime.fromtimestamp(time.time() + 3600, UTC))
    page.goto(server.base_url + CONSOLE_PATH)
    page.fill("input[name=username]", "dispatcher1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")  # the click also unlocks audio
    page.wait_for_selector(".sync[data-state=live]", timeout=15_000)
    position = page.locator(f"[data-testid=unit-board] li[data-unit-id='{unit['id']}'] [data-testid=position-age]")
    position.wait_for(timeout=5000)
    expect(position).not_to_have_class(re.compile("stale"), timeout=5000)

    assignment_id = uuid7()
    r = desk.push("assignment.create", {"assignment_id": assignment_id, "incident_id": inc["id"], "unit_id": unit["id"]})
    assert r["outcome"] == "applied", r
    t0 = time.monotonic()
    page.locator(f".incident[data-incident-id='{inc['id']}']").click()
    row = page.locator(f"[data-assignment-id='{assignment_id}']")
    row.wait_for(timeout=5000)
    assert row.get_attribute("data-overdue") == "false"

    strip = page.locator("[data-testid=ack-overdue]")
    strip.wait_for(timeout=(ACK_TIMEOUT_S + 5) * 1000)
    assert time.monotonic() - t0 >= ACK_TIMEOUT_S - 1.5
    assert row.get_attribute("data-overdue") == "true"
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=ack-overdue]')?.dataset.beeps) > 0", timeout=3000)
    assert unit["call_sign"] in strip.inner_text()

    # Acknowledged: the highlight goes away.
    officer = SyncClient(server.base_url, crews[0].usernames[0])
    assert officer.me["unit_id"] == unit["id"]
    assert officer.push("assignment.acknowledge", {"assignment_id": assignment_id})["outcome"] == "applied"
    strip.wait_for(state="detached", timeout=3000)
    assert row.get_attribute("data-overdue") == "false"
    ctx.close()
