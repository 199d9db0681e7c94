"""Read models for the console and the app: org units, units with crews, incident types."""

from __future__ import annotations

import json


import msgspec

from server.auth.sessions import SHIFT_SLACK_MS
from server.clock import now_ms
from sync.principal import Principal
from sync.store import Database


class OrgUnitOut(msgspec.Struct):
    id: str
    parent_id: str | None
    kind: str
    code: str
    name: str
    path: str
    lat: float | None
    lon: float | None


class CrewMember(msgspec.Struct):
    user_id: str
    full_name: str
    role: str


class UnitOut(msgspec.Struct):
    id: str
    call_sign: str
    kind: str
    org_unit_id: str
    org_unit_code: str
    status: str
    status_at: int | None
    current_assignment_id: str | None
    last_lat: float | None
    last_lon: float | None
    last_accuracy_m: float | None
    last_position_at: int | None
    version: int
    crew: list[CrewMember]
    shift_ends_at: int | None
    # The crew of a shift starting within the sign-on slack: they may already have signed in
    # and act for the unit (server/auth/sessions.py), so the desk sees who is coming.
    next_crew: list[CrewMember] = []
    next_shift_starts_at: int | None = None


class IncidentType(msgspec.Struct):
    code: str
    default_priority: int
    labels: dict[str, str]


async def org_units(db: Database, p: Principal) -> list[OrgUnitOut]:
    async with db.read() as tx:
        rows = await tx.fetch("SELECT id, parent_id, kind, code, name, path, lat, lon FROM org_units"
                              " WHERE path LIKE $1 ORDER BY path", p.scope_path + "%")
    return [OrgUnitOut(**r) for r in rows]


async def units(db: Database, p: Principal, unit_id: str | None = None) -> list[UnitOut]:
    """Units in scope (an officer sees only their own unit), with the crew on shift now and the
    crew of a shift starting within the sign-on slack."""
    now = now_ms()
    clauses, args = ["o.path LIKE $1", "u.active = 1"], [p.scope_path + "%"]
    if p.role == "officer":
        clauses.append("u.id = $2")
        args.append(p.unit_id or "")
    elif unit_id:
        clauses.append("u.id = $2")
        args.append(unit_id)
    async with db.read() as tx:
        rows = await tx.fetch(
            "SELECT u.*, o.code AS org_unit_code FROM units u JOIN org_units o ON o.id = u.org_unit_id"
            f" WHERE {' AND '.join(clauses)} ORDER BY u.call_sign", *args)
        crews = await tx.fetch(
            "SELECT s.unit_id, s.starts_at, s.ends_at, us.id AS user_id, us.full_name, m.role"
            " FROM shifts s JOIN shift_members m ON m.shift_id = s.id JOIN users us ON us.id = m.user_id"
            " WHERE s.starts_at <= $2 AND s.ends_at > $1 ORDER BY s.starts_at, m.role, us.full_name",
            now, now + SHIFT_SLACK_MS)
    by_unit: dict[str, list[CrewMember]] = {}
    ends: dict[str, int] = {}
    coming: dict[str, list[CrewMember]] = {}
    starts: dict[str, int] = {}
    for c in crews:
        member = CrewMember(user_id=c["user_id"], full_name=c["full_name"], role=c["role"])
        if c["starts_at"] <= now:
            by_unit.setdefault(c["unit_id"], []).append(member)
            ends[c["unit_id"]] = c["ends_at"]
        elif starts.setdefault(c["unit_id"], c["starts_at"]) == c["starts_at"]:  # the first shift coming only
            coming.setdefault(c["unit_id"], []).append(member)
    return [UnitOut(id=r["id"], call_sign=r["call_sign"], kind=r["kind"], org_unit_id=r["org_unit_id"],
                    org_unit_code=r["org_unit_code"], status=r["status"], status_at=r["status_at"],
                    current_assignment_id=r["current_assignment_id"], last_lat=r["last_lat"],
                    last_lon=r["last_lon"], last_accuracy_m=r["last_accuracy_m"],
                    last_position_at=r["last_position_at"], version=r["version"],
                    crew=by_unit.get(r["id"], []), shift_ends_at=ends.get(r["id"]),
                    next_crew=coming.get(r["id"], []), next_shift_starts_at=starts.get(r["id"])) for r in rows]


async def incident_types(db: Database) -> list[IncidentType]:
    async with db.read() as tx:
        rows = await tx.fetch("SELECT code, default_priority, labels FROM incident_types WHERE active = 1"
                              " ORDER BY sort, code")
    return [IncidentType(code=r["code"], default_priority=r["default_priority"], labels=json.loads(r["labels"]))
            for r in rows]


