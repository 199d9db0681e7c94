"""One run of a scenario on one database: world, servers, load, fault, convergence, checks.

    python -m tests.chaos --scenario kill9 --database both --scale 1 --seconds 20

See docs/reliability.md. The load runs on this process's event loop; the
servers are ``patrol serve`` subprocesses; proxies run on their own threads.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.storage import connect
from tests.chaos.checks import Findings, check, console_gaps
from tests.chaos.clients import Console, Desk, Device, Endpoints, Net, Phone, generate
from tests.chaos.scenarios import SCENARIOS, Scenario
from tests.chaos.servers import ScratchDatabase, ServerProcess
from tests.chaos.world import World, build_world

PHONE_RATE = 0.8          # edits per second per phone
DESK_RATE = 0.4           # incident + assignment pairs per second per desk
CONVERGE_TIMEOUT_S = 90.0


@dataclass
class Options:
    scale: int = 1
    seconds: float = 20.0
    units: int | None = None        # phones (one per unit); default 12 per unit of scale
    negative_control: bool = False
    seed: int = 1
    keep: bool = False
    verbose: bool = False


@dataclass
class Result:
    scenario: str
    database: str
    skipped: str | None = None
    error: str | None = None
    findings: Findings | None = None
    net: Net = field(default_factory=Net)
    converge_s: float | None = None          # fault end -> last outcome of an edit made before it
    caught_up_s: float | None = None         # load end -> every console has the last change in its scope
    never_confirmed_before_fault: int = 0
    server_errors: int = 0
    notes: list[str] = field(default_factory=list)
    control: dict[str, Any] | None = None    # negative control: what was injected, whether it was caught
    run_dir: str = ""
    wall_s: float = 0.0

    @property
    def failures(self) -> list[str]:
        out: list[str] = []
        if self.error:
            out.append(f"run failed: {self.error}")
        if self.findings is not None:
            out += self.findings.failures
        if self.converge_s is None and self.findings is not None and self.never_confirmed_before_fault:
            out.append(f"{self.never_confirmed_before_fault} edits made before the fault's end never confirmed")
        return out

    @property
    def ok(self) -> bool:
        if self.skipped:
            return True
        if self.control is not None:
            return bool(self.control.get("detected")) and not self.error
        return not self.failures


class Run:
    def __init__(self, scenario: Scenario, kind: str, opts: Options, base_dir: Path) -> None:
        self.scenario = scenario
        self.kind = kind
        self.opts = opts
        self.scale = max(1, opts.scale)
        self.seconds = opts.seconds * scenario.seconds_factor
        self.seed = opts.seed
        self.rng = random.Random(opts.seed)
        self.dir = Path(tempfile.mkdtemp(prefix=f"{scenario.name}-{kind}-", dir=base_dir))
        self.db = ScratchDatabase(kind, self.dir)
        self.servers: list[ServerProcess] = []
        self.bases: dict[str, list[str]] = {}
        self.console_bases: dict[int, list[str]] = {}
        self.world: World = World()
        self.load_started = 0.0
        self.fault_started: float | None = None
        self.fault_ended: float | None = None
        self.notes: list[str] = []
        self.converge_failure: str | None = None
        self.t0 = time.monotonic()

    # -- for scenarios --------------------------------------------------------------------
    def add_server(self, name: str, url: str) -> ServerProcess:
        srv = ServerProcess(name, url, self.dir / f"data-{name}", **self.scenario.server_env)
        self.servers.append(srv)
        return srv

    async def at(self, fraction: float) -> None:
        """Sleep until ``fraction`` of the load's duration has passed."""
        delay = self.load_started + fraction * self.seconds - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def log(self, text: str) -> None:
        if self.opts.verbose:
            print(f"  [{time.monotonic() - self.t0:6.1f}s] {self.scenario.name}/{self.kind}: {text}",
                  file=sys.stderr, flush=True)

    # -- the run ------------------------------------------------------------------------------
    async def execute(self) -> Result:
        res = Result(self.scenario.name, self.kind, run_dir=str(self.dir))
        started = time.monotonic()
        try:
            await self.db.create()
            ServerProcess("migrate", self.db.url, self.dir / "data-migrate").migrate()
            db = await connect(self.db.url)
            try:
                self.world = await build_world(db, units=self.opts.units or 12 * self.scale,
                                               consoles_per_scope=1 if self.scale < 3 else 2,
                                               extra_consoles=self.scenario.extra_consoles)
            finally:
                await db.close()
            await self.scenario.prepare(self)
            try:
                await self._load(res)
            finally:
                for srv in self.servers:
                    srv.stop()
                await self.scenario.cleanup(self)
            errors: Counter[str] = Counter()
            for srv in self.servers:
                errors.update(srv.error_summary())
            res.server_errors = sum(errors.values())
            if errors:
                res.notes.append("server ERROR lines: " + "; ".join(f"{n}x {text}" for text, n in errors.most_common(3)))
            if self.opts.negative_control:
                res.control = await self._inject()
            res.findings = await check(self.db.url, self.devices, self.consoles, self.load_started)
            if self.converge_failure:
                res.findings.failures.append(self.converge_failure)
            if res.control is not None:
                self._judge_control(res)
        except Exception as exc:  # the harness reports a broken run instead of dying
            import traceback

            res.error = f"{type(exc).__name__}: {exc}"
            if self.opts.verbose:
                traceback.print_exc()
        finally:
            for srv in self.servers:
                srv.stop()
            try:
                await self.db.drop()
            except Exception as exc:
                res.notes.append(f"could not drop schema {self.db.schema}: {exc}")
            res.notes += self.notes
            res.wall_s = time.monotonic() - started
            if res.ok and not self.opts.keep:
                shutil.rmtree(self.dir, ignore_errors=True)
        return res

    def _endpoints(self, role: str, index: int | None = None) -> Endpoints:
        bases = self.console_bases.get(index, self.bases[role]) if index is not None else self.bases[role]
        return Endpoints(bases, random.Random(self.rng.random()))

    async def _load(self, res: Result) -> None:
        w = self.world
        desks = [Desk(a, self._endpoints("desk"), units=w.units_by_org[a.org_id], transport="http",
                      seed=self.rng.randrange(1 << 30)) for a in w.dispatchers]
        # Setup: every unit gets an incident to write notes on (pending assignment; statuses
        # busy/available never touch it).
        incident_of: dict[str, str] = {}
        for desk in desks:
            for unit in desk.units:
                incident_of[unit], _ = desk.open_and_assign(unit)
            desk.stopping = True
        await asyncio.wait_for(asyncio.gather(*(d.run() for d in desks)), 60)
        for desk in desks:
            desk.stopping = False
        phones = [Phone(a, self._endpoints("phone"), incident_id=incident_of[a.unit_id or ""],
                        transport="ws" if i % 2 == 0 else "http", mode=self.scenario.phone_mode(i),
                        seed=self.rng.randrange(1 << 30)) for i, a in enumerate(w.officers)]
        consoles = [Console(a, self._endpoints("console", i), seed=self.rng.randrange(1 << 30),
                            name=f"{a.scope}{'(slow)' if i in self.console_bases else ''}#{i}")
                    for i, a in enumerate(w.consoles)]
        if self.opts.negative_control:
            consoles[0].drop_one = True
        self.devices: list[Device] = [*desks, *phones]
        self.consoles = consoles
        console_tasks = [asyncio.create_task(c.run()) for c in consoles]
        try:
            await asyncio.wait_for(asyncio.gather(*(c.live.wait() for c in consoles)), 60)
        except asyncio.TimeoutError:
            raise RuntimeError("consoles did not connect") from None
        # The load.
        stop = asyncio.Event()
        self.load_started = time.monotonic()
        for c in consoles:
            c.armed = True
        self.log("load started")
        senders = [asyncio.create_task(d.run()) for d in self.devices]
        makers = [asyncio.create_task(generate(p, PHONE_RATE * self.scenario.load_factor, stop)) for p in phones]
        makers += [asyncio.create_task(generate(d, DESK_RATE, stop)) for d in desks]
        fault = asyncio.create_task(self.scenario.fault(self))
        try:
            await asyncio.sleep(self.seconds)
            await fault
            if self.fault_ended is not None:
                # Keep the load on for a little after the fault, so "after" is exercised too.
                rest = self.fault_ended + 2.0 - time.monotonic()
                if rest > 0:
                    await asyncio.sleep(rest)
            stop.set()
            await asyncio.gather(*makers)
            load_ended = time.monotonic()
            self.log("load stopped; converging")
            for d in self.devices:
                d.stopping = True
                d.wake.set()
            caught = await self._converge(senders, consoles)
            if caught is not None:
                res.caught_up_s = max(0.0, caught - load_ended)
        finally:
            stop.set()
            for t in [*makers, fault]:
                t.cancel()
            for c in consoles:
                c.stop.set()
            await asyncio.gather(*console_tasks, return_exceptions=True)
            for t in senders:
                t.cancel()
            await asyncio.gather(*senders, *makers, fault, return_exceptions=True)
        for d in self.devices:
            res.net.merge(d.net)
        for c in consoles:
            res.net.merge(c.net)
        ref = self.fault_ended if self.fault_ended is not None else None
        if ref is not None:
            before = [r for d in self.devices for r in d.sent.values() if r.made_at <= ref]
            pending = [r for r in before if r.outcome_at is None]
            res.never_confirmed_before_fault = len(pending)
            if before and not pending:
                res.converge_s = max(0.0, max(r.outcome_at or ref for r in before) - ref)

    async def _converge(self, senders: list[asyncio.Task[None]], consoles: list[Console]) -> float | None:
        """Wait until every outbox is empty and every console has every change of its scope
        (by the same rule as the final check). Returns when (monotonic), or None after the timeout."""
        deadline = time.monotonic() + CONVERGE_TIMEOUT_S * self.scale
        since = min((c.first_cursor or 0) for c in consoles)
        log: list[dict[str, Any]] = []
        gaps: dict[str, int] = {}
        db = await connect(self.db.url)
        try:
            while time.monotonic() < deadline:
                for t in senders:
                    if t.done() and not t.cancelled() and t.exception() is not None:
                        raise RuntimeError(f"a client crashed: {t.exception()!r}")
                if all(t.done() for t in senders):
                    async with db.read() as tx:
                        log += await tx.fetch("SELECT seq, entity, entity_id, scope_path FROM change_log"
                                              " WHERE seq > $1 ORDER BY seq", int(log[-1]["seq"]) if log else since)
                    gaps = {c.name: len(console_gaps(c, log, as_the_console_believes=True)[0]) for c in consoles}
                    if not any(gaps.values()):
                        return time.monotonic()
                await asyncio.sleep(0.25)
        finally:
            await db.close()
        self.log("convergence timed out")
        waiting = sum(d.unconfirmed for d in self.devices)
        behind = [f"{name} lacks {n}" for name, n in gaps.items() if n]
        self.converge_failure = (f"not converged after {CONVERGE_TIMEOUT_S * self.scale:.0f} s: "
                                 f"{waiting} mutations unconfirmed; consoles behind: {', '.join(behind) or 'none'}")
        return None

    # -- negative control ----------------------------------------------------------------------------
    async def _inject(self) -> dict[str, Any]:
        """Delete one confirmed note's row; the first console dropped one live frame during the run."""
        control: dict[str, Any] = {"deleted": None, "dropped": None}
        victim = next((r for d in self.devices for r in d.sent.values()
                       if r.kind == "note" and r.outcome == "applied" and r.made_at >= self.load_started), None)
        if victim is not None:
            db = await connect(self.db.url)
            try:
                async with db.transaction() as tx:
                    await tx.execute("DELETE FROM notes WHERE id = $1", victim.effect_id)
            finally:
                await db.close()
            control["deleted"] = (victim.device, victim.seq, victim.effect_id)
        dropper = self.consoles[0]
        if dropper.dropped is not None:
            control["dropped"] = (dropper.name, dropper.dropped[0])
        return control

    def _judge_control(self, res: Result) -> None:
        f, control = res.findings, res.control
        assert f is not None and control is not None
        lost_caught = control["deleted"] is not None and any(
            control["deleted"][2] in line for line in f.lost)
        drop_caught = control["dropped"] is not None and control["dropped"][1] in f.console_missed.get(
            control["dropped"][0], [])
        control["lost_detected"] = lost_caught
        control["gap_detected"] = drop_caught
        control["detected"] = lost_caught and drop_caught


