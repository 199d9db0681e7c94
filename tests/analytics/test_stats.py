"""Percentiles, shares and local-time grouping."""

from __future__ import annotations

from datetime import datetime

import pytest

from server.analytics.intervals import INTERVALS, IncidentIntervals
from server.analytics.stats import (
    TZ,
    IncidentFacts,
    build_rows,
    hour_of_week,
    iso_week,
    local_hour,
    local_hours,
    local_weekday,
    median,
    percentile,
    share_within,
    summarize,
    weeks_between,
)


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=TZ).timestamp() * 1000)


def test_nearest_rank_percentiles():
    vals = [15, 20, 35, 40, 50]
    assert percentile(vals, 5) == 15
    assert percentile(vals, 30) == 20
    assert percentile(vals, 40) == 20
    assert percentile(vals, 50) == 35
    assert percentile(vals, 100) == 50
    assert percentile(vals, 0) == 15
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile(list(range(1, 12)), 90) == 10  # ceil(9.9) = 10


def test_median_even_count_is_lower_middle_and_unsorted_input():
    assert median([4, 1, 3, 2]) == 2
    assert median([7]) == 7
    assert percentile([7], 90) == 7


def test_empty_and_ties():
    assert median([]) is None and percentile([], 90) is None
    assert median([5, 5, 5, 9]) == 5
    assert percentile([5, 5, 5, 9], 90) == 9
    assert percentile([5, 5, 5, 9], 75) == 5


def test_percentile_range_checked():
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_share_within_target_counts_boundary_as_met():
    assert share_within([60, 120, 180, 240], 180) == (3, 4, 0.75)
    assert share_within([], 10) == (0, 0, None)


def test_local_time_in_belgrade_with_dst():
    winter = ms(2025, 1, 15, 0, 30)   # Wednesday, UTC+1
    summer = ms(2025, 7, 6, 23, 10)   # Sunday, UTC+2
    assert local_hour(winter) == 0 and local_weekday(winter) == 3
    assert local_hour(summer) == 23 and local_weekday(summer) == 7
    assert hour_of_week(winter) == 2 * 24 + 0
    assert hour_of_week(summer) == 167
    # 2025-01-14 23:30 UTC is already Wednesday 00:30 in Belgrade
    assert local_weekday(winter) == 3
    assert iso_week(ms(2025, 1, 1, 12)) == "2025-W01"
    assert iso_week(ms(2024, 12, 29, 23, 59)) == "2024-W52"


def test_dst_day_has_23_local_hours():
    hours = list(local_hours(ms(2025, 3, 30), ms(2025, 3, 31)))
    assert len(hours) == 23
    assert [h for _, h in hours][:3] == [6 * 24 + 0, 6 * 24 + 1, 6 * 24 + 3]


def test_weeks_between():
    assert weeks_between(ms(2025, 1, 1), ms(2025, 1, 21)) == ["2025-W01", "2025-W02", "2025-W03", "2025-W04"]
    assert weeks_between(ms(2025, 1, 6), ms(2025, 1, 13)) == ["2025-W02"]


def _iv(i: str, arrival: int | None, **kw) -> IncidentIntervals:
    return IncidentIntervals(incident_id=i, call_to_arrival=arrival, **kw)


def test_summarize_counts_missing_invalid_corrected():
    items = [
        _iv("1", 5 * 60_000),
        _iv("2", 10 * 60_000, corrected=frozenset({"call_to_arrival"})),
        _iv("3", 20 * 60_000, late=frozenset({"call_to_arrival"})),
        _iv("4", None, missing=frozenset({"call_to_arrival"})),
        _iv("5", None, invalid=frozenset({"call_to_arrival"})),
    ]
    row = summarize("k", "K", items, target_ms=15 * 60_000)
    s = row.interval("call_to_arrival")
    assert (s.n, s.median_ms, s.p90_ms, s.missing, s.invalid, s.corrected, s.late) == (
        3, 10 * 60_000, 20 * 60_000, 1, 1, 1, 1)
    assert (row.incidents, row.within_target, row.target_n, row.share_within_target) == (5, 2, 3, 0.666667)
    assert [x.interval for x in row.intervals] == list(INTERVALS)


def test_empty_group_has_no_figures():
    row = summarize("k", "K", [], target_ms=1)
    assert row.incidents == 0 and row.share_within_target is None
    assert all(s.n == 0 and s.median_ms is None and s.p90_ms is None for s in row.intervals)


def _fact(i: str, at: int, arrival: int, **kw) -> IncidentFacts:
    base = {"org_unit_code": "SM-RU", "org_unit_name": "PS Ruma", "type": "theft", "priority": 2}
    base.update(kw)
    return IncidentFacts(incident_id=i, call_received_at=at, intervals=_iv(i, arrival), **base)


def test_build_rows_hour_keeps_empty_hours_and_uses_local_time():
    facts = [_fact("1", ms(2025, 1, 15, 0, 30), 600_000), _fact("2", ms(2025, 1, 15, 0, 50), 1_200_000),
             _fact("3", ms(2025, 1, 15, 13, 5), 300_000)]
    rows, total = build_rows(facts, "hour", 900_000, start_ms=ms(2025, 1, 15), end_ms=ms(2025, 1, 16))
    assert [r.key for r in rows] == [f"{h:02d}" for h in range(24)]
    assert rows[0].incidents == 2 and rows[0].interval("call_to_arrival").median_ms == 600_000
    assert rows[13].incidents == 1 and rows[1].incidents == 0
    assert total.incidents == 3 and total.within_target == 2


def test_build_rows_station_priority_weekday_type():
    facts = [_fact("1", ms(2025, 1, 13, 9), 1, org_unit_code="SM-IN", org_unit_name="PS Inđija", priority=1),
             _fact("2", ms(2025, 1, 14, 9), 2, type="fight")]
    kw = {"start_ms": ms(2025, 1, 13), "end_ms": ms(2025, 1, 20)}
    rows, _ = build_rows(facts, "station", 10, stations=[("SM-RU", "PS Ruma"), ("SM-SID", "SGP Šid")], **kw)
    assert [(r.key, r.label, r.incidents) for r in rows] == [
        ("SM-IN", "PS Inđija", 1), ("SM-RU", "PS Ruma", 1), ("SM-SID", "SGP Šid", 0)]
    rows, _ = build_rows(facts, "priority", 10, priorities=[1, 3], **kw)
    assert [(r.key, r.incidents) for r in rows] == [("1", 1), ("2", 1), ("3", 0)]
    rows, _ = build_rows(facts, "weekday", 10, **kw)
    assert [r.incidents for r in rows] == [1, 1, 0, 0, 0, 0, 0] and rows[0].label == "Mon"
    rows, _ = build_rows(facts, "type", 10, labels=str.upper, **kw)
    assert [(r.key, r.label) for r in rows] == [("fight", "FIGHT"), ("theft", "THEFT")]
    rows, _ = build_rows(facts, "week", 10, **kw)
    assert [(r.key, r.incidents) for r in rows] == [("2025-W03", 2)]
    with pytest.raises(ValueError):
        build_rows(facts, "nope", 10, **kw)  # type: ignore[arg-type]
