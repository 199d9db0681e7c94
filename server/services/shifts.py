"""Shifts and the roster: which unit is planned when, where, with which crew.

Commanders and admins plan within their org scope; dispatchers read. Every
change is validated (errors name the field) and audited. Times are epoch
milliseconds; days and weeks are Europe/Belgrade local time, so copying a
week moves every shift by seven *calendar* days (a DST change keeps 07:00 at
07:00 local).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any, Literal

import msgspec

from server import audit
from server.analytics.stats import TZ, local
from server.clock import now_ms
from sync.principal import Principal
from sync.store import Database, Tx

PLANNERS = ("commander", "admin")
READERS = ("dispatcher", "commander", "admin")
MAX_SHIFT_MS = 24 * 3_600_000
DAY_MS = 86_400_000


class ShiftError(Exception):
    """Invalid input: HTTP 422 with the field it concerns."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(Exception):
    """The shift does not exist or is outside the caller's scope (HTTP 404)."""


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    user_id: str
    role: Literal["lead", "member"] = "member"


class ShiftIn(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: str
    starts_at: int
    ends_at: int
    planned_area: str | None = None
    notes: str | None = None
    members: list[MemberIn] = []


class MemberOut(msgspec.Struct):
    user_id: str
    full_name: str
    badge_no: str | None
    role: str


class ShiftOut(msgspec.Struct):
    id: str
    org_unit_id: str
    org_unit_code: str
    unit_id: str
    call_sign: str
    starts_at: int
    ends_at: int
    planned_area: str | None
    notes: str | None
    members: list[MemberOut]
    created_by: str | None
    created_at: int
    updated_at: int


class CopyResult(msgspec.Struct):
    source_week: str   # Monday of the copied week, YYYY-MM-DD
    target_week: str
    created: list[ShiftOut]


# --------------------------------------------------------------------------- time helpers

def day_start_ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=TZ).timestamp() * 1000)


def day_window(d: date) -> tuple[int, int]:
    return day_start_ms(d), day_start_ms(d + timedelta(days=1))


def monday_of(d: date) -> date:
    return d - timedelta(days=d.isoweekday() - 1)


def week_window(d: date) -> tuple[int, int]:
    monday = monday_of(d)
    return day_start_ms(monday), day_start_ms(monday + timedelta(days=7))


def shift_by_days(ms: int, days: int) -> int:
    """The same local wall-clock time ``days`` calendar days later."""
    loc = local(ms)
    moved = (loc.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=TZ)
    return int(moved.timestamp() * 1000)


def _fmt(ms: int) -> str:
    return local(ms).strftime("%Y-%m-%d %H:%M")


# --------------------------------------------------------------------------- reads

_SHIFT_COLUMNS = ("s.id, s.org_unit_id, o.code AS org_unit_code, o.path, s.unit_id, u.call_sign,"
                  " s.starts_at, s.ends_at, s.planned_area, s.notes, s.created_by, s.created_at,"
                  " s.updated_at")


async def _members(tx: Tx, shift_ids: list[str]) -> dict[str, list[MemberOut]]:
    if not shift_ids:
        return {}
    out: dict[str, list[MemberOut]] = {}
    ph = ", ".join(f"${i + 1}" for i in range(len(shift_ids)))
    rows = await tx.fetch(
        "SELECT m.shift_id, m.user_id, m.role, us.full_name, us.badge_no FROM shift_members m"
        f" JOIN users us ON us.id = m.user_id WHERE m.shift_id IN ({ph})", *shift_ids)
    for r in rows:
        out.setdefault(r["shift_id"], []).append(
            MemberOut(user_id=r["user_id"], full_name=r["full_name"], badge_no=r["badge_no"], role=r["role"]))
    for members in out.values():
        members.sort(key=lambda m: (m.role != "lead", m.full_name, m.user_id))
    return out


def _out(row: dict[str, Any], members: list[MemberOut]) -> ShiftOut:
    return ShiftOut(
        id=row["id"], org_unit_id=row["org_unit_id"], org_unit_code=row["org_unit_code"],
        unit_id=row["unit_id"], call_sign=row["call_sign"], starts_at=int(row["starts_at"]),
        ends_at=int(row["ends_at"]), planned_area=row["planned_area"], notes=row["notes"],
        members=members, created_by=row["created_by"], created_at=int(row["created_at"]),
        updated_at=int(row["updated_at"]),
    )


