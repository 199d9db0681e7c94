"""Analytics reports: portable SQL that fetches rows, then the pure functions.

Every query runs in one ``db.read()`` snapshot, uses only SQL that SQLite and
PostgreSQL both understand, and leaves all arithmetic that could differ
between them (percentiles, local time, averages) to Python, so both
databases give the same numbers.

Scope: an org-unit path such as ``/SM/`` or ``/SM/SM-RU/``; a report covers
the org units whose ``path`` starts with it (``LIKE scope || '%'`` with
wildcards escaped, re-checked case-sensitively in Python because SQLite's
LIKE ignores ASCII case). Periods are half-open ``[start_ms, end_ms)``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sync.store import Database, Row, Tx

from .intervals import (
    INTERVALS,
    AssignmentTimes,
    IncidentTimeline,
    assignment_from_row,
    compute_intervals,
)
from .models import (
    AreaCoverage,
    Availability,
    DemandCoverageReport,
    Gap,
    GroupBy,
    HourCell,
    ResponseReport,
    Segment,
    ShiftBar,
    StatusChange,
    Track,
    TrackPoint,
    UnitTimeline,
)
from .stats import (
    GROUP_BYS,
    PERCENTILE_METHOD,
    IncidentFacts,
    build_rows,
    hour_of_week,
    local_hours,
)
from .tabular import to_csv

__all__ = [
    "CALL_SOURCES",
    "availability_timeline",
    "demand_vs_coverage",
    "resolve_scope",
    "response_times",
    "to_csv",
    "track",
    "track_for_shift",
]

#: Incident sources that are citizens' calls (``patrol`` = self-initiated by a unit, no call).
CALL_SOURCES: tuple[str, ...] = ("112", "113", "other")

HOUR_MS = 3_600_000


# --------------------------------------------------------------------------- scope helpers

def _norm_scope(scope_path: str) -> str:
    if not scope_path or not scope_path.startswith("/"):
        raise ValueError(f"a scope is an org-unit path like '/SM/'; got {scope_path!r}")
    return scope_path if scope_path.endswith("/") else scope_path + "/"


def _like_prefix(scope_path: str) -> str:
    escaped = scope_path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


_IN_SCOPE = "o.path LIKE $1 ESCAPE '\\'"
# Driving by org-unit ids (IN) lets both planners use the composite indexes
# (org_unit_id, time) / (unit_id, time) instead of scanning the big tables:
# SQLite without ANALYZE would otherwise start from them.
_ORG_IDS = "(SELECT so.id FROM org_units so WHERE so.path LIKE $1 ESCAPE '\\')"
_UNIT_IDS = f"(SELECT su.id FROM units su WHERE su.org_unit_id IN {_ORG_IDS})"


def _placeholders(start: int, count: int) -> str:
    return ", ".join(f"${i}" for i in range(start, start + count))


async def _org_units(tx: Tx, scope_path: str) -> list[Row]:
    rows = await tx.fetch(
        f"SELECT o.id, o.code, o.name, o.kind, o.path FROM org_units o WHERE {_IN_SCOPE}",
        _like_prefix(scope_path),
    )
    # Ordered in Python: PostgreSQL's collation may order text differently from SQLite.
    return sorted((r for r in rows if r["path"].startswith(scope_path)), key=lambda r: r["path"])


async def resolve_scope(db: Database, org_unit_id_or_scope: str) -> str:
    """An org-unit path from either a path (``/SM/…``) or an org unit id."""
    if org_unit_id_or_scope.startswith("/"):
        return _norm_scope(org_unit_id_or_scope)
    async with db.read() as tx:
        path = await tx.fetchval("SELECT path FROM org_units WHERE id = $1", org_unit_id_or_scope)
    if path is None:
        raise LookupError(f"no org unit {org_unit_id_or_scope!r}")
    return path


def _check_period(start_ms: int, end_ms: int) -> None:
    if end_ms <= start_ms:
        raise ValueError("the period is empty: end must be after start")


# --------------------------------------------------------------------------- response times

async def fetch_incident_facts(
    tx: Tx, scope_path: str, start_ms: int, end_ms: int, *,
    priorities: Sequence[int] | None = None, sources: Sequence[str] | None = CALL_SOURCES,
    include_cancelled: bool = False,
) -> list[IncidentFacts]:
    """Incidents of the scope whose call was received in ``[start_ms, end_ms)``,
    with their assignments turned into intervals."""
    where = [f"i.org_unit_id IN {_ORG_IDS}", "i.call_received_at >= $2", "i.call_received_at < $3"]
    args: list[Any] = [_like_prefix(scope_path), start_ms, end_ms]
    if not include_cancelled:
        where.append("i.state <> 'cancelled'")
    if priorities is not None:
        if not priorities:
            return []
        where.append(f"i.priority IN ({_placeholders(len(args) + 1, len(priorities))})")
        args.extend(int(p) for p in priorities)
    if sources is not None:
        if not sources:
            return []
        where.append(f"i.source IN ({_placeholders(len(args) + 1, len(sources))})")
        args.extend(sources)
    cond = " AND ".join(where)
    incidents = await tx.fetch(
        "SELECT i.id, i.call_received_at, i.type, i.priority, o.code, o.name, o.path"
        " FROM incidents i JOIN org_units o ON o.id = i.org_unit_id"
        f" WHERE {cond}", *args,
    )
    assignments = await tx.fetch(
        "SELECT a.id, a.incident_id, a.unit_id, a.state, a.assigned_at, a.acknowledged_at,"
        " a.en_route_at, a.on_scene_at, a.action_at, a.cleared_at, a.flags"
        " FROM assignments a JOIN incidents i ON i.id = a.incident_id"
        f" WHERE {cond}", *args,
    )
    by_incident: dict[str, list[AssignmentTimes]] = {}
    for a in assignments:
        by_incident.setdefault(a["incident_id"], []).append(assignment_from_row(a))
    facts = []
    for i in incidents:
        if not i["path"].startswith(scope_path):
            continue
        timeline = IncidentTimeline(
            incident_id=i["id"], call_received_at=int(i["call_received_at"]),
            assignments=tuple(by_incident.get(i["id"], ())),
        )
        facts.append(IncidentFacts(
            incident_id=i["id"], org_unit_code=i["code"], org_unit_name=i["name"],
            call_received_at=int(i["call_received_at"]), type=i["type"], priority=int(i["priority"]),
            intervals=compute_intervals(timeline),
        ))
    facts.sort(key=lambda f: (f.call_received_at, f.incident_id))
    return facts


def _label_from_json(labels: str | None, code: str, locale: str) -> str:
    try:
        data = json.loads(labels or "{}")
    except ValueError:
        return code
    if not isinstance(data, dict):
        return code
    return str(data.get(locale) or data.get("en") or code)


async def response_times(
    db: Database, scope_path: str, start_ms: int, end_ms: int,
    group_by: GroupBy = "station", target_min: int = 15,
    priorities: list[int] | None = None, *,
    sources: Sequence[str] | None = CALL_SOURCES,
    include_cancelled: bool = False,
    target_interval: str = "call_to_arrival",
    locale: str = "en",
) -> ResponseReport:
    """Response-time report for a scope and period, grouped by ``group_by``.

    Each row has, for every interval of :data:`~server.analytics.intervals.INTERVALS`,
    ``n``, median and p90 (nearest rank, ms) and the counts of missing,
    invalid, corrected and late values, plus the share of ``target_interval``
    (default call→arrival) within ``target_min`` minutes.

    * ``priorities``: only these priorities (``None`` = all).
    * ``sources``: incident sources counted; by default citizens' calls only
      (:data:`CALL_SOURCES`: 112, 113, other) because self-initiated
      ``patrol`` incidents have no call to respond to. ``None`` = all.
    * Cancelled incidents are left out unless ``include_cancelled``.
    * Incidents belong to the period by ``call_received_at``.
    """
    scope_path = _norm_scope(scope_path)
    _check_period(start_ms, end_ms)
    if group_by not in GROUP_BYS:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BYS)}; got {group_by!r}")
    if target_min < 0:
        raise ValueError("target_min must not be negative")
    if target_interval not in INTERVALS:
        raise ValueError(f"target_interval must be one of {', '.join(INTERVALS)}")
    async with db.read() as tx:
        facts = await fetch_incident_facts(
            tx, scope_path, start_ms, end_ms, priorities=priorities, sources=sources,
            include_cancelled=include_cancelled,
        )
        stations: list[tuple[str, str]] = []
        type_labels: dict[str, str] = {}
        if group_by == "station":
            stations = [(o["code"], o["name"]) for o in await _org_units(tx, scope_path)
                        if o["kind"] in ("station", "border_centre")]
        elif group_by == "type":
            for t in await tx.fetch("SELECT code, labels FROM incident_types"):
                type_labels[t["code"]] = _label_from_json(t["labels"], t["code"], locale)
    rows, total = build_rows(
        facts, group_by, target_min * 60_000, start_ms=start_ms, end_ms=end_ms,
        stations=stations, priorities=priorities,
        labels=lambda code: type_labels.get(code, code), target_interval=target_interval,
    )
    return ResponseReport(
        scope_path=scope_path, start_ms=start_ms, end_ms=end_ms, group_by=group_by,
        target_min=target_min, target_interval=target_interval,
        priorities=sorted(priorities) if priorities is not None else None,
        sources=list(sources) if sources is not None else None,
        include_cancelled=include_cancelled, percentile_method=PERCENTILE_METHOD,
        rows=rows, total=total,
    )


# --------------------------------------------------------------------------- availability

_STATE_OF: dict[str, Availability] = {
    "available": "available",
    "en_route": "committed",
    "on_scene": "committed",
    "busy": "committed",
    "emergency": "committed",
    "off_duty": "off",
}


def availability_of(status: str | None) -> Availability:
    """available → available; en_route / on_scene / busy (and emergency or any
    other working status) → committed; off_duty → off; no status → unknown."""
    if status is None:
        return "unknown"
    return _STATE_OF.get(status.lower(), "committed")


def _segments(initial: str | None, events: Sequence[Row], start: int, end: int) -> list[Segment]:
    """Status segments over ``[start, end)``; consecutive equal statuses merge."""
    out: list[Segment] = []
    cursor, status = start, initial

    def emit(until: int) -> None:
        if until <= cursor:
            return
        if out and out[-1].status == status and out[-1].end_ms == cursor:
            out[-1].end_ms = until
        else:
            out.append(Segment(start_ms=cursor, end_ms=until, state=availability_of(status),
                               status=status))

    for ev in events:
        t = int(ev["event_at"])
        emit(t)
        cursor = max(cursor, t)
        status = ev["status"]
    emit(end)
    return out


def _union(intervals: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Merge overlapping ``(start, end, tag)`` intervals (the first tag wins)."""
    merged: list[list[Any]] = []
    for s, e, tag in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e, tag])
    return [(s, e, t) for s, e, t in merged]


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def build_unit_timeline(unit: Row, shifts: Sequence[Row], initial: str | None,
                        events: Sequence[Row], start: int, end: int) -> UnitTimeline:
    """Pure: one unit's planned bars, actual segments, gaps and totals."""
    planned = [
        ShiftBar(shift_id=s["id"], start_ms=max(start, int(s["starts_at"])),
                 end_ms=min(end, int(s["ends_at"])), planned_start_ms=int(s["starts_at"]),
                 planned_end_ms=int(s["ends_at"]), planned_area=s.get("planned_area"))
        for s in sorted(shifts, key=lambda s: (s["starts_at"], s["id"]))
    ]
    actual = _segments(initial, events, start, end)
    plan_union = _union([(b.start_ms, b.end_ms, b.shift_id) for b in planned if b.end_ms > b.start_ms])
    gaps: list[Gap] = []
    for p0, p1, shift_id in plan_union:
        for seg in actual:
            if seg.state not in ("off", "unknown"):
                continue
            g0, g1 = max(p0, seg.start_ms), min(p1, seg.end_ms)
            if g1 > g0:
                if gaps and gaps[-1].end_ms == g0 and gaps[-1].state == seg.state:
                    gaps[-1].end_ms = g1
                else:
                    gaps.append(Gap(start_ms=g0, end_ms=g1, shift_id=shift_id, state=seg.state))
    on_duty = [seg for seg in actual if seg.state in ("available", "committed")]
    on_duty_total = sum(seg.end_ms - seg.start_ms for seg in on_duty)
    on_duty_planned = sum(_overlap(seg.start_ms, seg.end_ms, p0, p1)
                          for seg in on_duty for p0, p1, _ in plan_union)
    return UnitTimeline(
        unit_id=unit["id"], call_sign=unit["call_sign"], org_unit_id=unit["org_unit_id"],
        org_unit_code=unit["code"], planned=planned, actual=actual, gaps=gaps,
        planned_ms=sum(p1 - p0 for p0, p1, _ in plan_union),
        available_ms=sum(s.end_ms - s.start_ms for s in actual if s.state == "available"),
        committed_ms=sum(s.end_ms - s.start_ms for s in actual if s.state == "committed"),
        uncovered_ms=sum(g.end_ms - g.start_ms for g in gaps),
        unplanned_on_duty_ms=on_duty_total - on_duty_planned,
    )


