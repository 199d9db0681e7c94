"""Reports on a hand-made dataset: the same exact figures on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import msgspec
import pytest

from server.analytics.queries import (
    availability_timeline,
    demand_vs_coverage,
    response_times,
    to_csv,
    track,
    track_for_shift,
)
from server.analytics.tabular import (
    DEMAND_COLUMNS,
    RESPONSE_COLUMNS,
    TIMELINE_COLUMNS,
    TRACK_COLUMNS,
)
from sync.store import Database

from .dataset import DAY_END, DAY_START, WEEK_END, WEEK_START, M, load, t


def fig(row, name):
    s = row.interval(name)
    return (s.n, s.median_ms, s.p90_ms, s.missing, s.invalid, s.corrected, s.late)


async def test_response_times_by_station(db: Database) -> None:
    await load(db)
    r = await response_times(db, "/SM/", WEEK_START, WEEK_END, "station", 15)
    assert [(row.key, row.label, row.incidents) for row in r.rows] == [
        ("SM-IN", "PS Inđija", 2), ("SM-RU", "PS Ruma", 3)]
    ru, inn = r.rows[1], r.rows[0]
    # SM-RU: i1 8 min, i2 16 min (clamped arrival), i8 never dispatched
    assert fig(ru, "call_to_arrival") == (2, 8 * M, 16 * M, 1, 0, 1, 0)
    assert (ru.within_target, ru.target_n, ru.share_within_target) == (1, 2, 0.5)
    # SM-IN: i3 arrival before the call (invalid), i4 25 min (late offline event)
    assert fig(inn, "call_to_arrival") == (1, 25 * M, 25 * M, 0, 1, 0, 1)
    assert (inn.within_target, inn.target_n) == (0, 1)
    tot = r.total
    assert tot.incidents == 5
    assert fig(tot, "call_to_arrival") == (3, 16 * M, 25 * M, 1, 1, 1, 1)
    assert fig(tot, "call_to_dispatch") == (4, 2 * M, 5 * M, 1, 0, 0, 0)
    # first-dispatched crew of i2 declined: its ack is missing, RU-2's ack does not count
    assert fig(tot, "dispatch_to_ack") == (2, 30_000, M, 3, 0, 0, 0)
    # dispatch→arrival from the arriving unit's own dispatch: i1 7 min, i2 12 min, i4 20 min
    assert fig(tot, "dispatch_to_arrival") == (3, 12 * M, 20 * M, 1, 1, 1, 1)
    assert fig(tot, "arrival_to_cleared") == (2, 22 * M, 34 * M, 3, 0, 1, 0)
    assert fig(tot, "call_to_action") == (1, 9 * M, 9 * M, 4, 0, 0, 0)
    assert (tot.within_target, tot.target_n) == (1, 3)
    assert r.percentile_method == "nearest-rank"


async def test_response_times_filters_and_groupings(db: Database) -> None:
    await load(db)
    r = await response_times(db, "/SM/", WEEK_START, WEEK_END, "priority", 10, priorities=[1])
    assert [(row.key, row.incidents) for row in r.rows] == [("1", 2)]
    assert fig(r.total, "call_to_arrival") == (2, 8 * M, 16 * M, 0, 0, 1, 0)
    # all sources: the self-initiated i5 (0 min) joins
    r = await response_times(db, "/SM/", WEEK_START, WEEK_END, "type", 15, sources=None)
    assert [(row.key, row.label, row.incidents) for row in r.rows] == [
        ("fight", "Fight", 1), ("noise", "Noise", 1), ("theft", "Theft", 4)]
    r = await response_times(db, "/SM/", WEEK_START, WEEK_END, "station", 15, include_cancelled=True)
    assert r.total.incidents == 6
    r = await response_times(db, "/SM/", WEEK_START, WEEK_END, "hour", 15)
    assert len(r.rows) == 24
    assert {row.key: row.incidents for row in r.rows if row.incidents} == {"10": 3, "14": 1, "23": 1}
    r = await response_times(db, "/SM/", WEEK_START, WEEK_END, "weekday", 15)
    assert [row.incidents for row in r.rows] == [0, 0, 5, 0, 0, 0, 0]
    r = await response_times(db, "/SM/", WEEK_START, t(27, 0), "week", 15)
    assert [(row.key, row.incidents) for row in r.rows] == [("2025-W03", 5), ("2025-W04", 1)]
    # a narrower scope, and one without the trailing slash
    r = await response_times(db, "/SM/SM-RU", WEEK_START, WEEK_END, "station", 15)
    assert [(row.key, row.incidents) for row in r.rows] == [("SM-RU", 3)]
    r = await response_times(db, "/NS/", WEEK_START, WEEK_END, "station", 15)
    assert r.total.incidents == 1
    r = await response_times(db, "/XX/", WEEK_START, WEEK_END, "station", 15)
    assert r.rows == [] and r.total.incidents == 0 and r.total.share_within_target is None


async def test_response_times_rejects_bad_input(db: Database) -> None:
    with pytest.raises(ValueError):
        await response_times(db, "SM", WEEK_START, WEEK_END)
    with pytest.raises(ValueError):
        await response_times(db, "/SM/", WEEK_END, WEEK_START)
    with pytest.raises(ValueError):
        await response_times(db, "/SM/", WEEK_START, WEEK_END, "month")  # type: ignore[arg-type]


async def test_scope_wildcards_are_literal(db: Database) -> None:
    await load(db)
    # '_' is a LIKE wildcard: '/SM_' must not match '/SM/…'
    r = await response_times(db, "/S_/", WEEK_START, WEEK_END)
    assert r.total.incidents == 0
    r = await response_times(db, "/sm/", WEEK_START, WEEK_END)  # case-sensitive on both
    assert r.total.incidents == 0


def seg(s):
    return (s.start_ms, s.end_ms, s.state, s.status)


async def test_availability_timeline(db: Database) -> None:
    await load(db)
    units = await availability_timeline(db, "o-sm", DAY_START, DAY_END)
    assert [u.call_sign for u in units] == ["IN-1", "RU-1", "RU-2"]
    in1, ru1, ru2 = units
    assert [seg(s) for s in ru1.actual] == [
        (DAY_START, t(15, 6, 30), "off", "off_duty"),   # state before the window: off_duty
        (t(15, 6, 30), t(15, 10, 1), "available", "available"),
        (t(15, 10, 1), t(15, 10, 8), "committed", "en_route"),
        (t(15, 10, 8), t(15, 10, 30), "committed", "on_scene"),
        (t(15, 10, 30), t(15, 14, 30), "available", "available"),
        (t(15, 14, 30), DAY_END, "off", "off_duty"),
    ]
    assert [(b.shift_id, b.start_ms, b.end_ms) for b in ru1.planned] == [
        ("s1", t(15, 6), t(15, 14)), ("s2", t(15, 13), t(15, 15))]
    assert [(g.start_ms, g.end_ms, g.state) for g in ru1.gaps] == [
        (t(15, 6), t(15, 6, 30), "off"), (t(15, 14, 30), t(15, 15), "off")]
    assert ru1.planned_ms == 9 * 60 * M
    assert ru1.uncovered_ms == 60 * M
    assert ru1.available_ms == (3 * 60 + 31) * M + 4 * 60 * M
    assert ru1.committed_ms == 29 * M
    assert ru1.unplanned_on_duty_ms == 0
    # RU-2: no event before the window (unknown); tie at 23:00 resolved by HLC → off_duty
    assert [seg(s) for s in ru2.actual] == [
        (DAY_START, t(15, 15), "unknown", None),
        (t(15, 15), t(15, 23), "available", "available"),
        (t(15, 23), DAY_END, "off", "off_duty"),
    ]
    assert [(g.start_ms, g.end_ms, g.state, g.shift_id) for g in ru2.gaps] == [
        (t(15, 14), t(15, 15), "unknown", "s3")]
    assert ru2.unplanned_on_duty_ms == 60 * M
    # IN-1: planned 20:15–21:45 but never signed on: the whole shift is a gap
    assert [seg(s) for s in in1.actual] == [(DAY_START, DAY_END, "unknown", None)]
    assert in1.uncovered_ms == 90 * M
    # by path, one station
    units = await availability_timeline(db, "/SM/SM-RU/", DAY_START, DAY_END)
    assert [u.call_sign for u in units] == ["RU-1", "RU-2"]
    # a window cutting a shift: bars are clipped, planned times kept
    units = await availability_timeline(db, "o-ru", t(15, 12), t(15, 13, 30))
    ru1 = units[0]
    assert [(b.start_ms, b.end_ms, b.planned_start_ms) for b in ru1.planned] == [
        (t(15, 12), t(15, 13, 30), t(15, 6)), (t(15, 13), t(15, 13, 30), t(15, 13))]
    assert [seg(s) for s in ru1.actual] == [(t(15, 12), t(15, 13, 30), "available", "available")]
    with pytest.raises(LookupError):
        await availability_timeline(db, "no-such-org", DAY_START, DAY_END)


async def test_demand_vs_coverage(db: Database) -> None:
    await load(db)
    r = await demand_vs_coverage(db, "/SM/", WEEK_START, WEEK_END, threshold=0.5)
    wed = lambda h: 2 * 24 + h
    assert [a.code for a in r.areas] == ["SM-IN", "SM-RU"]
    assert r.overall.code == "ALL" and r.overall.name == "PU Sremska Mitrovica"
    cells = r.overall.cells
    assert len(cells) == 168 and all(c.hours_observed == 1 for c in cells)
    c = cells[wed(10)]  # i1, i2, i8 with RU-1 on duty
    assert (c.weekday, c.hour, c.incidents, c.units_on_duty, c.demand_per_unit, c.flagged) == (
        3, 10, 3, 1.0, 3.0, True)
    c = cells[wed(11)]  # i5 (self-initiated: demand all the same)
    assert (c.incidents, c.units_on_duty, c.demand_per_unit, c.flagged) == (1, 1.0, 1.0, True)
    c = cells[wed(14)]  # i3; RU-1 (s1 ∪ s2 counted once) and RU-2
    assert (c.incidents, c.units_on_duty, c.demand_per_unit, c.flagged) == (1, 2.0, 0.5, False)
    c = cells[wed(7)]
    assert (c.incidents, c.units_on_duty, c.demand_per_unit, c.flagged) == (0, 1.0, 0.0, False)
    ru, inn = r.areas[1], r.areas[0]
    assert ru.incidents == 4 and inn.incidents == 2
    assert ru.unit_hours == 17.0 and inn.unit_hours == 1.5
    assert (inn.cells[wed(20)].units_on_duty, inn.cells[wed(21)].units_on_duty) == (0.75, 0.75)
    c = inn.cells[wed(14)]  # an incident with nobody planned in the area
    assert (c.incidents, c.units_on_duty, c.demand_per_unit, c.flagged) == (1, 0.0, None, True)
    assert inn.flagged_hours == 2 and ru.flagged_hours == 2
    assert r.overall.incidents == 6 and r.overall.unit_hours == 18.5
    # Actually on duty (status history): RU-1 Tue 08–22 and Wed 06:30–14:30, RU-2 Wed 15–23;
    # IN-1 never signed on (unknown is not on duty); NS-1 is outside the scope.
    tue = lambda h: 24 + h  # noqa: E731
    actual = [c.units_actual for c in r.overall.cells]
    assert actual[tue(7)] == 0.0 and actual[tue(8)] == 1.0 and actual[tue(21)] == 1.0 and actual[tue(22)] == 0.0
    assert (actual[wed(6)], actual[wed(7)], actual[wed(14)], actual[wed(15)], actual[wed(22)], actual[wed(23)]) == (
        0.5, 1.0, 0.5, 1.0, 1.0, 0.0)
    assert r.overall.actual_unit_hours == 30.0 and ru.actual_unit_hours == 30.0 and inn.actual_unit_hours == 0.0
    # planned 20:15–21:45 at IN but nobody on duty there: the plan and the reality differ
    assert (inn.cells[wed(20)].units_on_duty, inn.cells[wed(20)].units_actual) == (0.75, 0.0)
    # two weeks: each hour of the week observed twice, averages halve
    r2 = await demand_vs_coverage(db, "/SM/", WEEK_START, t(27, 0))
    c = r2.overall.cells[wed(10)]
    assert (c.hours_observed, c.incidents, c.incidents_per_hour, c.units_on_duty) == (2, 3, 1.5, 0.5)
    assert r2.overall.cells[0].hours_observed == 2


async def test_track(db: Database) -> None:
    await load(db)
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO location_pings (unit_id, lat, lon, accuracy_m, device_at, event_at, server_at)"
            " VALUES ($1, $2, $3, $4, $5, $5, $6)",
            [("u-ru1", 45.01, 19.82, 10.0, t(15, 7), t(15, 7)),
             ("u-ru1", 45.00, 19.80, None, t(15, 6, 45), t(15, 7)),   # synced late, earlier fix
             ("u-ru1", 45.02, 19.83, 8.0, t(15, 16), t(15, 16)),       # after the window
             ("u-ru2", 45.10, 19.90, 5.0, t(15, 7), t(15, 7))],
        )
    tr = await track(db, "u-ru1", t(15, 6), t(15, 15))
    assert tr is not None and tr.call_sign == "RU-1" and tr.initial_status == "off_duty"
    assert [(p.at_ms, p.lat) for p in tr.points] == [(t(15, 6, 45), 45.00), (t(15, 7), 45.01)]
    assert [(s.at_ms, s.status, s.flagged) for s in tr.statuses] == [
        (t(15, 6, 30), "available", False), (t(15, 10, 1), "en_route", False),
        (t(15, 10, 8), "on_scene", True), (t(15, 10, 30), "available", False),
        (t(15, 14, 30), "off_duty", False)]
    assert await track(db, "nope", 0, 1) is None
    tr2 = await track_for_shift(db, "s1")
    assert tr2 is not None and (tr2.start_ms, tr2.end_ms) == (t(15, 6), t(15, 14))
    assert len(tr2.statuses) == 4
    assert await track_for_shift(db, "nope") is None
    text = to_csv(tr)
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == TRACK_COLUMNS
    assert [ln[2] for ln in lines[1:]] == ["status", "position", "position", "status", "status",
                                           "status", "status"]


async def test_csv_of_every_report(db: Database) -> None:
    await load(db)
    rep = await response_times(db, "/SM/", WEEK_START, WEEK_END, "station", 15)
    lines = list(csv.reader(io.StringIO(to_csv(rep))))
    assert tuple(lines[0]) == RESPONSE_COLUMNS
    assert [ln[1] for ln in lines[1:]] == ["SM-IN", "SM-RU", "ALL"]
    row = dict(zip(lines[0], lines[-1]))
    assert row["call_to_arrival_median_ms"] == str(16 * M) and row["share_within_target"] == "0.333333"
    assert row["call_to_arrival_median_min"] == "16.0", "minutes for people beside the milliseconds"
    assert row["call_to_action_median_ms"] == str(9 * M)
    units = await availability_timeline(db, "/SM/", DAY_START, DAY_END)
    lines = list(csv.reader(io.StringIO(to_csv(units))))
    assert tuple(lines[0]) == TIMELINE_COLUMNS
    shift_col = TIMELINE_COLUMNS.index("shift_id")
    assert (lines[1][1], lines[1][3], lines[1][shift_col]) == ("IN-1", "planned", "s4")
    duration = TIMELINE_COLUMNS.index("duration_min")
    assert float(lines[1][duration]) == round(int(lines[1][duration - 1]) / 60_000, 1)
    assert lines[2][3] == "actual" and lines[2][TIMELINE_COLUMNS.index("state")] == "unknown"
    assert lines[2][6] == "2025-01-15T00:00:00+01:00"
    assert sum(1 for ln in lines if ln[3] == "gap") == 4
    dem = await demand_vs_coverage(db, "/SM/", WEEK_START, WEEK_END)
    lines = list(csv.reader(io.StringIO(to_csv(dem))))
    assert tuple(lines[0]) == DEMAND_COLUMNS and len(lines) == 1 + 3 * 168
    assert to_csv([]).splitlines() == [",".join(TIMELINE_COLUMNS)]
    with pytest.raises(TypeError):
        to_csv(42)  # type: ignore[arg-type]
    # every report is JSON-encodable as it is
    for rep_ in (rep, units, dem):
        assert msgspec.json.decode(msgspec.json.encode(rep_))