async def _fetch_shifts(tx: Tx, where: str, *args: Any, scope: str | None = None) -> list[ShiftOut]:
    rows = await tx.fetch(
        f"SELECT {_SHIFT_COLUMNS} FROM shifts s JOIN units u ON u.id = s.unit_id"
        f" JOIN org_units o ON o.id = s.org_unit_id WHERE {where}", *args)
    if scope is not None:  # LIKE treats '_' as a wildcard and may ignore case: re-check exactly
        rows = [r for r in rows if r["path"].startswith(scope)]
    members = await _members(tx, [r["id"] for r in rows])
    rows.sort(key=lambda r: (int(r["starts_at"]), r["call_sign"], r["id"]))
    return [_out(r, members.get(r["id"], [])) for r in rows]


async def _scope_path(tx: Tx, p: Principal, org_unit_id: str | None) -> str:
    """The caller's scope, narrowed to ``org_unit_id`` when given (which must be inside it)."""
    if not org_unit_id:
        return p.scope_path
    path = await tx.fetchval("SELECT path FROM org_units WHERE id = $1 OR code = $1", org_unit_id)
    if path is None or not p.in_scope(path):
        raise NotFound(org_unit_id)
    return str(path)


async def list_shifts(db: Database, p: Principal, start_ms: int, end_ms: int,
                      org_unit_id: str | None = None) -> list[ShiftOut]:
    """Shifts overlapping ``[start_ms, end_ms)`` in the caller's scope (or one org unit of it)."""
    async with db.read() as tx:
        scope = await _scope_path(tx, p, org_unit_id)
        return await _fetch_shifts(tx, "o.path LIKE $1 AND s.starts_at < $3 AND s.ends_at > $2",
                                   scope + "%", start_ms, end_ms, scope=scope)


async def get_shift(db: Database, p: Principal, shift_id: str) -> ShiftOut:
    async with db.read() as tx:
        return await _visible(tx, p, shift_id)


async def _visible(tx: Tx, p: Principal, shift_id: str) -> ShiftOut:
    rows = await tx.fetch(
        f"SELECT {_SHIFT_COLUMNS} FROM shifts s JOIN units u ON u.id = s.unit_id"
        " JOIN org_units o ON o.id = s.org_unit_id WHERE s.id = $1", shift_id)
    if not rows or not p.in_scope(rows[0]["path"]):
        raise NotFound(shift_id)
    members = await _members(tx, [shift_id])
    return _out(rows[0], members.get(shift_id, []))


class OfficerOut(msgspec.Struct):
    id: str
    full_name: str
    badge_no: str | None
    org_unit_id: str
    org_unit_code: str


async def officers(db: Database, p: Principal, org_unit_id: str | None = None) -> list[OfficerOut]:
    """Active officers in scope: who can be put on a shift."""
    async with db.read() as tx:
        scope = await _scope_path(tx, p, org_unit_id)
        rows = await tx.fetch(
            "SELECT us.id, us.full_name, us.badge_no, us.org_unit_id, o.code, o.path FROM users us"
            " JOIN org_units o ON o.id = us.org_unit_id"
            " WHERE o.path LIKE $1 AND us.role = 'officer' AND us.active = 1", scope + "%")
    rows = [r for r in rows if r["path"].startswith(scope)]
    rows.sort(key=lambda r: (r["code"], r["full_name"], r["id"]))
    return [OfficerOut(id=r["id"], full_name=r["full_name"], badge_no=r["badge_no"],
                       org_unit_id=r["org_unit_id"], org_unit_code=r["code"]) for r in rows]


# --------------------------------------------------------------------------- validation

async def _lock_officers(tx: Tx, user_ids: list[str]) -> None:
    """Serialise roster writes per officer, so two concurrent saves cannot both pass the
    overlap check. SQLite has one writer already; on PostgreSQL the officers' rows are
    locked (in id order, so two writers never wait on each other in a circle)."""
    if tx.dialect == "postgresql" and user_ids:
        await tx.fetch("SELECT id FROM users WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE",
                       sorted(set(user_ids)))


