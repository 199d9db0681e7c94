"""The mutation handlers: load rows through the Tx port, call the pure merge
rules and state machines, write the results, queue the changes.

Every handler is registered with its roles, scope rule and merge rule; see
``REGISTRY`` and docs/sync-protocol.md for the table.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec

from . import audit
from . import machines as sm
from . import stations
from .merge import FieldConflict, FieldMerge, Writer, earliest, merge_fields, saw_write, status_is_newer
from .mutations import (
    INCIDENT_FIELDS,
    OFFICER_INCIDENT_FIELDS,
    REPORT_FIELDS,
    AddNote,
    AlertAck,
    AlertEnd,
    AlertRaise,
    AssignmentCancel,
    AssignmentCreate,
    AssignmentDecline,
    AssignmentReassign,
    AssignmentRef,
    ConflictResolve,
    IncidentClose,
    IncidentCreate,
    IncidentUpdate,
    ReportLocation,
    ReportUpdate,
    SetStatus,
    provided,
)
from .registry import ALL_ROLES, DESK, TZ, Ctx, Outcome, Reject, dumps, hhmm, mutation
from .store import Row

ACTIVE_SQL = "('pending', 'acknowledged', 'en_route', 'on_scene')"
TERMINAL_INCIDENT = ("closed", "cancelled")


def _flags(row: Row) -> dict[str, Any]:
    raw = row.get("flags") or "{}"
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


def _merge_flags(row: Row, key: str, flags: dict[str, Any]) -> str | None:
    """Updated flags JSON (or None when nothing to add)."""
    if not flags:
        return None
    f = _flags(row)
    f[key] = flags
    return dumps(f)


async def _ended_reason(ctx: Ctx, a: Row) -> Reject:
    """Why an action on an ended assignment is refused, naming what happened."""
    if a["state"] == "reassigned":
        cs = await ctx.call_sign(a["replaced_by_unit_id"])
        return Reject("assignment_reassigned",
                      f"This assignment was given to {cs} at {hhmm(a['ended_at'])}.",
                      {"assignment_id": a["id"], "new_unit_id": a["replaced_by_unit_id"],
                       "new_call_sign": cs, "at": a["ended_at"]})
    if a["state"] == "cancelled":
        return Reject("assignment_cancelled",
                      f"Dispatch cancelled this assignment at {hhmm(a['ended_at'])}.",
                      {"assignment_id": a["id"], "at": a["ended_at"]})
    if a["state"] == "declined":
        return Reject("illegal_transition",
                      f"This assignment was declined at {hhmm(a['declined_at'])}.",
                      {"assignment_id": a["id"]})
    return Reject("illegal_transition",
                  f"This assignment is already {sm.LABEL.get(a['state'], a['state'])}.",
                  {"assignment_id": a["id"], "state": a["state"]})


async def _end_unit_current(ctx: Ctx, unit_id: str, assignment_id: str) -> None:
    """If the unit's current assignment is this one, it has none now."""
    n = await ctx.tx.execute(
        "UPDATE units SET current_assignment_id = NULL, version = version + 1, updated_at = $3"
        " WHERE id = $1 AND current_assignment_id = $2", unit_id, assignment_id, ctx.server_now)
    if n:
        ctx.touch("unit", unit_id, scope_path=await _unit_path(ctx, unit_id), audience=[unit_id],
                  unit_id=unit_id)


async def _unit_path(ctx: Ctx, unit_id: str) -> str:
    org = await ctx.tx.fetchval("SELECT org_unit_id FROM units WHERE id = $1", unit_id)
    return await ctx.org_path(org)


def _touch_unit(ctx: Ctx, unit: Row, path: str) -> None:
    ctx.touch("unit", unit["id"], scope_path=path, audience=[unit["id"]], unit_id=unit["id"])


async def _set_incident_state(ctx: Ctx, inc: Row, to: str) -> None:
    if inc["state"] == to:
        return
    await ctx.tx.execute("UPDATE incidents SET state = $2, version = version + 1, updated_at = $3"
                         " WHERE id = $1", inc["id"], to, ctx.server_now)
    ctx.touch("incident", inc["id"], incident_id=inc["id"])


# =========================================================================== units


@mutation("unit.set_status", SetStatus, roles=ALL_ROLES, scope="own_unit",
          merge="history kept; current = latest by event time; unit status state machine")
async def set_status(ctx: Ctx, a: SetStatus) -> Outcome:
    tx = ctx.tx
    unit = await ctx.unit(a.unit_id)
    await ctx.authorize_unit(unit)
    path = await ctx.org_path(unit["org_unit_id"])
    asg: Row | None = None
    if a.assignment_id:
        asg = await ctx.assignment(a.assignment_id)
        if asg["unit_id"] != unit["id"]:
            raise Reject("out_of_scope", "That assignment belongs to another unit.",
                         {"assignment_id": a.assignment_id})
    elif unit["current_assignment_id"]:
        asg = await tx.fetchrow("SELECT * FROM assignments WHERE id = $1", unit["current_assignment_id"])
    inc = await tx.fetchrow("SELECT * FROM incidents WHERE id = $1", asg["incident_id"]) if asg else None
    t, flags = ctx.event_time(not_before=inc["call_received_at"] if inc and
                              a.status in ("en_route", "on_scene") else None)

    # The state machine is checked against the status the unit had at the
    # event's time (the previous event in the history), so an offline
    # sequence is validated in its own order whenever it arrives.
    prev = await tx.fetchrow(
        "SELECT status FROM unit_status_events WHERE unit_id = $1 AND (event_at < $2 OR"
        " (event_at = $2 AND hlc < $3)) ORDER BY event_at DESC, hlc DESC LIMIT 1",
        unit["id"], t, ctx.hlc)
    if prev is not None:
        frm: str | None = prev["status"]
    elif unit["status_at"] is None or unit["status_at"] <= t:
        frm = unit["status"]
    else:
        frm = None  # older than anything known: nothing to check it against
    newer = status_is_newer(t, ctx.hlc, unit["status_at"], unit["status_hlc"])
    if frm is not None:
        active_state = None
        if newer and unit["current_assignment_id"]:
            if asg is not None and asg["id"] == unit["current_assignment_id"]:
                active_state = asg["state"]  # read above in this transaction, nothing written since
            else:
                active_state = await tx.fetchval("SELECT state FROM assignments WHERE id = $1",
                                                 unit["current_assignment_id"])
        refusal = sm.unit_status_guard(frm, a.status, active_assignment_state=active_state)
        if refusal:
            raise Reject(refusal.code, refusal.reason, {"from": frm, "to": a.status, "at": t})

    event_id = a.event_id or ctx.new_id()
    valid_asg = asg is not None and (asg["state"] in sm.ACTIVE_ASSIGNMENT or
                                     (asg["ended_at"] is not None and t <= asg["ended_at"]))
    # The id check and the insert in one statement: an existing id inserts nothing.
    if not await tx.execute(
            "INSERT INTO unit_status_events (id, unit_id, status, assignment_id, user_id, device_id,"
            " device_at, event_at, server_at, hlc, lat, lon, flags)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING",
            event_id, unit["id"], a.status, asg["id"] if asg and valid_asg else None,
            ctx.principal.user_id, ctx.m.client_id, ctx.m.device_at, t, ctx.server_now, ctx.hlc,
            a.lat, a.lon, dumps(flags)):
        raise Reject("duplicate_id", "This status event was already recorded by another message.",
                     {"event_id": event_id})
    ctx.touch("unit_status_event", event_id, scope_path=path, audience=[unit["id"]], unit_id=unit["id"])

    result: dict[str, Any] = {"event_id": event_id, "event_at": t, "current": newer}
    if flags:
        result["flags"] = flags
    outcome = Outcome("applied", result=result)
    if newer:
        sets = ["status = $2", "status_at = $3", "status_hlc = $4", "version = version + 1",
                "updated_at = $5"]
        args: list[Any] = [unit["id"], a.status, t, ctx.hlc, ctx.server_now]
        if a.lat is not None and a.lon is not None and (unit["last_position_at"] or 0) <= t:
            sets += ["last_lat = $6", "last_lon = $7", "last_position_at = $8"]
            args += [a.lat, a.lon, t]
        await tx.execute(f"UPDATE units SET {', '.join(sets)} WHERE id = $1", *args)
        _touch_unit(ctx, unit, path)
    else:
        outcome = Outcome("merged", "older_than_current",
                          f"Kept in history: a later status ({sm.LABEL.get(unit['status'])} at "
                          f"{hhmm(unit['status_at'])}) is the unit's current status.", result)

    if asg is not None:
        note = await _milestones(ctx, unit, asg, inc, a.status, t, flags, newer)
        if note is not None:
            outcome = Outcome("merged", note.code, note.reason, {**result, **(note.result or {})})
    return outcome


