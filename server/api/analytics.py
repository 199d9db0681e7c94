"""Analytics for commanders (dispatchers and admins may read): response times,
availability, demand vs coverage, track replay, per-incident export.

Every report is JSON, or CSV with ``?format=csv`` or a ``/csv`` suffix
(``text/csv; charset=utf-8`` with a byte-order mark for Excel, downloaded as an
attachment). Reports cover the
caller's scope, or one org unit of it (``org_unit`` = id or code; outside the
scope: 403).

Periods: ``from`` / ``to`` are epoch milliseconds, or local dates
``YYYY-MM-DD`` (Europe/Belgrade); a date ``to`` is inclusive (the whole day).
"""

from __future__ import annotations

import codecs

from datetime import timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter

from server.analytics import export as incident_export
from server.analytics import queries
from server.analytics.models import DemandCoverageReport, ResponseReport, Track, UnitTimeline
from server.analytics.stats import GROUP_BYS, local
from server.api.deps import DbDep, PrincipalDep, SettingsDep, require_role
from server.api.edge import epoch_ms, parse_day
from server.api.errors import ApiError
from server.clock import now_ms
from server.services.shifts import day_start_ms, day_window
from sync.principal import Principal
from sync.store import Database

READERS = ("dispatcher", "commander", "admin")
DAY_MS = 86_400_000
MAX_REPORT_DAYS = 400
MAX_TRACK_DAYS = 7

CSV_MEDIA = "text/csv"  # Litestar appends "; charset=utf-8" to text types


class AvailabilityReport(msgspec.Struct, kw_only=True):
    scope_path: str
    day: str
    start_ms: int
    end_ms: int
    as_of_ms: int   # actual status, gaps and totals cover [start_ms, as_of_ms): not the future
    units: list[UnitTimeline]


async def day_timeline(db: Database, scope: str, lo: int, hi: int, now: int) -> tuple[int, list[UnitTimeline]]:
    """The day's timeline; for today (or a later day) the actual status stops at
    ``now``: a status is not projected into the future, and a shift planned for
    this afternoon is not an uncovered gap yet. Planned bars cover the whole day."""
    full = await queries.availability_timeline(db, scope, lo, hi)
    if now >= hi:
        return hi, full
    if now <= lo:
        return lo, [msgspec.structs.replace(u, actual=[], gaps=[], available_ms=0, committed_ms=0,
                                            uncovered_ms=0, unplanned_on_duty_ms=0) for u in full]
    so_far = {u.unit_id: u for u in await queries.availability_timeline(db, scope, lo, now)}
    out = []
    for u in full:
        part = so_far.get(u.unit_id)
        if part is None:
            out.append(msgspec.structs.replace(u, actual=[], gaps=[], available_ms=0, committed_ms=0,
                                               uncovered_ms=0, unplanned_on_duty_ms=0))
        else:
            out.append(msgspec.structs.replace(part, planned=u.planned, planned_ms=u.planned_ms))
    return now, out




# --------------------------------------------------------------------------- helpers

def _bad(message: str, field: str) -> ApiError:
    return ApiError(422, "invalid", message, field)


def _time(value: str, field: str, *, end: bool) -> int:
    v = value.strip()
    if v.isascii() and v.lstrip("-").isdigit():
        if len(v) > 20:  # beyond 64 bits: no time, and not worth converting
            return epoch_ms(-1, field)
        return epoch_ms(int(v), field)
    try:
        d = parse_day(v, field)
    except ApiError as exc:
        if exc.code != "invalid":
            raise
        raise _bad(f"'{field}' must be epoch milliseconds or a date like 2025-01-31.", field) from None
    return day_start_ms(d + timedelta(days=1)) if end else day_start_ms(d)


def period(start: str | None, end: str | None, *, default_days: int = 28,
           max_days: int = MAX_REPORT_DAYS) -> tuple[int, int]:
    """``[from, to)`` in ms; by default the last ``default_days`` whole local days up to today."""
    given_lo = _time(start, "from", end=False) if start is not None else None
    if end is None:
        today = local(now_ms()).date()
        hi = day_start_ms(today + timedelta(days=1))
    else:
        hi = _time(end, "to", end=True)
    lo = given_lo if given_lo is not None else hi - default_days * DAY_MS
    if hi <= lo:
        raise _bad("'to' must be after 'from'.", "to")
    if hi - lo > max_days * DAY_MS:
        raise _bad(f"The period is longer than {max_days} days.", "to")
    return lo, hi


