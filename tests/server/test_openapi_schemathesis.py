"""The OpenAPI document says what the server sends: schemathesis against a live server.

Every operation of ``/api/docs/openapi.json`` gets a bounded number of generated
requests (valid and invalid ones: ``PATROL_SCHEMATHESIS_EXAMPLES`` per mode,
default 12), on SQLite and PostgreSQL, signed in as a dispatcher and as an
officer of the small test world. Each answer is checked for: no server error
(5xx), a status code the operation declares, a declared content type, and a
body that validates against the declared schema (the error body
``{code, message, field?}`` included). Failures are collected, not stopped at,
and reported together with the figures (operations, examples, failures).

Run it alone with ``-s`` to see the figures::

    .venv/bin/python -m pytest tests/server/test_openapi_schemathesis.py -s -p no:cacheprovider
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup

from server.api.openapi import document
from server.app import create_app
from server.settings import load
from tests.support.live import LiveServer
from tests.support.world import PASSWORD, new_device, prepare_world

EXAMPLES = int(os.environ.get("PATROL_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Signing out would end the session the run uses (it is covered by tests/server/test_auth.py).
SKIP = {("POST", "/api/auth/logout")}


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    import asyncio

    asyncio.run(prepare_world(database_url))
    with LiveServer(database_url, tmp_path, PATROL_LOGIN_MAX_FAILURES="1000") as srv:
        yield srv


def _token(srv: LiveServer, username: str) -> str:
    r = httpx.post(f"{srv.http}/api/auth/login",
                   json={"username": username, "password": PASSWORD, "device_id": new_device()})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def _failure_key(exc: BaseException) -> list[str]:
    group = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
    return [f"{type(f).__name__}: {getattr(f, 'title', str(f))}" for f in group]


def fuzz(srv: LiveServer, token: str) -> tuple[int, int, list[tuple[str, str, str]]]:
    """(operations, examples, failures) of one run; failures are (operation, kind, how to repeat)."""
    schema = schemathesis.openapi.from_url(f"{srv.http}/api/docs/openapi.json")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    operations = 0
    examples: Counter[str] = Counter()
    failures: list[tuple[str, str, str]] = []
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) in SKIP:
            continue
        operations += 1
        label = f"{op.method.upper()} {op.path}"
        seen: set[str] = set()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                examples[label] += 1
                response = case.call(base_url=srv.http, session=session)
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Failure, FailureGroup) as exc:
                    for kind in _failure_key(exc):
                        if kind not in seen:  # one line per distinct problem of an operation
                            seen.add(kind)
                            failures.append((label, f"{response.status_code} {kind}", case.as_curl_command()))

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, label  # nothing to make invalid (no parameters)
    return operations, sum(examples.values()), failures


@pytest.mark.timeout(900)
@pytest.mark.parametrize("username", ["dispatcher", "officer-a"])
def test_the_api_keeps_to_its_openapi_document(live: LiveServer, username: str) -> None:
    operations, examples, failures = fuzz(live, _token(live, username))
    summary = f"schemathesis as {username}: {operations} operations, {examples} examples, {len(failures)} failures"
    print("\n" + summary)
    for label, kind, curl in failures:
        print(f"  {label}: {kind}\n    {curl[:400]}")
    assert operations >= 40 and examples >= operations * EXAMPLES // 2
    assert not failures, summary + "\n" + "\n".join(f"{label}: {kind}\n  {curl[:600]}"
                                                     for label, kind, curl in failures)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for child in node.values():
            yield from _walk(child)
    elif isinstance(node, list):
        for child in node:
            yield from _walk(child)


async def test_the_document_has_one_error_shape_and_no_ambiguous_schema(tmp_path: Path) -> None:
    """Litestar declared {status_code, detail, extra} for 400s (the server sends {code, message,
    field}) and `oneOf [Report, {}]` for the reports ({} matches anything: nothing validates)."""
    from litestar.testing import AsyncTestClient

    settings = load({"PATROL_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PATROL_DATA_DIR": str(tmp_path),
                     "PATROL_PWA_DIR": str(tmp_path)})
    app = create_app(settings)
    doc = document(app)
    async with AsyncTestClient(app=app) as client:
        served = (await client.get("/api/docs/openapi.json")).json()
    assert served == doc
    responses = doc["components"]["responses"]
    for name, r in responses.items():
        assert r["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, name
    count = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            count += 1
            codes = op["responses"]
            assert {"422", "500", "503"} <= set(codes), (method, path)
            for code, r in codes.items():
                if code[0] in "45":
                    assert r["$ref"].removeprefix("#/components/responses/") in responses, (method, path, code)
            if op.get("security"):
                assert {"401", "403"} <= set(codes), (method, path)
    assert count >= 40
    for node in _walk(doc):
        props = node.get("properties")
        assert not (isinstance(props, dict) and {"status_code", "detail"} <= set(props)), node
        members = node.get("oneOf")
        if isinstance(members, list):
            assert {} not in members, node
            types = {m.get("type") for m in members if isinstance(m, dict)}
            assert not {"integer", "number"} <= types, node
    report = doc["paths"]["/api/analytics/response-times"]["get"]["responses"]["200"]["content"]
    assert report["application/json"]["schema"] == {"$ref": "#/components/schemas/ResponseReport"}
    assert "text/csv" in report
    assert set(doc["paths"]["/api/analytics/track/csv"]["get"]["responses"]["200"]["content"]) == {"text/csv"}
