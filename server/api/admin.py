"""Administration: users, devices (revoke a lost phone), the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from server.api.deps import DbDep, PrincipalDep, require_role
from server.api.errors import ApiError
from server.auth import sessions, users
from server.auth.users import UserError, UserOut


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str
    role: str
    full_name: str
    org_unit_code: str
    badge_no: str | None = None
    locale: str = "sr-Latn"


class DeviceOut(msgspec.Struct):
    id: str
    label: str | None
    user_agent: str | None
    first_user: str | None
    created_at: int
    last_seen_at: int | None
    clock_offset_ms: int | None
    revoked_at: int | None
    active_sessions: int


class AuditEntry(msgspec.Struct):
    id: int
    at: int
    actor_id: str | None
    actor: str | None
    device_id: str | None
    action: str
    entity: str
    entity_id: str | None
    fields: str | None
    ip: str | None


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]

    @get("/users", summary="Users in the admin's scope")
    async def list_users(self, db: DbDep, principal: PrincipalDep) -> list[UserOut]:
        require_role(principal, "admin")
        return await users.list_users(db, principal.scope_path)

    @post("/users", summary="Create a user", status_code=201)
    async def create_user(self, db: DbDep, principal: PrincipalDep,
                          data: JSONBody[UserIn]) -> UserOut:
        require_role(principal, "admin")
        try:
            return await users.create_user(db, username=data.username, password=data.password,
                                           role=data.role, full_name=data.full_name,
                                           org_code=data.org_unit_code, badge_no=data.badge_no,
                                           locale=data.locale, by=principal)
        except UserError as exc:
            raise ApiError(422, "invalid", exc.message, exc.field) from None

    @post("/users/{user_id:str}/deactivate", summary="Disable an account and end its sessions",
          status_code=200)
    async def deactivate(self, db: DbDep, principal: PrincipalDep, user_id: FromPath[str]) -> dict[str, bool]:
        require_role(principal, "admin")
        if not await users.set_active(db, user_id, False, principal):
            raise ApiError(404, "not_found", "No such user in your scope.")
        return {"ok": True}

    @get("/devices", summary="Devices used by people in the admin's scope")
    async def list_devices(self, db: DbDep, principal: PrincipalDep) -> list[DeviceOut]:
        require_role(principal, "admin")
        async with db.read() as tx:
            rows = await tx.fetch(
                "SELECT d.*, u.username AS first_user,"
                " (SELECT COUNT(*) FROM sessions s WHERE s.device_id = d.id AND s.revoked_at IS NULL) AS n"
                " FROM devices d LEFT JOIN users u ON u.id = d.first_user_id"
                f" WHERE {sessions.device_in_scope(1)} ORDER BY d.last_seen_at DESC", principal.scope_path + "%")
        return [DeviceOut(id=r["id"], label=r["label"], user_agent=r["user_agent"], first_user=r["first_user"],
                          created_at=r["created_at"], last_seen_at=r["last_seen_at"],
                          clock_offset_ms=r["clock_offset_ms"], revoked_at=r["revoked_at"],
                          active_sessions=int(r["n"])) for r in rows]

    @post("/devices/{device_id:str}/revoke", summary="Revoke a lost device: its sessions end at once",
          status_code=200)
    async def revoke(self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
                     device_id: FromPath[str]) -> dict[str, bool]:
        require_role(principal, "admin")
        if not await sessions.revoke_device(db, device_id, principal.user_id, principal.scope_path):
            raise ApiError(404, "not_found", "No such device in your scope.")
        hub = getattr(request.app.state, "hub", None)
        if hub is not None:
            await hub.device_revoked(device_id)
        return {"ok": True}

    @post("/devices/{device_id:str}/restore", summary="Allow a revoked device to sign in again",
          status_code=200)
    async def restore(self, db: DbDep, principal: PrincipalDep, device_id: FromPath[str]) -> dict[str, bool]:
        require_role(principal, "admin")
        if not await sessions.restore_device(db, device_id, principal.user_id, principal.scope_path):
            raise ApiError(404, "not_found", "No such device in your scope.")
        return {"ok": True}

    @get("/audit", summary="The audit trail (who created, changed or viewed personal data)")
    async def audit_log(
        self, request: Request[Any, Any, Any], db: DbDep, principal: PrincipalDep,
        entity: Annotated[str | None, QueryParameter()] = None,
        entity_id: Annotated[str | None, QueryParameter()] = None,
        actor_id: Annotated[str | None, QueryParameter()] = None,
        action: Annotated[str | None, QueryParameter()] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> list[AuditEntry]:
        require_role(principal, "admin")
        del request
        clauses, args = ["(o.path LIKE $1 OR a.actor_id IS NULL)"], [principal.scope_path + "%"]
        for column, value in (("a.entity", entity), ("a.entity_id", entity_id), ("a.actor_id", actor_id),
                              ("a.action", action)):
            if value is not None:
                args.append(value)
                clauses.append(f"{column} = ${len(args)}")
        args.append(limit)
        async with db.read() as tx:
            rows = await tx.fetch(
                "SELECT a.*, u.username AS actor FROM audit_log a"
                " LEFT JOIN users u ON u.id = a.actor_id LEFT JOIN org_units o ON o.id = u.org_unit_id"
                f" WHERE {' AND '.join(clauses)} ORDER BY a.id DESC LIMIT ${len(args)}", *args)
        return [AuditEntry(id=r["id"], at=r["at"], actor_id=r["actor_id"], actor=r["actor"],
                           device_id=r["device_id"], action=r["action"], entity=r["entity"],
                           entity_id=r["entity_id"], fields=r["fields"], ip=r["ip"]) for r in rows]