async def _validate(tx: Tx, p: Principal, data: ShiftIn, *, exclude_id: str | None = None,
                    prefix: str = "") -> dict[str, Any]:
    """Check a shift; returns the unit row. Raises :class:`ShiftError` naming the field."""
    if data.ends_at <= data.starts_at:
        raise ShiftError("The shift must end after it starts.", f"{prefix}ends_at")
    await _lock_officers(tx, [m.user_id for m in data.members])
    if data.ends_at - data.starts_at > MAX_SHIFT_MS:
        raise ShiftError("A shift may last at most 24 hours.", f"{prefix}ends_at")
    if data.planned_area is not None and len(data.planned_area) > 200:
        raise ShiftError("The planned area is longer than 200 characters.", f"{prefix}planned_area")
    if data.notes is not None and len(data.notes) > 2000:
        raise ShiftError("The notes are longer than 2000 characters.", f"{prefix}notes")
    unit = await tx.fetchrow(
        "SELECT u.id, u.call_sign, u.org_unit_id, u.active, o.path FROM units u"
        " JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = $1", data.unit_id)
    if unit is None or not p.in_scope(unit["path"]):
        raise ShiftError("No such unit in your scope.", f"{prefix}unit_id")
    if not unit["active"]:
        raise ShiftError(f"Unit {unit['call_sign']} is not active.", f"{prefix}unit_id")
    seen: set[str] = set()
    leads = 0
    for i, m in enumerate(data.members):
        field = f"{prefix}members[{i}].user_id"
        if m.user_id in seen:
            raise ShiftError("This officer is listed twice.", field)
        seen.add(m.user_id)
        leads += m.role == "lead"
        user = await tx.fetchrow(
            "SELECT us.id, us.full_name, us.role, us.active, o.path FROM users us"
            " JOIN org_units o ON o.id = us.org_unit_id WHERE us.id = $1", m.user_id)
        if user is None or not p.in_scope(user["path"]):
            raise ShiftError("No such officer in your scope.", field)
        if user["role"] != "officer":
            raise ShiftError(f"{user['full_name']} is a {user['role']}, not an officer.", field)
        if not user["active"]:
            raise ShiftError(f"{user['full_name']}'s account is disabled.", field)
        clash = await tx.fetchrow(
            "SELECT s.id, s.starts_at, s.ends_at, u.call_sign FROM shift_members m"
            " JOIN shifts s ON s.id = m.shift_id JOIN units u ON u.id = s.unit_id"
            " WHERE m.user_id = $1 AND s.starts_at < $3 AND s.ends_at > $2 AND s.id <> $4"
            " ORDER BY s.starts_at LIMIT 1",
            m.user_id, data.starts_at, data.ends_at, exclude_id or "")
        if clash is not None:
            raise ShiftError(
                f"{user['full_name']} is already on {clash['call_sign']} from {_fmt(int(clash['starts_at']))}"
                f" to {_fmt(int(clash['ends_at']))}; an officer cannot be in two overlapping shifts.", field)
    if leads > 1:
        raise ShiftError("A shift has at most one lead.", f"{prefix}members")
    return unit


async def _insert(tx: Tx, p: Principal, data: ShiftIn, org_unit_id: str, now: int) -> str:
    shift_id = str(uuid.uuid4())
    await tx.execute(
        "INSERT INTO shifts (id, org_unit_id, unit_id, starts_at, ends_at, planned_area, notes, created_by,"
        " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        shift_id, org_unit_id, data.unit_id, data.starts_at, data.ends_at, data.planned_area, data.notes,
        p.user_id, now)
    await _insert_members(tx, shift_id, data.members)
    return shift_id


async def _insert_members(tx: Tx, shift_id: str, members: list[MemberIn]) -> None:
    for m in members:
        await tx.execute("INSERT INTO shift_members (shift_id, user_id, role) VALUES ($1, $2, $3)",
                         shift_id, m.user_id, m.role)


def _detail(data: ShiftIn) -> dict[str, Any]:
    return {"unit_id": data.unit_id, "starts_at": data.starts_at, "ends_at": data.ends_at,
            "members": [m.user_id for m in data.members]}


def _clean(data: ShiftIn) -> ShiftIn:
    def text(v: str | None) -> str | None:
        v = v.strip() if v is not None else None
        return v or None
    return msgspec.structs.replace(data, planned_area=text(data.planned_area), notes=text(data.notes))


# --------------------------------------------------------------------------- writes

async def create_shift(db: Database, p: Principal, data: ShiftIn) -> ShiftOut:
    data = _clean(data)
    now = now_ms()
    async with db.transaction() as tx:
        unit = await _validate(tx, p, data)
        shift_id = await _insert(tx, p, data, unit["org_unit_id"], now)
        await audit.record(tx, action="create", entity="shift", entity_id=shift_id, principal=p,
                           detail=_detail(data), at=now)
        return await _visible(tx, p, shift_id)


