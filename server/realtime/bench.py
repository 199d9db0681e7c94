"""Fan-out benchmark: status changes from many officer sockets to dispatcher consoles.

    python -m server.realtime.bench --officers 2000 --dispatchers 20 --rate 200 --seconds 20

Starts a Patrol server (a subprocess, SQLite unless --database-url) with a
world of one unit per officer and sessions made directly in the database (a
login costs an Argon2 hash; thousands of them would dominate the run), opens
all sockets from this process, has random officers push `unit.set_status`
at a steady total rate, and measures, at every dispatcher, the time from the
officer's send to the receipt of the status event. Then it runs the same
traffic shape through a bare `websockets` broadcast server as the reference
and prints both, with the ratio. A benchmark prints figures; it never fails.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ms() -> int:
    return time.time_ns() // 1_000_000


# -- world -------------------------------------------------------------------------------

async def build_world(url: str, officers: int, dispatchers: int) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Returns [(token, device_id, unit_id)] for officers and [token] for dispatchers."""
    from server.storage import connect
    from server.storage.migrate import migrate

    db = await connect(url)
    await migrate(db)
    now = _ms()
    off, desk = [], []
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO org_units (id, kind, code, name, path, created_at)"
                         " VALUES ('b-org', 'directorate', 'B', 'Bench', '/B/', $1)", now)
        users, units, shifts, members, devices, sessions = [], [], [], [], [], []
        for i in range(officers + dispatchers):
            uid, dev, token = f"b-user-{i}", f"00000000-0000-4000-8000-{i:012d}", secrets.token_urlsafe(24)
            is_officer = i < officers
            users.append((uid, f"bench{i}", f"Bench {i}", "officer" if is_officer else "dispatcher", "b-org",
                          "x", now))
            devices.append((dev, uid, now))
            sessions.append((f"b-s-{i}", hashlib.sha256(token.encode()).hexdigest(), uid, dev, now, now + 86_400_000))
            if is_officer:
                unit = f"b-unit-{i}"
                units.append((unit, f"B-{i}", "b-org", now, 44.9 + random.random() / 10, 19.6 + random.random() / 10))
                shifts.append((f"b-sh-{i}", "b-org", unit, now - 3_600_000, now + 8 * 3_600_000, now))
                members.append((f"b-sh-{i}", uid))
                off.append((token, dev, unit))
            else:
                desk.append(token)
        await tx.executemany("INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash,"
                             " created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$7)", users)
        await tx.executemany("INSERT INTO devices (id, first_user_id, created_at) VALUES ($1,$2,$3)", devices)
        await tx.executemany("INSERT INTO sessions (id, token_hash, user_id, device_id, created_at, last_used_at,"
                             " expires_at) VALUES ($1,$2,$3,$4,$5,$5,$6)", sessions)
        await tx.executemany("INSERT INTO units (id, call_sign, kind, org_unit_id, status, status_at, last_lat,"
                             " last_lon, last_position_at, created_at, updated_at)"
                             " VALUES ($1,$2,'car',$3,'available',$4,$5,$6,$4,$4,$4)", units)
        await tx.executemany("INSERT INTO shifts (id, org_unit_id, unit_id, starts_at, ends_at, created_at,"
                             " updated_at) VALUES ($1,$2,$3,$4,$5,$6,$6)", shifts)
        await tx.executemany("INSERT INTO shift_members (shift_id, user_id) VALUES ($1,$2)", members)
    await db.close()
    return off, desk


# -- load ------------------------------------------------------------------------------------

