"""HTTP-level timings of the analytics and roster endpoints over the demo data.

    .venv/bin/python -m tests.analytics_api.bench_http [--runs 20] [--pg]

Seeds a throwaway data directory with ``patrol seed --demo`` (30 days of
PU Sremska Mitrovica, ending now), starts ``patrol serve`` on a free port
(SQLite; ``--pg`` uses a throwaway schema in ``PATROL_TEST_PG_DSN``), signs
in as the demo commander (scope: the whole directorate) and requests every
report ``--runs`` times after one warm-up, one request at a time, over a
keep-alive connection. Prints median, p95 and worst wall time in ms as seen
by the client (routing, auth, session lookup, query, JSON/CSV encoding,
gzip), and the response size. The domain-level figures are in
``server/analytics/bench.py``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PG_DSN = os.environ.get("PATROL_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cases(client: httpx.Client) -> list[tuple[str, str]]:
    today = date.today()
    period = f"from={(today - timedelta(days=29)).isoformat()}&to={today.isoformat()}"
    units = client.get("/api/units").json()
    unit = units[0]["id"]
    incident = client.get("/api/incidents?limit=1").json()[0]["id"]
    a = "/api/analytics"
    return [
        ("response times by station, 30 days", f"{a}/response-times?{period}&group_by=station"),
        ("response times by hour, 30 days", f"{a}/response-times?{period}&group_by=hour"),
        ("response times by week, 30 days", f"{a}/response-times?{period}&group_by=week"),
        ("response times by type, P1+P2", f"{a}/response-times?{period}&group_by=type&priorities=1,2"),
        ("response times by station, CSV", f"{a}/response-times/csv?{period}&group_by=station"),
        ("availability, one day (all units)", f"{a}/availability?day={today.isoformat()}"),
        ("availability, one day, CSV", f"{a}/availability/csv?day={today.isoformat()}"),
        ("demand vs coverage, 30 days", f"{a}/demand-coverage?{period}"),
        ("demand vs coverage, 30 days, CSV", f"{a}/demand-coverage/csv?{period}"),
        ("track, one unit, one day", f"{a}/track?unit_id={unit}&from={today.isoformat()}&to={today.isoformat()}"),
        ("incident export (JSON)", f"{a}/incidents/{incident}/export"),
        ("roster, one week (all stations)", f"/api/shifts?week={today.isoformat()}"),
    ]


def run(runs: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = {**os.environ, "PATROL_DATA_DIR": tmp, "PATROL_PORT": str(port), "PATROL_HOST": "127.0.0.1",
               "PATROL_LOG_LEVEL": "warning", "PYTHONPATH": str(ROOT)}
        if database_url:
            env["PATROL_DATABASE_URL"] = database_url
        subprocess.run([sys.executable, "-m", "server.cli", "seed", "--demo"], env=env, cwd=ROOT, check=True,
                       capture_output=True)
        proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
            login = httpx.post(f"{base}/api/auth/login", json={
                "username": "commander", "password": "patrol-demo", "device_id": str(uuid.uuid4())}).json()
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {login['token']}"},
                              timeout=30) as client:
                storage = client.get("/api/health").json()["storage"]
                print(f"\n## HTTP, {storage}, {runs} runs each (client wall time, ms)\n")
                print("| request | median | p95 | worst | size |")
                print("| --- | ---: | ---: | ---: | ---: |")
                for name, path in _cases(client):
                    r = client.get(path)
                    r.raise_for_status()
                    times = []
                    for _ in range(runs):
                        t0 = time.perf_counter()
                        r = client.get(path)
                        times.append((time.perf_counter() - t0) * 1000)
                        r.raise_for_status()
                    times.sort()
                    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
                    size = f"{len(r.content) / 1024:.1f} KB"
                    print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {times[-1]:.1f} | {size} |",
                          flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--pg", action="store_true", help="PostgreSQL (a throwaway schema) instead of SQLite")
    args = p.parse_args()
    if not args.pg:
        run(args.runs, None)
        return
    import asyncio

    import asyncpg

    schema = f"bench_http_{uuid.uuid4().hex[:8]}"

    async def ddl(sql: str) -> None:
        conn = await asyncpg.connect(PG_DSN)
        await conn.execute(sql)
        await conn.close()

    asyncio.run(ddl(f"CREATE SCHEMA {schema}"))
    try:
        sep = "&" if "?" in PG_DSN else "?"
        run(args.runs, f"{PG_DSN}{sep}options=-csearch_path%3D{schema}")
    finally:
        asyncio.run(ddl(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


if __name__ == "__main__":
    main()
