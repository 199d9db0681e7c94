"""HTTP sync: the same push/pull as the websocket, for networks that break websockets."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from server.api.deps import PrincipalDep
from server.api.edge import epoch_ms
from server.realtime.frames import MAX_PUSH
from server.services.sync_service import SyncService
from sync.changes import Change
from sync.engine import MutationResult
from sync.mutations import EPOCH_MAX_MS, EPOCH_MIN_MS, MAX_SAFE_INT

# The bounds are checked by the handler (a 422 naming device_now, like the other
# semantic refusals), and declared here for the OpenAPI document.
DeviceNow = Annotated[int, msgspec.Meta(
    description="the device's clock when it sent the push (epoch ms)",
    extra_json_schema={"minimum": EPOCH_MIN_MS, "maximum": EPOCH_MAX_MS})]


class PushIn(msgspec.Struct, forbid_unknown_fields=True):
    # Each mutation is decoded (and refused, if it must be) on its own: sync.mutations.
    mutations: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=MAX_PUSH)]
    device_now: DeviceNow | None = None


class PullIn(msgspec.Struct, forbid_unknown_fields=True):
    cursor: Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE_INT)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 500


class PushOut(msgspec.Struct):
    """What a push answers (SyncService.push; the OpenAPI document's 200)."""

    results: list[MutationResult]  # one per mutation, in the order sent
    last_seq: int | None           # the highest seq this device has an outcome for
    server_now: int


class PullOut(msgspec.Struct):
    """What a pull answers (SyncService.pull; the OpenAPI document's 200)."""

    changes: list[Change]
    cursor: int
    more: bool
    last_seq: int | None
    snapshot: bool                 # True: `changes` is the whole scope; replace the replica


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    # own_checks: a NUL or a huge number inside one mutation rejects that mutation only.
    @post("/push", summary="Apply mutations (idempotent by client_id and seq)", status_code=200,
          opt={"own_checks": True}, responses={200: ResponseSpec(PushOut, description="One outcome per mutation", generate_examples=False)})
    async def push(self, request: Request[Any, Any, Any], principal: PrincipalDep,
                   data: JSONBody[PushIn]) -> dict[str, Any]:
        if data.device_now is not None:
            epoch_ms(data.device_now, "device_now")
        service: SyncService = request.app.state.sync_service
        return await service.push(principal, data.mutations, data.device_now)

    @post("/pull", summary="Changes in your scope after a cursor", status_code=200,
          responses={200: ResponseSpec(PullOut, description="A page of changes", generate_examples=False)})
    async def pull(self, request: Request[Any, Any, Any], principal: PrincipalDep,
                   data: JSONBody[PullIn]) -> dict[str, Any]:
        service: SyncService = request.app.state.sync_service
        return await service.pull(principal, data.cursor, data.limit)