def _event_order(ev: Row) -> tuple[int, str, str]:
    return (int(ev["event_at"]), ev.get("hlc") or "", ev["id"])


async def _status_history(tx: Tx, like: str, start_ms: int, end_ms: int
                          ) -> tuple[dict[str, list[Row]], dict[str, Row]]:
    """Status events of the scope's units in ``[start_ms, end_ms)`` by unit, in event
    order (ties by HLC), and per unit the last event before the window."""
    events = await tx.fetch(
        "SELECT e.id, e.unit_id, e.status, e.event_at, e.hlc FROM unit_status_events e"
        f" WHERE e.unit_id IN {_UNIT_IDS} AND e.event_at >= $2 AND e.event_at < $3",
        like, start_ms, end_ms,
    )
    # The last event before the window, per unit: one index probe each.
    before = await tx.fetch(
        "SELECT e.id, e.unit_id, e.status, e.event_at, e.hlc FROM unit_status_events e"
        " JOIN (SELECT su.id AS uid, (SELECT MAX(e2.event_at) FROM unit_status_events e2"
        "        WHERE e2.unit_id = su.id AND e2.event_at < $2) AS last_at"
        f"       FROM units su WHERE su.org_unit_id IN {_ORG_IDS}) lu"
        " ON e.unit_id = lu.uid AND e.event_at = lu.last_at",
        like, start_ms,
    )
    events_by: dict[str, list[Row]] = {}
    for e in sorted(events, key=_event_order):
        events_by.setdefault(e["unit_id"], []).append(e)
    initial: dict[str, Row] = {}
    for e in sorted(before, key=_event_order):
        initial[e["unit_id"]] = e  # the last one wins
    return events_by, initial


