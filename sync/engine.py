"""Apply pushed mutations; serve scoped delta pulls; compact the change log.

``apply_batch`` runs one transaction per pushed batch. It first upserts the
device row, whose lock serialises pushes of one device, then reads the
outcomes already stored for the batch's seqs: a seq with an outcome (stored
earlier or earlier in this batch) is a replay, answered from the stored
outcome without touching anything. A rejection leaves nothing of its
mutation behind and the rejection is stored like any outcome: a mutation that
can never apply is answered once and for all and never blocks the ones after
it. A batch first runs without savepoints (most rejections happen while a
handler validates, before it writes); if a mutation is rejected after it
wrote, the batch is rolled back and redone with a savepoint per mutation,
opened at its first write, so a rejection rolls back that handler's partial
writes only. At the end the outcomes are inserted together, then the
change-log rows get their gap-free sequence numbers (one counter update per
batch, taken last so the counter's row lock is held only until the commit
just after). Storage failures (not rejections) propagate: the whole batch is
rolled back, nothing of it is stored or acknowledged, and the client simply
sends it again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from typing import Any

import msgspec

from . import handlers as _handlers  # noqa: F401  (registers the mutations)
from .changes import CHANGE_COLUMNS, Change, append_groups, from_row, load_where
from .clock import now_ms
from .hlc import HLC, HlcError, physical_of
from .merge import DeviceOrder, clock_offset, correct_time, estimate_offset
from .mutations import PROTOCOL_VERSION, Invalid, Mutation, decode, decode_args
from .principal import Principal
from .registry import REGISTRY, Ctx, Outcome, Reject, dumps
from .scope import can_see  # noqa: F401  (re-exported for the server)
from .store import Database, IntegrityError, Row, StorageError, TransientError, Tx

log = logging.getLogger("patrol.sync")

HLC_AHEAD_TOLERANCE_MS = 5 * 60_000  # a mutation stamp further ahead is replaced by a server stamp


class MutationResult(msgspec.Struct, kw_only=True):
    seq: int | None
    outcome: str                     # applied | merged | rejected | conflict
    reason_code: str | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None
    name: str | None = None
    replay: bool = False             # True when this is the stored answer to a repeated seq


class PushResult(msgspec.Struct, kw_only=True):
    results: list[MutationResult]
    last_seq: int | None             # highest seq this device has an outcome for
    server_now: int
    changes: list[Change]            # what this batch appended to the change log (for live fan-out)
    hlc: str                         # the server clock after the batch (clients recv() it)


class PullResult(msgspec.Struct, kw_only=True):
    changes: list[Change]
    cursor: int
    more: bool
    last_seq: int | None
    snapshot: bool = False           # True: `changes` is the whole scope; replace the replica


_clock = HLC(os.environ.get("PATROL_NODE_ID") or f"s{uuid.uuid4().hex[:8]}",
             max_drift_ms=HLC_AHEAD_TOLERANCE_MS)


def server_clock() -> HLC:
    return _clock


def reset_clock(node: str | None = None) -> HLC:
    """A fresh server clock (tests; or to set this instance's node id at start-up)."""
    global _clock
    _clock = HLC(node or _clock.node, max_drift_ms=HLC_AHEAD_TOLERANCE_MS)
    return _clock


# =========================================================================== push


async def _last_seq(tx: Tx, client_id: str) -> int | None:
    v = await tx.fetchval("SELECT MAX(seq) FROM applied_mutations WHERE client_id = $1", client_id)
    return int(v) if v is not None else None


def _stored(row: Row) -> MutationResult:
    return MutationResult(seq=int(row["seq"]), outcome=row["outcome"], reason_code=row["reason_code"],
                          reason=row["reason"], name=row["name"],
                          result=msgspec.json.decode(row["result"]) if row["result"] else None,
                          replay=True)


def _invalid_result(inv: Invalid) -> MutationResult:
    return MutationResult(seq=inv.seq, name=inv.name, outcome="rejected", reason_code="invalid",
                          reason=f"The app sent an invalid value for {inv.field}: {inv.message}",
                          result={"field": inv.field})


class _ClaimRace(Exception):
    """Another transaction stored an outcome for one of this batch's seqs first."""


class _NeedsSavepoints(Exception):
    """A mutation was rejected after it wrote, in a batch run without savepoints."""


_SP_SQL = {  # savepoint statements; PostgreSQL takes two in one round trip (simple query protocol)
    "postgresql": {"open_after": ("RELEASE SAVEPOINT mutation; SAVEPOINT mutation",),
                   "undo": ("ROLLBACK TO SAVEPOINT mutation; RELEASE SAVEPOINT mutation",)},
    "sqlite": {"open_after": ("RELEASE SAVEPOINT mutation", "SAVEPOINT mutation"),
               "undo": ("ROLLBACK TO SAVEPOINT mutation", "RELEASE SAVEPOINT mutation")},
}


def _is_read(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


class _Batch:
    """The push's one transaction and the savepoint bookkeeping across its mutations."""

    def __init__(self, tx: Tx, savepoints: bool) -> None:
        self.tx = tx
        self.savepoints = savepoints
        self.sp = _SP_SQL.get(tx.dialect, _SP_SQL["sqlite"])
        self.open = False   # a savepoint of an earlier, successful mutation is still open
        self.locks: dict[str, str] = {}  # incident row locks held (see Ctx._lock_incident)
        self.reads: dict[tuple[Any, ...], Any] = {}  # who works on what (see Ctx.unit_works_on)

    async def _run(self, stmts: tuple[str, ...]) -> None:
        for sql in stmts:
            await self.tx.execute(sql)

    async def savepoint(self) -> None:
        if self.open:
            await self._run(self.sp["open_after"])
        else:
            await self.tx.execute("SAVEPOINT mutation")
        self.open = True

    async def undo(self) -> None:
        await self._run(self.sp["undo"])
        self.open = False
        self.locks.clear()  # row locks taken inside the savepoint are released with it
        self.reads.clear()


class _MutationTx:
    """The batch transaction as one handler sees it.

    The savepoint is opened right before the mutation's first write (any
    statement but a SELECT), so a mutation rejected while validating, the
    usual kind of rejection, costs nothing to undo.
    """

    def __init__(self, batch: _Batch) -> None:
        self._b = batch
        self._tx = batch.tx
        self.dialect = batch.tx.dialect
        self.wrote = False

    async def _write(self, sql: str) -> None:
        if _is_read(sql):
            return
        if "assignments" in sql.lower():
            self._b.reads.clear()  # who works on which incident may change
        if not self.wrote:
            self.wrote = True
            if self._b.savepoints:
                await self._b.savepoint()

    async def execute(self, sql: str, *args: Any) -> int:
        await self._write(sql)
        return await self._tx.execute(sql, *args)

    async def executemany(self, sql: str, rows: Any) -> None:
        await self._write(sql)
        await self._tx.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        await self._write(sql)
        return await self._tx.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        await self._write(sql)
        return await self._tx.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        await self._write(sql)
        return await self._tx.fetchval(sql, *args)


_OUTCOME_COLS = ("client_id, seq, name, protocol, hlc, device_at, received_at, user_id, outcome, reason_code,"
                 " reason, result")


def _outcome_row(client_id: str, seq: int, name: str, protocol: int, hlc: str, device_at: int,
                 server_now: int, user_id: str, res: MutationResult) -> tuple[Any, ...]:
    return (client_id, seq, name, protocol, hlc, device_at, server_now, user_id, res.outcome,
            res.reason_code, res.reason, dumps(res.result) if res.result is not None else None)


def _as_stored(row: tuple[Any, ...]) -> MutationResult:
    """The replay answer for an outcome stored earlier in the same batch."""
    return _stored({"seq": row[1], "name": row[2], "outcome": row[8], "reason_code": row[9],
                    "reason": row[10], "result": row[11]})


async def _run(tx: Tx, principal: Principal, m: Mutation, server_now: int, offset: int | None,
               hlc: str, org_paths: dict[str, str], batch: _Batch, order: DeviceOrder
               ) -> tuple[Outcome, list[dict[str, Any]], int | None]:
    spec = REGISTRY.get(m.name)
    if spec is None:
        raise Reject("unknown_mutation",
                     f"The server does not know the action '{m.name}'; update the app.", {"name": m.name})
    if principal.role not in spec.roles:
        raise Reject("forbidden", f"A {principal.role} cannot do '{m.name}'.", {"role": principal.role})
    args = decode_args(m, spec.args)
    if isinstance(args, Invalid):
        raise Reject("invalid", f"The app sent an invalid value for {args.field}: {args.message}",
                     {"field": args.field})
    ctx = Ctx(tx=tx, principal=principal, m=m, server_now=server_now, offset_ms=offset, hlc=hlc,
              clock=_clock, org_paths=org_paths, locks=batch.locks, reads=batch.reads, order=order)
    outcome = await spec.fn(ctx, args)
    return outcome, await ctx.entries(), ctx.own_event_at


async def _apply_one(batch: _Batch, principal: Principal, m: Mutation, server_now: int,
                     offset: int | None, org_paths: dict[str, str], order: DeviceOrder
                     ) -> tuple[MutationResult, list[dict[str, Any]]]:
    """Run one mutation's handler inside the batch; a rejection leaves nothing of it behind.

    ``order`` learns the event time the mutation got (nothing if it was rejected).
    """
    # The mutation's HLC drives LWW; a stamp from a clock far in the future
    # is replaced by a server stamp so it cannot win every later merge.
    hlc = m.hlc
    hlc_flag = None
    if physical_of(m.hlc) > server_now + HLC_AHEAD_TOLERANCE_MS:
        hlc, hlc_flag = _clock.now(server_now), {"hlc_clamped": m.hlc}
    else:
        try:
            _clock.recv(m.hlc, server_now)
        except HlcError:
            pass
    mtx = _MutationTx(batch)
    entries: list[dict[str, Any]] = []
    own_at: int | None = None
    try:
        outcome, entries, own_at = await _run(mtx, principal, m, server_now, offset, hlc, org_paths, batch, order)
        res = MutationResult(seq=m.seq, name=m.name, outcome=outcome.outcome,
                             reason_code=outcome.reason_code, reason=outcome.reason,
                             result=outcome.result)
    except Reject as r:
        res = MutationResult(seq=m.seq, name=m.name, outcome="rejected", reason_code=r.code,
                             reason=r.reason, result=r.result)
    except IntegrityError as exc:
        log.info("mutation %s/%s refused by a constraint: %s", m.client_id, m.seq, exc)
        res = MutationResult(seq=m.seq, name=m.name, outcome="rejected", reason_code="invalid",
                             reason="The data refers to something that does not exist or breaks a rule.",
                             result={"field": "args"})
    except StorageError:
        raise
    except Exception:  # a bug in a handler must not wedge the device's outbox
        log.exception("mutation %s/%s (%s) failed", m.client_id, m.seq, m.name)
        res = MutationResult(seq=m.seq, name=m.name, outcome="rejected", reason_code="internal",
                             reason="The server could not process this change; it was set aside "
                                    "and reported.")
    if res.outcome == "rejected":
        entries = []
        own_at = None
        if mtx.wrote:
            if not batch.savepoints:
                raise _NeedsSavepoints(m.seq)
            await batch.undo()
    if hlc_flag:
        res.result = {**(res.result or {}), **hlc_flag}
    order.done(m.seq, own_at)
    return res, entries


def _priority(m: Mutation) -> int:
    return 0 if m.name == "alert.raise" else 1


async def _apply_in_tx(db: Database, principal: Principal, server_now: int, sample: int | None, savepoints: bool,
                       invalid: list[tuple[int, Invalid, dict[str, Any]]],
                       todo: list[tuple[int, Mutation, int]],
                       results: list[MutationResult | None]) -> tuple[list[Change], int | None]:
    dev = principal.device_id
    async with db.transaction() as tx:
        # The device row is locked until commit: pushes of one device are serialised, so the
        # outcomes read below are complete and no other push can store one of these seqs, and
        # the clock estimate and event-time floor read here are still current when written back.
        drow = await tx.fetchrow(
            "INSERT INTO devices (id, first_user_id, created_at, last_seen_at, clock_offset_ms, clock_offset_at)"
            " VALUES ($1, (SELECT id FROM users WHERE id = $2), $3, $3, $4, $5)"
            " ON CONFLICT (id) DO UPDATE SET last_seen_at = $3"
            " RETURNING clock_offset_ms, clock_offset_at, last_event_seq, last_event_at",
            dev, principal.user_id, server_now, sample, server_now if sample is not None else None)
        assert drow is not None
        kept = (drow["clock_offset_ms"], drow["clock_offset_at"])
        offset, offset_at = estimate_offset(sample, *kept, server_now)
        floor_kept = (drow["last_event_seq"], drow["last_event_at"])
        seqs = [inv.seq for _, inv, _ in invalid] + [m.seq for _, m, _ in todo]
        stored: dict[int, Row] = {}
        last: int | None = None
        if seqs:
            # The outcomes already stored for the batch's seqs, and the device's highest seq.
            rows = await tx.fetch(
                "SELECT * FROM applied_mutations WHERE client_id = $1 AND (seq BETWEEN $2 AND $3"
                " OR seq = (SELECT MAX(seq) FROM applied_mutations WHERE client_id = $1))",
                dev, min(seqs), max(seqs))
            stored = {int(r["seq"]): r for r in rows}
            last = max(stored, default=None)
        new: dict[int, tuple[Any, ...]] = {}   # outcomes stored by this batch, by seq

        def replay(seq: int) -> MutationResult | None:
            if seq in stored:
                return _stored(stored[seq])
            if seq in new:
                return _as_stored(new[seq])
            return None

        for i, inv, raw in invalid:
            assert inv.seq is not None
            results[i] = replay(inv.seq)
            if results[i] is None:
                res = _invalid_result(inv)
                name = raw.get("name") if isinstance(raw.get("name"), str) else "?"
                v = raw.get("v") if isinstance(raw.get("v"), int) else 0
                new[inv.seq] = _outcome_row(dev, inv.seq, name[:64], v, "", 0, server_now, principal.user_id, res)
                results[i] = res
        batch = _Batch(tx, savepoints)
        # The mutations this batch will run, by their times before any floor: an alert, run
        # ahead of lower seqs, is still kept after them.
        to_run = {m.seq: m.device_at for _, m, _ in todo if m.seq not in stored}
        order = DeviceOrder(*floor_kept, batch=[(seq, correct_time(at, offset, server_now)[0])
                                                for seq, at in to_run.items()])
        org_paths: dict[str, str] = {}
        groups: list[tuple[list[dict[str, Any]], str, int]] = []
        for i, m, protocol in todo:
            results[i] = replay(m.seq)
            if results[i] is not None:
                continue
            res, entries = await _apply_one(batch, principal, m, server_now, offset, org_paths, order)
            new[m.seq] = _outcome_row(dev, m.seq, m.name, protocol, m.hlc, m.device_at, server_now,
                                      principal.user_id, res)
            results[i] = res
            if entries:
                groups.append((entries, m.client_id, m.seq))
            await asyncio.sleep(0)  # let other tasks run between the mutations of a long push
        if new:
            # A plain INSERT: a seq stored meanwhile by another transaction is a unique
            # violation, which rolls everything back (the batch is then redone).
            try:
                await tx.executemany(f"INSERT INTO applied_mutations ({_OUTCOME_COLS}) VALUES"
                                     " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", list(new.values()))
            except IntegrityError as exc:
                raise _ClaimRace(str(exc)) from exc
        floor_new = order.last()
        if (offset, offset_at) != kept or floor_new != floor_kept:
            await tx.execute("UPDATE devices SET clock_offset_ms = $2, clock_offset_at = $3, last_event_seq = $4,"
                             " last_event_at = $5 WHERE id = $1", dev, offset, offset_at, *floor_new)
        if not seqs:
            last = await _last_seq(tx, dev)
        elif new:
            last = max(max(new), last if last is not None else -1)
        # Sequence numbers are taken last, so the change_seq row lock is held only
        # for the few statements before the commit.
        changes = await append_groups(tx, groups, server_now)
    return changes, last


async def apply_batch(db: Database, principal: Principal, mutations: list[dict[str, Any] | Mutation],
                      device_now: int | None, server_now: int | None = None) -> PushResult:
    """Apply a device's pushed mutations; one outcome per mutation, in input order.

    Emergency alerts are applied first; everything else in seq order.
    ``device_now`` is the device's clock when it sent the push: one sample of
    the device's clock offset (true offset plus the push's delay); the lowest
    recent sample is kept in ``devices`` and used (``merge.estimate_offset``).
    A device's mutations never get event times earlier than its lower seqs got
    (``merge.DeviceOrder``; the floor is kept in ``devices`` too).
    """
    server_now = now_ms() if server_now is None else server_now
    sample = clock_offset(server_now, device_now)
    results: list[MutationResult | None] = [None] * len(mutations)
    invalid: list[tuple[int, Invalid, dict[str, Any]]] = []
    todo: list[tuple[int, Mutation, int]] = []
    for i, raw in enumerate(mutations):
        decoded = decode(raw)
        if isinstance(decoded, Invalid):
            keyed = (decoded.client_id == principal.device_id and decoded.seq is not None
                     and decoded.seq >= 0 and isinstance(raw, dict))
            if keyed:
                invalid.append((i, decoded, raw))  # type: ignore[arg-type]
            else:
                results[i] = _invalid_result(decoded)
            continue
        if decoded.client_id != principal.device_id:
            results[i] = MutationResult(seq=decoded.seq, name=decoded.name, outcome="rejected",
                                        reason_code="forbidden",
                                        reason="This change was made on another device; it was not applied.",
                                        result={"field": "client_id"})
            continue
        protocol = raw.get("v", 0) if isinstance(raw, dict) else decoded.v
        todo.append((i, decoded, protocol if isinstance(protocol, int) else PROTOCOL_VERSION))
    todo.sort(key=lambda t: (_priority(t[1]), t[1].seq, t[0]))
    # First without savepoints: almost every rejection happens while a handler
    # validates, before it writes, and needs nothing undone. A rejection after a
    # write rolls the batch back and it is redone with a savepoint per mutation.
    savepoints = False
    for attempt in range(4):
        out = list(results)
        try:
            changes, last = await _apply_in_tx(db, principal, server_now, sample, savepoints, invalid, todo, out)
            break
        except _NeedsSavepoints:
            if savepoints:
                raise
            savepoints = True
        except _ClaimRace as exc:
            if attempt == 3:
                raise TransientError(f"could not store the outcomes of a push: {exc}") from exc
            log.info("push of %s raced another push of the same device; redoing it", principal.device_id)
        except TransientError as exc:
            # A batch holds its row locks longer than one mutation did, so two pushes can
            # deadlock; the database rolled one back entirely: run it again.
            if attempt == 3:
                raise
            log.info("push of %s rolled back by the database (%s); redoing it", principal.device_id, exc)
            await asyncio.sleep(0.005 * (attempt + 1))
    changes.sort(key=lambda c: c.seq)
    return PushResult(results=[r for r in out if r is not None], last_seq=last,
                      server_now=server_now, changes=changes, hlc=_clock.peek())


# =========================================================================== pull


async def _counter(tx: Tx, name: str) -> int:
    v = await tx.fetchval("SELECT value FROM counters WHERE name = $1", name)
    return int(v or 0)


# A desk snapshot carries what a dispatcher works with, not all history: open
# incidents and those closed or created in the last day (older ones are read over
# REST when needed). Live changes and pulls still deliver every later change.
SNAPSHOT_RECENT_MS = 24 * 3_600_000


async def snapshot(tx: Tx, principal: Principal, now: int | None = None) -> list[dict[str, Any]]:
    """The state entities the principal works with, as (entity, data) dicts."""
    out: list[dict[str, Any]] = []
    since = (now if now is not None else now_ms()) - SNAPSHOT_RECENT_MS

    def add(entity: str, rows: list[dict[str, Any]]) -> None:
        out.extend({"entity": entity, "data": r} for r in rows)

    if principal.role == "officer":
        u = principal.unit_id
        if not u:
            return out
        # An officer's scope is small (the unit's own work): no window needed.
        vis = ("SELECT incident_id FROM assignments WHERE unit_id = $1 AND state IN "
               "('pending', 'acknowledged', 'en_route', 'on_scene', 'cleared')")
        add("unit", await load_where(tx, "unit", "id = $1", u))
        add("incident", await load_where(tx, "incident", f"id IN ({vis})", u))
        add("assignment", await load_where(tx, "assignment", f"unit_id = $1 OR incident_id IN ({vis})", u))
        add("note", await load_where(tx, "note", f"incident_id IN ({vis})", u))
        add("field_report", await load_where(tx, "field_report", f"incident_id IN ({vis})", u))
        add("alert", await load_where(tx, "alert", "unit_id = $1", u))
        return out
    p, n = principal.scope_path, len(principal.scope_path)
    orgs = "SELECT id FROM org_units WHERE substr(path, 1, $2) = $1"
    recent = "(state NOT IN ('closed', 'cancelled') OR closed_at >= $3 OR created_at >= $3)"
    incs = f"SELECT id FROM incidents WHERE org_unit_id IN ({orgs}) AND {recent}"
    add("unit", await load_where(tx, "unit", f"org_unit_id IN ({orgs})", p, n))
    add("incident", await load_where(tx, "incident", f"org_unit_id IN ({orgs}) AND {recent}", p, n, since))
    add("assignment", await load_where(tx, "assignment", f"incident_id IN ({incs})", p, n, since))
    add("note", await load_where(tx, "note", f"incident_id IN ({incs})", p, n, since))
    add("field_report", await load_where(tx, "field_report", f"incident_id IN ({incs})", p, n, since))
    add("alert", await load_where(tx, "alert", f"org_unit_id IN ({orgs}) AND (state = 'raised' OR raised_at >= $3)",
                                  p, n, since))
    add("conflict", await load_where(tx, "conflict", f"org_unit_id IN ({orgs}) AND (state = 'open' OR created_at >= $3)",
                                     p, n, since))
    return out


async def pull(db: Database, principal: Principal, cursor: int, limit: int = 500) -> PullResult:
    """Changes the principal may see after ``cursor`` (at most ``limit``).

    A cursor of 0 (a new device), one older than the compacted part of the
    log, or one from the future (a restored database) gets a full snapshot of
    the scope instead, with the cursor to continue from.
    """
    limit = max(1, min(int(limit), 5000))
    async with db.read() as tx:
        head = await _counter(tx, "change_seq")
        low = await _counter(tx, "change_low_water")
        last = await _last_seq(tx, principal.device_id)
        if cursor <= 0 or cursor < low or cursor > head:
            items = await snapshot(tx, principal)
            changes = [Change(seq=head, at=now_ms(), entity=it["entity"], entity_id=it["data"]["id"],
                              op="upsert", scope_path="", unit_id=None, audience=[], data=it["data"])
                       for it in items]
            return PullResult(changes=changes, cursor=head, more=False, last_seq=last, snapshot=True)
        if principal.role == "officer":
            if not principal.unit_id:
                return PullResult(changes=[], cursor=head, more=False, last_seq=last)
            cols = ", ".join(f"c.{c.strip()}" for c in CHANGE_COLUMNS.split(","))
            rows = await tx.fetch(
                f"SELECT {cols} FROM change_audience a JOIN change_log c ON c.seq = a.seq"
                " WHERE a.unit_id = $1 AND a.seq > $2 ORDER BY a.seq LIMIT $3",
                principal.unit_id, cursor, limit + 1)
        else:
            rows = await tx.fetch(
                f"SELECT {CHANGE_COLUMNS} FROM change_log WHERE seq > $1 AND substr(scope_path, 1, $3) = $2"
                " ORDER BY seq LIMIT $4", cursor, principal.scope_path, len(principal.scope_path), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    changes = [from_row(r) for r in rows]
    new_cursor = changes[-1].seq if more else max(head, changes[-1].seq if changes else cursor)
    return PullResult(changes=changes, cursor=new_cursor, more=more, last_seq=last)


# =========================================================================== retention


async def compact(db: Database, *, upto_seq: int | None = None, before_ms: int | None = None) -> int:
    """Delete change-log rows up to a seq (or older than a time); record the low-water mark.

    Clients whose cursor is below the mark get a snapshot on their next pull.
    Returns the new low-water mark.
    """
    async with db.transaction() as tx:
        if upto_seq is None:
            if before_ms is None:
                raise ValueError("compact needs upto_seq or before_ms")
            upto_seq = int(await tx.fetchval("SELECT COALESCE(MAX(seq), 0) FROM change_log WHERE at < $1",
                                             before_ms) or 0)
        low = await _counter(tx, "change_low_water")
        if upto_seq <= low:
            return low
        await tx.execute("DELETE FROM change_audience WHERE seq <= $1", upto_seq)
        await tx.execute("DELETE FROM change_log WHERE seq <= $1", upto_seq)
        await tx.execute("UPDATE counters SET value = $1 WHERE name = 'change_low_water'", upto_seq)
        return upto_seq
