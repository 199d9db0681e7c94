"""WCAG 2.1 A/AA checks (axe-core, from pwa/node_modules) on every screen, dark and light.

Officers read the phone at night and in direct sunlight, often in a hurry;
dispatchers read the console for a whole shift. Contrast, names of controls
and structure are checked by axe-core, the engine browser accessibility tools
use; any violation fails with what and where.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from e2e.staffing import Crew
from e2e.test_officer import Desk, open_app, sign_in

AXE = Path(__file__).resolve().parent.parent / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page: Page) -> list[str]:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make test` (it runs `npm ci` in pwa/)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")  # evaluate is not subject to the page's CSP
    found: list[dict[str, Any]] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations.map(v =>"
        " ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': '"
        " + (n.failureSummary || '').split('\\n').slice(1, 2).join(' ').trim())})))", TAGS)
    return [f"{v['impact']} {v['id']}: {'; '.join(v['nodes'])}" for v in found]


@pytest.fixture(params=["dark", "light"])
def theme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def phone(browser: Browser, server, crews: list[Crew], theme: str) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    unit = crews[0].unit
    ctx = browser.new_context(base_url=server.base_url, viewport={"width": 390, "height": 844},
                              geolocation={"latitude": unit["last_lat"], "longitude": unit["last_lon"]},
                              permissions=["geolocation"])
    ctx.add_init_script(f"localStorage.setItem('patrol.theme', '{theme}')")
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


@pytest.fixture
def desk_page(browser: Browser, server, theme: str) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(base_url=server.base_url, viewport={"width": 1600, "height": 1000})
    ctx.add_init_script(f"localStorage.setItem('patrol.theme', '{theme}')")
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def test_officer_app_screens(phone: Page, server, crews: list[Crew], theme: str) -> None:  # type: ignore[no-untyped-def]
    crew = crews[1] if theme == "light" else crews[0]
    page = phone
    open_app(page)
    problems = {"sign-in": violations(page)}
    sign_in(page, crew.usernames[0], crew.call_sign)
    Desk(server.base_url).new_assignment(crew.unit["id"])
    page.get_by_test_id("assignment-card").wait_for(timeout=5000)
    problems["home with an assignment"] = violations(page)
    page.get_by_test_id("assignment-card").click()
    page.get_by_test_id("acknowledge").wait_for()
    problems["assignment"] = violations(page)
    for i, name in ((2, "notes and report"), (3, "settings")):
        page.locator(".bottom-nav__item").nth(i).click()
        page.wait_for_timeout(200)
        problems[name] = violations(page)
    assert not {k: v for k, v in problems.items() if v}, problems


def test_console_and_analysis(desk_page: Page, server, theme: str) -> None:  # type: ignore[no-untyped-def]
    page = desk_page
    page.goto("/analysis")
    page.locator("input[name=username]").wait_for()
    problems = {"analysis sign-in": violations(page)}
    page.goto("/console")
    problems["console sign-in"] = violations(page)
    page.fill("input[name=username]", "dispatcher1")
    page.fill("input[name=password]", "patrol-demo")
    page.click("button[type=submit]")
    page.wait_for_selector(".sync[data-state=live]", timeout=15_000)
    page.wait_for_selector("[data-testid=unit-board] .unit", timeout=10_000)
    problems["console"] = violations(page)
    page.keyboard.press("n")
    page.locator("[data-testid=incident-form]").wait_for()
    problems["new incident form"] = violations(page)
    page.keyboard.press("Escape")
    page.locator("[data-testid=incident-list] .incident").first.click()
    page.locator("[data-testid=incident-detail]").wait_for()
    problems["incident detail"] = violations(page)

    page.goto("/analysis")  # signed in with the console's session
    page.locator("[data-testid=kpi-median]").wait_for(timeout=15_000)
    problems["analysis"] = violations(page)
    assert not {k: v for k, v in problems.items() if v}, problems