async def _milestones(ctx: Ctx, unit: Row, asg: Row, inc: Row | None, status: str, t: int,
                      flags: dict[str, Any], newer: bool) -> Reject | None:
    """en route / on scene / available update the assignment's milestones.

    Milestones keep the earliest event time; an assignment only moves forward.
    An assignment that ended (reassigned, cancelled) before the event is left
    alone, and the officer is told why (returned as a note, not raised).
    """
    tx = ctx.tx
    if asg["state"] not in sm.ACTIVE_ASSIGNMENT:
        ended = asg["ended_at"]
        truthful = status in ("en_route", "on_scene") and ended is not None and t <= ended \
            and asg["state"] in ("reassigned", "cancelled")
        if truthful:
            col = f"{status}_at"
            await tx.execute(f"UPDATE assignments SET {col} = $2, version = version + 1, updated_at = $3"
                             " WHERE id = $1", asg["id"], earliest(asg[col], t), ctx.server_now)
            ctx.touch("assignment", asg["id"], incident_id=asg["incident_id"], audience=[asg["unit_id"]],
                      unit_id=asg["unit_id"])
        if asg["state"] in ("reassigned", "cancelled") and status in ("en_route", "on_scene"):
            r = await _ended_reason(ctx, asg)
            return Reject(r.code, "Status saved. " + r.reason, r.result)
        return None
    sets: dict[str, Any] = {}
    target = sm.milestone_target(status, asg["state"])
    if status in ("en_route", "on_scene"):
        col = f"{status}_at"
        new_t = earliest(asg[col], t)
        if new_t != asg[col]:
            sets[col] = new_t
        if target:
            sets["state"] = target
            if asg["acknowledged_at"] is None:
                sets["acknowledged_at"] = t
                flags = {**flags, "implied_ack": True}
        if flags:
            sets["flags"] = _merge_flags(asg, col, flags)
    elif target == "cleared" and newer and t >= asg["assigned_at"]:
        sets.update(state="cleared", cleared_at=t, ended_at=t)
    if not sets:
        return None
    cols = list(sets)
    assign = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(cols))
    await tx.execute(f"UPDATE assignments SET {assign}, version = version + 1, updated_at = ${len(cols) + 2}"
                     " WHERE id = $1", asg["id"], *[sets[c] for c in cols], ctx.server_now)
    ctx.touch("assignment", asg["id"], incident_id=asg["incident_id"], audience=[asg["unit_id"]],
              unit_id=asg["unit_id"])
    new_state = sets.get("state", asg["state"])
    if new_state == "cleared":
        await _end_unit_current(ctx, unit["id"], asg["id"])
    if inc is not None:
        to = sm.incident_after_assignment(inc["state"], new_state)
        if to:
            await _set_incident_state(ctx, inc, to)
    return None


@mutation("unit.report_location", ReportLocation, roles=ALL_ROLES, scope="own_unit",
          merge="append-only time series; the unit's last position = newest ping by event time")
async def report_location(ctx: Ctx, a: ReportLocation) -> Outcome:
    unit = await ctx.unit(a.unit_id)
    await ctx.authorize_unit(unit)
    # Each fix on the server's clock (the device's offset added), like status events: the raw
    # device time is kept beside it.
    rows = [(unit["id"], ctx.principal.user_id, ctx.m.client_id, p.lat, p.lon, p.accuracy_m,
             p.heading, p.speed_mps, p.at, ctx.event_time(p.at)[0], ctx.server_now) for p in a.pings]
    await ctx.tx.executemany(
        "INSERT INTO location_pings (unit_id, user_id, device_id, lat, lon, accuracy_m, heading,"
        " speed_mps, device_at, event_at, server_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", rows)
    newest = max(a.pings, key=lambda p: p.at)
    t, flags = ctx.event_time(newest.at)
    if unit["last_position_at"] is None or t > unit["last_position_at"]:
        await ctx.tx.execute(
            "UPDATE units SET last_lat = $2, last_lon = $3, last_accuracy_m = $4, last_position_at = $5,"
            " version = version + 1, updated_at = $6 WHERE id = $1",
            unit["id"], newest.lat, newest.lon, newest.accuracy_m, t, ctx.server_now)
        _touch_unit(ctx, unit, await ctx.org_path(unit["org_unit_id"]))
    return Outcome("applied", result={"stored": len(rows), **({"flags": flags} if flags else {})})


# =========================================================================== incidents