async def update_shift(db: Database, p: Principal, shift_id: str, data: ShiftIn) -> ShiftOut:
    """Replace a shift's unit, times, area, notes and crew."""
    data = _clean(data)
    now = now_ms()
    async with db.transaction() as tx:
        before = await _visible(tx, p, shift_id)
        unit = await _validate(tx, p, data, exclude_id=shift_id)
        await tx.execute(
            "UPDATE shifts SET org_unit_id = $2, unit_id = $3, starts_at = $4, ends_at = $5, planned_area = $6,"
            " notes = $7, updated_at = $8 WHERE id = $1",
            shift_id, unit["org_unit_id"], data.unit_id, data.starts_at, data.ends_at, data.planned_area,
            data.notes, now)
        await tx.execute("DELETE FROM shift_members WHERE shift_id = $1", shift_id)
        await _insert_members(tx, shift_id, data.members)
        await audit.record(tx, action="update", entity="shift", entity_id=shift_id, principal=p,
                           detail={"before": {"unit_id": before.unit_id, "starts_at": before.starts_at,
                                              "ends_at": before.ends_at,
                                              "members": [m.user_id for m in before.members]},
                                   "after": _detail(data)}, at=now)
        return await _visible(tx, p, shift_id)


async def delete_shift(db: Database, p: Principal, shift_id: str) -> None:
    now = now_ms()
    async with db.transaction() as tx:
        before = await _visible(tx, p, shift_id)
        await tx.execute("DELETE FROM shift_members WHERE shift_id = $1", shift_id)
        await tx.execute("DELETE FROM shifts WHERE id = $1", shift_id)
        await audit.record(tx, action="delete", entity="shift", entity_id=shift_id, principal=p,
                           detail={"unit_id": before.unit_id, "starts_at": before.starts_at,
                                   "ends_at": before.ends_at, "members": [m.user_id for m in before.members]},
                           at=now)


async def copy_week(db: Database, p: Principal, week: date, org_unit_id: str | None = None) -> CopyResult:
    """Copy the shifts that *start* in the week of ``week`` (Mon–Sun, local) to the next week,
    with the same crews. All or nothing: if any copy fails validation (an officer already
    planned in the target week, a unit since deactivated) nothing is copied and the error
    names the source shift."""
    monday = monday_of(week)
    start, end = week_window(monday)
    now = now_ms()
    async with db.transaction() as tx:
        scope = await _scope_path(tx, p, org_unit_id)
        source = await _fetch_shifts(tx, "o.path LIKE $1 AND s.starts_at >= $2 AND s.starts_at < $3",
                                     scope + "%", start, end, scope=scope)
        if not source:
            raise ShiftError(f"There are no shifts to copy in the week of {monday.isoformat()}.", "week")
        created_ids = []
        for s in source:
            data = ShiftIn(unit_id=s.unit_id, starts_at=shift_by_days(s.starts_at, 7),
                           ends_at=shift_by_days(s.ends_at, 7), planned_area=s.planned_area, notes=s.notes,
                           members=[MemberIn(user_id=m.user_id, role=m.role) for m in s.members])  # type: ignore[arg-type]
            try:
                unit = await _validate(tx, p, data)
            except ShiftError as exc:
                raise ShiftError(f"Shift of {s.call_sign} on {_fmt(s.starts_at)}: {exc.message}", "week") from None
            # Copying twice would double the roster: refuse a unit already planned then.
            dup = await tx.fetchval(
                "SELECT id FROM shifts WHERE unit_id = $1 AND starts_at < $3 AND ends_at > $2",
                data.unit_id, data.starts_at, data.ends_at)
            if dup is not None:
                raise ShiftError(f"Shift of {s.call_sign} on {_fmt(s.starts_at)}: the unit is already"
                                 " planned at that time in the next week.", "week")
            sid = await _insert(tx, p, data, unit["org_unit_id"], now)
            created_ids.append(sid)
            await audit.record(tx, action="create", entity="shift", entity_id=sid, principal=p,
                               detail={**_detail(data), "copied_from": s.id}, at=now)
        await audit.record(tx, action="copy_week", entity="shift", entity_id=None, principal=p,
                           detail={"week": monday.isoformat(), "scope": scope, "count": len(created_ids)},
                           at=now)
        created = await _fetch_shifts(
            tx, f"s.id IN ({', '.join(f'${i + 1}' for i in range(len(created_ids)))})", *created_ids)
    return CopyResult(source_week=monday.isoformat(), target_week=(monday + timedelta(days=7)).isoformat(),
                      created=created)
