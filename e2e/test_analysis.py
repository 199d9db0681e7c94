"""The analysis page (/analysis) on the demo data, as the demo commander.

Checks that charts render with data (uPlot canvas, SVG timeline and heat
grid, Leaflet track without tiles), that every "Download CSV" gives a file
with the report's header line, that a shift can be planned from the roster,
and that nothing trips the Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from server.analytics.tabular import (
    DEMAND_COLUMNS,
    RESPONSE_COLUMNS,
    TIMELINE_COLUMNS,
    TRACK_COLUMNS,
)

PASSWORD = "patrol-demo"


@pytest.fixture()
def analysis(server, browser) -> Iterator[tuple[Any, list[str]]]:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True,
                              timezone_id="UTC", locale="en-GB")
    page = ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server.base_url}/analysis")
    page.fill("input[name=username]", "commander")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    try:
        yield page, problems
    finally:
        ctx.close()


def download_header(page: Any, button: Any, tmp_path: Path) -> tuple[str, list[str]]:
    with page.expect_download() as info:
        button.click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "a byte-order mark, so Excel reads UTF-8"
    lines = data[3:].decode("utf-8").splitlines()
    return download.suggested_filename, lines


def open_tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_response_times_chart_table_and_csv(analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page, problems = analysis
    chart = page.locator("[data-testid=rt-chart]")
    chart.locator("canvas").wait_for(timeout=15_000)
    assert int(chart.get_attribute("data-points")) == 4  # the four stations of the demo
    # the canvas has something drawn on it (not a blank bitmap)
    drawn = page.evaluate("""() => {
        const c = document.querySelector('[data-testid=rt-chart] canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
    }""")
    assert drawn > 1000
    table = page.locator("[data-testid=rt-table]")
    total = table.locator("tr.an-total td")
    assert int(total.nth(1).inner_text()) > 100  # incidents in the last four weeks
    assert "min" in page.locator("[data-testid=kpi-median]").inner_text()
    page.locator("[data-testid=rt-trend] canvas").wait_for()

    name, lines = download_header(page, page.locator(".an-figure").first.locator("[data-csv]"), tmp_path)
    assert name.startswith("response-times_SM_station_") and name.endswith(".csv")
    assert lines[0] == ",".join(RESPONSE_COLUMNS)
    assert lines[-1].startswith("station,ALL,All,")
    assert len(lines) == 1 + 4 + 1

    # another grouping redraws the chart: 24 hours
    page.select_option("select[name=group_by]", "hour")
    page.locator("[data-testid=rt-chart][data-points='24'] canvas").wait_for()

    # Issue 12.15: a target of -5 replaced the tab with "target_min: Expected int >= 0".
    page.fill("input[name=target]", "-5")
    expect(page.get_by_test_id("rt-target-error")).to_contain_text("1 to 240")
    expect(page.locator("[data-testid=rt-chart] canvas")).to_be_visible()
    assert "Expected" not in page.locator("main, body").first.inner_text()
    page.fill("input[name=target]", "20")
    expect(page.get_by_test_id("rt-target-error")).to_have_count(0)
    assert problems == []


def test_availability_demand_and_track(analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page, problems = analysis
    page.locator("[data-testid=rt-chart] canvas").wait_for(timeout=15_000)

    open_tab(page, "Availability")
    svg = page.locator("[data-testid=av-chart]")
    svg.wait_for()
    assert svg.locator("rect.an-st--planned").count() > 0
    assert svg.locator("rect.an-st--available, rect.an-st--committed").count() > 0
    name, lines = download_header(page, page.locator("[data-csv]").first, tmp_path)
    assert name.startswith("availability_SM_")
    assert lines[0] == ",".join(TIMELINE_COLUMNS) and len(lines) > 10

    open_tab(page, "Demand vs coverage")
    grid = page.locator("[data-testid=dc-chart]")
    grid.wait_for()
    assert grid.locator("rect").count() == 168
    assert grid.locator("rect:not(.an-heat-0)").count() > 50
    _, lines = download_header(page, page.locator("[data-csv]").first, tmp_path)
    assert lines[0] == ",".join(DEMAND_COLUMNS) and len(lines) == 1 + 168 * 5
    # what was actually on duty, from the demo month's status history, beside the plan
    page.select_option("select[name=measure]", "units_actual")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=dc-chart] rect:not(.an-heat-0)').length > 50")
    assert "actually on duty" in page.locator(".an-muted").first.inner_text()

    open_tab(page, "Track replay")
    page.select_option("select[name=unit]", label="SM-11")
    track = page.locator("[data-testid=track-map]")
    page.locator("[data-testid=track-map] path.leaflet-interactive").first.wait_for(timeout=10_000)
    assert int(track.get_attribute("data-points")) > 0
    # no tile server in tests: the route and the status markers still draw (SVG paths)
    assert track.locator("path.leaflet-interactive").count() >= 2
    page.locator("input[name=at]").fill("0")  # range input: jumps to the start
    # Issue 12.22: replay plays by itself, from the start, and can be paused.
    start = int(page.locator("input[name=at]").input_value())
    play = page.get_by_test_id("track-play")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("s => Number(document.querySelector('input[name=at]').value) > s", arg=start, timeout=15_000)
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")
    _, lines = download_header(page, page.locator("[data-csv]").first, tmp_path)
    assert lines[0] == ",".join(TRACK_COLUMNS) and len(lines) > 2
    assert problems == []


def test_plan_a_shift_from_the_roster(analysis) -> None:  # type: ignore[no-untyped-def]
    page, problems = analysis
    page.locator("[data-testid=rt-chart] canvas").wait_for(timeout=15_000)
    open_tab(page, "Shifts")
    page.locator("[data-testid=roster]").wait_for()
    for _ in range(3):  # a future week with nothing planned yet
        page.get_by_role("button", name="Next week", exact=True).click()
    page.get_by_role("button", name="New shift", exact=True).click()
    form = page.locator("form.an-form")
    form.locator("select[name=unit_id]").select_option(label="SM-13")
    form.locator("input[name=start]").fill("08:00")
    form.locator("input[name=end]").fill("16:00")
    form.locator("input[name=planned_area]").fill("Sremska Mitrovica – centar")
    # Issue 12.14: nobody on it, or the same start and end (19:00–19:00), is refused in the form.
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_contain_text("at least one officer")
    form.locator(".an-member select").first.select_option("lead")
    form.locator("input[name=end]").fill("08:00")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_contain_text("same time")
    form.locator("input[name=end]").fill("16:00")
    form.locator(".an-member select").nth(1).select_option("member")
    form.get_by_role("button", name="Save").click()
    page.get_by_text("Shift saved.").wait_for()
    cell = page.locator("[data-testid=roster] tr", has_text="SM-13").locator(".an-shift")
    cell.wait_for()
    assert "08:00–16:00" in cell.inner_text() and "2 officers" in cell.inner_text()

    # the same officer again at an overlapping time: the server's 422 is shown
    page.get_by_role("button", name="New shift", exact=True).click()
    form.locator("select[name=unit_id]").select_option(label="SM-14")
    form.locator("input[name=start]").fill("12:00")
    form.locator("input[name=end]").fill("20:00")
    form.locator(".an-member select").first.select_option("lead")
    form.get_by_role("button", name="Save").click()
    alert = form.get_by_role("alert")
    alert.wait_for()
    assert "overlapping" in alert.inner_text()
    assert problems == []