class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.delivered = 0
        self.sent = 0
        self.started = 0.0
        self.stopped = 0.0

    def report(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        span = max(self.stopped - self.started, 1e-9)
        pct = (lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan"))
        return {"sent": self.sent, "delivered": self.delivered, "deliveries_per_s": self.delivered / span,
                "p50_ms": pct(50), "p99_ms": pct(99), "mean_ms": statistics.fmean(lat) if lat else float("nan")}


async def _drive(officer_socks: list[Any], send_one: Any, rate: float, seconds: float, stats: Stats) -> None:
    interval = 1.0 / rate
    loop = asyncio.get_running_loop()
    stats.started = loop.time()
    next_at = stats.started
    end = stats.started + seconds
    while loop.time() < end:
        i = random.randrange(len(officer_socks))
        await send_one(i)
        stats.sent += 1
        next_at += interval
        delay = next_at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)


async def run_patrol(base: str, officers: list[tuple[str, str, str]], desk: list[str], rate: float,
                     seconds: float) -> dict[str, Any]:
    ws_url = base.replace("http", "ws") + "/ws"
    stats = Stats()

    async def open_auth(token: str) -> Any:
        ws = await websockets.connect(ws_url, max_size=2**24, compression=None, open_timeout=60)
        await ws.send(json.dumps({"type": "auth", "token": token, "cursor": 0}))
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "changes" and not frame["more"]:
                return ws

    d_socks = [await open_auth(t) for t in desk]
    o_socks: list[Any] = []
    for chunk in range(0, len(officers), 200):
        o_socks += await asyncio.gather(*(open_auth(t) for t, _, _ in officers[chunk:chunk + 200]))
    seqs = [0] * len(officers)

    wire: dict[str, list[int]] = {"push": [], "results": [], "change_to_desk": []}

    async def reader(ws: Any) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "change":
                if len(wire["change_to_desk"]) < 10_000:
                    wire["change_to_desk"].append(len(raw))
                if frame["change"]["entity"] == "unit_status_event":
                    stats.latencies.append(_ms() - frame["change"]["data"]["device_at"])
                    stats.delivered += 1

    async def drain(ws: Any) -> None:
        async for raw in ws:
            if len(wire["results"]) < 10_000 and '"type":"results"' in raw[:40]:
                wire["results"].append(len(raw))

    readers = [asyncio.create_task(reader(ws)) for ws in d_socks]
    drains = [asyncio.create_task(drain(ws)) for ws in o_socks]
    statuses = ["busy", "available"]

    async def send_one(i: int) -> None:
        token, dev, unit = officers[i]
        seqs[i] += 1
        now = _ms()
        m = {"v": 1, "client_id": dev, "seq": seqs[i], "name": "unit.set_status", "hlc": f"{now:012x}-0000-{dev}",
             "device_at": now, "base_version": None, "args": {"unit_id": unit, "status": statuses[seqs[i] % 2]}}
        frame = json.dumps({"type": "push", "device_now": now, "mutations": [m]}, separators=(",", ":"))
        wire["push"].append(len(frame))
        await o_socks[i].send(frame)

    await _drive(o_socks, send_one, rate, seconds, stats)
    await asyncio.sleep(2.0)  # let the tail drain
    stats.stopped = asyncio.get_running_loop().time() - 2.0
    for t in readers + drains:
        t.cancel()
    for ws in d_socks + o_socks:
        await ws.close()
    report = stats.report()
    report["wire"] = {k: (sum(v) / len(v) if v else 0.0) for k, v in wire.items()}
    return report


# -- the reference: a bare websockets broadcast server ---------------------------------------------

async def bare_server(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    dispatchers: set[Any] = set()

    async def handler(ws: Any) -> None:
        async for raw in ws:
            if raw == "sub":
                dispatchers.add(ws)
                await ws.send("ok")
                continue
            broadcast(dispatchers, raw)
        dispatchers.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=2**20):
        await asyncio.Future()


async def run_bare(port: int, n_officers: int, n_desk: int, rate: float, seconds: float) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{port}"
    stats = Stats()
    d_socks = []
    for _ in range(n_desk):
        ws = await websockets.connect(url, compression=None)
        await ws.send("sub")
        await ws.recv()
        d_socks.append(ws)
    o_socks: list[Any] = []
    for chunk in range(0, n_officers, 200):
        o_socks += await asyncio.gather(*(websockets.connect(url, compression=None, open_timeout=60)
                                          for _ in range(min(200, n_officers - chunk))))

    async def reader(ws: Any) -> None:
        async for raw in ws:
            stats.latencies.append(_ms() - json.loads(raw)["device_at"])
            stats.delivered += 1

    readers = [asyncio.create_task(reader(ws)) for ws in d_socks]

    async def send_one(i: int) -> None:
        await o_socks[i].send(json.dumps({"device_at": _ms(), "unit": i, "status": "busy"}))

    await _drive(o_socks, send_one, rate, seconds, stats)
    await asyncio.sleep(2.0)
    stats.stopped = asyncio.get_running_loop().time() - 2.0
    for t in readers:
        t.cancel()
    for ws in d_socks + o_socks:
        await ws.close()
    return stats.report()


# -- main ---------------------------------------------------------------------------------------

def _wait_http(base: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        try:
            if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start")


async def _pg_schema(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    await conn.execute(statement)
    await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--officers", type=int, default=2000)
    ap.add_argument("--dispatchers", type=int, default=20)
    ap.add_argument("--rate", type=float, default=200, help="status changes per second, all officers together")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--database-url", default="", help="default: a throwaway SQLite file")
    ap.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare_server:
        asyncio.run(bare_server(args.bare_server))
        return

    tmp = Path(tempfile.mkdtemp(prefix="patrol-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    schema = None
    if url.startswith("postgres"):
        # A throwaway schema, so the benchmark never touches real tables.
        schema = f"bench_{secrets.token_hex(4)}"
        asyncio.run(_pg_schema(url, f"CREATE SCHEMA {schema}"))
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    officers, desk = asyncio.run(build_world(url, args.officers, args.dispatchers))
    port = _free_port()
    env = {**os.environ, "PATROL_DATABASE_URL": url, "PATROL_DATA_DIR": str(tmp), "PATROL_PORT": str(port),
           "PATROL_LOG_LEVEL": "warning", "PYTHONPATH": str(ROOT), "PATROL_WS_QUEUE_SIZE": "4096"}
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{port}", server)
        patrol = asyncio.run(run_patrol(f"http://127.0.0.1:{port}", officers, desk, args.rate, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=15)

    bport = _free_port()
    bare = subprocess.Popen([sys.executable, "-m", "server.realtime.bench", "--bare-server", str(bport)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        time.sleep(1.0)
        ref = asyncio.run(run_bare(bport, args.officers, args.dispatchers, args.rate, args.seconds))
    finally:
        bare.terminate()
        bare.wait(timeout=15)

    if schema:
        asyncio.run(_pg_schema(args.database_url, f"DROP SCHEMA {schema} CASCADE"))
    storage = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"fan-out: {args.officers} officer sockets, {args.dispatchers} dispatcher sockets, "
          f"{args.rate:g} status changes/s for {args.seconds:g} s, storage {storage}")
    print(f"{'':<26}{'sent':>8}{'delivered':>11}{'deliv/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for name, r in (("Patrol (sync + fan-out)", patrol), ("bare websockets relay", ref)):
        print(f"{name:<26}{r['sent']:>8}{r['delivered']:>11}{r['deliveries_per_s']:>10.0f}"
              f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}")
    w = patrol["wire"]
    print(f"bytes on the wire per status update (JSON payload, before websocket framing and TLS): "
          f"officer push {w['push']:.0f}, its result {w['results']:.0f}; each dispatcher receives "
          f"{w['change_to_desk']:.0f} per change frame (a status update is 2 frames: unit + status event)")
    if ref["p99_ms"] and ref["p99_ms"] == ref["p99_ms"]:
        print(f"ratio p99 Patrol / bare: {patrol['p99_ms'] / max(ref['p99_ms'], 0.1):.1f}x")


if __name__ == "__main__":
    main()
