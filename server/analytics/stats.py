"""Summary statistics and grouping for response times. Pure: no I/O.

Percentiles: the **nearest-rank** method
    For ``n`` sorted values ``x[1] <= … <= x[n]`` and ``0 < p <= 100`` the
    p-th percentile is ``x[ceil(p/100 · n)]``; for ``p = 0`` it is ``x[1]``.
    The median is the 50th percentile by the same rule, so for an even ``n``
    it is the *lower* of the two middle values (not their mean). The result
    is always an observed value (whole milliseconds), computed with exact
    integer arithmetic in Python on the fetched intervals, so SQLite and
    PostgreSQL give identical figures. An empty group has no percentiles
    (``None``).

Share within target
    ``within / n`` where ``within`` counts values ``<= target`` (a response
    exactly on the target meets it) and ``n`` counts valid values; ``None``
    when ``n == 0``. Missing and invalid intervals are not in ``n``.

Local time
    Hour of day, weekday and week are taken in Europe/Belgrade time
    (:data:`TZ`), DST included. Weekday is ISO (1 = Monday … 7 = Sunday);
    a week is an ISO week, keyed ``YYYY-Www`` and starting Monday 00:00 local.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import msgspec

from .intervals import INTERVALS, IncidentIntervals
from .models import GroupBy, IntervalStats, ResponseRow

TZ = ZoneInfo("Europe/Belgrade")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def percentile(values: Sequence[int], p: float) -> int | None:
    """Nearest-rank percentile of ``values`` (need not be sorted); ``None`` if empty."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    rank = math.ceil(Fraction(str(p)) * n / 100)
    return ordered[max(rank, 1) - 1]


def median(values: Sequence[int]) -> int | None:
    """The nearest-rank 50th percentile: the lower middle value for even ``n``."""
    return percentile(values, 50)


def share_within(values: Iterable[int], target: int) -> tuple[int, int, float | None]:
    """``(within, n, share)`` with ``within`` = values ``<= target``."""
    n = 0
    within = 0
    for v in values:
        n += 1
        if v <= target:
            within += 1
    return within, n, (round(within / n, 6) if n else None)


def local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(TZ)


def local_hour(ms: int) -> int:
    return local(ms).hour


def local_weekday(ms: int) -> int:
    """ISO weekday in Belgrade: 1 = Monday … 7 = Sunday."""
    return local(ms).isoweekday()


def hour_of_week(ms: int) -> int:
    """0 = Monday 00:00–00:59 local … 167 = Sunday 23:00–23:59 local."""
    d = local(ms)
    return (d.isoweekday() - 1) * 24 + d.hour


def iso_week(ms: int) -> str:
    y, w, _ = local(ms).isocalendar()
    return f"{y}-W{w:02d}"


def week_start_ms(ms: int) -> int:
    """Monday 00:00 Belgrade time of the ISO week containing ``ms``."""
    d = local(ms)
    monday = (d - timedelta(days=d.isoweekday() - 1)).date()
    start = datetime(monday.year, monday.month, monday.day, tzinfo=TZ)
    return int(start.timestamp() * 1000)


def weeks_between(start_ms: int, end_ms: int) -> list[str]:
    """Every ISO week key touched by ``[start_ms, end_ms)``, in order."""
    if end_ms <= start_ms:
        return []
    keys: list[str] = []
    cursor = week_start_ms(start_ms)
    while cursor < end_ms:
        keys.append(iso_week(cursor))
        d = local(cursor).date() + timedelta(days=7)
        cursor = int(datetime(d.year, d.month, d.day, tzinfo=TZ).timestamp() * 1000)
    return keys


def local_hours(start_ms: int, end_ms: int) -> Iterable[tuple[int, int]]:
    """The clock hours overlapping ``[start_ms, end_ms)`` as ``(hour_start_ms, hour_of_week)``.

    Belgrade's offset is always whole hours, so local hours start on UTC hour
    boundaries; a DST day simply has 23 or 25 of them.
    """
    hour = 3_600_000
    cursor = start_ms - start_ms % hour
    while cursor < end_ms:
        yield cursor, hour_of_week(cursor)
        cursor += hour


# --------------------------------------------------------------------------- grouping


PERCENTILE_METHOD = "nearest-rank"
GROUP_BYS: tuple[str, ...] = ("station", "hour", "weekday", "type", "priority", "week")


class IncidentFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What grouping needs to know about one incident, plus its intervals."""

    incident_id: str
    org_unit_code: str
    org_unit_name: str
    call_received_at: int
    type: str
    priority: int
    intervals: IncidentIntervals


def interval_stats(name: str, items: Sequence[IncidentIntervals]) -> IntervalStats:
    values = [v for it in items if (v := it.value(name)) is not None]
    return IntervalStats(
        interval=name,
        n=len(values),
        median_ms=median(values),
        p90_ms=percentile(values, 90),
        missing=sum(1 for it in items if name in it.missing),
        invalid=sum(1 for it in items if name in it.invalid),
        corrected=sum(1 for it in items if name in it.corrected),
        late=sum(1 for it in items if name in it.late),
    )


def summarize(key: str, label: str, items: Sequence[IncidentIntervals], target_ms: int,
              target_interval: str = "call_to_arrival") -> ResponseRow:
    """One report row: every interval's statistics and the share within target."""
    if target_interval not in INTERVALS:
        raise ValueError(f"unknown interval {target_interval!r}")
    targets = [v for it in items if (v := it.value(target_interval)) is not None]
    within, n, share = share_within(targets, target_ms)
    return ResponseRow(
        key=key, label=label, incidents=len(items),
        intervals=[interval_stats(name, items) for name in INTERVALS],
        target_interval=target_interval, within_target=within, target_n=n,
        share_within_target=share,
    )


def _week_label(key: str) -> str:
    year, week = key.split("-W")
    monday = datetime.fromisocalendar(int(year), int(week), 1).date()
    return f"{key} ({monday.isoformat()})"


def group_key(f: IncidentFacts, group_by: GroupBy) -> str:
    if group_by == "station":
        return f.org_unit_code
    if group_by == "hour":
        return f"{local_hour(f.call_received_at):02d}"
    if group_by == "weekday":
        return str(local_weekday(f.call_received_at))
    if group_by == "type":
        return f.type
    if group_by == "priority":
        return str(f.priority)
    if group_by == "week":
        return iso_week(f.call_received_at)
    raise ValueError(f"group_by must be one of {', '.join(GROUP_BYS)}; got {group_by!r}")


def preset_groups(group_by: GroupBy, *, start_ms: int, end_ms: int,
                  stations: Sequence[tuple[str, str]] = (),
                  priorities: Sequence[int] | None = None) -> list[tuple[str, str]]:
    """Groups that appear even when empty, as ``(key, label)``, so charts keep
    their axes: all 24 hours, 7 weekdays, the priorities asked for (all four
    by default), every week of the period, every station of the scope."""
    if group_by == "hour":
        return [(f"{h:02d}", f"{h:02d}:00") for h in range(24)]
    if group_by == "weekday":
        return [(str(i + 1), WEEKDAY_NAMES[i]) for i in range(7)]
    if group_by == "priority":
        return [(str(p), f"P{p}") for p in sorted(priorities or (1, 2, 3, 4))]
    if group_by == "week":
        return [(k, _week_label(k)) for k in weeks_between(start_ms, end_ms)]
    if group_by == "station":
        return list(stations)
    return []


def build_rows(facts: Sequence[IncidentFacts], group_by: GroupBy, target_ms: int, *,
               start_ms: int, end_ms: int, stations: Sequence[tuple[str, str]] = (),
               priorities: Sequence[int] | None = None,
               labels: Callable[[str], str] | None = None,
               target_interval: str = "call_to_arrival") -> tuple[list[ResponseRow], ResponseRow]:
    """Group incidents and summarise each group; returns ``(rows, total)``.

    Rows are ordered by key (hours, weekdays, priorities and weeks
    chronologically/numerically, stations and types by code).
    """
    if group_by not in GROUP_BYS:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BYS)}; got {group_by!r}")
    preset = preset_groups(group_by, start_ms=start_ms, end_ms=end_ms, stations=stations,
                           priorities=priorities)
    groups: dict[str, list[IncidentIntervals]] = {k: [] for k, _ in preset}
    names: dict[str, str] = dict(preset)
    for f in facts:
        key = group_key(f, group_by)
        groups.setdefault(key, []).append(f.intervals)
        if key not in names:
            names[key] = f.org_unit_name if group_by == "station" else (
                labels(key) if labels else key)
    sort_key: Callable[[str], object] = (lambda k: int(k)) if group_by in (
        "hour", "weekday", "priority") else (lambda k: k)
    rows = [summarize(k, names[k], groups[k], target_ms, target_interval)
            for k in sorted(groups, key=sort_key)]
    total = summarize("ALL", "All", [f.intervals for f in facts], target_ms, target_interval)
    return rows, total