async def scope_for(db: Database, p: Principal, org_unit: str | None) -> str:
    """The caller's scope, or the path of ``org_unit`` if it lies inside it (else 403)."""
    if not org_unit:
        return p.scope_path
    async with db.read() as tx:
        path = await tx.fetchval("SELECT path FROM org_units WHERE id = $1 OR code = $1", org_unit)
    if path is None:
        raise ApiError(404, "not_found", f"No org unit {org_unit!r}.")
    if not p.in_scope(path):
        raise ApiError(403, "forbidden", f"The org unit {org_unit!r} is not in your scope.", "org_unit")
    return str(path)


def wants_csv(request: Request[Any, Any, Any], fmt: str) -> bool:
    return fmt == "csv" or request.url.path.rstrip("/").endswith("/csv")


def csv_response(text: str, name: str) -> Response[bytes]:
    # A byte-order mark first: without it Excel reads the file as the Windows code page and
    # shows "InÄ‘ija" for "Inđija"; CSV readers that know UTF-8 skip it.
    return Response(codecs.BOM_UTF8 + text.encode("utf-8"), media_type=CSV_MEDIA,
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"',
                             "Cache-Control": "no-store"})


def _stamp(lo: int, hi: int) -> str:
    a = local(lo).date()
    b = local(hi - 1).date()
    return a.isoformat() if a == b else f"{a.isoformat()}_{b.isoformat()}"


def _slug(scope: str) -> str:
    return scope.strip("/").split("/")[-1] or "all"


def _priorities(value: str | None) -> list[int] | None:
    if not value:
        return None
    out = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= 4:
            raise _bad("priorities is a comma-separated list of 1-4, e.g. 1,2.", "priorities")
        out.append(int(part))
    return sorted(set(out)) or None


async def _unit_in_scope(db: Database, p: Principal, unit_id: str) -> None:
    async with db.read() as tx:
        path = await tx.fetchval("SELECT o.path FROM units u JOIN org_units o ON o.id = u.org_unit_id"
                                 " WHERE u.id = $1 OR u.call_sign = $1", unit_id)
    if path is None or not p.in_scope(path):
        raise ApiError(404, "not_found", "No such unit in your scope.")


async def _unit_id(db: Database, unit: str) -> str:
    async with db.read() as tx:
        return str(await tx.fetchval("SELECT id FROM units WHERE id = $1 OR call_sign = $1", unit))


# --------------------------------------------------------------------------- controller

