"""Request dependencies: the database, the settings and the signed-in principal."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from server.api.errors import ApiError
from server.auth.sessions import AuthError, authenticate
from server.settings import Settings
from sync.principal import Principal
from sync.store import Database

# Explicit name-based injection (inferred injection is deprecated in Litestar 2.2x).
DbDep: TypeAlias = NamedDependency[Database]
SettingsDep: TypeAlias = NamedDependency[Settings]
PrincipalDep: TypeAlias = NamedDependency[Principal]
SessionDep: TypeAlias = NamedDependency[tuple[Principal, str]]


def bearer_token(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Sign in first (Authorization: Bearer <token>).")
    return token.strip()


def auth_error(exc: AuthError) -> ApiError:
    err = ApiError(exc.status, exc.code, exc.message)
    if exc.retry_after is not None:
        err.headers = {"Retry-After": str(exc.retry_after)}
    return err


async def provide_db(state: State) -> Database:
    return state.db  # type: ignore[no-any-return]


async def provide_settings(state: State) -> Settings:
    return state.settings  # type: ignore[no-any-return]


async def provide_session(request: Request[Any, Any, Any], state: State) -> tuple[Principal, str]:
    try:
        return await authenticate(state.db, bearer_token(request), state.settings)
    except AuthError as exc:
        raise auth_error(exc) from None


async def provide_principal(auth_session: SessionDep) -> Principal:
    return auth_session[0]


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise ApiError(403, "forbidden", f"This needs the role {' or '.join(roles)}.")


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None
