"""The load: phones with an outbox, dispatch desks, and consoles that track cursors.

Everything runs on the harness's asyncio loop. Each client picks a server
from its :class:`Endpoints` on every (re)connection and every HTTP request
(no sticky sessions), so a client of two instances lands on either.

* :class:`Device` is what a real phone does with its outbox: every edit gets
  the next ``seq`` and stays queued until the server has answered it with an
  outcome; pushes (websocket ``push`` frames or ``POST /api/sync/push``)
  send the queue in seq order, up to 200 at a time, and are re-sent after a
  close, a timeout, a 5xx or a refused connection (full-jitter backoff, as
  ``pwa/src/shared/connection.js``, with a shorter ceiling to keep runs
  short). ``mode`` misbehaves on purpose: ``double`` sends every push twice
  at once, ``shuffle`` sends the queue as one-mutation pushes in random order.
* :class:`Console` holds a websocket like the dispatcher console: it
  authenticates with its cursor, reads the catch-up pages and then live
  ``change`` frames (and any further ``changes`` pages), records the seq of
  every change it was given and resumes from its last cursor after any close.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import uuid6
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.chaos.world import Account

PUSH_BATCH = 200
RESULT_TIMEOUT_S = 15.0
BACKOFF_BASE_S = 0.25
BACKOFF_CAP_S = 2.0


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def backoff(attempt: int, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempt)]."""
    return rng.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** attempt))


class Endpoints:
    """The servers a client may reach; a fresh random pick on every connection."""

    def __init__(self, bases: list[str], rng: random.Random) -> None:
        self.bases = list(bases)
        self.rng = rng

    def pick(self) -> str:
        return self.rng.choice(self.bases)


@dataclass
class Net:
    """What a client saw of the network and the servers."""
    http_5xx: Counter[int] = field(default_factory=Counter)
    http_other: Counter[int] = field(default_factory=Counter)   # unexpected 4xx
    closes: Counter[int] = field(default_factory=Counter)       # websocket close codes received
    errors: Counter[str] = field(default_factory=Counter)       # refused, reset, timeout, ...
    connects: int = 0
    replays: int = 0               # answers marked replay (a seq the server already had)
    out_of_order: int = 0          # pushes sent with a lower seq than one already sent

    def merge(self, other: "Net") -> None:
        self.http_5xx.update(other.http_5xx)
        self.http_other.update(other.http_other)
        self.closes.update(other.closes)
        self.errors.update(other.errors)
        self.connects += other.connects
        self.replays += other.replays
        self.out_of_order += other.out_of_order


@dataclass
class Sent:
    """One mutation a client made, and what became of it."""
    device: str
    seq: int
    name: str
    kind: str                  # status | note | alert | incident | assignment
    effect_id: str             # the row the mutation creates (event, note, alert, incident, assignment)
    made_at: float             # monotonic
    status: str | None = None
    outcome: str | None = None
    reason_code: str | None = None
    outcome_at: float | None = None
    seen: set[tuple[str, str | None]] = field(default_factory=set)   # every answer received for it


class Hlc:
    """A device's hybrid logical clock (sync/hlc.py's encoding)."""

    def __init__(self, node: str) -> None:
        self.node, self.l, self.c = node, 0, 0

    def now(self, wall: int) -> str:
        if wall > self.l:
            self.l, self.c = wall, 0
        else:
            self.c += 1
        return f"{self.l:012x}-{self.c:04x}-{self.node}"


