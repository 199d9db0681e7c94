"""Shifts and roster: commanders and admins plan in their scope, dispatchers read."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from server.api.deps import DbDep, PrincipalDep, require_role
from server.api.edge import TIME_SCHEMA, epoch_ms, parse_day
from server.api.errors import ApiError
from server.services import shifts
from server.services.shifts import CopyResult, NotFound, OfficerOut, ShiftError, ShiftIn, ShiftOut


log = logging.getLogger("patrol.shifts")


async def _crew_changed(request: Request[Any, Any, Any], user_ids: list[str]) -> None:
    """Officers on the changed shift learn their unit live (phones signed in before it was planned)."""
    hub = getattr(request.app.state, "hub", None)
    if hub is None or not user_ids:
        return
    try:
        await hub.crew_changed(user_ids)
    except Exception as exc:  # the shift is saved; the next connect (hello) carries the unit anyway
        log.warning("could not tell the crew of a changed shift: %s", exc)


class CopyWeekIn(msgspec.Struct, forbid_unknown_fields=True):
    week: str                      # any day of the week to copy, YYYY-MM-DD (local time)
    org_unit_id: str | None = None  # only this station (id or code); default the whole scope


def _times(data: ShiftIn) -> ShiftIn:
    """The shift's times are times (a 422 naming the field otherwise)."""
    epoch_ms(data.starts_at, "starts_at")
    epoch_ms(data.ends_at, "ends_at")
    return data


def _invalid(exc: ShiftError) -> ApiError:
    return ApiError(422, "invalid", exc.message, exc.field)


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such shift in your scope.")


def _scope_refused(org_unit: str) -> ApiError:
    return ApiError(403, "forbidden", f"The org unit {org_unit!r} is not in your scope.", "org_unit")


class ShiftController(Controller):
    path = "/api/shifts"
    tags = ("shifts",)

    @get("/", summary="Shifts overlapping a day, a week or a period, in your scope or one station")
    async def list_shifts(
        self, db: DbDep, principal: PrincipalDep,
        day: Annotated[str | None, QueryParameter(description="a local day, YYYY-MM-DD")] = None,
        week: Annotated[str | None, QueryParameter(description="any day of a week (Mon-Sun), YYYY-MM-DD")] = None,
        start: Annotated[int | None, QueryParameter(name="from", description="from (epoch ms)", schema_extra=TIME_SCHEMA)] = None,
        end: Annotated[int | None, QueryParameter(name="to", description="to (epoch ms, exclusive)", schema_extra=TIME_SCHEMA)] = None,
        org_unit: Annotated[str | None, QueryParameter(description="station id or code")] = None,
    ) -> list[ShiftOut]:
        require_role(principal, *shifts.READERS)
        if day:
            lo, hi = shifts.day_window(parse_day(day, "day"))
        elif week:
            lo, hi = shifts.week_window(parse_day(week, "week"))
        elif start is not None and end is not None:
            # Checked here, not by QueryParameter(ge=...): Litestar would name the field
            # by its Python name (start) rather than its name on the wire (from).
            epoch_ms(start, "from")
            epoch_ms(end, "to")
            if end <= start:
                raise ApiError(422, "invalid", "'to' must be after 'from'.", "to")
            if end - start > 92 * shifts.DAY_MS:
                raise ApiError(422, "invalid", "A period of at most 92 days, please.", "to")
            lo, hi = start, end
        else:
            raise ApiError(422, "invalid", "Give day, week, or from and to.", "day")
        try:
            return await shifts.list_shifts(db, principal, lo, hi, org_unit)
        except NotFound:
            raise _scope_refused(org_unit or "") from None

    @get("/officers", summary="Active officers in your scope (who can be put on a shift)")
    async def officers(self, db: DbDep, principal: PrincipalDep,
                       org_unit: Annotated[str | None, QueryParameter()] = None) -> list[OfficerOut]:
        require_role(principal, *shifts.READERS)
        try:
            return await shifts.officers(db, principal, org_unit)
        except NotFound:
            raise _scope_refused(org_unit or "") from None

    @get("/{shift_id:str}", summary="One shift with its crew")
    async def get_shift(self, db: DbDep, principal: PrincipalDep, shift_id: FromPath[str]) -> ShiftOut:
        require_role(principal, *shifts.READERS)
        try:
            return await shifts.get_shift(db, principal, shift_id)
        except NotFound:
            raise _not_found() from None

    @post("/", summary="Plan a shift", status_code=201)
    async def create(self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
                     data: JSONBody[ShiftIn]) -> ShiftOut:
        require_role(principal, *shifts.PLANNERS)
        try:
            out = await shifts.create_shift(db, principal, _times(data))
        except ShiftError as exc:
            raise _invalid(exc) from None
        await _crew_changed(request, [m.user_id for m in out.members])
        return out

    @put("/{shift_id:str}", summary="Change a shift (unit, times, area, notes, crew)")
    async def update(self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
                     shift_id: FromPath[str], data: JSONBody[ShiftIn]) -> ShiftOut:
        require_role(principal, *shifts.PLANNERS)
        try:
            before = await shifts.get_shift(db, principal, shift_id)
            out = await shifts.update_shift(db, principal, shift_id, _times(data))
        except NotFound:
            raise _not_found() from None
        except ShiftError as exc:
            raise _invalid(exc) from None
        await _crew_changed(request, [m.user_id for m in (*before.members, *out.members)])
        return out

    @delete("/{shift_id:str}", summary="Delete a shift", status_code=204)
    async def remove(self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
                     shift_id: FromPath[str]) -> None:
        require_role(principal, *shifts.PLANNERS)
        try:
            before = await shifts.get_shift(db, principal, shift_id)
            await shifts.delete_shift(db, principal, shift_id)
        except NotFound:
            raise _not_found() from None
        await _crew_changed(request, [m.user_id for m in before.members])

    @post("/copy-week", summary="Copy a week's shifts (with crews) to the next week", status_code=201)
    async def copy_week(self, db: DbDep, principal: PrincipalDep, data: JSONBody[CopyWeekIn]) -> CopyResult:
        require_role(principal, *shifts.PLANNERS)
        week = parse_day(data.week, "week")
        try:
            return await shifts.copy_week(db, principal, week, data.org_unit_id)
        except NotFound:
            raise _scope_refused(data.org_unit_id or "") from None
        except ShiftError as exc:
            raise _invalid(exc) from None
