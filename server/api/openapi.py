"""The OpenAPI document as the server actually answers (``/api/docs/openapi.json``).

Litestar generates the operations from the handlers' signatures, but declares
its own error body (``{status_code, detail, extra}``, 400 only) while every
error here is ``{code, message, field?, min?, max?}`` (``server/api/errors.py``),
and a handler returning a report *or* a CSV ``Response`` becomes an ambiguous
``oneOf [Report, {}]`` (``{}`` matches anything, so no body validates against
a ``oneOf``). :func:`finish` rewrites the generated document once:

- one ``Error`` schema and one response component per error status, used by
  every operation for the statuses it can answer: 422 everywhere (a NUL in any
  query is refused before routing reaches the handler), 500 and 503
  everywhere, 400 where there are parameters or a body, 413 with a body,
  401/403 (and the bearer security scheme) where a session is needed, 404 where
  a path names an entity, and the few extra ones in :data:`EXTRA`;
- reports: JSON is the report's schema, CSV (``/csv`` paths, ``format=csv``)
  ``text/csv``; the incident export is a JSON object.

:class:`OpenAPIJson` serves the finished document; :func:`document` returns it
for tests and tools.
"""

from __future__ import annotations

import copy
from typing import Any

from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error the API answers. `code` is stable and language-neutral (the apps "
                   "translate it); `message` is English, for integrators and logs.",
    "required": ["code", "message"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "description": "e.g. invalid, out_of_range, invalid_text, not_found, "
                                                  "forbidden, unauthorized, storage_unavailable"},
        "message": {"type": "string", "description": "an English sentence (not for display)"},
        "field": {"type": "string", "description": "the input at fault: a parameter name or a body "
                                                   "path like members[0].user_id"},
        "min": {"description": "out_of_range: the lowest accepted value (a number, or a day)"},
        "max": {"description": "out_of_range: the highest accepted value (a number, or a day)"},
    },
}

RESPONSES: dict[int, tuple[str, str]] = {  # status -> (component name, description)
    400: ("BadRequest", "Malformed request: a value of the wrong type, a missing field, bad JSON"),
    401: ("Unauthorized", "No valid session: sign in (again)"),
    403: ("Forbidden", "The role or scope does not allow it, or the device was revoked"),
    404: ("NotFound", "No such entity in your scope"),
    413: ("PayloadTooLarge", "The body is larger than the server accepts"),
    422: ("Unprocessable", "A value is refused: out of range, text with U+0000, or a rule"),
    429: ("TooManyRequests", "Too many failed attempts: wait (Retry-After)"),
    500: ("InternalError", "A server bug (logged)"),
    503: ("Unavailable", "The database is not available: retry after Retry-After seconds"),
}

# Statuses some operations answer besides the ones the rules give.
EXTRA: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/api/auth/login"): (401, 403, 429),
    ("GET", "/api/analytics/response-times"): (404,), ("GET", "/api/analytics/response-times/csv"): (404,),
    ("GET", "/api/analytics/availability"): (404,), ("GET", "/api/analytics/availability/csv"): (404,),
    ("GET", "/api/analytics/demand-coverage"): (404,), ("GET", "/api/analytics/demand-coverage/csv"): (404,),
    ("GET", "/api/analytics/track"): (404,), ("GET", "/api/analytics/track/csv"): (404,),
}

CSV = {"text/csv": {"schema": {"type": "string", "description": "CSV (UTF-8 with a byte-order mark)"}}}
SESSION_PARAMETERS = {"principal", "auth_session"}


def _authenticated(app: Litestar) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation that needs a signed-in session."""
    out: set[tuple[str, str]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if SESSION_PARAMETERS & set(handler.parsed_fn_signature.parameters):
                out.update((m.upper(), route.path_format) for m in handler.http_methods)
    return out


def _json_200(response: dict[str, Any]) -> None:
    """A report-or-CSV ``oneOf [X, {}]`` becomes X."""
    media = response.get("content", {}).get("application/json")
    if not media:
        return
    schema = media.get("schema", {})
    members = schema.get("oneOf")
    if isinstance(members, list) and any(m == {} for m in members):
        rest = [m for m in members if m != {}]
        media["schema"] = rest[0] if len(rest) == 1 else {"oneOf": rest}


def finish(app: Litestar, raw: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(raw)
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["responses"] = {
        name: {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for name, text in RESPONSES.values()}
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                "description": "the token POST /api/auth/login answers"}}
    authenticated = _authenticated(app)
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            key = (method.upper(), path)
            responses = {code: r for code, r in op["responses"].items() if not code.startswith(("4", "5"))}
            for code, r in responses.items():
                if code == "200":
                    _json_200(r)
            if path.startswith("/api/analytics/"):
                ok = responses.get("200")
                if ok is not None:
                    if path.endswith("/csv"):
                        ok["content"] = copy.deepcopy(CSV)
                    elif path.endswith("/export"):
                        ok["content"] = {"application/json": {"schema": {
                            "type": "object", "description": "the incident as an EIDO-like document "
                                                             "(docs/incident-export.md)"}}}
                    elif any(p.get("name") == "format" for p in op.get("parameters", [])):
                        ok.setdefault("content", {}).update(copy.deepcopy(CSV))
            statuses = {422, 500, 503}
            if op.get("parameters") or op.get("requestBody"):
                statuses.add(400)
            if op.get("requestBody"):
                statuses.add(413)
            if any(p.get("in") == "path" for p in op.get("parameters", [])):
                statuses.add(404)
            if key in authenticated:
                statuses.update((401, 403))
                op["security"] = [{"bearer": []}]
            statuses.update(EXTRA.get(key, ()))
            for status in sorted(statuses):
                responses[str(status)] = {"$ref": f"#/components/responses/{RESPONSES[status][0]}"}
            op["responses"] = dict(sorted(responses.items()))
    return doc


def document(app: Litestar) -> dict[str, Any]:
    """The finished OpenAPI document of ``app``, as served."""
    return finish(app, app.openapi_schema.to_schema())


class OpenAPIJson(JsonRenderPlugin):
    """``/openapi.json``: the finished document (built once, on the first request)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._done: tuple[int, dict[str, Any]] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._done is None or self._done[0] != id(openapi_schema):
            self._done = (id(openapi_schema), finish(request.app, openapi_schema))
        return self.render_json(request, self._done[1])
