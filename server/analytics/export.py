"""Per-incident JSON export: timeline, units, outcome, response intervals.

The shape is documented in ``docs/incident-export.md`` with its mapping to
NENA/APCO EIDO components. It deliberately leaves out personal data (caller
name and phone, persons and vehicles in field reports) and note bodies: an
export is for exchange and analysis, not a disclosure of the case file.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from sync.store import Database

from .intervals import IncidentTimeline, assignment_from_row, compute_intervals, parse_flags
from .stats import local

EXPORT_FORMAT = "patrol.incident-export"
EXPORT_VERSION = 1

EventKind = Literal[
    "call_received", "incident_created", "dispatched", "acknowledged", "declined", "en_route",
    "on_scene", "action", "cleared", "assignment_ended", "note", "closed",
]
# Order of kinds at the same millisecond (the natural order of a response).
_KIND_ORDER = {k: i for i, k in enumerate(EventKind.__args__)}  # type: ignore[attr-defined]
_MILESTONE_EVENTS = (
    ("assigned_at", "dispatched"), ("acknowledged_at", "acknowledged"), ("declined_at", "declined"),
    ("en_route_at", "en_route"), ("on_scene_at", "on_scene"), ("action_at", "action"),
    ("cleared_at", "cleared"), ("ended_at", "assignment_ended"),
)


class OrgRef(msgspec.Struct, kw_only=True):
    id: str
    code: str
    name: str
    path: str


class Location(msgspec.Struct, kw_only=True):
    lat: float | None
    lon: float | None
    address: str | None


class IncidentPart(msgspec.Struct, kw_only=True):
    id: str
    number: str | None
    source: str
    type: str
    type_label: str | None
    priority: int
    state: str
    description: str | None
    hazards: str | None
    call_received_at: int
    call_received_at_iso: str
    created_at: int
    org_unit: OrgRef
    location: Location


class TimelineEvent(msgspec.Struct, kw_only=True):
    at: int
    at_iso: str
    kind: EventKind
    assignment_id: str | None = None
    unit_id: str | None = None
    call_sign: str | None = None
    corrected: bool = False  # the sync layer clamped this time
    late: bool = False       # reached the server late (offline device)


class UnitPart(msgspec.Struct, kw_only=True):
    assignment_id: str
    unit_id: str
    call_sign: str
    unit_kind: str
    org_unit_code: str
    is_primary: bool
    state: str
    assigned_at: int
    acknowledged_at: int | None
    declined_at: int | None
    decline_reason: str | None
    en_route_at: int | None
    on_scene_at: int | None
    action_at: int | None
    cleared_at: int | None
    ended_at: int | None
    replaced_by_unit_id: str | None
    corrected: list[str]
    late: list[str]


class IntervalsPart(msgspec.Struct, kw_only=True):
    call_to_dispatch_ms: int | None
    dispatch_to_ack_ms: int | None
    dispatch_to_arrival_ms: int | None
    call_to_arrival_ms: int | None
    arrival_to_cleared_ms: int | None
    call_to_action_ms: int | None
    dispatch_assignment_id: str | None
    arrival_assignment_id: str | None
    missing: list[str]
    invalid: list[str]
    corrected: list[str]
    late: list[str]


class OutcomePart(msgspec.Struct, kw_only=True):
    state: str
    outcome: str | None
    closed_at: int | None
    closed_at_iso: str | None


class IncidentExport(msgspec.Struct, kw_only=True):
    format: str
    version: int
    exported_at: int
    incident: IncidentPart
    timeline: list[TimelineEvent]
    units: list[UnitPart]
    intervals: IntervalsPart
    outcome: OutcomePart
    notes_count: int
    late_notes_count: int
    field_reports_count: int


def _iso(ms: int) -> str:
    return local(ms).isoformat(timespec="milliseconds")


def _type_label(labels: str | None, locale: str) -> str | None:
    if not labels:
        return None
    try:
        data = msgspec.json.decode(labels)
    except msgspec.DecodeError:
        return None
    if not isinstance(data, dict):
        return None
    return data.get(locale) or data.get("en")


async def export_incident(db: Database, incident_id: str, *, now_ms: int,
                          locale: str = "en") -> IncidentExport | None:
    """Everything about one incident in the export shape; ``None`` if unknown.

    ``now_ms`` is stamped as ``exported_at`` (passed in to keep exports
    reproducible in tests).
    """
    async with db.read() as tx:
        inc = await tx.fetchrow(
            "SELECT i.id, i.number, i.source, i.type, i.priority, i.state, i.outcome, i.description,"
            " i.hazards, i.call_received_at, i.created_at, i.closed_at, i.lat, i.lon, i.address,"
            " o.id AS org_id, o.code AS org_code, o.name AS org_name, o.path AS org_path,"
            " t.labels AS type_labels"
            " FROM incidents i JOIN org_units o ON o.id = i.org_unit_id"
            " LEFT JOIN incident_types t ON t.code = i.type WHERE i.id = $1",
            incident_id,
        )
        if inc is None:
            return None
        assignments = await tx.fetch(
            "SELECT a.id, a.unit_id, a.state, a.is_primary, a.assigned_at, a.acknowledged_at,"
            " a.declined_at, a.decline_reason, a.en_route_at, a.on_scene_at, a.action_at,"
            " a.cleared_at, a.ended_at, a.replaced_by_unit_id, a.flags,"
            " u.call_sign, u.kind AS unit_kind, o.code AS org_code"
            " FROM assignments a JOIN units u ON u.id = a.unit_id"
            " JOIN org_units o ON o.id = u.org_unit_id"
            " WHERE a.incident_id = $1 ORDER BY a.assigned_at, a.id",
            incident_id,
        )
        notes = await tx.fetch(
            "SELECT n.event_at, n.late, n.unit_id, u.call_sign FROM notes n"
            " LEFT JOIN units u ON u.id = n.unit_id WHERE n.incident_id = $1",
            incident_id,
        )
        reports = int(await tx.fetchval(
            "SELECT COUNT(*) FROM field_reports WHERE incident_id = $1", incident_id))

    call_at = int(inc["call_received_at"])
    timeline: list[TimelineEvent] = [
        TimelineEvent(at=call_at, at_iso=_iso(call_at), kind="call_received"),
        TimelineEvent(at=int(inc["created_at"]), at_iso=_iso(int(inc["created_at"])),
                      kind="incident_created"),
    ]
    units: list[UnitPart] = []
    for a in assignments:
        corrected, late = parse_flags(a["flags"])
        for column, kind in _MILESTONE_EVENTS:
            at = a[column]
            if at is None:
                continue
            timeline.append(TimelineEvent(
                at=int(at), at_iso=_iso(int(at)), kind=kind, assignment_id=a["id"],
                unit_id=a["unit_id"], call_sign=a["call_sign"],
                corrected=column in corrected, late=column in late,
            ))
        units.append(UnitPart(
            assignment_id=a["id"], unit_id=a["unit_id"], call_sign=a["call_sign"],
            unit_kind=a["unit_kind"], org_unit_code=a["org_code"], is_primary=bool(a["is_primary"]),
            state=a["state"], assigned_at=int(a["assigned_at"]),
            acknowledged_at=a["acknowledged_at"], declined_at=a["declined_at"],
            decline_reason=a["decline_reason"], en_route_at=a["en_route_at"],
            on_scene_at=a["on_scene_at"], action_at=a["action_at"], cleared_at=a["cleared_at"],
            ended_at=a["ended_at"], replaced_by_unit_id=a["replaced_by_unit_id"],
            corrected=sorted(corrected), late=sorted(late),
        ))
    for n in notes:
        at = int(n["event_at"])
        timeline.append(TimelineEvent(at=at, at_iso=_iso(at), kind="note", unit_id=n["unit_id"],
                                      call_sign=n["call_sign"], late=bool(n["late"])))
    if inc["closed_at"] is not None:
        at = int(inc["closed_at"])
        timeline.append(TimelineEvent(at=at, at_iso=_iso(at), kind="closed"))
    timeline.sort(key=lambda e: (e.at, _KIND_ORDER[e.kind], e.assignment_id or ""))

    iv = compute_intervals(IncidentTimeline(
        incident_id=inc["id"], call_received_at=call_at,
        assignments=tuple(assignment_from_row(a) for a in assignments),
    ))
    return IncidentExport(
        format=EXPORT_FORMAT, version=EXPORT_VERSION, exported_at=now_ms,
        incident=IncidentPart(
            id=inc["id"], number=inc["number"], source=inc["source"], type=inc["type"],
            type_label=_type_label(inc["type_labels"], locale), priority=int(inc["priority"]),
            state=inc["state"], description=inc["description"], hazards=inc["hazards"],
            call_received_at=call_at, call_received_at_iso=_iso(call_at),
            created_at=int(inc["created_at"]),
            org_unit=OrgRef(id=inc["org_id"], code=inc["org_code"], name=inc["org_name"],
                            path=inc["org_path"]),
            location=Location(lat=inc["lat"], lon=inc["lon"], address=inc["address"]),
        ),
        timeline=timeline,
        units=units,
        intervals=IntervalsPart(
            call_to_dispatch_ms=iv.call_to_dispatch, dispatch_to_ack_ms=iv.dispatch_to_ack,
            dispatch_to_arrival_ms=iv.dispatch_to_arrival, call_to_arrival_ms=iv.call_to_arrival,
            arrival_to_cleared_ms=iv.arrival_to_cleared, call_to_action_ms=iv.call_to_action,
            dispatch_assignment_id=iv.dispatch_assignment_id,
            arrival_assignment_id=iv.arrival_assignment_id,
            missing=sorted(iv.missing), invalid=sorted(iv.invalid),
            corrected=sorted(iv.corrected), late=sorted(iv.late),
        ),
        outcome=OutcomePart(
            state=inc["state"], outcome=inc["outcome"], closed_at=inc["closed_at"],
            closed_at_iso=_iso(int(inc["closed_at"])) if inc["closed_at"] is not None else None,
        ),
        notes_count=len(notes),
        late_notes_count=sum(1 for n in notes if n["late"]),
        field_reports_count=reports,
    )


def export_json(export: IncidentExport) -> bytes:
    """The export as UTF-8 JSON bytes."""
    return msgspec.json.encode(export)
