"""Hostile input stops at the edge: bounded numbers and times, no U+0000 in any text.

A number beyond 64 bits reached the drivers (SQLite: OverflowError, a 500;
PostgreSQL: a 503 the apps retried forever) and a NUL in any text made
PostgreSQL refuse the statement. :func:`refuse_hostile_input` (a
``before_request`` hook on the app) refuses a NUL in a path segment, a query or
anywhere in a JSON body, and an integer beyond 64 bits in a body, naming the
field, on both databases alike. Refusals of a value are 422 (``invalid_text``,
``out_of_range`` with ``min``/``max``); a malformed request stays a 400. Handlers bound their own numbers
and times with the helpers here (``TIME`` for query parameters,
:func:`epoch_ms`, :func:`parse_day`), so a time is epoch ms in
``[0, 2100-01-01)`` everywhere.

The sync push opts out (``opt={"own_checks": True}``): its mutations are
checked one by one in :mod:`sync.mutations`, so one bad mutation is refused,
not the whole push.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import msgspec
from litestar import Request

from server.api.errors import ApiError
from sync.mutations import EPOCH_MAX_MS, EPOCH_MIN_MS, MAX_INT64, MAX_SAFE_INT, NUL, find_big_int, find_nul

__all__ = ["EPOCH_MAX_MS", "EPOCH_MIN_MS", "MAX_SAFE_INT", "TIME", "TIME_SCHEMA", "epoch_ms", "parse_day",
           "refuse_hostile_input", "out_of_range", "bad_text"]

# QueryParameter(**TIME): an epoch-ms time (the bounds also go into the OpenAPI schema).
TIME: dict[str, Any] = {"ge": EPOCH_MIN_MS, "le": EPOCH_MAX_MS}
# The same bounds for the schema only, for parameters a handler checks itself.
TIME_SCHEMA: dict[str, Any] = {"minimum": EPOCH_MIN_MS, "maximum": EPOCH_MAX_MS}
# Days a period may name: their local midnights fall inside the time bounds.
FIRST_DAY, LAST_DAY = date(1970, 1, 2), date(2099, 12, 30)

_LONG_NUMBER = re.compile(rb"\d{19,}")  # a body that may hold an integer beyond 64 bits


def bad_text(field: str, status: int = 422) -> ApiError:
    return ApiError(status, "invalid_text", f"{field}: text must not contain U+0000 (NUL).", field)


def out_of_range(field: str, lo: int, hi: int, status: int = 422, what: str = "a number") -> ApiError:
    return ApiError(status, "out_of_range", f"{field}: {what} from {lo} to {hi}.", field, min=lo, max=hi)


def epoch_ms(value: int, field: str, status: int = 422) -> int:
    """``value`` if it is a time (epoch ms in [0, 2100-01-01)), else a 4xx naming ``field``."""
    if not EPOCH_MIN_MS <= value <= EPOCH_MAX_MS:
        raise out_of_range(field, EPOCH_MIN_MS, EPOCH_MAX_MS, status, "epoch milliseconds")
    return value


def parse_day(value: str, field: str) -> date:
    """A local day ``YYYY-MM-DD`` between 1970 and 2099, else a 422 naming ``field``."""
    try:
        d = date.fromisoformat(value) if value.isascii() else None
    except ValueError:
        d = None
    if d is None:
        raise ApiError(422, "invalid", f"{field} must be a date like 2025-01-31.", field)
    if not FIRST_DAY <= d <= LAST_DAY:
        raise ApiError(422, "out_of_range", f"{field}: a day from {FIRST_DAY} to {LAST_DAY}.", field,
                       min=FIRST_DAY.isoformat(), max=LAST_DAY.isoformat())
    return d


def _escaped(name: str) -> str:
    return name.replace(NUL, "\\u0000")


async def refuse_hostile_input(request: Request[Any, Any, Any]) -> None:
    """before_request: a NUL in the path, query or JSON body, or a 64-bit overflow in
    the body, is a 422 naming the field."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise bad_text(name)
    for key, value in request.query_params.multi_items():
        if NUL in key or (isinstance(value, str) and NUL in value):
            raise bad_text(_escaped(key))
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or request.route_handler.opt.get("own_checks"):
        return None
    body = await request.body()
    suspicious_text = b"\\u0000" in body
    if not (suspicious_text or _LONG_NUMBER.search(body)):
        return None
    try:
        value = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return None  # not JSON (or nested too deeply): the handler's own decoding answers that
    if suspicious_text and (field := find_nul(value)) is not None:
        raise bad_text(field)
    if (field := find_big_int(value, MAX_INT64)) is not None:
        raise out_of_range(field, -MAX_INT64 - 1, MAX_INT64)
    return None
