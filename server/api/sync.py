"""HTTP sync: the same push/pull as the websocket, for networks that break websockets."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody

from server.api.deps import PrincipalDep
from server.realtime.frames import MAX_PUSH
from server.services.sync_service import SyncService


class PushIn(msgspec.Struct, forbid_unknown_fields=True):
    mutations: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=MAX_PUSH)]
    device_now: int | None = None


class PullIn(msgspec.Struct, forbid_unknown_fields=True):
    cursor: Annotated[int, msgspec.Meta(ge=0)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 500


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    @post("/push", summary="Apply mutations (idempotent by client_id and seq)", status_code=200)
    async def push(self, request: Request[Any, Any, Any], principal: PrincipalDep,
                   data: JSONBody[PushIn]) -> dict[str, Any]:
        service: SyncService = request.app.state.sync_service
        return await service.push(principal, data.mutations, data.device_now)

    @post("/pull", summary="Changes in your scope after a cursor", status_code=200)
    async def pull(self, request: Request[Any, Any, Any], principal: PrincipalDep,
                   data: JSONBody[PullIn]) -> dict[str, Any]:
        service: SyncService = request.app.state.sync_service
        return await service.pull(principal, data.cursor, data.limit)
