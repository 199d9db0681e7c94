"""What a person typed is never silently lost (issue 12, items 3-5), and the conflict inbox
says which value is in force.

* a text over the server's limit (sync/mutations.py, generated for the apps into
  pwa/src/shared/vocabulary.js) is refused, and the console's form / the phone's note field
  gives it back, saying why in the person's language;
* a half-written incident survives a click on the map and a reload, until it is sent or
  discarded;
* after a later offline edit wins, the inbox marks that edit as the current value.

The fields carry `maxlength`, so a person cannot type past the limit; the tests remove it to
send what an older app, a script or a paste around the field could, and see the server's
refusal handled. Waits are generous (a loaded 2-core machine); nothing is timed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from e2e.clients import SyncClient, uuid7
from e2e.staffing import Crew
from e2e.test_officer import Desk, all_sent, nav, open_app, phone_context, sign_in

WAIT = 15_000  # ms: a server round trip and a render on a busy machine
LONG = ("Pozivalac javlja da se ispred zgrade svađaju dve osobe. " * 400)[:22_000]


def now_ms() -> int:
    return int(time.time() * 1000)


def drop_maxlength(page: Page, selector: str) -> None:
    """Let the field hold more than the server accepts (as a paste around it, an older app or a
    script could): what the server then refuses must come back, not vanish."""
    page.eval_on_selector(selector, "el => el.removeAttribute('maxlength')")


def new_assignment(desk: SyncClient, unit_id: str, description: str = "e2e: long text and drafts") -> tuple[str, str]:
    incident_id, assignment_id = uuid7(), uuid7()
    desk.push_ok("incident.create", {"incident_id": incident_id, "type": "public_order", "priority": 3,
                                     "lat": 44.9812, "lon": 19.6205, "address": "Duga 5, Sremska Mitrovica",
                                     "description": description})
    desk.push_ok("assignment.create", {"assignment_id": assignment_id, "incident_id": incident_id,
                                       "unit_id": unit_id})
    return incident_id, assignment_id


def open_form(page: Page) -> Any:
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("n")
    form = page.locator("[data-testid=incident-form]")
    form.wait_for(timeout=WAIT)
    return form


def set_language(page: Page, lang: str) -> None:
    page.locator("details.console__prefs > summary").click()
    page.select_option("#console-language", lang)
    page.locator("details.console__prefs > summary").click()


# --------------------------------------------------------------------------- item 4: conflicts


def test_the_later_offline_edit_is_shown_as_the_current_value(server, console, crews: list[Crew]) -> None:  # type: ignore[no-untyped-def]
    page = console
    crew = crews[0]
    desk = SyncClient(server.base_url, "dispatcher5")
    incident_id, _ = new_assignment(desk, crew.unit["id"])
    phone_a = SyncClient(server.base_url, crew.usernames[0])
    phone_b = SyncClient(server.base_url, crew.usernames[1])
    report_id = uuid7()
    phone_a.push_ok("report.update", {"report_id": report_id, "incident_id": incident_id, "summary": "Prvi zapis."})
    # Phone A goes offline having seen version 1. Phone B, online, rewrites the summary now ...
    b_at = now_ms()
    phone_b.push_ok("report.update", {"report_id": report_id, "incident_id": incident_id, "summary": "B online"},
                    base_version=1, at=b_at)
    # ... and A, still offline, rewrites it later, then reconnects and sends.
    ra = phone_a.push("report.update", {"report_id": report_id, "incident_id": incident_id,
                                        "summary": "A offline, later"}, base_version=1, at=b_at + 2000)
    assert ra["outcome"] == "conflict", ra
    [c] = ra["result"]["conflicts"]
    assert c["current"] == "client", "the server keeps A's text (the later stamp)"

    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("c")
    item = page.locator(f"[data-testid=conflicts] li.conflict[data-conflict-id='{c['id']}']")
    item.wait_for(timeout=WAIT)
    # The row's "server" side is B's (it was there first), its "client" side A's: A's is in force.
    a_side, b_side = item.locator("[data-side=client]"), item.locator("[data-side=server]")
    expect(a_side).to_contain_text("A offline, later")
    expect(b_side).to_contain_text("B online")
    expect(a_side.locator(".side__who")).to_contain_text("Current value", timeout=WAIT)
    expect(b_side.locator(".side__who")).not_to_contain_text("Current value")
    expect(b_side.locator(".side__who")).to_contain_text("Not in force")
    expect(item).to_have_attribute("data-current", "client")
    expect(a_side).to_have_attribute("data-current", "true")
    expect(b_side).to_have_attribute("data-current", "false")
    page.keyboard.press("Escape")


# --------------------------------------------------------------------------- item 3: console


def test_a_description_over_the_limit_comes_back_in_the_form(server, console) -> None:  # type: ignore[no-untyped-def]
    page = console
    desk = SyncClient(server.base_url, "dispatcher5")
    form = open_form(page)
    form.locator("select[name=type]").select_option("theft")
    form.get_by_test_id("form-station").select_option(label="PS Ruma")  # (no point on the map)
    form.locator("input[name=address]").fill("Duga 22, Ruma")
    description = form.locator("textarea[name=description]")
    # The field says its limit before anything is sent: maxlength, and a counter near it.
    assert description.get_attribute("maxlength") == "20000"
    assert form.locator("input[name=address]").get_attribute("maxlength") == "500"
    expect(form.get_by_test_id("count-description")).to_have_count(0)
    description.fill("a" * 19_850)
    expect(form.get_by_test_id("count-description")).to_have_text("19,850 / 20,000")

    drop_maxlength(page, "[data-testid=incident-form] textarea[name=description]")
    description.fill(LONG)
    form.locator("input[name=caller_name]").fill("Petar Petrović")
    form.locator("button[type=submit]").click()

    # Refused by the server: the form is back with everything typed, and says why.
    refused = page.get_by_test_id("draft-refused")
    expect(refused).to_be_visible(timeout=WAIT)
    expect(refused).to_have_attribute("data-reason-code", "too_long")
    expect(refused).to_contain_text("Description")
    expect(refused).to_contain_text("22,000")
    expect(refused).to_contain_text("20,000")
    assert "Expected" not in refused.inner_text(), "not the server's English validation message"
    form = page.locator("[data-testid=incident-form]")
    assert form.locator("textarea[name=description]").input_value() == LONG
    assert form.locator("input[name=address]").input_value() == "Duga 22, Ruma"
    assert form.locator("input[name=caller_name]").input_value() == "Petar Petrović"
    assert form.locator("select[name=type]").input_value() == "theft"
    assert form.get_by_test_id("form-station").locator("option:checked").inner_text() == "PS Ruma"
    expect(form.locator("textarea[name=description]")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Loading…")).to_have_count(0)
    # The notice words it too, and leads back to the draft.
    notice = page.locator("[data-testid=notices] li[data-state=rejected]")
    expect(notice).to_contain_text("20,000", timeout=WAIT)

    # In the dispatcher's language: worded from the code and the limit, not from the server.
    set_language(page, "sr-Latn")
    expect(refused).to_contain_text("20.000 znakova")
    expect(refused).to_contain_text("22.000")
    set_language(page, "en")

    # Shortened and sent again: accepted, and no draft is left behind.
    form.locator("textarea[name=description]").fill("Krađa bicikla, kratko.")
    form.locator("button[type=submit]").click()
    detail = page.locator("[data-testid=incident-detail]")
    detail.wait_for(timeout=WAIT)
    incident_id = detail.get_attribute("data-incident-id")
    assert incident_id
    deadline = time.monotonic() + 20
    while True:
        try:
            inc = desk.get(f"/api/incidents/{incident_id}")["incident"]
            break
        except Exception:
            assert time.monotonic() < deadline, "the shortened incident did not reach the server"
            time.sleep(0.2)
    assert inc["description"] == "Krađa bicikla, kratko." and inc["address"] == "Duga 22, Ruma"
    # The refusal's notice is read: its text went out again in the accepted one.
    expect(notice).to_have_count(0, timeout=WAIT)
    expect(page.get_by_test_id("draft-waiting")).to_have_count(0)
    form = open_form(page)
    expect(form.get_by_test_id("draft-restored")).to_have_count(0)
    assert form.locator("textarea[name=description]").input_value() == ""


# --------------------------------------------------------------------------- item 5: drafts


def test_a_draft_survives_a_click_on_a_unit_and_a_reload_until_discarded(server, console, crews: list[Crew]) -> None:  # type: ignore[no-untyped-def]
    page = console
    unit = crews[1].unit
    form = open_form(page)
    form.locator("select[name=type]").select_option("theft")
    form.locator("input[name=address]").fill("Draft 7, Ruma")
    form.locator("textarea[name=description]").fill("Pozivalac još govori, nisam završio.")
    form.locator("input[name=caller_phone]").fill("+381 64 123 4567")

    # A click on a unit's label on the map opens the unit: the form goes, the draft stays.
    marker = page.locator(f".mk--unit[data-unit-id='{unit['id']}']")
    marker.wait_for(timeout=WAIT)
    # Dispatched on the label itself: where crews stand close together another label may lie on
    # top of it, and Playwright's click (rightly) refuses an element it cannot reach.
    marker.dispatch_event("click")
    page.locator(f"[data-testid=unit-detail][data-unit-id='{unit['id']}']").wait_for(timeout=WAIT)
    expect(page.locator("[data-testid=incident-form]")).to_have_count(0)
    waiting = page.get_by_test_id("draft-waiting")
    expect(waiting).to_be_visible(timeout=WAIT)
    expect(waiting).to_contain_text("Draft 7, Ruma")

    # Back to it: everything is there, marked as a restored draft.
    waiting.get_by_role("button", name="Continue").click()
    form = page.locator("[data-testid=incident-form]")
    form.wait_for(timeout=WAIT)
    expect(form.get_by_test_id("draft-restored")).to_be_visible()
    assert form.locator("input[name=address]").input_value() == "Draft 7, Ruma"
    assert form.locator("textarea[name=description]").input_value() == "Pozivalac još govori, nisam završio."
    assert form.locator("input[name=caller_phone]").input_value() == "+381 64 123 4567"
    assert form.locator("select[name=type]").input_value() == "theft"
    form.locator("textarea[name=description]").fill("Pozivalac još govori; dopunjeno.")

    # A reload keeps it too, and opens the form on it.
    page.reload()
    page.wait_for_selector(".sync[data-state=live]", timeout=WAIT)
    form = page.locator("[data-testid=incident-form]")
    form.wait_for(timeout=WAIT)
    expect(form.get_by_test_id("draft-restored")).to_be_visible()
    assert form.locator("textarea[name=description]").input_value() == "Pozivalac još govori; dopunjeno."
    assert form.locator("input[name=caller_phone]").input_value() == "+381 64 123 4567"

    # Discarded (asked in place): gone, after a reload too.
    form.get_by_test_id("discard-draft").click()
    page.get_by_test_id("discard-draft-confirm").get_by_role("button", name="Yes").click()
    expect(page.locator("[data-testid=incident-form]")).to_have_count(0, timeout=WAIT)
    page.reload()
    page.wait_for_selector(".sync[data-state=live]", timeout=WAIT)
    page.wait_for_selector("[data-testid=unit-board] .unit", timeout=WAIT)
    expect(page.locator("[data-testid=incident-form]")).to_have_count(0)
    expect(page.get_by_test_id("draft-waiting")).to_have_count(0)
    form = open_form(page)
    expect(form.get_by_test_id("draft-restored")).to_have_count(0)
    assert form.locator("input[name=address]").input_value() == ""


# --------------------------------------------------------------------------- item 3: phone


@pytest.fixture
def phone(browser, server) -> Iterator[BrowserContext]:  # type: ignore[no-untyped-def]
    yield from phone_context(browser, server)


def test_a_note_over_the_limit_comes_back_to_the_field(phone: BrowserContext, server, crews: list[Crew]) -> None:  # type: ignore[no-untyped-def]
    crew = crews[2]
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_app(page)
    sign_in(page, crew.usernames[0], crew.unit["call_sign"])
    desk = Desk(server.base_url, "dispatcher5")
    incident_id, _ = desk.new_assignment(crew.unit["id"])
    card = page.get_by_test_id("assignment-card")
    expect(card).to_be_visible(timeout=WAIT)
    card.click()
    page.get_by_test_id("acknowledge").click()
    all_sent(page)
    nav(page, "notes")

    body = page.locator("#note-body")
    assert body.get_attribute("maxlength") == "20000"
    body.fill("b" * 19_850)
    expect(page.get_by_test_id("note-count")).to_have_text("19,850 / 20,000")

    # Online: refused at once, and the text is back in the field with the reason.
    drop_maxlength(page, "#note-body")
    body.fill(LONG)
    page.get_by_role("button", name="Save note").click()
    back = page.get_by_test_id("note-given-back")
    expect(back).to_be_visible(timeout=WAIT)
    expect(back).to_contain_text("22,000")
    expect(back).to_contain_text("20,000")
    assert body.input_value() == LONG
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text("too long", timeout=WAIT)
    assert "Expected" not in notice.inner_text(), "not the server's English validation message"

    # Offline, sent again as it is, and the app reloaded before the server could answer: the
    # refusal arrives with no one waiting for it, and the note is offered back from the outbox.
    phone.set_offline(True)
    expect(page.locator(".sync")).to_have_attribute("data-state", "offline", timeout=WAIT)
    drop_maxlength(page, "#note-body")
    page.get_by_role("button", name="Save note").click()
    expect(body).to_have_value("")
    page.reload()
    nav(page, "notes")
    phone.set_offline(False)
    put_back = page.get_by_test_id("put-note-back")
    expect(put_back).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("refused-notes")).to_contain_text("20,000")
    put_back.click()
    assert page.locator("#note-body").input_value() == LONG

    # Shortened and sent: kept, and the refusals are read.
    page.locator("#note-body").fill("Dve osobe udaljene, bez povreda.")
    page.get_by_role("button", name="Save note").click()
    all_sent(page)
    expect(page.get_by_test_id("notes")).to_contain_text("Dve osobe udaljene", timeout=WAIT)
    expect(page.get_by_test_id("refused-notes")).to_have_count(0)
    expect(page.get_by_test_id("notice")).to_have_count(0, timeout=WAIT)
    notes = [e for e in desk.get(f"/api/incidents/{incident_id}")["timeline"] if e["kind"] == "note"]
    assert len(notes) == 1, notes
    assert not errors, errors


def test_an_incident_with_no_place_and_no_station_asks_for_the_station_in_the_persons_language(
        server, console) -> None:  # type: ignore[no-untyped-def]
    """The server answers `station_required` (a code, no sentence to show): the form comes back
    and says what to do, worded by the console in the dispatcher's language."""
    page = console
    form = open_form(page)
    form.locator("select[name=type]").select_option("theft")
    form.locator("input[name=address]").fill("Nepoznato mesto")
    form.locator("button[type=submit]").click()
    refused = page.get_by_test_id("draft-refused")
    expect(refused).to_have_attribute("data-reason-code", "station_required", timeout=WAIT)
    expect(refused).to_contain_text("Choose the station")
    set_language(page, "sr-Cyrl")
    expect(refused).to_contain_text("Изаберите станицу")
    set_language(page, "en")
    form = page.locator("[data-testid=incident-form]")
    assert form.locator("input[name=address]").input_value() == "Nepoznato mesto"
    form.get_by_test_id("form-station").select_option(label="PS Ruma")
    form.locator("button[type=submit]").click()
    page.locator("[data-testid=incident-detail]").wait_for(timeout=WAIT)