class Device:
    """A signed-in installation with an outbox: an officer's phone or a dispatch desk."""

    def __init__(self, account: Account, endpoints: Endpoints, *, transport: str = "http",
                 mode: str = "normal", seed: int = 0) -> None:
        self.account = account
        self.endpoints = endpoints
        self.transport = transport
        self.mode = mode
        self.rng = random.Random(seed)
        self.hlc = Hlc(account.device_id)
        self.seq = 0
        self.sent: dict[int, Sent] = {}
        self.outbox: dict[int, dict[str, Any]] = {}
        self.net = Net()
        self.cursor = 0
        self.wake = asyncio.Event()
        self.stopping = False        # no more edits are made; leave once the outbox is empty
        self._push_id = 0
        self._http: httpx.AsyncClient | None = None

    # -- edits ----------------------------------------------------------------
    def mutate(self, name: str, args: dict[str, Any], kind: str, effect_id: str,
               status: str | None = None) -> Sent:
        self.seq += 1
        at = wall_ms()
        m = {"v": 1, "client_id": self.account.device_id, "seq": self.seq, "name": name,
             "hlc": self.hlc.now(at), "device_at": at, "base_version": None, "args": args}
        self.outbox[self.seq] = m
        rec = Sent(self.account.device_id, self.seq, name, kind, effect_id, time.monotonic(), status)
        self.sent[self.seq] = rec
        self.wake.set()
        return rec

    @property
    def unconfirmed(self) -> int:
        return len(self.outbox)

    def settle(self, results: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        for r in results:
            seq = r.get("seq")
            rec = self.sent.get(seq) if isinstance(seq, int) else None
            if rec is None:
                continue
            rec.seen.add((r["outcome"], r.get("reason_code")))
            if r.get("replay"):
                self.net.replays += 1
            if rec.outcome is None:
                rec.outcome, rec.reason_code, rec.outcome_at = r["outcome"], r.get("reason_code"), now
            self.outbox.pop(seq, None)

    def _batches(self) -> list[list[dict[str, Any]]]:
        queued = [self.outbox[s] for s in sorted(self.outbox)][:PUSH_BATCH]
        if self.mode == "shuffle" and len(queued) > 1:
            singles = [[m] for m in queued]
            self.rng.shuffle(singles)
            top = 0
            for one in singles:
                if one[0]["seq"] < top:
                    self.net.out_of_order += 1
                top = max(top, one[0]["seq"])
            return singles
        return [queued] if queued else []

    def _holding(self) -> bool:
        """``shuffle`` phones gather a few edits before sending (a patchy signal), so there is
        something to send out of order."""
        if self.mode != "shuffle" or self.stopping or not self.outbox:
            return False
        oldest = self.sent[min(self.outbox)].made_at
        return len(self.outbox) < 4 and time.monotonic() - oldest < 3.0

    # -- sending ----------------------------------------------------------------
    async def run(self) -> None:
        """Send until told to stop and everything has an outcome."""
        attempt = 0
        try:
            while not (self.stopping and not self.outbox):
                if not self.outbox or self._holding():
                    self.wake.clear()
                    try:
                        await asyncio.wait_for(self.wake.wait(), 0.5)
                    except asyncio.TimeoutError:
                        pass
                    continue
                try:
                    if self.transport == "ws":
                        await self._ws_session()
                    else:
                        await self._http_round()
                    attempt = 0
                    continue
                except _Retry as exc:
                    delay = exc.after if exc.after is not None else backoff(attempt, self.rng)
                    attempt += 1
                    await asyncio.sleep(delay)
        finally:
            if self._http is not None:
                await self._http.aclose()
                self._http = None

    # HTTP: one round sends the queue (a push, or several for the misbehaving modes).
    async def _http_round(self) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=RESULT_TIMEOUT_S,
                                           headers={"Authorization": f"Bearer {self.account.token}"})
        for batch in self._batches():
            base = self.endpoints.pick()
            body = {"mutations": batch, "device_now": wall_ms()}
            copies = 2 if self.mode == "double" else 1
            answers = await asyncio.gather(*(self._post(base, body) for _ in range(copies)),
                                           return_exceptions=True)
            retry: _Retry | None = None
            for a in answers:
                if isinstance(a, _Retry):
                    retry = a
                elif isinstance(a, BaseException):
                    raise a
                else:
                    self.settle(a["results"])
            if retry is not None:
                raise retry

    async def _post(self, base: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self._http is not None
        try:
            r = await self._http.post(base + "/api/sync/push", json=body)
        except httpx.TimeoutException:
            self.net.errors["timeout"] += 1
            raise _Retry() from None
        except httpx.TransportError as exc:
            self.net.errors[_kind(exc)] += 1
            raise _Retry() from None
        if r.status_code == 200:
            return r.json()
        if r.status_code >= 500:
            self.net.http_5xx[r.status_code] += 1
            after = r.headers.get("retry-after")
            raise _Retry(min(2.0, float(after)) if after and after.isdigit() else None)
        self.net.http_other[r.status_code] += 1
        raise _Retry()

    # Websocket: one session pushes until the socket breaks (then the caller backs off).
    async def _ws_session(self) -> None:
        url = self.endpoints.pick().replace("http", "ws", 1) + "/ws"
        try:
            ws = await websockets.connect(url, open_timeout=5, max_size=2**24, compression=None,
                                          close_timeout=1)
        except (OSError, asyncio.TimeoutError, InvalidStatus) as exc:
            self.net.errors[_kind(exc)] += 1
            raise _Retry() from None
        except Exception as exc:  # handshake broken mid-way (reset, EOF)
            self.net.errors[_kind(exc)] += 1
            raise _Retry() from None
        self.net.connects += 1
        waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        live = asyncio.Event()

        async def reader() -> None:
            while True:
                frame = json.loads(await ws.recv())  # raises ConnectionClosed with the close frame
                kind = frame.get("type")
                if kind == "results":
                    fut = waiting.pop(frame.get("id") or "", None)
                    if fut is not None and not fut.done():
                        fut.set_result(frame)
                elif kind == "changes":
                    self.cursor = max(self.cursor, frame["cursor"])
                    if not frame["more"]:
                        live.set()
                elif kind == "change":
                    self.cursor = max(self.cursor, frame["cursor"])

        read = asyncio.create_task(reader())
        try:
            await ws.send(json.dumps({"type": "auth", "token": self.account.token, "cursor": self.cursor}))
            await _either(live.wait(), read, RESULT_TIMEOUT_S)
            while not (self.stopping and not self.outbox):
                if not self.outbox or self._holding():
                    self.wake.clear()
                    await _either(self.wake.wait(), read, 0.5, quiet=True)
                    continue
                futs = []
                for batch in self._batches():
                    for _ in range(2 if self.mode == "double" else 1):
                        self._push_id += 1
                        pid = f"p{self._push_id}"
                        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
                        waiting[pid] = fut
                        futs.append(fut)
                        await ws.send(json.dumps({"type": "push", "id": pid, "device_now": wall_ms(),
                                                  "mutations": batch}))
                for fut in futs:
                    frame = await _either(fut, read, RESULT_TIMEOUT_S)
                    self.settle(frame["results"])
        except ConnectionClosed as exc:
            if exc.rcvd is not None:
                self.net.closes[exc.rcvd.code] += 1
            else:
                self.net.errors["ws_dropped"] += 1
            raise _Retry() from None
        except _Retry:
            raise
        except (OSError, asyncio.TimeoutError) as exc:
            self.net.errors[_kind(exc)] += 1
            raise _Retry() from None
        finally:
            read.cancel()
            await asyncio.gather(read, return_exceptions=True)
            try:
                await asyncio.wait_for(ws.close(), 1)
            except Exception:
                pass


class _Retry(Exception):
    def __init__(self, after: float | None = None) -> None:
        super().__init__()
        self.after = after


async def _either(aw: Any, reader: asyncio.Task[None], timeout: float, quiet: bool = False) -> Any:
    """Await ``aw`` unless the socket's reader ends first (then re-raise why it ended)."""
    task = asyncio.ensure_future(aw)
    done, _ = await asyncio.wait({task, reader}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        return task.result()
    task.cancel()
    if reader in done:
        exc = reader.exception()
        if exc is not None:
            raise exc
        raise ConnectionClosed(None, None)
    if quiet:
        return None
    raise asyncio.TimeoutError()


def _kind(exc: BaseException) -> str:
    text = f"{type(exc).__name__} {exc}".lower()
    if "refused" in text or isinstance(exc, httpx.ConnectError):
        return "refused"
    if "reset" in text:
        return "reset"
    if "timeout" in text or isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    return type(exc).__name__


# -- what each role does -----------------------------------------------------------------------------

class Phone(Device):
    """An officer's phone: statuses (busy/available), notes on its incident, now and then an alert."""

    def __init__(self, account: Account, endpoints: Endpoints, *, incident_id: str, **kw: Any) -> None:
        super().__init__(account, endpoints, **kw)
        self.incident_id = incident_id

    def edit(self) -> None:
        unit = self.account.unit_id
        assert unit
        r = self.rng.random()
        if r < 0.65:
            status = self.rng.choice(["busy", "available"])
            eid = str(uuid6.uuid7())
            self.mutate("unit.set_status", {"unit_id": unit, "status": status, "event_id": eid},
                        "status", eid, status)
        elif r < 0.95:
            nid = str(uuid6.uuid7())
            self.mutate("incident.add_note", {"note_id": nid, "incident_id": self.incident_id,
                                              "body": f"chaos note {self.seq + 1}"}, "note", nid)
        else:
            aid = str(uuid6.uuid7())
            self.mutate("alert.raise", {"alert_id": aid, "unit_id": unit, "note": "chaos drill"}, "alert", aid)


class Desk(Device):
    """A dispatch desk: opens an incident and assigns one of its station's units (as additional)."""

    def __init__(self, account: Account, endpoints: Endpoints, *, units: list[str], **kw: Any) -> None:
        super().__init__(account, endpoints, **kw)
        self.units = units

    def open_and_assign(self, unit: str | None = None) -> tuple[str, str]:
        inc, asg = str(uuid6.uuid7()), str(uuid6.uuid7())
        self.mutate("incident.create", {"incident_id": inc, "org_unit_id": self.account.org_id, "type": "chaos",
                                        "priority": 3, "source": "112", "description": "chaos drill"},
                    "incident", inc)
        self.mutate("assignment.create", {"assignment_id": asg, "incident_id": inc,
                                          "unit_id": unit or self.rng.choice(self.units), "additional": True},
                    "assignment", asg)
        return inc, asg

    def edit(self) -> None:
        self.open_and_assign()


async def generate(device: Device, rate_per_s: float, stop: asyncio.Event,
                   edit: Callable[[], None] | None = None) -> None:
    """Make edits at about ``rate_per_s`` (Poisson) until ``stop`` is set."""
    make = edit or getattr(device, "edit")
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), device.rng.expovariate(rate_per_s))
            return
        except asyncio.TimeoutError:
            pass
        make()


