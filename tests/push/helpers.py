"""Test doubles for Web Push: a browser's keys and a local push service.

The browser side (``BrowserKeys``) is what ``PushManager.subscribe()`` would
make: a P-256 key pair and a 16-byte auth secret. The push service side
(``PushReceiver``) is a raw asyncio HTTP/1.1 server on 127.0.0.1 that records
each request and answers from a script, so tests can play 201, 410, 503 …
or drop the connection.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserKeys:
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def decrypt(self, body: bytes) -> Any:
        plain = http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret,
                                 version="aes128gcm")
        return json.loads(plain)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]   # lower-case names
    body: bytes


# A response: (status, headers) or the string "drop" (close without answering)
# or "hang" (never answer).
Response = tuple[int, dict[str, str]] | str


class PushReceiver:
    def __init__(self, script: list[Response] | Callable[[Request], Response] | None = None,
                 default: Response = (201, {})) -> None:
        self.requests: list[Request] = []
        self._script = script if callable(script) else list(script or [])
        self._default = default
        self._server: asyncio.base_events.Server | None = None
        self.port = 0
        self.arrived = asyncio.Event()
        self._handlers: set[asyncio.Task[Any]] = set()

    def endpoint(self, name: str = "sub") -> str:
        return f"http://127.0.0.1:{self.port}/push/{name}"

    def by_path(self, name: str) -> list[Request]:
        return [r for r in self.requests if r.path == f"/push/{name}"]

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    def _next(self, req: Request) -> Response:
        if callable(self._script):
            return self._script(req)
        return self._script.pop(0) if self._script else self._default

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                req = Request(method, path, headers, body)
                self.requests.append(req)
                self.arrived.set()
                answer = self._next(req)
                if answer == "drop":
                    return
                if answer == "hang":
                    await asyncio.sleep(3600)
                    return
                status, extra = answer  # type: ignore[misc]
                head = f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in extra.items())
                writer.write((head + "\r\n").encode("latin-1"))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()


def verify_vapid(authorization: str, expected_aud: str) -> tuple[dict[str, Any], str]:
    """Check ``vapid t=<jwt>, k=<key>``: ES256 signature by k, aud, sub, exp. Returns (claims, k)."""
    assert authorization.startswith("vapid "), authorization
    params = dict(part.strip().split("=", 1) for part in authorization[len("vapid "):].split(","))
    token, k = params["t"], params["k"]
    raw = unb64url(k)
    assert len(raw) == 65 and raw[0] == 4
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    claims = jwt.decode(token, public, algorithms=["ES256"], audience=expected_aud,
                        options={"require": ["aud", "exp", "sub"]})
    assert claims["exp"] > time.time()
    assert claims["exp"] <= time.time() + 24 * 3600
    return claims, k
