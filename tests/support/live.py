"""A real server (uvicorn in a thread, its own event loop) for HTTP + websocket tests."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn

from server.app import create_app
from server.settings import load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, database_url: str, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        dist = data_dir / "dist"
        dist.mkdir(parents=True, exist_ok=True)
        self.settings = load({"PATROL_DATABASE_URL": database_url, "PATROL_DATA_DIR": str(data_dir),
                              "PATROL_PWA_DIR": str(dist), "PATROL_PORT": str(self.port), **env})
        self.app = create_app(self.settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                ws_max_size=self.settings.ws_max_frame_bytes, ws_per_message_deflate=False,
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
