"""Websocket frames: what a client may send, decoded strictly with msgspec.

Client → server: ``auth`` (first frame, within the auth timeout), ``push``
(mutations up), ``pull`` (changes down, by cursor), ``ping``.
Server → client: ``hello``, ``changes`` (pull pages), ``change`` (one live
change), ``results`` (outcomes of a push), ``pong``, ``error``.
"""

from __future__ import annotations

from typing import Any, Annotated, Literal, Union

import msgspec

from sync.mutations import EPOCH_MAX_MS, EPOCH_MIN_MS, MAX_SAFE_INT

PROTOCOL = 1
# Bounded like the HTTP push (server/api/sync.py): a frame outside them is invalid (1007).
DeviceNow = Annotated[int, msgspec.Meta(ge=EPOCH_MIN_MS, le=EPOCH_MAX_MS)]
Cursor = Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE_INT)]
MAX_PUSH = 500


class Auth(msgspec.Struct, tag="auth", forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    cursor: Cursor = 0
    protocol: int = PROTOCOL


class Push(msgspec.Struct, tag="push", forbid_unknown_fields=True):
    mutations: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=MAX_PUSH)]
    id: str | None = None
    device_now: DeviceNow | None = None


class Pull(msgspec.Struct, tag="pull", forbid_unknown_fields=True):
    cursor: Cursor
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 500
    id: str | None = None


class Ping(msgspec.Struct, tag="ping", forbid_unknown_fields=True):
    t: int | None = None


ClientFrame = Union[Auth, Push, Pull, Ping]
_decoder = msgspec.json.Decoder(ClientFrame)
_encoder = msgspec.json.Encoder()


class FrameError(ValueError):
    pass


def decode(data: str | bytes) -> ClientFrame:
    try:
        return _decoder.decode(data)
    except (msgspec.DecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise FrameError(str(exc)) from None


def encode(frame: Any) -> bytes:
    return _encoder.encode(frame)


# Close codes (RFC 6455 and the 4000-4999 application range).
CLOSE_GOING_AWAY = 1001      # server shutting down: reconnect
CLOSE_INVALID = 1007         # a frame that is not a valid protocol message
CLOSE_TOO_BIG = 1009         # frame larger than PATROL_WS_MAX_FRAME_BYTES
CLOSE_TRY_AGAIN = 1013       # the database is unavailable: reconnect later (with backoff)
CLOSE_UNAUTHORIZED = 4401    # no/invalid/expired token, or no auth frame in time
CLOSE_REVOKED = 4403         # this device was revoked: wipe local data
CLOSE_PROTOCOL = 4426        # protocol version not supported: update the app
CLOSE_TOO_SLOW = 4429        # could not keep up: reconnect and resume from the cursor