# -- consoles ---------------------------------------------------------------------------------------------

class Console:
    """A dispatcher console's socket: cursor tracking, resume after every close, a record of every change."""

    def __init__(self, account: Account, endpoints: Endpoints, *, seed: int = 0, name: str = "") -> None:
        self.account = account
        self.endpoints = endpoints
        self.name = name or account.username
        self.rng = random.Random(seed)
        self.net = Net()
        self.cursor = 0
        self.first_cursor: int | None = None
        self.received: dict[int, tuple[str, str]] = {}       # seq -> (entity, entity_id)
        self.entities: set[tuple[str, str]] = set()           # everything seen, also in snapshots
        self.copies = 0                                        # changes received more than once
        self.snapshots_after_first = 0
        self.pages_while_live = 0        # `changes` pages the server sent unasked after going live (resync)
        self.cursor_regressions = 0
        self.live = asyncio.Event()
        self.stop = asyncio.Event()
        self.drop_one = False            # negative control: ignore one live change frame (armed by the harness)
        self.armed = False
        self.dropped: tuple[int, str, str] | None = None

    def _record(self, change: dict[str, Any]) -> None:
        seq = change["seq"]
        if seq in self.received:
            self.copies += 1
        self.received[seq] = (change["entity"], change["entity_id"])
        self.entities.add((change["entity"], change["entity_id"]))

    def _advance(self, cursor: int) -> None:
        if cursor < self.cursor:
            self.cursor_regressions += 1
        self.cursor = max(self.cursor, cursor)

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "changes":
            if self.live.is_set():
                self.pages_while_live += 1
            if frame.get("snapshot"):
                # A snapshot is state, not history: it covers no change seq (see checks.py).
                if self.first_cursor is not None:
                    self.snapshots_after_first += 1
                for c in frame["changes"]:
                    self.entities.add((c["entity"], c["entity_id"]))
            else:
                for c in frame["changes"]:
                    self._record(c)
            self._advance(frame["cursor"])
            if not frame["more"]:
                if self.first_cursor is None:
                    self.first_cursor = self.cursor
                self.live.set()
        elif kind == "change":
            change = frame["change"]
            if (self.drop_one and self.armed and self.dropped is None
                    and change["entity"] == "unit_status_event"):
                self.dropped = (change["seq"], change["entity"], change["entity_id"])
            else:
                self._record(change)
            self._advance(frame["cursor"])

    async def run(self) -> None:
        attempt = 0
        while not self.stop.is_set():
            url = self.endpoints.pick().replace("http", "ws", 1) + "/ws"
            try:
                ws = await websockets.connect(url, open_timeout=5, max_size=2**24, compression=None,
                                              close_timeout=1)
            except Exception as exc:
                self.net.errors[_kind(exc)] += 1
                await asyncio.sleep(backoff(attempt, self.rng))
                attempt += 1
                continue
            self.net.connects += 1
            stopper = asyncio.ensure_future(self.stop.wait())
            try:
                await ws.send(json.dumps({"type": "auth", "token": self.account.token, "cursor": self.cursor}))
                while True:
                    recv = asyncio.ensure_future(ws.recv())
                    done, _ = await asyncio.wait({recv, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    if recv not in done:
                        recv.cancel()
                        await asyncio.gather(recv, return_exceptions=True)
                        break
                    self.on_frame(json.loads(recv.result()))
                    attempt = 0
            except ConnectionClosed as exc:
                if exc.rcvd is not None:
                    self.net.closes[exc.rcvd.code] += 1
                else:
                    self.net.errors["ws_dropped"] += 1
            except Exception as exc:
                self.net.errors[_kind(exc)] += 1
            finally:
                stopper.cancel()
                self.live.clear()
                try:
                    await asyncio.wait_for(ws.close(), 1)
                except Exception:
                    pass
            if not self.stop.is_set():
                await asyncio.sleep(backoff(attempt, self.rng))
                attempt += 1
