"""Analytics over HTTP on the hand-made dataset: the numbers the domain computes,
the same on SQLite and PostgreSQL; CSV downloads; scope and role refusals."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
from typing import Any

from litestar.testing import AsyncTestClient

from server.analytics import queries
from server.analytics.tabular import (
    DEMAND_COLUMNS,
    RESPONSE_COLUMNS,
    TIMELINE_COLUMNS,
    TRACK_COLUMNS,
)
from tests.analytics.dataset import DAY_START, WEEK_END, WEEK_START, M, t
from tests.shifts.support import sign_in

from .conftest import builtins

Reports = tuple[AsyncTestClient, dict[str, Any]]
WEEK = {"from": str(WEEK_START), "to": str(WEEK_END)}


def fig(row: dict[str, Any], name: str) -> tuple:
    s = next(i for i in row["intervals"] if i["interval"] == name)
    return (s["n"], s["median_ms"], s["p90_ms"], s["missing"], s["invalid"], s["corrected"], s["late"])


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


async def test_response_times_match_the_domain(reports: Reports) -> None:
    client, expected = reports
    auth = await sign_in(client, "commander")
    r = await client.get("/api/analytics/response-times",
                         params={**WEEK, "group_by": "station", "target_min": 15}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == builtins(expected["by_station"])
    # the figures themselves (same on both databases)
    ru = next(row for row in body["rows"] if row["key"] == "SM-RU")
    assert fig(ru, "call_to_arrival") == (2, 8 * M, 16 * M, 1, 0, 1, 0)
    assert (ru["within_target"], ru["target_n"], ru["share_within_target"]) == (1, 2, 0.5)
    assert fig(body["total"], "call_to_arrival") == (3, 16 * M, 25 * M, 1, 1, 1, 1)

    # by hour, priorities 1 and 2, target from settings (10 min)
    r = await client.get("/api/analytics/response-times",
                         params={**WEEK, "group_by": "hour", "priorities": "2,1"}, headers=auth)
    body = r.json()
    assert body["target_min"] == 10 and body["priorities"] == [1, 2]
    assert body == builtins(expected["by_hour_p12"])
    assert len(body["rows"]) == 24

    # one station, by type; local dates instead of ms (to is inclusive)
    r = await client.get("/api/analytics/response-times",
                         params={"from": "2025-01-13", "to": "2025-01-19", "group_by": "type",
                                 "org_unit": "SM-RU"}, headers=auth)
    assert r.json() == builtins(expected["ru_by_type"])

    # dispatchers may read
    disp = await sign_in(client, "dispatcher")
    r = await client.get("/api/analytics/response-times", params={**WEEK, "target_min": 15}, headers=disp)
    assert r.json() == builtins(expected["by_station"])


async def test_bad_parameters_are_422(reports: Reports) -> None:
    client, _ = reports
    auth = await sign_in(client, "commander")
    for params, field in (({**WEEK, "group_by": "moon"}, "group_by"),
                          ({"from": str(WEEK_END), "to": str(WEEK_START)}, "to"),
                          ({"from": "yesterday", "to": str(WEEK_END)}, "from"),
                          ({**WEEK, "priorities": "1,9"}, "priorities"),
                          ({"from": "2020-01-01", "to": "2025-01-01"}, "to")):
        r = await client.get("/api/analytics/response-times", params=params, headers=auth)
        assert (r.status_code, r.json().get("field")) == (422, field), (params, r.text)
    r = await client.get("/api/analytics/availability", params={"day": "15/01/2025"}, headers=auth)
    assert (r.status_code, r.json()["field"]) == (422, "day")
    r = await client.get("/api/analytics/track", headers=auth)
    assert (r.status_code, r.json()["field"]) == (422, "unit_id")
    r = await client.get("/api/analytics/response-times", params={**WEEK, "format": "xls"}, headers=auth)
    assert r.status_code == 400


async def test_availability_and_demand_match_the_domain(reports: Reports) -> None:
    client, expected = reports
    auth = await sign_in(client, "commander")
    r = await client.get("/api/analytics/availability", params={"day": "2025-01-15"}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["scope_path"], body["day"], body["start_ms"]) == ("/SM/", "2025-01-15", DAY_START)
    assert body["units"] == builtins(expected["availability"])
    ru1 = next(u for u in body["units"] if u["call_sign"] == "RU-1")
    assert (ru1["planned_ms"], ru1["uncovered_ms"], ru1["committed_ms"]) == (9 * 60 * M, 60 * M, 29 * M)
    r = await client.get("/api/analytics/availability", params={"day": "2025-01-15", "org_unit": "o-ru"},
                         headers=auth)
    assert [u["call_sign"] for u in r.json()["units"]] == ["RU-1", "RU-2"]

    r = await client.get("/api/analytics/demand-coverage", params={**WEEK, "threshold": 0.5}, headers=auth)
    body = r.json()
    assert body == builtins(expected["demand"])
    wed10 = body["overall"]["cells"][2 * 24 + 10]
    assert (wed10["incidents"], wed10["units_on_duty"], wed10["demand_per_unit"], wed10["flagged"]) == (
        3, 1.0, 3.0, True)
    assert body["overall"]["unit_hours"] == 18.5


async def _pings_pruned(client: AsyncTestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    """The retention job runs right after start-up; wait for its first run."""
    for _ in range(100):
        r = await client.get("/api/analytics/track",
                             params={"unit_id": "u-ru1", "from": t(15, 6), "to": t(15, 15)}, headers=auth)
        points = r.json()["points"]
        if all(p["at_ms"] != t(15, 8) for p in points):
            return points
        await asyncio.sleep(0.05)
    raise AssertionError("the retention job did not remove the old position")


async def test_retention_job_prunes_old_positions_at_start(reports: Reports) -> None:
    client, _ = reports
    auth = await sign_in(client, "commander")
    points = await _pings_pruned(client, auth)
    # stored 40 days ago: gone; stored today (even if the fix is old): kept
    assert [(p["at_ms"], p["lat"]) for p in points] == [(t(15, 6, 45), 45.00), (t(15, 7), 45.01)]


async def test_track_matches_the_domain(reports: Reports) -> None:
    client, expected = reports
    auth = await sign_in(client, "commander")
    await _pings_pruned(client, auth)
    r = await client.get("/api/analytics/track",
                         params={"unit_id": "RU-1", "from": t(15, 6), "to": t(15, 15)}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == builtins(expected["track"])
    assert r.json()["initial_status"] == "off_duty"
    r = await client.get("/api/analytics/track", params={"shift_id": "s1"}, headers=auth)
    assert r.json() == builtins(expected["track_s1"])
    assert len(r.json()["statuses"]) == 4
    r = await client.get("/api/analytics/track", params={"shift_id": "nope"}, headers=auth)
    assert r.status_code == 404
    r = await client.get("/api/analytics/track", params={"unit_id": "u-ru1", "from": "2025-01-01",
                                                          "to": "2025-01-31"}, headers=auth)
    assert (r.status_code, r.json()["field"]) == (422, "to")  # at most 7 days of positions


async def test_csv_downloads(reports: Reports) -> None:
    client, expected = reports
    auth = await sign_in(client, "commander")
    await _pings_pruned(client, auth)
    cases = [
        ("/api/analytics/response-times", {**WEEK, "target_min": 15}, RESPONSE_COLUMNS,
         queries.to_csv(expected["by_station"])),
        ("/api/analytics/availability", {"day": "2025-01-15"}, TIMELINE_COLUMNS,
         queries.to_csv(expected["availability"])),
        ("/api/analytics/demand-coverage", WEEK, DEMAND_COLUMNS, queries.to_csv(expected["demand"])),
        ("/api/analytics/track", {"unit_id": "u-ru1", "from": t(15, 6), "to": t(15, 15)}, TRACK_COLUMNS,
         queries.to_csv(expected["track"])),
    ]
    for path, params, columns, text in cases:
        for url, extra in ((path, {"format": "csv"}), (f"{path}/csv", {})):
            r = await client.get(url, params={**params, **extra}, headers=auth)
            assert r.status_code == 200, (url, r.text)
            assert r.headers["content-type"] == "text/csv; charset=utf-8"
            disposition = r.headers["content-disposition"]
            assert disposition.startswith("attachment; filename=") and disposition.endswith('.csv"')
            assert r.content.startswith(codecs.BOM_UTF8)  # so Excel reads it as UTF-8
            lines = rows_of(r.text)
            assert tuple(lines[0]) == columns
            assert r.text == "\ufeff" + text
    r = await client.get("/api/analytics/response-times/csv", params=WEEK, headers=auth)
    assert 'filename="response-times_SM_station_2025-01-13_2025-01-19.csv"' in r.headers["content-disposition"]
    lines = rows_of(r.text)
    assert [ln[1] for ln in lines[1:]] == ["SM-IN", "SM-RU", "ALL"]
    total = dict(zip(lines[0], lines[-1]))
    assert total["call_to_arrival_median_ms"] == str(16 * M) and total["target_min"] == "10"
    assert "PS Inđija" in r.text  # UTF-8 all the way


async def test_incident_export(reports: Reports) -> None:
    client, _ = reports
    auth = await sign_in(client, "commander")
    r = await client.get("/api/analytics/incidents/i2/export", headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["content-disposition"].startswith("attachment;")
    doc = r.json()
    assert (doc["format"], doc["incident"]["id"], doc["incident"]["org_unit"]["code"]) == (
        "patrol.incident-export", "i2", "SM-RU")
    assert doc["intervals"]["call_to_arrival_ms"] == 16 * M
    assert [u["call_sign"] for u in doc["units"]] == ["RU-1", "RU-2"]
    ru = await sign_in(client, "commander-ru")
    assert (await client.get("/api/analytics/incidents/i3/export", headers=ru)).status_code == 404
    assert (await client.get("/api/analytics/incidents/i7/export", headers=auth)).status_code == 404
    assert (await client.get("/api/analytics/incidents/nope/export", headers=auth)).status_code == 404


async def test_scope_and_roles(reports: Reports) -> None:
    client, _ = reports
    ru = await sign_in(client, "commander-ru")
    # a station commander's reports cover the station only
    r = await client.get("/api/analytics/response-times", params=WEEK, headers=ru)
    body = r.json()
    assert body["scope_path"] == "/SM/SM-RU/"
    assert [row["key"] for row in body["rows"]] == ["SM-RU"] and body["total"]["incidents"] == 3
    r = await client.get("/api/analytics/availability", params={"day": "2025-01-15"}, headers=ru)
    assert [u["call_sign"] for u in r.json()["units"]] == ["RU-1", "RU-2"]
    # … and another station is refused, in every report and format
    for path, params in (("/api/analytics/response-times", WEEK),
                         ("/api/analytics/response-times/csv", WEEK),
                         ("/api/analytics/availability", {"day": "2025-01-15"}),
                         ("/api/analytics/demand-coverage", {**WEEK, "format": "csv"})):
        for org in ("SM-IN", "o-sm", "o-nsx"):
            r = await client.get(path, params={**params, "org_unit": org}, headers=ru)
            assert (r.status_code, r.json()["code"]) == (403, "forbidden"), (path, org)
    r = await client.get("/api/analytics/availability", params={"org_unit": "no-such"}, headers=ru)
    assert r.status_code == 404
    for unit in ("u-in1", "IN-1", "u-ns1"):
        r = await client.get("/api/analytics/track", params={"unit_id": unit}, headers=ru)
        assert r.status_code == 404
    r = await client.get("/api/analytics/track", params={"shift_id": "s4"}, headers=ru)
    assert r.status_code == 404
    # another directorate sees none of /SM/
    ns = await sign_in(client, "admin-ns")
    r = await client.get("/api/analytics/response-times", params={**WEEK, "group_by": "station"}, headers=ns)
    assert r.json()["total"]["incidents"] == 1  # i7 only
    # officers have no analytics; nobody without a session
    off = await sign_in(client, "officer-ru")
    assert (await client.get("/api/analytics/response-times", params=WEEK, headers=off)).status_code == 403
    assert (await client.get("/api/analytics/response-times", params=WEEK)).status_code == 401
