"""The built PWA: ``/`` officer app, ``/console`` dispatcher console, ``/analysis``
commanders' analysis page, ``/sw.js``.

The service worker gets its own route: it must never be cached by HTTP (so an
update is noticed at once) and it controls the whole origin.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.response import File
from litestar.static_files import create_static_files_router

_NO_CACHE = {"Cache-Control": "no-cache"}
_MISSING = (
    "<!doctype html><meta charset=utf-8><title>Patrol</title>"
    "<p>The front end is not built. Run <code>make run</code> (or <code>npm ci && npm run build</code>"
    " in <code>pwa/</code>).</p>"
)


def _page(dist: Path, relative: str) -> Response[bytes] | File:
    path = dist / relative
    if not path.is_file():
        return Response(_MISSING.encode(), media_type="text/html", status_code=503)
    return File(path, filename="index.html", media_type="text/html",
                content_disposition_type="inline", headers=_NO_CACHE)


def pwa_router(dist: Path) -> Router:
    @get("/", include_in_schema=False)
    async def officer_app() -> Response[bytes] | File:
        return _page(dist, "index.html")

    @get(["/console", "/console/"], include_in_schema=False)
    async def console_app() -> Response[bytes] | File:
        return _page(dist, "console/index.html")

    @get(["/analysis", "/analysis/"], include_in_schema=False)
    async def analysis_app() -> Response[bytes] | File:
        return _page(dist, "analysis/index.html")

    @get("/sw.js", include_in_schema=False)
    async def service_worker() -> File:
        path = dist / "sw.js"
        if not path.is_file():
            raise NotFoundException("service worker not built")
        return File(path, filename="sw.js", content_disposition_type="inline", media_type="text/javascript",
                    headers={**_NO_CACHE, "Service-Worker-Allowed": "/"})

    @get("/manifest.webmanifest", include_in_schema=False)
    async def manifest() -> File:
        path = dist / "manifest.webmanifest"
        if not path.is_file():
            raise NotFoundException("manifest not built")
        return File(path, filename="manifest.webmanifest", content_disposition_type="inline",
                    media_type="application/manifest+json",
                    headers=_NO_CACHE)

    assets = create_static_files_router(path="/", directories=[dist], name="pwa-static")
    return Router(path="/", route_handlers=[officer_app, console_app, analysis_app, service_worker, manifest, assets])


