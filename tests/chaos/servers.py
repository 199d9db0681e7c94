"""Real server processes and throwaway databases for the fault harness.

Each run gets its own database (a SQLite file in the run's directory, or a
PostgreSQL schema of its own, dropped afterwards) and one or two
``patrol serve`` subprocesses with their own PATROL_DATABASE_URL,
PATROL_PORT and PATROL_DATA_DIR. ``kill9()`` is a SIGKILL: no shutdown hook
runs, exactly as when the host loses power or the OOM killer strikes.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from collections import Counter
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[2]
PG_DSN = os.environ.get("PATROL_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def server_root() -> Path:
    """The checkout the servers run from: this one, or PATROL_CHAOS_SERVER_ROOT (an A/B run
    against another tree, e.g. `git archive HEAD` unpacked somewhere)."""
    other = os.environ.get("PATROL_CHAOS_SERVER_ROOT")
    return Path(other).resolve() if other else ROOT


def patrol_command() -> list[str]:
    """The `patrol` console script of the interpreter running the harness (the venv's)."""
    if server_root() != ROOT:
        return [sys.executable, "-m", "server.cli"]
    exe = Path(sys.executable).parent / "patrol"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "server.cli"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_search_path(dsn: str, schema: str) -> str:
    sep = "&" if "?" in dsn else "?"
    return f"{dsn}{sep}options=-csearch_path%3D{schema}"


def pg_host_port(dsn: str = PG_DSN) -> tuple[str, int]:
    host = dsn.split("@")[-1].split("/")[0]
    name, _, port = host.partition(":")
    return name or "127.0.0.1", int(port or 5432)


async def pg_unreachable(dsn: str = PG_DSN) -> str | None:
    """None when PostgreSQL answers, else why not."""
    import asyncpg

    try:
        conn = await asyncpg.connect(dsn, timeout=3)
        await conn.close()
        return None
    except Exception as exc:  # any failure means: not usable here
        return f"PostgreSQL not reachable at {dsn}: {exc!r}"


class ScratchDatabase:
    """One run's database: ``url`` (direct), ``url_via(host, port)`` (through a proxy)."""

    def __init__(self, kind: str, run_dir: Path) -> None:
        self.kind = kind
        self.schema: str | None = None
        if kind == "sqlite":
            self.url = f"sqlite:///{run_dir / 'patrol.db'}"
        else:
            self.schema = f"chaos_{uuid.uuid4().hex[:10]}"
            self.url = with_search_path(PG_DSN, self.schema)

    async def create(self) -> None:
        if self.schema:
            import asyncpg

            conn = await asyncpg.connect(PG_DSN)
            try:
                await conn.execute(f"CREATE SCHEMA {self.schema}")
            finally:
                await conn.close()

    async def drop(self) -> None:
        if self.schema:
            import asyncpg

            conn = await asyncpg.connect(PG_DSN)
            try:
                await conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            finally:
                await conn.close()

    def url_via(self, port: int) -> str:
        """The same database through a TCP proxy listening on 127.0.0.1:port."""
        assert self.schema
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(PG_DSN)
        user = f"{parts.username}@" if parts.username else ""
        return with_search_path(urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}")), self.schema)


class ServerProcess:
    """`patrol serve` as a subprocess; the log goes to ``<data_dir>/server-<name>.log``."""

    def __init__(self, name: str, database_url: str, data_dir: Path, **env: str) -> None:
        self.name = name
        self.database_url = database_url
        self.data_dir = data_dir
        self.port = free_port()
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{name}.log"
        self._log: IO[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        dist = self.data_dir / "dist"
        env = {**os.environ, "PATROL_DATABASE_URL": self.database_url, "PATROL_PORT": str(self.port),
               "PATROL_DATA_DIR": str(self.data_dir), "PATROL_PWA_DIR": str(dist),
               "PATROL_LOG_LEVEL": "warning", "PYTHONUNBUFFERED": "1", **self.env}
        paths = [str(server_root())] if server_root() != ROOT else []
        if env.get("PATROL_CHAOS_SNDBUF"):
            paths.append(str(Path(__file__).parent / "shim"))  # sitecustomize: small send buffers
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [os.environ.get("PYTHONPATH")] if p])
        return env

    def migrate(self) -> None:
        """`patrol migrate` with this server's settings (the real CLI, from the server's tree)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(patrol_command() + ["migrate"], env=self._env(), cwd=server_root(),
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"patrol migrate failed: {out.stderr.strip() or out.stdout.strip()}")

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        dist = self.data_dir / "dist"
        dist.mkdir(exist_ok=True)
        (dist / "index.html").touch()  # no front end needed; keeps `serve` from warning
        env = self._env()
        self._log = open(self.log_path, "ab")
        self._log.write(f"--- start {self.starts + 1} at {time.strftime('%H:%M:%S')} ---\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(patrol_command() + ["serve"], env=env, cwd=server_root(),
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        (self.data_dir / f"server-{self.name}.pid").write_text(f"{self.proc.pid}\n")
        self.starts += 1

    async def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as h:
            while True:
                if self.proc is None or self.proc.poll() is not None:
                    raise RuntimeError(f"server {self.name} exited (see {self.log_path})")
                try:
                    r = await h.get(self.base + "/api/health")
                    if r.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server {self.name} did not become healthy (see {self.log_path})")
                await asyncio.sleep(0.05)

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def error_summary(self) -> Counter[str]:
        """ERROR lines by logger and message, without times and device ids."""
        out: Counter[str] = Counter()
        for line in self.error_lines():
            if line.startswith("Traceback"):
                continue
            parts = line.split(" - ")
            text = " - ".join([parts[2], parts[-1]]) if len(parts) >= 5 else line
            out[re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", text)[:120]] += 1
        return out

    def error_lines(self) -> list[str]:
        """ERROR lines and tracebacks in the server's log (warnings are not counted)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines()
                if re.match(r"^(ERROR|CRITICAL)\b", line) or line.startswith("Traceback")]