async def availability_timeline(db: Database, org_unit_id_or_scope: str,
                                day_start_ms: int, day_end_ms: int) -> list[UnitTimeline]:
    """Per unit of the scope: planned shift bars and the actual status over
    ``[day_start_ms, day_end_ms)``.

    * Actual status comes from ``unit_status_events`` ordered by ``event_at``
      (ties by HLC, then id); the state at the window start is the last event
      before it (``unknown`` if there is none).
    * States: available; committed (en_route, on_scene, busy, any other
      working status); off (off_duty); unknown.
    * Gaps: time inside a planned shift when the unit was off or unknown --
      planned but not on duty, i.e. uncovered. Committed time is covered
      (the unit is working), though not available for new calls.
    * Units listed: active units of the scope and any unit with a shift or an
      event in the window; ordered by call sign.
    """
    _check_period(day_start_ms, day_end_ms)
    scope_path = await resolve_scope(db, org_unit_id_or_scope)
    like = _like_prefix(scope_path)
    async with db.read() as tx:
        units = await tx.fetch(
            "SELECT u.id, u.call_sign, u.org_unit_id, u.active, o.code, o.path"
            f" FROM units u JOIN org_units o ON o.id = u.org_unit_id WHERE {_IN_SCOPE}", like,
        )
        shifts = await tx.fetch(
            "SELECT s.id, s.unit_id, s.starts_at, s.ends_at, s.planned_area FROM shifts s"
            f" WHERE s.unit_id IN {_UNIT_IDS} AND s.starts_at < $3 AND s.ends_at > $2",
            like, day_start_ms, day_end_ms,
        )
        events_by, initial = await _status_history(tx, like, day_start_ms, day_end_ms)
    shifts_by: dict[str, list[Row]] = {}
    for s in shifts:
        shifts_by.setdefault(s["unit_id"], []).append(s)
    out = []
    for u in sorted(units, key=lambda u: (u["call_sign"], u["id"])):
        if not u["path"].startswith(scope_path):
            continue
        uid = u["id"]
        if not (u["active"] or uid in shifts_by or uid in events_by):
            continue
        init = initial.get(uid)
        out.append(build_unit_timeline(
            u, shifts_by.get(uid, []), init["status"] if init else None,
            events_by.get(uid, []), day_start_ms, day_end_ms,
        ))
    return out


