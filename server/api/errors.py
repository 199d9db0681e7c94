"""Every error leaves the server as JSON: ``{"code": ..., "message": ..., "field"?: ...}``.

``code`` is stable and language-neutral (the apps translate it); ``field`` names
the offending input (``since``, ``members[0].user_id``); ``min``/``max`` carry
the bounds of an ``out_of_range``. ``message`` is English, for integrators and
logs. The OpenAPI document declares this shape (``server/api/openapi.py``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, InternalServerException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from sync.store import StorageError, StorageUnavailable, TransientError

log = logging.getLogger("patrol.api")
# What a 503 tells clients to wait before retrying (the apps back off further on their own).
RETRY_AFTER_S = 2


class ApiError(HTTPException):
    """An error a client can act on: an HTTP status, a stable code, a sentence."""

    def __init__(self, status_code: int, code: str, message: str, field: str | None = None, *,
                 min: Any = None, max: Any = None) -> None:  # noqa: A002 (the wire names)
        super().__init__(status_code=status_code, detail=message)
        self.code = code
        self.message = message
        self.field = field
        self.bounds = {k: v for k, v in (("min", min), ("max", max)) if v is not None}


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
          415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests"}


def _body(code: str, message: str, field: str | None = None, bounds: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    if bounds:
        body.update(bounds)
    return body


# msgspec's words for a bound: "Expected `int` <= 100", "Expected `float` >= 0.0"
_BOUND = re.compile(r"^Expected `(?:int|float)` (>=|<=|>|<) (-?[0-9.e+]+)")


def _validation_body(exc: ValidationException) -> tuple[int, dict[str, Any]]:
    """Litestar's validation failure as (status, body): a malformed value is a 400, a
    value out of its bounds a 422 ``out_of_range`` with the bound (as the handlers'
    own range checks answer)."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra and isinstance(extra[0], dict):
        first = extra[0]
        key = first.get("key") or first.get("source")
        msg = str(first.get("message") or exc.detail)
        bound = _BOUND.match(msg)
        if bound:
            number = float(bound.group(2))
            value: Any = int(number) if number.is_integer() else number
            side = "min" if bound.group(1).startswith(">") else "max"
            return 422, _body("out_of_range", f"{key}: {msg}" if key else msg, key, {side: value})
        return exc.status_code, _body("invalid", f"{key}: {msg}" if key else msg, key)
    return exc.status_code, _body("invalid", str(exc.detail))


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, ApiError):
        body = _body(exc.code, exc.message, exc.field, exc.bounds)
    elif isinstance(exc, ValidationException):
        status, body = _validation_body(exc)
        return Response(body, status_code=status, media_type=MediaType.JSON)
    elif isinstance(exc, InternalServerException) and exc.detail == "client disconnected prematurely":
        # The client went away before its body arrived (a cut radio link): nobody reads
        # this answer, and it is not a server fault. 400, logged quietly.
        log.info("%s %s: client disconnected before sending its body", request.method, request.url.path)
        body = _body("client_disconnected", "The request body did not arrive.")
        return Response(body, status_code=400, media_type=MediaType.JSON)
    else:
        if exc.status_code >= 500:
            log.error("error on %s %s: %r", request.method, request.url.path, exc, exc_info=exc)
        body = _body(_CODES.get(exc.status_code, "error"), str(exc.detail))
    return Response(body, status_code=exc.status_code, media_type=MediaType.JSON,
                    headers=getattr(exc, "headers", None))


def storage_unavailable(request: Request[Any, Any, Any], exc: StorageError) -> Response[Any]:
    """The database is down, restarting or busy: a retryable 503, not a server bug.

    Logged once per request as one line (an outage makes hundreds of these; a
    traceback each would bury what matters)."""
    log.warning("storage unavailable on %s %s: %s", request.method, request.url.path, exc)
    return Response(_body("storage_unavailable", "The database is not available. Try again shortly."),
                    status_code=503, media_type=MediaType.JSON,
                    headers={"Retry-After": str(RETRY_AFTER_S)})


def _too_deep(exc: Exception) -> bool:
    """msgspec gave up on a JSON body nested deeper than Python's recursion limit: the
    client's input, not a server fault (a RecursionError anywhere else stays a 500)."""
    return isinstance(exc, RecursionError) and "while deserializing" in str(exc)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, (StorageUnavailable, TransientError)):
        return storage_unavailable(request, exc)
    if _too_deep(exc):
        log.info("%s %s: JSON body nested too deeply", request.method, request.url.path)
        return Response(_body("invalid", "The JSON body is nested too deeply."), status_code=400,
                        media_type=MediaType.JSON)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return Response(_body("internal", "Internal server error."),
                    status_code=HTTP_500_INTERNAL_SERVER_ERROR, media_type=MediaType.JSON)


EXCEPTION_HANDLERS = {HTTPException: http_exception_handler, Exception: internal_error_handler}
