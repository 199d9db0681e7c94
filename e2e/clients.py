"""The one HTTP client the browser tests use for the people not in a browser: a signed-in
device speaking the sync protocol (`POST /api/sync/push`) and the REST API, as a phone or a
second console would."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import uuid6

PASSWORD = "patrol-demo"


def uuid7() -> str:
    """A new time-ordered id, as the apps make them for new entities."""
    return str(uuid6.uuid7())


class SyncClient:
    def __init__(self, base: str, username: str, password: str = PASSWORD) -> None:
        self.base = base
        self.device_id = str(uuid.uuid4())
        r = httpx.post(f"{base}/api/auth/login", json={"username": username, "password": password,
                                                       "device_id": self.device_id}, timeout=30)
        r.raise_for_status()
        body = r.json()
        self.token: str = body["token"]
        self.me: dict[str, Any] = body["me"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.seq = 0

    def get(self, path: str) -> Any:
        r = httpx.get(f"{self.base}{path}", headers=self.headers, timeout=30)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = httpx.post(f"{self.base}{path}", headers=self.headers, json=body, timeout=30)
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        return r.json()

    def push(self, name: str, args: dict[str, Any], base_version: int | None = None, *,
             at: int | None = None) -> dict[str, Any]:
        """One mutation, made `at` (device time, default now); returns the server's outcome."""
        self.seq += 1
        at = at if at is not None else int(time.time() * 1000)
        m = {"v": 1, "client_id": self.device_id, "seq": self.seq, "name": name,
             "hlc": f"{at:012x}-{self.seq:04x}-{self.device_id}", "device_at": at,
             "base_version": base_version, "args": args}
        res = self.post("/api/sync/push", {"mutations": [m], "device_now": int(time.time() * 1000)})
        return dict(res["results"][0])

    def push_ok(self, name: str, args: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """`push`, failing the test unless the mutation was applied or merged."""
        res = self.push(name, args, **kw)
        assert res["outcome"] in ("applied", "merged"), (name, res)
        return res