# --------------------------------------------------------------------------- demand vs coverage

class _Acc:
    __slots__ = ("actual_ms", "hours", "incidents", "unit_ms")

    def __init__(self) -> None:
        self.incidents = [0] * 168
        self.unit_ms = [0] * 168
        self.actual_ms = [0] * 168
        self.hours = [0] * 168


def _area(acc: _Acc, hours: list[int], threshold: float, org_unit_id: str | None,
          code: str, name: str) -> AreaCoverage:
    cells = []
    for h in range(168):
        observed = hours[h]
        inc = acc.incidents[h]
        per_hour = inc / observed if observed else 0.0
        units = acc.unit_ms[h] / HOUR_MS / observed if observed else 0.0
        actual = acc.actual_ms[h] / HOUR_MS / observed if observed else 0.0
        per_unit = per_hour / units if units > 0 else None
        flagged = (per_unit is not None and per_unit > threshold) or (per_unit is None and inc > 0)
        cells.append(HourCell(
            hour_of_week=h, weekday=h // 24 + 1, hour=h % 24, hours_observed=observed,
            incidents=inc, incidents_per_hour=round(per_hour, 4), units_on_duty=round(units, 4),
            demand_per_unit=round(per_unit, 4) if per_unit is not None else None, flagged=flagged,
            units_actual=round(actual, 4),
        ))
    return AreaCoverage(
        org_unit_id=org_unit_id, code=code, name=name, incidents=sum(acc.incidents),
        unit_hours=round(sum(acc.unit_ms) / HOUR_MS, 4),
        flagged_hours=sum(1 for c in cells if c.flagged), cells=cells,
        actual_unit_hours=round(sum(acc.actual_ms) / HOUR_MS, 4),
    )