class AnalyticsController(Controller):
    path = "/api/analytics"
    tags = ("analytics",)

    @get(["/response-times", "/response-times/csv"],
         summary="Response times (call to arrival and the other intervals): median, p90, share within target")
    async def response_times(
        self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep, settings: SettingsDep,
        start: Annotated[str | None, QueryParameter(name="from", description="epoch ms or YYYY-MM-DD")] = None, end: Annotated[str | None, QueryParameter(name="to", description="epoch ms (exclusive) or YYYY-MM-DD (inclusive)")] = None, org_unit: Annotated[str | None, QueryParameter(description="org unit id or code inside your scope")] = None,
        group_by: Annotated[str, QueryParameter(description=", ".join(GROUP_BYS))] = "station",
        target_min: Annotated[int | None, QueryParameter(ge=0, le=240)] = None,
        priorities: Annotated[str | None, QueryParameter(description="e.g. 1,2")] = None,
        all_sources: Annotated[bool, QueryParameter(description="count self-initiated patrol incidents too")] = False,
        locale: Annotated[str, QueryParameter(pattern="^[A-Za-z-]{2,10}$")] = "en",
        fmt: Annotated[str, QueryParameter(name="format", pattern="^(json|csv)$")] = "json",
    ) -> ResponseReport | Response[bytes]:
        require_role(principal, *READERS)
        if group_by not in GROUP_BYS:
            raise _bad(f"group_by must be one of {', '.join(GROUP_BYS)}.", "group_by")
        lo, hi = period(start, end)
        scope = await scope_for(db, principal, org_unit)
        report = await queries.response_times(
            db, scope, lo, hi, group_by,  # type: ignore[arg-type]
            settings.response_target_min if target_min is None else target_min,
            _priorities(priorities), sources=None if all_sources else queries.CALL_SOURCES, locale=locale)
        if wants_csv(request, fmt):
            return csv_response(queries.to_csv(report),
                                f"response-times_{_slug(scope)}_{group_by}_{_stamp(lo, hi)}")
        return report

    @get(["/availability", "/availability/csv"],
         summary="Per unit for one local day: planned shifts, actual status (up to now), uncovered gaps")
    async def availability(
        self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
        day: Annotated[str | None, QueryParameter(description="YYYY-MM-DD (default today)")] = None,
        org_unit: Annotated[str | None, QueryParameter(description="org unit id or code inside your scope")] = None, fmt: Annotated[str, QueryParameter(name="format", pattern="^(json|csv)$")] = "json",
    ) -> AvailabilityReport | Response[bytes]:
        require_role(principal, *READERS)
        if day:
            d = parse_day(day, "day")
        else:
            d = local(now_ms()).date()
        lo, hi = day_window(d)
        scope = await scope_for(db, principal, org_unit)
        as_of, units = await day_timeline(db, scope, lo, hi, now_ms())
        if wants_csv(request, fmt):
            return csv_response(queries.to_csv(units), f"availability_{_slug(scope)}_{d.isoformat()}")
        return AvailabilityReport(scope_path=scope, day=d.isoformat(), start_ms=lo, end_ms=hi, as_of_ms=as_of,
                                  units=units)

    @get(["/demand-coverage", "/demand-coverage/csv"],
         summary="Incidents against planned units per hour of the week, overall and per area")
    async def demand_coverage(
        self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
        start: Annotated[str | None, QueryParameter(name="from", description="epoch ms or YYYY-MM-DD")] = None, end: Annotated[str | None, QueryParameter(name="to", description="epoch ms (exclusive) or YYYY-MM-DD (inclusive)")] = None, org_unit: Annotated[str | None, QueryParameter(description="org unit id or code inside your scope")] = None,
        threshold: Annotated[float, QueryParameter(ge=0, le=100)] = 0.5, fmt: Annotated[str, QueryParameter(name="format", pattern="^(json|csv)$")] = "json",
    ) -> DemandCoverageReport | Response[bytes]:
        require_role(principal, *READERS)
        lo, hi = period(start, end)
        scope = await scope_for(db, principal, org_unit)
        report = await queries.demand_vs_coverage(db, scope, lo, hi, threshold)
        if wants_csv(request, fmt):
            return csv_response(queries.to_csv(report), f"demand-coverage_{_slug(scope)}_{_stamp(lo, hi)}")
        return report

    @get(["/track", "/track/csv"],
         summary="A unit's positions and status changes over a period or one shift, for replay")
    async def track(
        self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
        unit_id: Annotated[str | None, QueryParameter(description="unit id or call sign")] = None,
        shift_id: Annotated[str | None, QueryParameter()] = None,
        start: Annotated[str | None, QueryParameter(name="from", description="epoch ms or YYYY-MM-DD")] = None, end: Annotated[str | None, QueryParameter(name="to", description="epoch ms (exclusive) or YYYY-MM-DD (inclusive)")] = None, fmt: Annotated[str, QueryParameter(name="format", pattern="^(json|csv)$")] = "json",
    ) -> Track | Response[bytes]:
        require_role(principal, *READERS)
        result: Track | None
        if shift_id:
            async with db.read() as tx:
                unit_of_shift = await tx.fetchval("SELECT unit_id FROM shifts WHERE id = $1", shift_id)
            if unit_of_shift is None:
                raise ApiError(404, "not_found", "No such shift in your scope.")
            await _unit_in_scope(db, principal, str(unit_of_shift))
            result = await queries.track_for_shift(db, shift_id)
        elif unit_id:
            await _unit_in_scope(db, principal, unit_id)
            lo, hi = period(start, end, default_days=1, max_days=MAX_TRACK_DAYS)
            result = await queries.track(db, await _unit_id(db, unit_id), lo, hi)
        else:
            raise _bad("Give unit_id (with from and to) or shift_id.", "unit_id")
        if result is None:
            raise ApiError(404, "not_found", "No such unit in your scope.")
        if wants_csv(request, fmt):
            return csv_response(queries.to_csv(result),
                                f"track_{result.call_sign}_{_stamp(result.start_ms, result.end_ms)}")
        return result

    @get("/incidents/{incident_id:str}/export",
         summary="One incident as an EIDO-like JSON document (no personal data)")
    async def export(self, db: DbDep, principal: PrincipalDep, incident_id: FromPath[str],
                     locale: Annotated[str, QueryParameter(pattern="^[A-Za-z-]{2,10}$")] = "en",
                     ) -> Response[bytes]:
        require_role(principal, *READERS)
        result = await incident_export.export_incident(db, incident_id, now_ms=now_ms(), locale=locale)
        if result is None or not principal.in_scope(result.incident.org_unit.path):
            raise ApiError(404, "not_found", "No such incident in your scope.")
        name = result.incident.number or result.incident.id
        return Response(incident_export.export_json(result), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="incident-{name}.json"',
                                 "Cache-Control": "no-store"})