async def _incident_number(ctx: Ctx, call_at: int, org_path: str) -> str:
    n = await ctx.tx.fetchval(
        "UPDATE counters SET value = value + 1 WHERE name = 'incident_number' RETURNING value")
    codes = [c for c in org_path.strip("/").split("/") if c]
    marks = ", ".join(f"${i + 1}" for i in range(len(codes)))
    rows = await ctx.tx.fetch(f"SELECT code, kind FROM org_units WHERE code IN ({marks})", *codes) if codes else []
    prefix = stations.directorate_code(org_path, {r["code"]: r["kind"] for r in rows})
    return stations.incident_number(prefix, datetime.fromtimestamp(call_at / 1000, TZ).year, int(n))


# A call time is what the phone system showed: a few minutes ahead is a clock off, more is a
# typing error (2099 for 2026); older than a week is not a call being taken now (1990).
CALL_AHEAD_MAX_MS = 5 * 60_000
CALL_AGE_MAX_MS = 7 * 24 * 3_600_000


def _check_call_time(call_at: int, server_now: int) -> None:
    """``call_at``: the typed call time on the server's clock (offset-corrected, not clamped)."""
    if call_at > server_now + CALL_AHEAD_MAX_MS:
        raise Reject("call_time_future", "The call time is in the future.",
                     {"field": "args.call_received_at", "max_ahead_min": CALL_AHEAD_MAX_MS // 60_000})
    if call_at < server_now - CALL_AGE_MAX_MS:
        raise Reject("call_time_too_old", "The call time is more than a week ago.",
                     {"field": "args.call_received_at", "max_age_days": CALL_AGE_MAX_MS // 86_400_000})


async def _incident_station(ctx: Ctx, a: IncidentCreate) -> str:
    """The org unit a new incident belongs to (see :mod:`sync.stations`)."""
    p = ctx.principal
    if a.org_unit_id:
        return a.org_unit_id
    if ctx.is_officer and p.unit_id:
        unit_org = str((await ctx.unit(p.unit_id))["org_unit_id"])
        return unit_org if p.in_scope(await ctx.org_path(unit_org)) else p.org_unit_id
    rows = await ctx.tx.fetch("SELECT id, kind, lat, lon, path FROM org_units WHERE path LIKE $1",
                              p.scope_path + "%")
    own = next((r for r in rows if r["id"] == p.org_unit_id), None)
    chosen = stations.choose_station(rows, a.lat, a.lon, own)
    if chosen is None:
        raise Reject("station_required", "Choose the station this incident belongs to.",
                     {"field": "args.org_unit_id"})
    return chosen


@mutation("incident.create", IncidentCreate, roles=ALL_ROLES, scope="org",
          merge="insert-once by client id; officers may create only 'patrol' incidents for their own unit")
async def incident_create(ctx: Ctx, a: IncidentCreate) -> Outcome:
    p = ctx.principal
    tx = ctx.tx
    if ctx.is_officer:
        if a.source != "patrol":
            raise Reject("forbidden", "Officers can only report incidents they found on patrol.",
                         {"field": "args.source"})
        if not p.unit_id or not a.assignment_id:
            raise Reject("invalid", "A patrol incident needs your unit and an assignment id.",
                         {"field": "args.assignment_id"})
    org_id = await _incident_station(ctx, a)
    org_path = await ctx.authorize_org(org_id)
    if await tx.fetchval("SELECT 1 FROM incidents WHERE id = $1", a.incident_id):
        raise Reject("duplicate_id", "An incident with this id already exists.", {"id": a.incident_id})
    call_at, flags = ctx.event_time(a.call_received_at)
    if a.call_received_at is not None:
        _check_call_time(a.call_received_at + (ctx.offset_ms or 0), ctx.server_now)
    priority = a.priority
    if priority is None:
        priority = await tx.fetchval("SELECT default_priority FROM incident_types WHERE code = $1",
                                     a.type) or 3
    values = {f: getattr(a, f) for f in INCIDENT_FIELDS}
    values["priority"] = priority
    stamp = {"hlc": ctx.hlc, "by": p.user_id, "at": call_at, "v": 1, "cid": ctx.m.client_id,
             "seq": ctx.m.seq}
    meta = {f: stamp for f, v in values.items() if v is not None}
    number = await _incident_number(ctx, call_at, org_path)
    await tx.execute(
        "INSERT INTO incidents (id, number, org_unit_id, source, call_received_at, type, priority,"
        " lat, lon, address, description, hazards, caller_name, caller_phone, state, created_by,"
        " created_at, updated_at, version, field_meta)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'new', $15, $16, $16, 1, $17)",
        a.incident_id, number, org_id, a.source, call_at, a.type, priority, a.lat, a.lon, a.address,
        a.description, a.hazards, a.caller_name, a.caller_phone, p.user_id, ctx.server_now, dumps(meta))
    result: dict[str, Any] = {"number": number, "call_received_at": call_at}
    if flags:
        result["flags"] = flags
    if ctx.is_officer:
        assert p.unit_id and a.assignment_id
        unit = await ctx.unit(p.unit_id)
        await ctx.watch_visibility(a.incident_id, unit["id"])
        await tx.execute(
            "INSERT INTO assignments (id, incident_id, unit_id, state, is_primary, assigned_by,"
            " assigned_at, acknowledged_at, created_at, updated_at)"
            " VALUES ($1, $2, $3, 'acknowledged', 1, $4, $5, $5, $6, $6)",
            a.assignment_id, a.incident_id, unit["id"], p.user_id, call_at, ctx.server_now)
        await tx.execute("UPDATE incidents SET state = 'dispatched' WHERE id = $1", a.incident_id)
        if unit["current_assignment_id"] is None:
            await tx.execute("UPDATE units SET current_assignment_id = $2, version = version + 1,"
                             " updated_at = $3 WHERE id = $1", unit["id"], a.assignment_id, ctx.server_now)
            _touch_unit(ctx, unit, await ctx.org_path(unit["org_unit_id"]))
        ctx.touch("assignment", a.assignment_id, incident_id=a.incident_id, audience=[unit["id"]],
                  unit_id=unit["id"])
        result["assignment_id"] = a.assignment_id
    ctx.touch("incident", a.incident_id, incident_id=a.incident_id)
    await _audit_personal(ctx, "create", "incident", a.incident_id,
                          [f for f in audit.SYNC_PERSONAL_FIELDS["incident"] if getattr(a, f) is not None])
    return Outcome("applied", result=result)


# --------------------------------------------------------------------------- personal data


async def _audit_personal(ctx: Ctx, action: str, entity: str, entity_id: str, fields: list[str],
                          **detail: Any) -> None:
    """An audit row for personal data this mutation wrote (collection or alteration),
    in its transaction: rolled back with it, never without it."""
    if not fields:
        return
    await audit.record(ctx.tx, action=action, entity=entity, entity_id=entity_id, principal=ctx.principal,
                       fields=fields, at=ctx.server_now,
                       detail={"mutation": ctx.m.name, "client_id": ctx.m.client_id, "seq": ctx.m.seq,
                               **{k: v for k, v in detail.items() if v}})


async def _audit_field_merge(ctx: Ctx, entity: str, entity_id: str, fm: FieldMerge,
                             conflict_ids: list[str]) -> None:
    """Personal fields an edit wrote, or kept in a conflict row (both values are stored there)."""
    personal = audit.SYNC_PERSONAL_FIELDS.get(entity, ())
    conflicts = [cid for cid, c in zip(conflict_ids, fm.conflicts) if c.field in personal]
    touched = {f for f in fm.values if f in personal} | {c.field for c in fm.conflicts if c.field in personal}
    await _audit_personal(ctx, "change", entity, entity_id, [f for f in personal if f in touched],
                          conflicts=conflicts)


async def _record_conflicts(ctx: Ctx, entity: str, entity_id: str, org_unit_id: str,
                            fm: FieldMerge, client_at: int) -> list[str]:
    ids = []
    for c in fm.conflicts:
        cid = ctx.new_id()
        await ctx.tx.execute(
            "INSERT INTO conflicts (id, org_unit_id, entity, entity_id, field, base_version,"
            " server_value, server_by, server_at, server_hlc, client_value, client_by, client_at,"
            " client_hlc, client_id, client_seq, state, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'open', $17)",
            cid, org_unit_id, entity, entity_id, c.field, ctx.m.base_version, dumps(c.server_value),
            c.server_meta.get("by"), c.server_meta.get("at"), c.server_meta.get("hlc"),
            dumps(c.client_value), ctx.principal.user_id, client_at, ctx.hlc, ctx.m.client_id,
            ctx.m.seq, ctx.server_now)
        ctx.touch("conflict", cid, scope_path=await ctx.org_path(org_unit_id), audience=[])
        ids.append(cid)
    return ids


async def _field_outcome(ctx: Ctx, fm: FieldMerge, conflict_ids: list[str], what: str) -> Outcome:
    result: dict[str, Any] = {"applied": fm.applied, "unchanged": fm.unchanged}
    if fm.conflicts:
        other = await ctx.user_name(fm.conflicts[0].server_meta.get("by"))
        fields = ", ".join(c.field for c in fm.conflicts)
        result["conflicts"] = [{"id": i, "field": c.field, "current": c.winner}
                               for i, c in zip(conflict_ids, fm.conflicts)]
        return Outcome("conflict", "concurrent_edit",
                       f"{other} changed the {what} ({fields}) at the same time as you; both "
                       "versions are kept for a dispatcher to decide.", result)
    if not fm.changed:
        return Outcome("merged", "no_change", "Nothing to change: the values were already there.", result)
    return Outcome("applied", result=result)


@mutation("incident.update", IncidentUpdate, roles=ALL_ROLES, scope="assigned_incident",
          merge="per-field LWW by HLC; concurrent edits of one field become a conflict record")
async def incident_update(ctx: Ctx, a: IncidentUpdate) -> Outcome:
    inc = await ctx.incident(a.incident_id)
    await ctx.authorize_incident(inc)
    if inc["state"] in TERMINAL_INCIDENT:
        raise Reject("incident_closed",
                     f"Incident {inc['number']} was {inc['state']} at {hhmm(inc['closed_at'])}; "
                     "its details can no longer change. Add a note instead.",
                     {"incident_id": inc["id"], "state": inc["state"]})
    fields = provided(a, INCIDENT_FIELDS)
    if not fields:
        raise Reject("invalid", "The update names no field to change (args).", {"field": "args"})
    if ctx.is_officer:
        for f in fields:
            if f not in OFFICER_INCIDENT_FIELDS:
                raise Reject("forbidden", f"Officers cannot change the incident's {f}.",
                             {"field": f"args.{f}"})
    t, _ = ctx.event_time()
    w = Writer(ctx.hlc, ctx.principal.user_id, t, ctx.m.client_id, ctx.m.seq, ctx.m.base_version)
    meta = json.loads(inc["field_meta"] or "{}")
    fm = merge_fields({f: inc[f] for f in fields}, meta, fields, w, int(inc["version"]) + 1)
    await _write_fields(ctx, "incidents", inc, fm)
    ids = await _record_conflicts(ctx, "incident", inc["id"], inc["org_unit_id"], fm, t)
    if fm.needs_write:
        ctx.touch("incident", inc["id"], incident_id=inc["id"])
    await _audit_field_merge(ctx, "incident", inc["id"], fm, ids)
    return await _field_outcome(ctx, fm, ids, "incident")


async def _write_fields(ctx: Ctx, table: str, row: Row, fm: FieldMerge) -> None:
    if not fm.needs_write:
        return
    cols = list(fm.values)
    n = len(cols)
    sets = [f"{c} = ${i + 2}" for i, c in enumerate(cols)]
    sets += [f"field_meta = ${n + 2}", f"version = ${n + 3}", f"updated_at = ${n + 4}"]
    await ctx.tx.execute(
        f"UPDATE {table} SET {', '.join(sets)} WHERE id = $1", row["id"], *[fm.values[c] for c in cols],
        dumps(fm.meta), int(row["version"]) + 1, ctx.server_now)


@mutation("incident.add_note", AddNote, roles=ALL_ROLES, scope="assigned_incident",
          merge="append-only; never lost; a note written after the incident closed is kept and flagged late")
async def add_note(ctx: Ctx, a: AddNote) -> Outcome:
    inc = await ctx.incident(a.incident_id)
    await ctx.authorize_incident(inc, ever=True)  # a unit taken off the incident keeps its notes
    t, flags = ctx.event_time(not_before=inc["call_received_at"])
    closed = inc["state"] in TERMINAL_INCIDENT
    late = closed and (inc["closed_at"] is None or t > inc["closed_at"])
    if late:
        flags["late"] = True
    elif closed:
        flags["synced_after_close"] = True
    unit_id = ctx.principal.unit_id if ctx.is_officer else None
    # The id check and the insert in one statement: an existing id inserts nothing.
    if not await ctx.tx.execute(
            "INSERT INTO notes (id, incident_id, author_id, unit_id, device_id, body, device_at, event_at,"
            " server_at, hlc, late, flags) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            " ON CONFLICT (id) DO NOTHING",
            a.note_id, inc["id"], ctx.principal.user_id, unit_id, ctx.m.client_id, a.body,
            ctx.m.device_at, t, ctx.server_now, ctx.hlc, 1 if late else 0, dumps(flags)):
        raise Reject("duplicate_id", "A note with this id already exists.", {"id": a.note_id})
    ctx.touch("note", a.note_id, incident_id=inc["id"])
    result = {"event_at": t, "late": late, **({"flags": flags} if flags else {})}
    if late:
        return Outcome("merged", "late_note",
                       f"Note kept and marked late: incident {inc['number']} was closed at "
                       f"{hhmm(inc['closed_at'])}.", result)
    return Outcome("applied", result=result)


@mutation("incident.close", IncidentClose, roles=ALL_ROLES, scope="assigned_incident",
          merge="incident state machine; ends the incident's active assignments")
async def incident_close(ctx: Ctx, a: IncidentClose) -> Outcome:
    inc = await ctx.incident(a.incident_id)
    await ctx.authorize_incident(inc)
    to = "cancelled" if a.cancelled else "closed"
    if inc["state"] == to:
        return Outcome("merged", "already_closed",
                       f"Incident {inc['number']} was already {to} at {hhmm(inc['closed_at'])}.",
                       {"closed_at": inc["closed_at"]})
    refusal = sm.INCIDENT.check(inc["state"], to)
    if refusal:
        raise Reject(refusal.code, refusal.reason, {"state": inc["state"]})
    t, flags = ctx.event_time(not_before=inc["call_received_at"])
    await ctx.tx.execute(
        "UPDATE incidents SET state = $2, outcome = COALESCE($3, outcome), closed_at = $4,"
        " version = version + 1, updated_at = $5 WHERE id = $1",
        inc["id"], to, a.outcome, t, ctx.server_now)
    ctx.touch("incident", inc["id"], incident_id=inc["id"])
    active = await ctx.tx.fetch(f"SELECT * FROM assignments WHERE incident_id = $1 AND state IN {ACTIVE_SQL}",
                                inc["id"])
    for asg in active:
        await ctx.watch_visibility(inc["id"], asg["unit_id"])
        if asg["state"] in ("en_route", "on_scene"):
            await ctx.tx.execute(
                "UPDATE assignments SET state = 'cleared', cleared_at = $2, ended_at = $2,"
                " version = version + 1, updated_at = $3 WHERE id = $1", asg["id"], t, ctx.server_now)
        else:
            await ctx.tx.execute(
                "UPDATE assignments SET state = 'cancelled', ended_at = $2, version = version + 1,"
                " updated_at = $3 WHERE id = $1", asg["id"], t, ctx.server_now)
        await _end_unit_current(ctx, asg["unit_id"], asg["id"])
        ctx.touch("assignment", asg["id"], incident_id=inc["id"], audience=[asg["unit_id"]],
                  unit_id=asg["unit_id"])
    return Outcome("applied", result={"closed_at": t, "ended_assignments": len(active),
                                      **({"flags": flags} if flags else {})})


# =========================================================================== field reports


@mutation("report.update", ReportUpdate, roles=ALL_ROLES, scope="assigned_incident",
          merge="per-field LWW by HLC; concurrent edits of one field become a conflict record")
async def report_update(ctx: Ctx, a: ReportUpdate) -> Outcome:
    inc = await ctx.incident(a.incident_id)
    await ctx.authorize_incident(inc, ever=True)
    fields = provided(a, REPORT_FIELDS)
    t, _ = ctx.event_time()
    rep = await ctx.tx.fetchrow("SELECT * FROM field_reports WHERE id = $1", a.report_id)
    if rep is not None and rep["incident_id"] != inc["id"]:
        raise Reject("invalid", "This report belongs to another incident.", {"field": "args.incident_id"})
    w = Writer(ctx.hlc, ctx.principal.user_id, t, ctx.m.client_id, ctx.m.seq, ctx.m.base_version)
    if rep is None:
        stamp = {"hlc": ctx.hlc, "by": ctx.principal.user_id, "at": t, "v": 1,
                 "cid": ctx.m.client_id, "seq": ctx.m.seq}
        await ctx.tx.execute(
            "INSERT INTO field_reports (id, incident_id, unit_id, author_id, summary, actions_taken,"
            " persons, vehicles, evidence, field_meta, version, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)",
            a.report_id, inc["id"], ctx.principal.unit_id if ctx.is_officer else None,
            ctx.principal.user_id, *[fields.get(f) for f in REPORT_FIELDS],
            dumps({f: stamp for f in fields}), ctx.server_now)
        ctx.touch("field_report", a.report_id, incident_id=inc["id"])
        await _audit_personal(ctx, "create", "field_report", a.report_id,
                              [f for f in audit.SYNC_PERSONAL_FIELDS["field_report"] if fields.get(f) is not None])
        return Outcome("applied", result={"applied": list(fields), "unchanged": [], "created": True})
    if not fields:
        return Outcome("merged", "no_change", "Nothing to change.", {"applied": [], "unchanged": []})
    meta = json.loads(rep["field_meta"] or "{}")
    fm = merge_fields({f: rep[f] for f in fields}, meta, fields, w, int(rep["version"]) + 1)
    await _write_fields(ctx, "field_reports", rep, fm)
    ids = await _record_conflicts(ctx, "field_report", rep["id"], inc["org_unit_id"], fm, t)
    if fm.needs_write:
        ctx.touch("field_report", rep["id"], incident_id=inc["id"])
    await _audit_field_merge(ctx, "field_report", rep["id"], fm, ids)
    return await _field_outcome(ctx, fm, ids, "report")


# =========================================================================== assignments


async def _check_can_assign(ctx: Ctx, inc: Row, unit: Row, additional: bool,
                            replacing: str | None = None) -> int:
    """Server-authoritative checks before a unit gets an assignment; returns is_primary."""
    if inc["state"] in TERMINAL_INCIDENT:
        raise Reject("incident_closed", f"Incident {inc['number']} is already {inc['state']}.",
                     {"incident_id": inc["id"]})
    if not unit["active"]:
        raise Reject("unit_inactive", f"{unit['call_sign']} is not an active unit.", {"unit_id": unit["id"]})
    await ctx.authorize_unit(unit)
    busy = await ctx.tx.fetchrow(
        f"SELECT a.id, a.assigned_at, i.number FROM assignments a JOIN incidents i ON i.id = a.incident_id"
        f" WHERE a.unit_id = $1 AND a.state IN {ACTIVE_SQL} ORDER BY a.assigned_at LIMIT 1", unit["id"])
    if busy and not additional:
        raise Reject("unit_busy",
                     f"{unit['call_sign']} is already on incident {busy['number']} (since "
                     f"{hhmm(busy['assigned_at'])}). Send it as an additional assignment to add this one.",
                     {"unit_id": unit["id"], "assignment_id": busy["id"]})
    others = await ctx.tx.fetchrow(
        f"SELECT a.unit_id FROM assignments a WHERE a.incident_id = $1 AND a.state IN {ACTIVE_SQL}"
        " AND a.id <> $2 LIMIT 1", inc["id"], replacing or "")
    if others and not additional:
        cs = await ctx.call_sign(others["unit_id"])
        raise Reject("incident_has_unit",
                     f"{cs} is already assigned to incident {inc['number']}. Add this unit as a second "
                     "unit to send both.", {"unit_id": others["unit_id"]})
    return 0 if others else 1


async def _insert_assignment(ctx: Ctx, asg_id: str, inc: Row, unit: Row, is_primary: int, t: int) -> None:
    if await ctx.tx.fetchval("SELECT 1 FROM assignments WHERE id = $1", asg_id):
        raise Reject("duplicate_id", "An assignment with this id already exists.", {"id": asg_id})
    await ctx.watch_visibility(inc["id"], unit["id"])
    await ctx.tx.execute(
        "INSERT INTO assignments (id, incident_id, unit_id, state, is_primary, assigned_by, assigned_at,"
        " created_at, updated_at) VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $7)",
        asg_id, inc["id"], unit["id"], is_primary, ctx.principal.user_id, t, ctx.server_now)
    if unit["current_assignment_id"] is None:
        await ctx.tx.execute("UPDATE units SET current_assignment_id = $2, version = version + 1,"
                             " updated_at = $3 WHERE id = $1", unit["id"], asg_id, ctx.server_now)
        _touch_unit(ctx, unit, await ctx.org_path(unit["org_unit_id"]))
    ctx.touch("assignment", asg_id, incident_id=inc["id"], audience=[unit["id"]], unit_id=unit["id"])
    to = sm.incident_after_assignment(inc["state"], "pending")
    if to:
        await _set_incident_state(ctx, inc, to)


@mutation("assignment.create", AssignmentCreate, roles=DESK, scope="org",
          merge="server-authoritative; one active assignment per unit unless sent as additional")
async def assignment_create(ctx: Ctx, a: AssignmentCreate) -> Outcome:
    inc = await ctx.incident(a.incident_id)
    await ctx.authorize_incident(inc)
    unit = await ctx.unit(a.unit_id)
    is_primary = await _check_can_assign(ctx, inc, unit, a.additional)
    t, _ = ctx.event_time()
    await _insert_assignment(ctx, a.assignment_id, inc, unit, is_primary, t)
    return Outcome("applied", result={"assigned_at": t, "is_primary": bool(is_primary)})


@mutation("assignment.reassign", AssignmentReassign, roles=DESK, scope="org",
          merge="server-authoritative; the old assignment ends as reassigned, naming the new unit")
async def assignment_reassign(ctx: Ctx, a: AssignmentReassign) -> Outcome:
    old = await ctx.assignment(a.assignment_id)
    inc = await ctx.incident(old["incident_id"])
    await ctx.authorize_incident(inc)
    if old["state"] not in sm.ACTIVE_ASSIGNMENT:
        raise await _ended_reason(ctx, old)
    if a.unit_id == old["unit_id"]:
        raise Reject("invalid", "The new unit is the same as the current one.", {"field": "args.unit_id"})
    unit = await ctx.unit(a.unit_id)
    is_primary = await _check_can_assign(ctx, inc, unit, a.additional, replacing=old["id"])
    t, _ = ctx.event_time()
    await ctx.watch_visibility(inc["id"], old["unit_id"])
    await ctx.tx.execute(
        "UPDATE assignments SET state = 'reassigned', ended_at = $2, replaced_by_unit_id = $3, end_reason = $5,"
        " version = version + 1, updated_at = $4 WHERE id = $1", old["id"], t, unit["id"], ctx.server_now,
        a.reason)
    await _end_unit_current(ctx, old["unit_id"], old["id"])
    ctx.touch("assignment", old["id"], incident_id=inc["id"], audience=[old["unit_id"]],
              unit_id=old["unit_id"])
    await _insert_assignment(ctx, a.new_assignment_id, inc, unit, max(is_primary, old["is_primary"]), t)
    return Outcome("applied", result={"reassigned_at": t, "new_assignment_id": a.new_assignment_id})


async def _own_assignment(ctx: Ctx, assignment_id: str) -> Row:
    asg = await ctx.assignment(assignment_id)
    if ctx.is_officer:
        if asg["unit_id"] != ctx.principal.unit_id:
            raise Reject("out_of_scope", "This assignment is for another unit.", {"assignment_id": asg["id"]})
    else:
        inc = await ctx.incident(asg["incident_id"])
        await ctx.authorize_org(inc["org_unit_id"])
    return asg


@mutation("assignment.acknowledge", AssignmentRef, roles=ALL_ROLES, scope="own_unit",
          merge="server-authoritative; refused once the assignment was reassigned or cancelled")
async def assignment_acknowledge(ctx: Ctx, a: AssignmentRef) -> Outcome:
    asg = await _own_assignment(ctx, a.assignment_id)
    if asg["state"] in ("acknowledged", "en_route", "on_scene", "cleared"):
        return Outcome("merged", "already_acknowledged",
                       f"Already acknowledged at {hhmm(asg['acknowledged_at'])}.",
                       {"acknowledged_at": asg["acknowledged_at"]})
    if asg["state"] != "pending":
        raise await _ended_reason(ctx, asg)
    t, flags = ctx.event_time(not_before=asg["assigned_at"])
    await ctx.tx.execute(
        "UPDATE assignments SET state = 'acknowledged', acknowledged_at = $2, flags = COALESCE($3, flags),"
        " version = version + 1, updated_at = $4 WHERE id = $1",
        asg["id"], t, _merge_flags(asg, "acknowledged_at", flags), ctx.server_now)
    ctx.touch("assignment", asg["id"], incident_id=asg["incident_id"], audience=[asg["unit_id"]],
              unit_id=asg["unit_id"])
    return Outcome("applied", result={"acknowledged_at": t})


@mutation("assignment.decline", AssignmentDecline, roles=ALL_ROLES, scope="own_unit",
          merge="server-authoritative; assignment state machine")
async def assignment_decline(ctx: Ctx, a: AssignmentDecline) -> Outcome:
    asg = await _own_assignment(ctx, a.assignment_id)
    if asg["state"] not in ("pending", "acknowledged"):
        if asg["state"] in ("en_route", "on_scene"):
            raise Reject("illegal_transition",
                         f"Your unit is already {sm.LABEL[asg['state']]}; ask dispatch to reassign it.",
                         {"state": asg["state"]})
        raise await _ended_reason(ctx, asg)
    t, _ = ctx.event_time()
    await ctx.watch_visibility(asg["incident_id"], asg["unit_id"])
    await ctx.tx.execute(
        "UPDATE assignments SET state = 'declined', declined_at = $2, ended_at = $2, decline_reason = $3,"
        " version = version + 1, updated_at = $4 WHERE id = $1", asg["id"], t, a.reason, ctx.server_now)
    await _end_unit_current(ctx, asg["unit_id"], asg["id"])
    ctx.touch("assignment", asg["id"], incident_id=asg["incident_id"], audience=[asg["unit_id"]],
              unit_id=asg["unit_id"])
    await _back_to_queue_if_unattended(ctx, asg["incident_id"])
    return Outcome("applied", result={"declined_at": t})


async def _back_to_queue_if_unattended(ctx: Ctx, incident_id: str) -> None:
    inc = await ctx.tx.fetchrow("SELECT * FROM incidents WHERE id = $1", incident_id)
    if inc is None:
        return
    left = int(await ctx.tx.fetchval(
        f"SELECT COUNT(*) FROM assignments WHERE incident_id = $1 AND state IN {ACTIVE_SQL}", incident_id) or 0)
    to = sm.incident_after_unassignment(inc["state"], left)
    if to:
        await _set_incident_state(ctx, inc, to)


@mutation("assignment.cancel", AssignmentCancel, roles=DESK, scope="org",
          merge="server-authoritative; assignment state machine")
async def assignment_cancel(ctx: Ctx, a: AssignmentCancel) -> Outcome:
    asg = await _own_assignment(ctx, a.assignment_id)
    if asg["state"] == "cancelled":
        return Outcome("merged", "already_cancelled", f"Already cancelled at {hhmm(asg['ended_at'])}.")
    refusal = sm.ASSIGNMENT.check(asg["state"], "cancelled")
    if refusal:
        raise Reject(refusal.code, refusal.reason, {"state": asg["state"]})
    t, _ = ctx.event_time()
    await ctx.watch_visibility(asg["incident_id"], asg["unit_id"])
    await ctx.tx.execute("UPDATE assignments SET state = 'cancelled', ended_at = $2, end_reason = $3,"
                         " version = version + 1, updated_at = $4 WHERE id = $1",
                         asg["id"], t, a.reason, ctx.server_now)
    await _end_unit_current(ctx, asg["unit_id"], asg["id"])
    ctx.touch("assignment", asg["id"], incident_id=asg["incident_id"], audience=[asg["unit_id"]],
              unit_id=asg["unit_id"])
    await _back_to_queue_if_unattended(ctx, asg["incident_id"])
    return Outcome("applied", result={"cancelled_at": t})


# =========================================================================== alerts


@mutation("alert.raise", AlertRaise, roles=ALL_ROLES, scope="own_unit",
          merge="never merged or coalesced: every raise is its own row; applied before anything else")
async def alert_raise(ctx: Ctx, a: AlertRaise) -> Outcome:
    p = ctx.principal
    unit_id = a.unit_id
    if ctx.is_officer:
        if unit_id and unit_id != p.unit_id:
            raise Reject("out_of_scope", "You can only raise an alert for your own unit.",
                         {"unit_id": unit_id})
        unit_id = p.unit_id
    org_id = p.org_unit_id
    if unit_id:
        unit = await ctx.unit(unit_id)
        if not ctx.is_officer:
            await ctx.authorize_unit(unit)
        org_id = unit["org_unit_id"]
    if await ctx.tx.fetchval("SELECT 1 FROM emergency_alerts WHERE id = $1", a.alert_id):
        raise Reject("duplicate_id", "An alert with this id already exists.", {"id": a.alert_id})
    t, flags = ctx.event_time()
    await ctx.tx.execute(
        "INSERT INTO emergency_alerts (id, unit_id, user_id, device_id, org_unit_id, lat, lon, raised_at,"
        " device_at, server_at, hlc, state, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
        " 'raised', $12)", a.alert_id, unit_id, p.user_id, ctx.m.client_id, org_id, a.lat, a.lon, t,
        ctx.m.device_at, ctx.server_now, ctx.hlc, a.note)
    ctx.touch("alert", a.alert_id, scope_path=await ctx.org_path(org_id),
              audience=[unit_id] if unit_id else [], unit_id=unit_id)
    return Outcome("applied", result={"raised_at": t, **({"flags": flags} if flags else {})})


@mutation("alert.acknowledge", AlertAck, roles=DESK, scope="org", merge="first acknowledgement wins")
async def alert_acknowledge(ctx: Ctx, a: AlertAck) -> Outcome:
    al = await ctx.row("emergency_alerts", a.alert_id, "alert")
    await ctx.authorize_org(al["org_unit_id"])
    if al["state"] != "raised":
        who = await ctx.user_name(al["acknowledged_by"])
        return Outcome("merged", "already_acknowledged",
                       f"{who} already acknowledged this alert at {hhmm(al['acknowledged_at'])}.")
    t, _ = ctx.event_time()
    await ctx.tx.execute("UPDATE emergency_alerts SET state = 'acknowledged', acknowledged_by = $2,"
                         " acknowledged_at = $3, acknowledged_by_name = $4 WHERE id = $1",
                         al["id"], ctx.principal.user_id, t, ctx.principal.display_name)
    ctx.touch("alert", al["id"], scope_path=await ctx.org_path(al["org_unit_id"]),
              audience=[al["unit_id"]] if al["unit_id"] else [], unit_id=al["unit_id"])
    return Outcome("applied", result={"acknowledged_at": t})


@mutation("alert.end", AlertEnd, roles=ALL_ROLES, scope="own_unit",
          merge="first end wins; needs a reason; the alert's crew or its desk")
async def alert_end(ctx: Ctx, a: AlertEnd) -> Outcome:
    al = await ctx.row("emergency_alerts", a.alert_id, "alert")
    if ctx.is_officer:
        if al["unit_id"] != ctx.principal.unit_id and al["user_id"] != ctx.principal.user_id:
            raise Reject("out_of_scope", "This alert is another unit's.", {"alert_id": al["id"]})
    else:
        await ctx.authorize_org(al["org_unit_id"])
    if al["state"] == "resolved":
        return Outcome("merged", "already_ended", "This alert was already ended.",
                       {"ended_at": al["resolved_at"], "ended_by": al["ended_by"]})
    t, _ = ctx.event_time()
    await ctx.tx.execute(
        "UPDATE emergency_alerts SET state = 'resolved', resolved_at = $2, ended_by = $3, ended_by_name = $4,"
        " end_reason = $5 WHERE id = $1", al["id"], t, ctx.principal.user_id, ctx.principal.display_name, a.reason)
    ctx.touch("alert", al["id"], scope_path=await ctx.org_path(al["org_unit_id"]),
              audience=[al["unit_id"]] if al["unit_id"] else [], unit_id=al["unit_id"])
    return Outcome("applied", result={"ended_at": t})


# =========================================================================== conflicts


async def _edited_since_conflict(ctx: Ctx, c: Row, row: Row, meta: dict[str, Any], value: Any,
                                 resolution: str, t: int) -> Outcome | None:
    """Was the field written after the conflict (by neither side of it) without the resolver
    having seen that write? Then the resolution must not silently replace it: the later edit
    stays in force, the resolution's value is kept in a new conflict against it, and the old
    conflict is closed with the decision recorded. None when the resolution may be written."""
    fmeta = meta.get(c["field"]) or {}
    sides = {h for h in (c["server_hlc"], c["client_hlc"]) if h}
    if not fmeta or fmeta.get("hlc") in sides or fmeta.get("resolved") == c["id"]:
        return None
    w = Writer(ctx.hlc, ctx.principal.user_id, t, ctx.m.client_id, ctx.m.seq, ctx.m.base_version)
    if saw_write(fmeta, w):
        return None  # the resolver decided knowing the later edit
    fm = FieldMerge(meta=dict(meta))
    fm.conflicts.append(FieldConflict(c["field"], row[c["field"]], dict(fmeta), value, "server"))
    ids = await _record_conflicts(ctx, c["entity"], row["id"], c["org_unit_id"], fm, t)
    await ctx.tx.execute(
        "UPDATE conflicts SET state = 'resolved', resolution = $2, resolved_value = $3, resolved_by = $4,"
        " resolved_at = $5 WHERE id = $1", c["id"], resolution, dumps(value), ctx.principal.user_id, t)
    ctx.touch("conflict", c["id"], scope_path=await ctx.org_path(c["org_unit_id"]), audience=[])
    return Outcome("conflict", "edited_since_conflict",
                   f"{await ctx.user_name(fmeta.get('by'))} changed {c['field']} after this conflict; "
                   "that edit stays, and your choice is kept in a new conflict against it.",
                   {"field": c["field"], "edited_by": fmeta.get("by"), "edited_at": fmeta.get("at"),
                    "conflicts": [{"id": i, "field": c["field"], "current": "server"} for i in ids]})


@mutation("conflict.resolve", ConflictResolve, roles=DESK, scope="org",
          merge="a human decision: the chosen value is written with a fresh server HLC; decision recorded")
async def conflict_resolve(ctx: Ctx, a: ConflictResolve) -> Outcome:
    c = await ctx.row("conflicts", a.conflict_id, "conflict")
    await ctx.authorize_org(c["org_unit_id"])
    if c["state"] == "resolved":
        who = await ctx.user_name(c["resolved_by"])
        raise Reject("already_resolved",
                     f"{who} already resolved this conflict at {hhmm(c['resolved_at'])} "
                     f"(kept the {c['resolution']} value).", {"resolution": c["resolution"]})
    if a.resolution == "server":
        value = json.loads(c["server_value"]) if c["server_value"] is not None else None
    elif a.resolution == "client":
        value = json.loads(c["client_value"]) if c["client_value"] is not None else None
    else:
        if "value" not in ctx.m.args:
            raise Reject("invalid", "A merged resolution needs the merged value (args.value).",
                         {"field": "args.value"})
        value = a.value
    table, typ, id_key = {"incident": ("incidents", IncidentUpdate, "incident_id"),
                          "field_report": ("field_reports", ReportUpdate, "report_id")}[c["entity"]]
    row = await ctx.row(table, c["entity_id"], c["entity"].replace("_", " "))
    try:  # the chosen value must be a valid value of that field
        probe = {id_key: row["id"], c["field"]: value}
        if typ is ReportUpdate:
            probe["incident_id"] = row["incident_id"]
        msgspec.convert(probe, typ)
    except msgspec.ValidationError as exc:
        raise Reject("invalid", f"The value is not valid for {c['field']}: {exc}", {"field": "args.value"})
    for h in (c["server_hlc"], c["client_hlc"]):
        if h:
            ctx.server_hlc_recv(h)
    stamp_hlc = ctx.server_hlc()
    t, _ = ctx.event_time()
    meta = json.loads(row["field_meta"] or "{}")
    superseded = await _edited_since_conflict(ctx, c, row, meta, value, a.resolution, t)
    if superseded is not None:
        if audit.is_personal(c["entity"], c["field"]):  # the chosen value went into a new conflict row
            await _audit_personal(ctx, "change", c["entity"], row["id"], [c["field"]], conflict_id=c["id"],
                                  resolution=a.resolution,
                                  conflicts=[x["id"] for x in (superseded.result or {}).get("conflicts", [])])
        return superseded
    version = int(row["version"]) + 1
    meta[c["field"]] = {"hlc": stamp_hlc, "by": ctx.principal.user_id, "at": t, "v": version,
                        "cid": ctx.m.client_id, "seq": ctx.m.seq, "resolved": c["id"]}
    await ctx.tx.execute(
        f"UPDATE {table} SET {c['field']} = $2, field_meta = $3, version = $4, updated_at = $5 WHERE id = $1",
        row["id"], value, dumps(meta), version, ctx.server_now)
    await ctx.tx.execute(
        "UPDATE conflicts SET state = 'resolved', resolution = $2, resolved_value = $3, resolved_by = $4,"
        " resolved_at = $5 WHERE id = $1", c["id"], a.resolution, dumps(value), ctx.principal.user_id, t)
    inc_id = row["id"] if c["entity"] == "incident" else row["incident_id"]
    ctx.touch(c["entity"], row["id"], incident_id=inc_id)
    ctx.touch("conflict", c["id"], scope_path=await ctx.org_path(c["org_unit_id"]), audience=[])
    if audit.is_personal(c["entity"], c["field"]):
        # Personal data: the decision is audited, and the outcome (stored, sent back) names no value.
        await _audit_personal(ctx, "change", c["entity"], row["id"], [c["field"]], conflict_id=c["id"],
                              resolution=a.resolution)
        return Outcome("applied", result={"field": c["field"], "version": version, "personal": True})
    return Outcome("applied", result={"field": c["field"], "value": value, "version": version})
