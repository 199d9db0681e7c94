"""Incidents (list, detail with timeline, audited caller details), recommendations,
conflicts and alerts. Writes go through sync mutations (POST /api/sync/push)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter

from server.api.deps import DbDep, PrincipalDep, client_ip, require_role
from server.api.edge import TIME
from server.api.errors import ApiError
from server.clock import now_ms
from server.services import directory, incidents
from server.services.incidents import CallerDetails, ConflictValues, IncidentDetail, NotVisible, StatusEvent
from server.services.recommend import Recommendation, rank_units

DESK = ("dispatcher", "commander", "admin")


def _not_found(kind: str) -> ApiError:
    return ApiError(404, "not_found", f"No such {kind} in your scope.")


class IncidentController(Controller):
    path = "/api"
    tags = ["incidents"]

    @get("/incidents", summary="Incidents in your scope, newest call first")
    async def list_incidents(
        self, db: DbDep, principal: PrincipalDep,
        open_only: Annotated[bool, QueryParameter(name="open")] = False,
        since: Annotated[int | None, QueryParameter(description="call received at or after (ms)", **TIME)] = None,
        until: Annotated[int | None, QueryParameter(description="call received before (ms)", **TIME)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
        closed_only: Annotated[bool, QueryParameter(name="closed", description="closed or cancelled only")] = False,
        closed_since: Annotated[int | None, QueryParameter(description="closed at or after (ms)", **TIME)] = None,
        closed_until: Annotated[int | None, QueryParameter(description="closed before (ms)", **TIME)] = None,
    ) -> list[dict[str, Any]]:
        return await incidents.list_incidents(db, principal, open_only=open_only, since=since, until=until,
                                              limit=limit, closed_only=closed_only, closed_since=closed_since,
                                              closed_until=closed_until)

    @get("/units/{unit_id:str}/status-events", summary="A unit's status history, newest first")
    async def status_events(
        self, db: DbDep, principal: PrincipalDep, unit_id: FromPath[str],
        since: Annotated[int | None, QueryParameter(description="event time at or after (ms)", **TIME)] = None,
        until: Annotated[int | None, QueryParameter(description="event time before (ms)", **TIME)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=2000)] = 500,
    ) -> list[StatusEvent]:
        now = now_ms()
        try:
            return await incidents.unit_status_events(db, principal, unit_id,
                                                       since if since is not None else now - 24 * 3_600_000,
                                                       until if until is not None else now + 60_000, limit)
        except NotVisible:
            raise _not_found("unit") from None

    @get("/incidents/{incident_id:str}", summary="One incident with assignments, notes and full timeline")
    async def detail(self, db: DbDep, principal: PrincipalDep, incident_id: FromPath[str]) -> IncidentDetail:
        try:
            return await incidents.incident_detail(db, principal, incident_id)
        except NotVisible:
            raise _not_found("incident") from None

    @get("/incidents/{incident_id:str}/caller", summary="Caller name and phone (each view is audited)")
    async def caller(self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
                     incident_id: FromPath[str]) -> CallerDetails:
        try:
            return await incidents.caller_details(db, principal, incident_id, client_ip(request))
        except NotVisible:
            raise _not_found("incident") from None

    @get("/reports/{report_id:str}/persons", summary="Persons in a field report (each view is audited)")
    async def report_persons(self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
                             report_id: FromPath[str]) -> dict[str, Any]:
        try:
            return await incidents.report_persons(db, principal, report_id, client_ip(request))
        except NotVisible:
            raise _not_found("report") from None

    @get("/incidents/{incident_id:str}/recommendations",
         summary="Available units ranked by straight-line distance, with the reason")
    async def recommendations(self, db: DbDep, principal: PrincipalDep,
                              incident_id: FromPath[str]) -> list[Recommendation]:
        require_role(principal, *DESK)
        try:
            detail = await incidents.incident_detail(db, principal, incident_id)
        except NotVisible:
            raise _not_found("incident") from None
        units = [dict(id=u.id, call_sign=u.call_sign, status=u.status, active=1,
                      current_assignment_id=u.current_assignment_id, last_lat=u.last_lat, last_lon=u.last_lon,
                      last_position_at=u.last_position_at) for u in await directory.units(db, principal)]
        inc = detail.incident
        declined = frozenset(a["unit_id"] for a in detail.assignments if a["state"] == "declined")
        return rank_units(units, inc.get("lat"), inc.get("lon"), now_ms(), declined=declined)

    @get("/conflicts", summary="Edits the sync layer could not merge, for a human to decide")
    async def conflicts(self, db: DbDep, principal: PrincipalDep,
                        which: Annotated[str, QueryParameter(name="state")] = "open",
                        ) -> list[dict[str, Any]]:
        require_role(principal, *DESK)
        if which not in ("open", "resolved", "all"):
            # Validated here: the parameter is `state` on the wire but not in Python (reserved).
            raise ApiError(400, "invalid", "state: one of open, resolved, all", "state")
        return await incidents.list_conflicts(db, principal, which)

    @get("/conflicts/{conflict_id:str}/values",
         summary="Both values of a conflict; for caller details or report persons each view is audited")
    async def conflict_values(self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
                              conflict_id: FromPath[str]) -> ConflictValues:
        require_role(principal, *DESK)
        try:
            return await incidents.conflict_values(db, principal, conflict_id, client_ip(request))
        except NotVisible:
            raise _not_found("conflict") from None

    @get("/alerts", summary="Emergency alerts (open first)")
    async def alerts(self, db: DbDep, principal: PrincipalDep,
                     open_only: Annotated[bool, QueryParameter(name="open")] = True) -> list[dict[str, Any]]:
        clauses, args = ["o.path LIKE $1"], [principal.scope_path + "%"]
        if open_only:
            clauses.append("a.state = 'raised'")
        if principal.role == "officer":
            args.append(principal.unit_id or "")
            clauses.append(f"a.unit_id = ${len(args)}")
        async with db.read() as tx:
            return await tx.fetch(
                "SELECT a.*, u.call_sign, us.full_name AS officer_name FROM emergency_alerts a"
                " JOIN org_units o ON o.id = a.org_unit_id LEFT JOIN units u ON u.id = a.unit_id"
                " LEFT JOIN users us ON us.id = a.user_id"
                f" WHERE {' AND '.join(clauses)} ORDER BY a.raised_at DESC LIMIT 200", *args)