async def run_one(name: str, kind: str, opts: Options, base_dir: Path, pg_reason: str | None) -> Result:
    scenario = SCENARIOS[name]()
    if kind not in scenario.databases:
        return Result(name, kind, skipped="not applicable")
    if kind == "postgresql" and pg_reason is not None:
        if os.environ.get("PATROL_REQUIRE_PG") == "1":
            return Result(name, kind, error=f"{pg_reason} (PATROL_REQUIRE_PG=1)")
        return Result(name, kind, skipped=pg_reason)
    return await Run(scenario, kind, opts, base_dir).execute()


# -- the report ---------------------------------------------------------------------------------------

COLUMNS = ["scenario", "db", "sent", "ok", "rej", "lost", "dup", "reord", "unconf", "missed/console",
           "asg+alert missed", "conv s", "caught up s", "4429", "5xx", "srv err", "verdict"]


def _fmt_s(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def row_of(r: Result) -> list[str]:
    db = "pg" if r.database == "postgresql" else r.database
    if r.skipped:
        return [r.scenario, db] + [""] * (len(COLUMNS) - 3) + [f"skipped: {r.skipped}"[:60]]
    f = r.findings
    if f is None:
        return [r.scenario, db] + ["?"] * (len(COLUMNS) - 3) + ["ERROR"]
    missed = "/".join(str(len(v)) for v in f.console_missed.values()) or "-"
    fivexx = " ".join(f"{k}:{v}" for k, v in sorted(r.net.http_5xx.items())) or "0"
    if r.control is not None:
        verdict = "CONTROL CAUGHT" if r.ok else "CONTROL MISSED"
    else:
        verdict = "ok" if r.ok else "FAIL"
    return [r.scenario, db, str(f.sent), str(f.kept), str(sum(f.rejected.values())), str(len(f.lost)),
            str(len(f.duplicated)), str(len(f.reordered)), str(f.unconfirmed), missed, str(len(f.unreached)),
            _fmt_s(r.converge_s), _fmt_s(r.caught_up_s), str(r.net.closes.get(4429, 0)), fivexx,
            str(r.server_errors), verdict]


def table(results: list[Result]) -> str:
    rows = [COLUMNS] + [row_of(r) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def details(results: list[Result]) -> str:
    out = []
    for r in results:
        if r.skipped:
            continue
        head = f"{r.scenario}/{r.database} ({r.wall_s:.0f} s)"
        bits = []
        if r.net.closes:
            bits.append("closes " + " ".join(f"{k}:{v}" for k, v in sorted(r.net.closes.items())))
        if r.net.errors:
            bits.append("client errors " + " ".join(f"{k}:{v}" for k, v in r.net.errors.most_common(6)))
        if r.net.replays or r.net.out_of_order:
            bits.append(f"replayed answers {r.net.replays}, pushes sent out of seq order {r.net.out_of_order}")
        if r.net.http_other:
            bits.append("other HTTP " + " ".join(f"{k}:{v}" for k, v in sorted(r.net.http_other.items())))
        if r.findings is not None:
            f = r.findings
            sup = sum(f.console_superseded.values())
            snaps = sum(f.console_resume_snapshots.values())
            live_pages = sum(f.console_live_pages.values())
            bits.append(f"changes expected per console {'/'.join(map(str, f.console_expected.values()))}"
                        f" (unit snapshots superseded: {sup}; resume snapshots: {snaps};"
                        f" catch-up pages sent while live: {live_pages});"
                        f" assignment/alert deliveries checked {f.reached_checked};"
                        f" earlier statuses kept as history (older_than_current) {f.history}")
        bits += r.notes
        out.append(f"{head}: " + "; ".join(bits))
        if r.control is not None:
            out.append(f"  negative control: deleted note {r.control.get('deleted')} -> lost detected: "
                       f"{r.control.get('lost_detected')}; dropped frame {r.control.get('dropped')} -> gap "
                       f"detected: {r.control.get('gap_detected')}")
        for failure in r.failures:
            out.append(f"  FAIL {failure}")
        if not r.ok and r.run_dir:
            out.append(f"  logs kept in {r.run_dir}")
    return "\n".join(out)


async def run_all(names: list[str], kinds: list[str], opts: Options, out: Any = sys.stdout) -> list[Result]:
    from tests.chaos.servers import pg_unreachable

    pg_reason = await pg_unreachable() if "postgresql" in kinds else None
    if pg_reason and os.environ.get("PATROL_REQUIRE_PG") != "1":
        print(f"{pg_reason}: PostgreSQL scenarios skipped (PATROL_REQUIRE_PG=1 makes this a failure)",
              file=out, flush=True)
    base = Path(tempfile.mkdtemp(prefix="patrol-chaos-"))
    results: list[Result] = []
    for name in names:
        for kind in kinds:
            r = await run_one(name, kind, opts, base, pg_reason)
            results.append(r)
            status = "skipped" if r.skipped else ("ok" if r.ok else "FAIL")
            print(f"  {name}/{kind}: {status} ({r.wall_s:.0f} s)", file=out, flush=True)
    if not any(p.exists() for p in base.iterdir()):
        shutil.rmtree(base, ignore_errors=True)
    return results


def summarize(results: list[Result]) -> Counter[str]:
    return Counter("ok" if r.ok else "fail" for r in results if not r.skipped)
