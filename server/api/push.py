"""Web Push subscriptions of this device."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody

import ipaddress
from urllib.parse import urlsplit

from server.api.deps import DbDep, PrincipalDep, SettingsDep
from server.api.errors import ApiError
from server.push import subscriptions


class SubscriptionIn(msgspec.Struct):
    endpoint: str
    keys: dict[str, str]


class UnsubscribeIn(msgspec.Struct):
    endpoint: str


def is_local_endpoint(endpoint: str) -> bool:
    """Loopback, private or link-local targets: a subscription must not make the
    server POST into its own network (SSRF)."""
    host = (urlsplit(endpoint).hostname or "").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_unspecified


class PushController(Controller):
    path = "/api/push"
    tags = ["push"]

    @get("/key", summary="The VAPID applicationServerKey for PushManager.subscribe()")
    async def key(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        return {"public_key": request.app.state.vapid.application_server_key}

    @post("/subscriptions", summary="Register this device's push subscription", status_code=201)
    async def subscribe(self, db: DbDep, settings: SettingsDep, principal: PrincipalDep,
                        data: JSONBody[SubscriptionIn]) -> dict[str, bool]:
        if is_local_endpoint(data.endpoint) and not settings.push_allow_local_endpoints:
            raise ApiError(422, "invalid", "endpoint: must be a public push service URL", "endpoint")
        try:
            await subscriptions.upsert_subscription(db, principal.device_id, principal.user_id, data.endpoint,
                                                    data.keys.get("p256dh", ""), data.keys.get("auth", ""))
        except ValueError as exc:
            raise ApiError(422, "invalid", str(exc)) from None
        return {"ok": True}

    @delete("/subscriptions", summary="Remove a push subscription", status_code=200)
    async def unsubscribe(self, db: DbDep, principal: PrincipalDep, data: JSONBody[UnsubscribeIn]) -> dict[str, bool]:
        return {"ok": await subscriptions.delete_subscription(db, data.endpoint)}
