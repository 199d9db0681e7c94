"""The application shell: health, static PWA, security headers, JSON errors."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import load


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    d = tmp_path / "dist"
    (d / "console").mkdir(parents=True)
    (d / "assets").mkdir()
    (d / "index.html").write_text("<!doctype html><title>officer</title>")
    (d / "console" / "index.html").write_text("<!doctype html><title>console</title>")
    (d / "assets" / "app-1234.js").write_text("console.log(1)")
    (d / "sw.js").write_text("self.addEventListener('install', () => {})")
    (d / "manifest.webmanifest").write_text('{"name": "Patrol"}')
    return d


@pytest.fixture
async def client(database_url: str, dist: Path, tmp_path: Path) -> AsyncIterator[AsyncTestClient]:
    settings = load({"PATROL_DATABASE_URL": database_url, "PATROL_PWA_DIR": str(dist),
                     "PATROL_DATA_DIR": str(tmp_path / "data"), "PATROL_MAX_REQUEST_BYTES": "2048"})
    async with AsyncTestClient(app=create_app(settings)) as c:
        yield c


async def test_health_reports_storage_and_schema(client: AsyncTestClient, database_url: str) -> None:
    r = await client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["storage"] == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    assert body["schema_version"] == body["schema_latest"] >= 1


async def test_pwa_pages_and_assets_are_served(client: AsyncTestClient) -> None:
    for path, title in (("/", "officer"), ("/console", "console"), ("/console/", "console")):
        page = await client.get(path)
        assert title in page.text
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "attachment" not in page.headers.get("content-disposition", "")
    assert (await client.get("/assets/app-1234.js")).text == "console.log(1)"
    sw = await client.get("/sw.js")
    assert sw.headers["service-worker-allowed"] == "/"
    assert sw.headers["cache-control"] == "no-cache"
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")


async def test_security_headers_on_every_response(client: AsyncTestClient) -> None:
    for path in ["/", "/api/health", "/api/does-not-exist"]:
        r = await client.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"


async def test_unknown_api_path_is_json_404(client: AsyncTestClient) -> None:
    r = await client.get("/api/does-not-exist")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


async def test_openapi_schema_is_served(client: AsyncTestClient) -> None:
    r = await client.get("/api/docs/openapi.json")
    assert r.status_code == 200
    assert "/api/health" in r.json()["paths"]


async def test_head_is_answered_like_get_without_a_body(tmp_path: Path) -> None:
    """Issue 12.18: HEAD on /, /sw.js and /api/health answered 405."""
    from litestar.testing import AsyncTestClient

    from server.app import create_app
    from server.settings import load

    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>Patrol</title>")
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    settings = load({"PATROL_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PATROL_PWA_DIR": str(dist),
                     "PATROL_DATA_DIR": str(tmp_path / "data")})
    async with AsyncTestClient(app=create_app(settings)) as client:
        for path in ("/", "/sw.js", "/api/health"):
            got, head = await client.get(path), await client.head(path)
            assert head.status_code == got.status_code == 200, (path, head.status_code)
            assert head.content == b"", path
            assert head.headers.get("content-type") == got.headers.get("content-type"), path
        assert (await client.head("/nowhere-at-all.js")).status_code == 404