async def demand_vs_coverage(db: Database, scope_path: str, start_ms: int, end_ms: int,
                             threshold: float = 0.5, *,
                             include_cancelled: bool = False) -> DemandCoverageReport:
    """Demand (incidents) against planned coverage (units on duty from shifts)
    per hour of the week (Belgrade local time), for the whole scope and per
    area (the org unit an incident or shift belongs to, usually a station).

    For each hour of the week ``h`` (0 = Monday 00h):
    ``hours_observed`` = clock hours of the period falling on ``h``;
    ``incidents_per_hour`` = incidents whose call fell on ``h`` / hours_observed;
    ``units_on_duty`` = planned unit-hours on ``h`` / hours_observed (a unit's
    overlapping shifts count once); ``demand_per_unit`` = the ratio of the two;
    ``units_actual`` = unit-hours actually on duty on ``h`` (any status but off
    duty, from the status history as in the availability timeline; unknown
    counts as not on duty) / hours_observed, per the unit's own area.
    A cell is flagged when ``demand_per_unit > threshold`` or when incidents
    came in with no unit planned. Counts all incident sources (demand is
    demand), cancelled ones only with ``include_cancelled``. Windows should
    start and end on the hour; a partial edge hour counts as observed.
    """
    scope_path = _norm_scope(scope_path)
    _check_period(start_ms, end_ms)
    like = _like_prefix(scope_path)
    cancelled = "" if include_cancelled else " AND i.state <> 'cancelled'"
    async with db.read() as tx:
        orgs = await _org_units(tx, scope_path)
        incidents = await tx.fetch(
            "SELECT i.org_unit_id, i.call_received_at FROM incidents i"
            f" WHERE i.org_unit_id IN {_ORG_IDS}"
            f" AND i.call_received_at >= $2 AND i.call_received_at < $3{cancelled}",
            like, start_ms, end_ms,
        )
        shifts = await tx.fetch(
            "SELECT s.org_unit_id, s.unit_id, s.starts_at, s.ends_at FROM shifts s"
            f" WHERE s.org_unit_id IN {_ORG_IDS} AND s.starts_at < $3 AND s.ends_at > $2",
            like, start_ms, end_ms,
        )
        unit_orgs = {r["id"]: r["org_unit_id"] for r in await tx.fetch(
            f"SELECT u.id, u.org_unit_id FROM units u WHERE u.org_unit_id IN {_ORG_IDS}", like)}
        events_by, initial = await _status_history(tx, like, start_ms, end_ms)
    org_by_id = {o["id"]: o for o in orgs}
    hours = [0] * 168
    for _, how in local_hours(start_ms, end_ms):
        hours[how] += 1
    overall = _Acc()
    per_area: dict[str, _Acc] = {o["id"]: _Acc() for o in orgs
                                 if o["kind"] in ("station", "border_centre")}
    for i in incidents:
        if i["org_unit_id"] not in org_by_id:
            continue
        h = hour_of_week(int(i["call_received_at"]))
        overall.incidents[h] += 1
        per_area.setdefault(i["org_unit_id"], _Acc()).incidents[h] += 1
    # A unit's overlapping shifts (per area) count once.
    spans: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    for s in shifts:
        if s["org_unit_id"] not in org_by_id:
            continue
        s0, s1 = max(start_ms, int(s["starts_at"])), min(end_ms, int(s["ends_at"]))
        if s1 > s0:
            spans.setdefault((s["org_unit_id"], s["unit_id"]), []).append((s0, s1, ""))
    for (org_id, _unit), parts in spans.items():
        acc = per_area.setdefault(org_id, _Acc())
        for s0, s1, _ in _union(parts):
            for hour_start, how in local_hours(s0, s1):
                ms = _overlap(s0, s1, hour_start, hour_start + HOUR_MS)
                acc.unit_ms[how] += ms
                overall.unit_ms[how] += ms
    for unit_id, org_id in unit_orgs.items():
        if org_id not in org_by_id:
            continue
        init = initial.get(unit_id)
        acc = per_area.setdefault(org_id, _Acc())
        for seg in _segments(init["status"] if init else None, events_by.get(unit_id, []), start_ms, end_ms):
            if seg.state not in ("available", "committed"):
                continue
            for hour_start, how in local_hours(seg.start_ms, seg.end_ms):
                ms = _overlap(seg.start_ms, seg.end_ms, hour_start, hour_start + HOUR_MS)
                acc.actual_ms[how] += ms
                overall.actual_ms[how] += ms
    areas = [
        _area(per_area[oid], hours, threshold, oid, org_by_id[oid]["code"], org_by_id[oid]["name"])
        for oid in sorted(per_area, key=lambda oid: org_by_id[oid]["path"])
    ]
    scope_org = next((o for o in orgs if o["path"] == scope_path), None)
    return DemandCoverageReport(
        scope_path=scope_path, start_ms=start_ms, end_ms=end_ms, threshold=threshold,
        overall=_area(overall, hours, threshold, None, "ALL",
                      scope_org["name"] if scope_org else scope_path),
        areas=areas,
    )


