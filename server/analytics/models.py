"""Result types of the analytics reports (msgspec Structs, JSON-ready).

All times are integers in milliseconds since the Unix epoch (UTC); all
durations are integers in milliseconds. Local-time groupings use
Europe/Belgrade.
"""

from __future__ import annotations

from typing import Literal

import msgspec

GroupBy = Literal["station", "hour", "weekday", "type", "priority", "week"]
Availability = Literal["available", "committed", "off", "unknown"]


# --------------------------------------------------------------------------- response times

class IntervalStats(msgspec.Struct, kw_only=True):
    """One interval (see :data:`server.analytics.intervals.INTERVALS`) over a group.

    ``n`` valid values; ``median_ms`` / ``p90_ms`` by nearest rank (``None``
    when ``n == 0``); ``missing`` incidents lacked a milestone, ``invalid``
    ones had a negative interval (excluded); ``corrected`` of the ``n`` used a
    time the sync layer clamped; ``late`` of the ``n`` used a time that
    reached the server late from an offline phone.
    """

    interval: str
    n: int
    median_ms: int | None
    p90_ms: int | None
    missing: int
    invalid: int
    corrected: int
    late: int


class ResponseRow(msgspec.Struct, kw_only=True):
    """One group (a station, an hour of day, …) of a response-time report."""

    key: str
    label: str
    incidents: int
    intervals: list[IntervalStats]
    target_interval: str
    within_target: int
    target_n: int
    share_within_target: float | None

    def interval(self, name: str) -> IntervalStats:
        for s in self.intervals:
            if s.interval == name:
                return s
        raise KeyError(name)


class ResponseReport(msgspec.Struct, kw_only=True):
    scope_path: str
    start_ms: int
    end_ms: int
    group_by: GroupBy
    target_min: int
    target_interval: str
    priorities: list[int] | None
    sources: list[str] | None
    include_cancelled: bool
    percentile_method: str
    rows: list[ResponseRow]
    total: ResponseRow


# --------------------------------------------------------------------------- availability

class Segment(msgspec.Struct, kw_only=True):
    start_ms: int
    end_ms: int
    state: Availability
    status: str | None  # the raw unit status (available, en_route, …) or None when unknown


class ShiftBar(msgspec.Struct, kw_only=True):
    shift_id: str
    start_ms: int          # clipped to the window
    end_ms: int
    planned_start_ms: int  # as planned (unclipped)
    planned_end_ms: int
    planned_area: str | None


class Gap(msgspec.Struct, kw_only=True):
    """Planned (inside a shift) but the unit was off duty or unknown: uncovered."""

    start_ms: int
    end_ms: int
    shift_id: str
    state: Availability


class UnitTimeline(msgspec.Struct, kw_only=True):
    unit_id: str
    call_sign: str
    org_unit_id: str
    org_unit_code: str
    planned: list[ShiftBar]
    actual: list[Segment]
    gaps: list[Gap]
    planned_ms: int
    available_ms: int    # available, inside or outside the plan
    committed_ms: int    # en_route / on_scene / busy
    uncovered_ms: int    # sum of gaps
    unplanned_on_duty_ms: int  # on duty (available or committed) outside any shift


# --------------------------------------------------------------------------- demand vs coverage

class HourCell(msgspec.Struct, kw_only=True):
    """One hour of the week in one area, averaged over the period."""

    hour_of_week: int       # 0 = Monday 00h local … 167 = Sunday 23h
    weekday: int            # ISO 1..7
    hour: int               # 0..23 local
    hours_observed: int     # how many such clock hours the period contains
    incidents: int          # total over the period
    incidents_per_hour: float   # incidents / hours_observed
    units_on_duty: float        # average planned units on duty (shift unit-hours / hours_observed)
    demand_per_unit: float | None  # incidents_per_hour / units_on_duty (None when no unit planned)
    flagged: bool           # demand_per_unit > threshold, or incidents with no unit planned
    units_actual: float = 0.0   # average units actually on duty (status other than off duty)


class AreaCoverage(msgspec.Struct, kw_only=True):
    org_unit_id: str | None  # None for the whole scope
    code: str                # "ALL" for the whole scope
    name: str
    incidents: int
    unit_hours: float
    flagged_hours: int
    cells: list[HourCell]
    actual_unit_hours: float = 0.0  # unit-hours actually on duty (from the status history)


class DemandCoverageReport(msgspec.Struct, kw_only=True):
    scope_path: str
    start_ms: int
    end_ms: int
    threshold: float
    overall: AreaCoverage
    areas: list[AreaCoverage]


# --------------------------------------------------------------------------- track

class TrackPoint(msgspec.Struct, kw_only=True):
    at_ms: int            # device time of the fix
    lat: float
    lon: float
    accuracy_m: float | None = None
    heading: float | None = None
    speed_mps: float | None = None


class StatusChange(msgspec.Struct, kw_only=True):
    at_ms: int            # event time (device time corrected by the sync layer)
    status: str
    assignment_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    flagged: bool = False  # the sync layer clamped or flagged the time


class Track(msgspec.Struct, kw_only=True):
    unit_id: str
    call_sign: str
    start_ms: int
    end_ms: int
    initial_status: str | None  # status in force at start_ms (last event before it)
    points: list[TrackPoint]
    statuses: list[StatusChange]
