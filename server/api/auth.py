"""Sign-in, sign-out and "who am I"."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from server.api.deps import DbDep, PrincipalDep, SessionDep, SettingsDep, auth_error, client_ip
from server.auth.sessions import AuthError, login, logout
from sync.principal import Principal


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    device_id: Annotated[str, msgspec.Meta(min_length=36, max_length=36,
                                           description="UUID the app generated for this installation")]
    device_label: Annotated[str, msgspec.Meta(max_length=80)] | None = None
    device_secret: Annotated[str, msgspec.Meta(min_length=1, max_length=100, description=(
        "The secret this installation was given at its first sign-in (login answers it once); "
        "required for every later sign-in with the same device_id"))] | None = None


class Me(msgspec.Struct):
    user_id: str
    display_name: str
    role: str
    org_unit_id: str
    scope_path: str
    unit_id: str | None
    device_id: str


class LoginOut(msgspec.Struct, omit_defaults=True):
    token: str
    expires_at: int
    me: Me
    device_secret: str | None = msgspec.field(default=None)  # only when newly issued: keep it


def me_of(p: Principal) -> Me:
    return Me(user_id=p.user_id, display_name=p.display_name, role=p.role, org_unit_id=p.org_unit_id,
              scope_path=p.scope_path, unit_id=p.unit_id, device_id=p.device_id)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/login", summary="Sign in on a device; returns a bearer token", status_code=200)
    async def login(self, request: Request[Any, Any, Any], db: DbDep, settings: SettingsDep,
                    data: JSONBody[LoginIn]) -> LoginOut:
        try:
            result = await login(db, settings, username=data.username, password=data.password,
                                 device_id=data.device_id, device_label=data.device_label,
                                 user_agent=request.headers.get("user-agent"), ip=client_ip(request),
                                 device_secret=data.device_secret)
        except AuthError as exc:
            raise auth_error(exc) from None
        return LoginOut(token=result.token, expires_at=result.expires_at, me=me_of(result.principal),
                        device_secret=result.device_secret)

    @post("/logout", summary="End this device's session", status_code=200)
    async def logout(self, db: DbDep, auth_session: SessionDep) -> dict[str, bool]:
        await logout(db, auth_session[1])
        return {"ok": True}

    @get("/me", summary="The signed-in principal: role, scope, unit on the current shift")
    async def me(self, principal: PrincipalDep) -> Me:
        return me_of(principal)


