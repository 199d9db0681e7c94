"""Org units, units (with crews), incident types, client configuration."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from server.api.deps import DbDep, PrincipalDep, SettingsDep
from server.services import directory
from server.services.directory import IncidentType, OrgUnitOut, UnitOut


class DirectoryController(Controller):
    path = "/api"
    tags = ["directory"]

    @get("/org-units", summary="Org units in your scope (a tree by path)")
    async def org_units(self, db: DbDep, principal: PrincipalDep) -> list[OrgUnitOut]:
        return await directory.org_units(db, principal)

    @get("/units", summary="Units in your scope with status, position and crew on shift")
    async def units(self, db: DbDep, principal: PrincipalDep) -> list[UnitOut]:
        return await directory.units(db, principal)

    @get("/incident-types", summary="The configurable list of incident types")
    async def incident_types(self, db: DbDep, principal: PrincipalDep) -> list[IncidentType]:
        return await directory.incident_types(db)

    @get("/config", summary="Settings the clients need (map tiles, timeouts, push key)")
    async def config(self, request: Request[Any, Any, Any], settings: SettingsDep,
                     principal: PrincipalDep) -> dict[str, Any]:
        return {"tile_url": settings.tile_url, "ack_timeout_s": settings.ack_timeout_s,
                "vapid_public_key": request.app.state.vapid.application_server_key,
                "response_target_min": settings.response_target_min}