# --------------------------------------------------------------------------- track

def _flagged(flags: str | None) -> bool:
    if not flags:
        return False
    try:
        data = json.loads(flags)
    except ValueError:
        return False
    return bool(data)


async def track(db: Database, unit_id: str, start_ms: int, end_ms: int) -> Track | None:
    """A unit's positions (``location_pings`` by corrected event time) and status
    changes (``unit_status_events`` by event time, ties by HLC) in
    ``[start_ms, end_ms)``, both time-ordered, for replay with a time slider.
    ``initial_status`` is the status in force at ``start_ms``. ``None`` when
    the unit does not exist."""
    _check_period(start_ms, end_ms)
    async with db.read() as tx:
        unit = await tx.fetchrow("SELECT id, call_sign FROM units WHERE id = $1", unit_id)
        if unit is None:
            return None
        pings = await tx.fetch(
            "SELECT event_at, lat, lon, accuracy_m, heading, speed_mps FROM location_pings"
            " WHERE unit_id = $1 AND event_at >= $2 AND event_at < $3 ORDER BY event_at, id",
            unit_id, start_ms, end_ms,
        )
        events = await tx.fetch(
            "SELECT id, status, assignment_id, event_at, hlc, lat, lon, flags FROM unit_status_events"
            " WHERE unit_id = $1 AND event_at >= $2 AND event_at < $3",
            unit_id, start_ms, end_ms,
        )
        before = await tx.fetch(
            "SELECT id, status, event_at, hlc FROM unit_status_events WHERE unit_id = $1"
            " AND event_at = (SELECT MAX(event_at) FROM unit_status_events"
            " WHERE unit_id = $1 AND event_at < $2)",
            unit_id, start_ms,
        )
    initial = max(before, key=_event_order)["status"] if before else None
    return Track(
        unit_id=unit["id"], call_sign=unit["call_sign"], start_ms=start_ms, end_ms=end_ms,
        initial_status=initial,
        points=[TrackPoint(at_ms=int(p["event_at"]), lat=p["lat"], lon=p["lon"],
                           accuracy_m=p["accuracy_m"], heading=p["heading"],
                           speed_mps=p["speed_mps"]) for p in pings],
        statuses=[StatusChange(at_ms=int(e["event_at"]), status=e["status"],
                               assignment_id=e["assignment_id"], lat=e["lat"], lon=e["lon"],
                               flagged=_flagged(e["flags"]))
                  for e in sorted(events, key=_event_order)],
    )


async def track_for_shift(db: Database, shift_id: str) -> Track | None:
    """:func:`track` over one planned shift (``None`` if the shift does not exist)."""
    async with db.read() as tx:
        s = await tx.fetchrow("SELECT unit_id, starts_at, ends_at FROM shifts WHERE id = $1", shift_id)
    if s is None:
        return None
    return await track(db, s["unit_id"], int(s["starts_at"]), int(s["ends_at"]))

