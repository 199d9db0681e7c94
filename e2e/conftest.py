"""Browser tests: one real server per test module, one Chromium per session.

The server is `patrol serve` in a subprocess on a free port, with its own data
directory, SQLite database and the demo data (`patrol seed --demo`), so the
browser talks to exactly what a user runs. Set PATROL_E2E_DATABASE_URL to run
the browser tests against PostgreSQL instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from e2e.browser import HOW_TO_INSTALL, LAUNCH_ARGS, find
from e2e.staffing import Crew, staff

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "pwa" / "dist"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, base_url: str, data_dir: Path, env: dict[str, str], proc: subprocess.Popen[bytes]) -> None:
        self.base_url = base_url
        self.data_dir = data_dir
        self.env = env
        self.proc = proc
        self.schema: str | None = None

    def patrol(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a `patrol` CLI command against this server's database."""
        return subprocess.run([sys.executable, "-m", "server.cli", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)


def start_server(tmp: Path, extra_env: dict[str, str] | None = None, seed: bool = True) -> Server:
    if not (DIST / "index.html").is_file():
        pytest.fail("the front end is not built: run `make test` (or `npm run build` in pwa/)")
    port = _free_port()
    env = {**os.environ, "PATROL_DATA_DIR": str(tmp), "PATROL_PORT": str(port), "PATROL_HOST": "127.0.0.1",
           "PATROL_LOG_LEVEL": "warning", "PATROL_TILE_URL": "", "PYTHONPATH": str(ROOT),
           "PATROL_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    schema = None
    if os.environ.get("PATROL_E2E_DATABASE_URL"):
        # Each server gets a throwaway schema of its own (the seed wants an empty database).
        base_url = os.environ["PATROL_E2E_DATABASE_URL"]
        schema = f"e2e_{uuid.uuid4().hex[:10]}"
        _pg(base_url, f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in base_url else "?"
        env["PATROL_DATABASE_URL"] = f"{base_url}{sep}options=-csearch_path%3D{schema}"
    env.update(extra_env or {})
    if seed:
        out = subprocess.run([sys.executable, "-m", "server.cli", "seed", "--demo"], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=300, check=False)
        if out.returncode != 0:
            pytest.fail(f"patrol seed --demo failed: {out.stderr}")
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve"], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {(tmp / 'server.log').read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                server = Server(base, tmp, env, proc)
                server.schema = schema
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"server did not start: {(tmp / 'server.log').read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
    if server.schema:
        _pg(os.environ["PATROL_E2E_DATABASE_URL"], f"DROP SCHEMA IF EXISTS {server.schema} CASCADE")


def _pg(url: str, statement: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute(statement)
        await conn.close()

    # In a thread of its own: Playwright's sync API keeps an event loop running here.
    import threading

    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(errors, lambda: asyncio.run(run())))
    worker.start()
    worker.join()
    if errors:
        raise errors[0]


def _capture(errors: list[BaseException], fn: object) -> None:
    try:
        fn()  # type: ignore[operator]
    except BaseException as exc:  # re-raised in the caller's thread
        errors.append(exc)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server with the demo data per test module."""
    srv = start_server(tmp_path_factory.mktemp("patrol-e2e"))
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="module")
def crews(server: Server) -> list[Crew]:
    """Four free, available units with a fresh two-officer crew on shift now, whatever the
    time of day (see e2e/staffing.py); sorted by call sign."""
    return staff(server.base_url, 4)


@pytest.fixture()
def console(server: Server, browser: Any) -> Iterator[Any]:
    """A dispatcher console signed in as dispatcher1, in a browser context of its own;
    fails the test if the page threw."""
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.base_url + "/console")
    page.fill("input[name=username]", "dispatcher1")
    page.fill("input[name=password]", "patrol-demo")
    page.click("button[type=submit]")
    page.wait_for_selector(".sync[data-state=live]", timeout=15_000)
    page.wait_for_selector("[data-testid=unit-board] .unit", timeout=10_000)
    yield page
    ctx.close()
    assert not errors, errors


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    exe = find()
    if exe is None:
        pytest.fail(HOW_TO_INSTALL)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=LAUNCH_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
