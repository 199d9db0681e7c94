"""HEAD answered like GET, without the body (RFC 9110 §9.3.2).

Monitors, proxies and link checkers send HEAD to `/`, `/sw.js` and
`/api/health`; Litestar routes a `@get` for GET only and answered 405. This
ASGI middleware runs a HEAD request as a GET and drops the body on the way
out, keeping the headers (Content-Length included) as GET would send them.
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send


def head_as_get(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # swallow the chunks; the last one closes the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        get_scope: Any = {**scope, "method": "GET"}
        await app(get_scope, receive, send_headers_only)

    return middleware
