"""CSV rendering of every report: a header row, one line per row, stable column names.

Times are given twice: ``*_ms`` (epoch ms, UTC) and ``*_local`` (ISO 8601 in
Europe/Belgrade with its offset); durations are whole milliseconds (``*_ms``,
for programs) and minutes with one decimal (``*_min``, for people reading the
sheet). Empty values are empty cells. Lines end with CRLF (RFC 4180, what spreadsheets expect).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from .intervals import INTERVALS
from .models import DemandCoverageReport, ResponseReport, ResponseRow, Track, UnitTimeline
from .stats import local

RESPONSE_COLUMNS: tuple[str, ...] = (
    "group_by", "key", "label", "incidents",
    *[f"{name}_{part}" for name in INTERVALS
      for part in ("n", "median_ms", "p90_ms", "median_min", "p90_min", "missing", "invalid", "corrected",
                   "late")],
    "target_interval", "target_min", "within_target", "target_n", "share_within_target",
)
TIMELINE_COLUMNS: tuple[str, ...] = (
    "unit_id", "call_sign", "org_unit_code", "kind", "start_ms", "end_ms", "start_local",
    "end_local", "duration_ms", "duration_min", "state", "status", "shift_id",
)
DEMAND_COLUMNS: tuple[str, ...] = (
    "area_code", "area_name", "hour_of_week", "weekday", "hour", "hours_observed", "incidents",
    "incidents_per_hour", "units_on_duty", "demand_per_unit", "flagged", "units_actual",
)
TRACK_COLUMNS: tuple[str, ...] = (
    "unit_id", "call_sign", "kind", "at_ms", "at_local", "lat", "lon", "accuracy_m", "heading",
    "speed_mps", "status", "assignment_id", "flagged",
)


def _min(ms: int | float | None) -> float | None:
    """Milliseconds as minutes with one decimal (spreadsheets read these; 16.5, not 990000)."""
    return None if ms is None else round(ms / 60_000, 1)


def _iso(ms: int | None) -> str:
    return "" if ms is None else local(ms).isoformat(timespec="seconds")


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    return v


def _render(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for row in rows:
        w.writerow([_cell(v) for v in row])
    return buf.getvalue()


def _response_line(report: ResponseReport, row: ResponseRow) -> list[Any]:
    out: list[Any] = [report.group_by, row.key, row.label, row.incidents]
    for s in row.intervals:
        out += [s.n, s.median_ms, s.p90_ms, _min(s.median_ms), _min(s.p90_ms), s.missing, s.invalid, s.corrected,
                s.late]
    out += [row.target_interval, report.target_min, row.within_target, row.target_n,
            row.share_within_target]
    return out


def response_csv(report: ResponseReport) -> str:
    """One line per group, then the ``ALL`` total line."""
    return _render(RESPONSE_COLUMNS,
                   [_response_line(report, r) for r in [*report.rows, report.total]])


def timeline_csv(units: Sequence[UnitTimeline]) -> str:
    """One line per planned bar (kind ``planned``), actual segment (``actual``) and gap (``gap``)."""
    lines: list[list[Any]] = []
    for u in units:
        head = [u.unit_id, u.call_sign, u.org_unit_code]
        for b in u.planned:
            lines.append([*head, "planned", b.start_ms, b.end_ms, _iso(b.start_ms), _iso(b.end_ms),
                          b.end_ms - b.start_ms, _min(b.end_ms - b.start_ms), "", "", b.shift_id])
        for s in u.actual:
            lines.append([*head, "actual", s.start_ms, s.end_ms, _iso(s.start_ms), _iso(s.end_ms),
                          s.end_ms - s.start_ms, _min(s.end_ms - s.start_ms), s.state, s.status, ""])
        for g in u.gaps:
            lines.append([*head, "gap", g.start_ms, g.end_ms, _iso(g.start_ms), _iso(g.end_ms),
                          g.end_ms - g.start_ms, _min(g.end_ms - g.start_ms), g.state, "", g.shift_id])
    return _render(TIMELINE_COLUMNS, lines)


def demand_csv(report: DemandCoverageReport) -> str:
    """168 lines for the whole scope (area ``ALL``), then 168 per area."""
    lines = []
    for area in [report.overall, *report.areas]:
        for c in area.cells:
            lines.append([area.code, area.name, c.hour_of_week, c.weekday, c.hour, c.hours_observed,
                          c.incidents, c.incidents_per_hour, c.units_on_duty, c.demand_per_unit,
                          c.flagged, c.units_actual])
    return _render(DEMAND_COLUMNS, lines)


def track_csv(t: Track) -> str:
    """Positions (kind ``position``) and status changes (kind ``status``) merged in time order
    (a status change sorts before a position at the same millisecond)."""
    lines: list[tuple[int, int, list[Any]]] = []
    head = [t.unit_id, t.call_sign]
    for p in t.points:
        lines.append((p.at_ms, 1, [*head, "position", p.at_ms, _iso(p.at_ms), p.lat, p.lon,
                                   p.accuracy_m, p.heading, p.speed_mps, "", "", ""]))
    for s in t.statuses:
        lines.append((s.at_ms, 0, [*head, "status", s.at_ms, _iso(s.at_ms), s.lat, s.lon,
                                   "", "", "", s.status, s.assignment_id, s.flagged]))
    lines.sort(key=lambda x: (x[0], x[1]))
    return _render(TRACK_COLUMNS, [line for _, _, line in lines])


def to_csv(report: ResponseReport | DemandCoverageReport | Track | Sequence[UnitTimeline]) -> str:
    """CSV for any report this package returns (availability: the list of timelines)."""
    if isinstance(report, ResponseReport):
        return response_csv(report)
    if isinstance(report, DemandCoverageReport):
        return demand_csv(report)
    if isinstance(report, Track):
        return track_csv(report)
    if isinstance(report, (list, tuple)) and all(isinstance(u, UnitTimeline) for u in report):
        return timeline_csv(report)
    raise TypeError(f"no CSV form for {type(report).__name__}")
