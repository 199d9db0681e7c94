"""The faults. Each scenario sets up its servers and proxies, then plays its fault during the load.

A scenario marks ``run.fault_started`` / ``run.fault_ended`` (monotonic);
convergence is measured from ``fault_ended``.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from tests.chaos.proxy import ChaosProxy
from tests.chaos.servers import pg_host_port
from tests.support.tcp_proxy import TcpProxy

if TYPE_CHECKING:
    from tests.chaos.harness import Run


class Scenario:
    name = "none"
    title = "no fault (baseline)"
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    extra_consoles: list[str] = []
    server_env: dict[str, str] = {}
    load_factor = 1.0     # multiplies the phones' edit rate
    seconds_factor = 1.0  # multiplies --seconds

    def phone_mode(self, i: int) -> str:
        return "normal"

    async def prepare(self, run: "Run") -> None:
        """Start the servers (and proxies); set the bases each kind of client connects to."""
        srv = run.add_server("a", run.db.url)
        srv.start()
        await srv.wait_healthy()
        run.bases = {"phone": [srv.base], "desk": [srv.base], "console": [srv.base]}

    async def fault(self, run: "Run") -> None:
        return None

    async def cleanup(self, run: "Run") -> None:
        return None


class KillRestart(Scenario):
    name = "kill9"
    title = "kill -9 during a reconnect storm, restart"

    async def fault(self, run: "Run") -> None:
        srv = run.servers[0]
        await run.at(0.25)
        run.fault_started = time.monotonic()
        srv.kill9()                       # every socket drops; phones keep editing offline
        run.log("kill -9 (1): phones queue edits offline")
        await asyncio.sleep(2.0)
        srv.start()
        await srv.wait_healthy()          # every phone reconnects with its queue: the storm
        run.log("restarted: reconnect storm")
        await asyncio.sleep(0.4)
        srv.kill9()                       # ... and the server dies again in the middle of it
        run.log("kill -9 (2) during the storm")
        await asyncio.sleep(1.0)
        srv.start()
        await srv.wait_healthy()
        run.fault_ended = time.monotonic()
        run.log("restarted")


class PgOutage(Scenario):
    name = "pg_outage"
    title = "PostgreSQL unreachable for 4 s (TCP proxy down, then up)"
    databases = ("postgresql",)

    async def prepare(self, run: "Run") -> None:
        self.proxy = TcpProxy(*pg_host_port()).start()
        srv = run.add_server("a", run.db.url_via(self.proxy.port))
        srv.start()
        await srv.wait_healthy()
        run.bases = {"phone": [srv.base], "desk": [srv.base], "console": [srv.base]}

    async def fault(self, run: "Run") -> None:
        await run.at(0.3)
        run.fault_started = time.monotonic()
        self.proxy.down()
        run.log("PostgreSQL down")
        await asyncio.sleep(4.0)
        self.proxy.up()
        run.fault_ended = time.monotonic()
        run.log("PostgreSQL up")

    async def cleanup(self, run: "Run") -> None:
        self.proxy.stop()


class FlakyNet(Scenario):
    name = "flaky_net"
    title = "connections reset at random; pushes sent twice and out of order"

    def phone_mode(self, i: int) -> str:
        return {1: "double", 3: "shuffle"}.get(i % 4, "normal")

    async def prepare(self, run: "Run") -> None:
        srv = run.add_server("a", run.db.url)
        srv.start()
        await srv.wait_healthy()
        self.proxy = ChaosProxy("127.0.0.1", srv.port, reset_mean_s=1.5, seed=run.seed).start()
        run.bases = {"phone": [self.proxy.base], "desk": [self.proxy.base], "console": [self.proxy.base]}

    async def fault(self, run: "Run") -> None:
        await run.at(0.15)
        run.fault_started = time.monotonic()
        self.proxy.resetting = True
        self.proxy.reset_all()
        run.log("resets on")
        await run.at(0.75)
        self.proxy.resetting = False
        run.fault_ended = time.monotonic()
        run.log(f"resets off ({self.proxy.resets} connections reset)")
        run.notes.append(f"{self.proxy.resets} connections reset")

    async def cleanup(self, run: "Run") -> None:
        self.proxy.stop()


class SlowConsole(Scenario):
    name = "slow_console"
    title = "one console behind a throttling proxy, normal consoles alongside"
    extra_consoles = ["c-org-ch"]   # the slow one: directorate scope, sees the most
    load_factor = 5.0                # a busy evening: the slow link falls far behind
    seconds_factor = 1.5             # long enough for the backlog to outgrow the server's queue
    # Server-side send buffers as small as a slow link's (see shim/sitecustomize.py); on
    # loopback the kernel would otherwise park megabytes of frames for the slow console.
    server_env = {"PATROL_CHAOS_SNDBUF": "16384"}

    async def prepare(self, run: "Run") -> None:
        srv = run.add_server("a", run.db.url)
        srv.start()
        await srv.wait_healthy()
        # Far slower than the change stream to that console (about 20 KB/s at scale 1) for the
        # whole load; the link recovers when the load ends, and the console must catch up.
        self.rate = 1500.0
        self.proxy = ChaosProxy("127.0.0.1", srv.port, rate_bps=None, buffer_bytes=4096, chunk=512).start()
        run.bases = {"phone": [srv.base], "desk": [srv.base], "console": [srv.base]}
        run.console_bases = {len(run.world.consoles) - 1: [self.proxy.base]}

    async def fault(self, run: "Run") -> None:
        run.fault_started = time.monotonic()
        start = self.proxy.bytes_down
        self.proxy.rate_bps = self.rate        # the consoles are live: the link turns bad
        await run.at(1.0)
        passed = self.proxy.bytes_down - start
        self.proxy.rate_bps = None            # the link recovers as the load ends
        run.fault_ended = time.monotonic()
        run.notes.append(f"throttled to {self.rate / 1000:.1f} KB/s during the load ({passed // 1000} KB "
                         "passed), then unthrottled")

    async def cleanup(self, run: "Run") -> None:
        self.proxy.stop()


class TwoInstances(Scenario):
    name = "two_instances"
    title = "two instances on one PostgreSQL, no sticky sessions, one killed"
    databases = ("postgresql",)

    async def prepare(self, run: "Run") -> None:
        a = run.add_server("a", run.db.url)
        b = run.add_server("b", run.db.url)
        a.start()
        b.start()
        await asyncio.gather(a.wait_healthy(), b.wait_healthy())
        both = [a.base, b.base]
        run.bases = {"phone": both, "desk": both, "console": both}

    async def fault(self, run: "Run") -> None:
        await run.at(0.4)
        run.fault_started = time.monotonic()
        run.servers[1].kill9()
        run.fault_ended = time.monotonic()
        run.log("instance b killed; clients fail over to a")


SCENARIOS: dict[str, type[Scenario]] = {s.name: s for s in
                                         (Scenario, KillRestart, PgOutage, FlakyNet, SlowConsole, TwoInstances)}
FULL = ["kill9", "pg_outage", "flaky_net", "slow_console", "two_instances"]
