"""Incident read models: lists, the full timeline, audited caller details."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from server import audit
from sync import changes
from sync.principal import Principal
from sync.scope import officer_sees_incident_sql
from sync.store import Database, Tx

LIST_COLUMNS = ("i.id, i.number, i.org_unit_id, i.source, i.call_received_at, i.type, i.priority, i.lat,"
                " i.lon, i.address, i.description, i.hazards, i.state, i.outcome, i.closed_at, i.created_at,"
                " i.updated_at, i.version")


class TimelineEntry(msgspec.Struct):
    at: int
    kind: str                 # call_received, created, assigned, acknowledged, declined, en_route,
                              # on_scene, action, cleared, reassigned, cancelled, note, closed
    unit_id: str | None = None
    call_sign: str | None = None
    text: str | None = None
    by: str | None = None
    flags: dict[str, Any] | None = None
    late: bool = False


class IncidentDetail(msgspec.Struct):
    incident: dict[str, Any]
    assignments: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    timeline: list[TimelineEntry]
    open_conflicts: int


class CallerDetails(msgspec.Struct):
    incident_id: str
    caller_name: str | None
    caller_phone: str | None


class NotVisible(Exception):
    pass


async def _visible(tx: Tx, p: Principal, incident_id: str) -> dict[str, Any]:
    row = await tx.fetchrow(
        f"SELECT {LIST_COLUMNS}, o.path FROM incidents i JOIN org_units o ON o.id = i.org_unit_id"
        " WHERE i.id = $1", incident_id)
    if row is None:
        raise NotVisible(incident_id)
    if p.role == "officer":
        # The pull's rule, not the org tree: a unit reads what it works on, wherever it is.
        if not p.unit_id or not await tx.fetchval(
                f"SELECT 1 WHERE {officer_sees_incident_sql('$1', '$2')}", incident_id, p.unit_id):
            raise NotVisible(incident_id)
    elif not p.in_scope(row["path"]):
        raise NotVisible(incident_id)
    row.pop("path")
    return row


async def list_incidents(db: Database, p: Principal, *, open_only: bool, since: int | None,
                         until: int | None, limit: int, closed_only: bool = False,
                         closed_since: int | None = None, closed_until: int | None = None,
                         ) -> list[dict[str, Any]]:
    if p.role == "officer":
        clauses, args = [officer_sees_incident_sql("i.id", "$1")], [p.unit_id or ""]
    else:
        clauses, args = ["o.path LIKE $1"], [p.scope_path + "%"]
    if open_only:
        clauses.append("i.state NOT IN ('closed', 'cancelled')")
    if closed_only or closed_since is not None or closed_until is not None:
        clauses.append("i.state IN ('closed', 'cancelled')")
    if closed_since is not None:
        args.append(closed_since)
        clauses.append(f"i.closed_at >= ${len(args)}")
    if closed_until is not None:
        args.append(closed_until)
        clauses.append(f"i.closed_at < ${len(args)}")
    if since is not None:
        args.append(since)
        clauses.append(f"i.call_received_at >= ${len(args)}")
    if until is not None:
        args.append(until)
        clauses.append(f"i.call_received_at < ${len(args)}")
    args.append(limit)
    order = "i.closed_at DESC" if closed_only or closed_since is not None else "i.call_received_at DESC"
    async with db.read() as tx:
        return await tx.fetch(
            f"SELECT {LIST_COLUMNS} FROM incidents i JOIN org_units o ON o.id = i.org_unit_id"
            f" WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT ${len(args)}", *args)


class StatusEvent(msgspec.Struct):
    id: str
    status: str
    assignment_id: str | None
    user_id: str | None
    user_name: str | None
    event_at: int
    device_at: int
    server_at: int
    lat: float | None
    lon: float | None
    flags: dict[str, Any]


async def unit_status_events(db: Database, p: Principal, unit_id: str, since: int, until: int,
                             limit: int = 500) -> list[StatusEvent]:
    """A unit's status history (newest first), within the principal's scope."""
    async with db.read() as tx:
        path = await tx.fetchval("SELECT o.path FROM units u JOIN org_units o ON o.id = u.org_unit_id"
                                 " WHERE u.id = $1", unit_id)
        if path is None or not p.in_scope(path) or (p.role == "officer" and p.unit_id != unit_id):
            raise NotVisible(unit_id)
        rows = await tx.fetch(
            "SELECT e.id, e.status, e.assignment_id, e.user_id, us.full_name AS user_name, e.event_at,"
            " e.device_at, e.server_at, e.lat, e.lon, e.flags FROM unit_status_events e"
            " LEFT JOIN users us ON us.id = e.user_id"
            " WHERE e.unit_id = $1 AND e.event_at >= $2 AND e.event_at < $3"
            " ORDER BY e.event_at DESC, e.id DESC LIMIT $4", unit_id, since, until, limit)
    return [StatusEvent(**{**r, "flags": json.loads(r["flags"] or "{}")}) for r in rows]


def build_timeline(incident: dict[str, Any], assignments: list[dict[str, Any]],
                   notes: list[dict[str, Any]]) -> list[TimelineEntry]:
    """Every milestone in time order (pure; the console renders it as is)."""
    out = [TimelineEntry(at=incident["call_received_at"], kind="call_received",
                         text=f"{incident['source']}"),
           TimelineEntry(at=incident["created_at"], kind="created")]
    milestones = [("assigned_at", "assigned"), ("acknowledged_at", "acknowledged"),
                  ("declined_at", "declined"), ("en_route_at", "en_route"), ("on_scene_at", "on_scene"),
                  ("action_at", "action"), ("cleared_at", "cleared")]
    for a in assignments:
        flags = a.get("flags") or {}
        for column, kind in milestones:
            if a.get(column) is not None:
                text = a.get("decline_reason") if kind == "declined" else None
                out.append(TimelineEntry(at=a[column], kind=kind, unit_id=a["unit_id"],
                                         call_sign=a.get("call_sign"), text=text,
                                         # assignment flags are keyed by milestone column
                                         flags=flags.get(column) if isinstance(flags, dict) else None))
        if a["state"] in ("reassigned", "cancelled") and a.get("ended_at") is not None:
            out.append(TimelineEntry(at=a["ended_at"], kind=a["state"], unit_id=a["unit_id"],
                                     call_sign=a.get("call_sign"), text=a.get("end_reason")))
    for n in notes:
        out.append(TimelineEntry(at=n["event_at"], kind="note", unit_id=n.get("unit_id"), text=n["body"],
                                 by=n.get("author_name"), late=bool(n["late"]),
                                 flags=n.get("flags") or None))
    if incident.get("closed_at") is not None:
        out.append(TimelineEntry(at=incident["closed_at"], kind="closed", text=incident.get("outcome")))
    out.sort(key=lambda e: (e.at, e.kind))
    return out


def _json(row: dict[str, Any], *cols: str) -> dict[str, Any]:
    for c in cols:
        if isinstance(row.get(c), str):
            row[c] = json.loads(row[c])
    return row


async def incident_detail(db: Database, p: Principal, incident_id: str) -> IncidentDetail:
    async with db.read() as tx:
        incident = await _visible(tx, p, incident_id)
        assignments = [_json(a, "flags") for a in await tx.fetch(
            "SELECT a.*, u.call_sign FROM assignments a JOIN units u ON u.id = a.unit_id"
            " WHERE a.incident_id = $1 ORDER BY a.assigned_at", incident_id)]
        notes = [_json(n, "flags") for n in await tx.fetch(
            "SELECT n.id, n.incident_id, n.author_id, n.unit_id, n.body, n.device_at, n.event_at, n.server_at,"
            " n.late, n.flags, us.full_name AS author_name FROM notes n LEFT JOIN users us ON us.id = n.author_id"
            " WHERE n.incident_id = $1 ORDER BY n.event_at", incident_id)]
        reports = [_json(r, "field_meta") for r in await tx.fetch(
            "SELECT id, incident_id, unit_id, author_id, summary, actions_taken, vehicles, evidence,"
            " version, created_at, updated_at FROM field_reports WHERE incident_id = $1", incident_id)]
        conflicts = int(await tx.fetchval(
            "SELECT COUNT(*) FROM conflicts WHERE entity_id = $1 AND state = 'open'", incident_id) or 0)
    return IncidentDetail(incident=incident, assignments=assignments, notes=notes, reports=reports,
                          timeline=build_timeline(incident, assignments, notes), open_conflicts=conflicts)


async def caller_details(db: Database, p: Principal, incident_id: str, ip: str | None) -> CallerDetails:
    """Caller name and phone: personal data, so every consultation is audited."""
    async with db.transaction() as tx:
        await _visible(tx, p, incident_id)
        row = await tx.fetchrow("SELECT caller_name, caller_phone FROM incidents WHERE id = $1", incident_id)
        assert row is not None
        await audit.record_views(tx, p, "incident", [incident_id], ip=ip)
    return CallerDetails(incident_id=incident_id, caller_name=row["caller_name"], caller_phone=row["caller_phone"])


async def report_persons(db: Database, p: Principal, report_id: str, ip: str | None) -> dict[str, Any]:
    """The persons of a field report: personal data, so every consultation is audited."""
    async with db.transaction() as tx:
        row = await tx.fetchrow("SELECT incident_id, persons FROM field_reports WHERE id = $1", report_id)
        if row is None:
            raise NotVisible(report_id)
        await _visible(tx, p, row["incident_id"])
        await audit.record_views(tx, p, "field_report", [report_id], ip=ip)
    return {"report_id": report_id, "persons": row["persons"]}


async def list_conflicts(db: Database, p: Principal, which: str) -> list[dict[str, Any]]:
    """Conflicts in the principal's scope, newest first. A conflict over a personal field
    carries no values (``personal: 1``, ``values_ref``); :func:`conflict_values` shows them."""
    clauses, args = ["o.path LIKE $1"], [p.scope_path + "%"]
    if which != "all":
        args.append(which)
        clauses.append("c.state = $2")
    async with db.read() as tx:
        rows = await tx.fetch(
            "SELECT c.*, cb.full_name AS client_by_name, sb.full_name AS server_by_name,"
            " rb.full_name AS resolved_by_name"
            " FROM conflicts c JOIN org_units o ON o.id = c.org_unit_id"
            " LEFT JOIN users cb ON cb.id = c.client_by LEFT JOIN users sb ON sb.id = c.server_by"
            " LEFT JOIN users rb ON rb.id = c.resolved_by"
            f" WHERE {' AND '.join(clauses)} ORDER BY c.created_at DESC LIMIT 500", *args)
    # Same shape as in the change log: the values are JSON documents, not strings.
    return [changes.redact("conflict", _json(row, *changes.CONFLICT_VALUES)) for row in rows]


class ConflictValues(msgspec.Struct):
    conflict_id: str
    entity: str
    entity_id: str
    field: str
    server_value: Any
    client_value: Any
    resolved_value: Any


async def conflict_values(db: Database, p: Principal, conflict_id: str, ip: str | None) -> ConflictValues:
    """Both values of a conflict (and the chosen one). For a personal field this is a
    consultation of that entity's personal data: audited like the caller and persons reads."""
    async with db.transaction() as tx:
        row = await tx.fetchrow(
            "SELECT c.id, c.entity, c.entity_id, c.field, c.server_value, c.client_value, c.resolved_value,"
            " o.path FROM conflicts c JOIN org_units o ON o.id = c.org_unit_id WHERE c.id = $1", conflict_id)
        if row is None or not p.in_scope(row["path"]):
            raise NotVisible(conflict_id)
        if audit.is_personal(row["entity"], row["field"]):
            await audit.record_views(tx, p, row["entity"], [row["entity_id"]], ip=ip, fields=[row["field"]],
                                     detail={"conflict_id": conflict_id})
    _json(row, *changes.CONFLICT_VALUES)
    return ConflictValues(conflict_id=row["id"], entity=row["entity"], entity_id=row["entity_id"],
                          field=row["field"], server_value=row["server_value"],
                          client_value=row["client_value"], resolved_value=row["resolved_value"])
