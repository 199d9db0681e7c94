"""The audit trail: who created, changed or viewed personal data, when, from which device.

Police data-protection law (EU Directive 2016/680 art. 25) requires logging of
collection, alteration, consultation and disclosure, so reads of caller
details, report persons and personal conflict values are recorded too, and
sync mutations that write them record a create/change row in their own
transaction. The row, its hash chain and the append are defined once, in
:mod:`sync.audit` (the sync layer writes rows too and cannot import
``server/``); this module adds what only the server does: verifying the
chain, exporting it and pruning it under the retention setting
(``PATROL_AUDIT_RETENTION_DAYS``) without breaking verification.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from server.clock import DAY_MS, now_ms
from sync.audit import (
    CHAIN_FIELDS,
    COLUMNS,
    GENESIS_HASH,
    PERSONAL_FIELDS,
    AuditRow,
    append,
    is_personal,
    make_row,
    record,
    row_hash,
    seal_legacy,
)
from sync.principal import Principal
from sync.store import Database, Tx

__all__ = ["PERSONAL_FIELDS", "is_personal", "AuditRow", "record", "record_views", "append", "Verdict", "verify",
           "verify_rows", "export", "prune", "seal", "EXPORT_FORMAT", "AuditChainBroken"]

EXPORT_FORMAT = "patrol.audit-export"
PRUNE_ACTION = "prune"
_PAGE = 2_000


async def record_views(tx: Tx, principal: Principal, entity: str, entity_ids: Iterable[str],
                       ip: str | None = None, *, fields: Iterable[str] | None = None,
                       detail: dict[str, Any] | None = None) -> None:
    """Record that `principal` consulted the personal fields of these entities (one row each)."""
    names = tuple(fields) if fields is not None else PERSONAL_FIELDS.get(entity, ())
    now = now_ms()
    await append(tx, [make_row(action="view", entity=entity, entity_id=entity_id, principal=principal,
                               fields=names, ip=ip, detail=detail, at=now) for entity_id in entity_ids])


# =========================================================================== verification


class AuditChainBroken(Exception):
    """The chain does not verify where an operation needs it to (pruning refuses to cut it)."""


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int                     # rows checked
    first_seq: int | None = None
    last_seq: int | None = None
    head: str | None = None       # hash of the last row
    broken_id: int | None = None  # the first row that does not verify
    broken_seq: int | None = None
    reason: str | None = None

    def line(self) -> str:
        if self.ok:
            span = f" (seq {self.first_seq}..{self.last_seq})" if self.rows else ""
            return f"audit chain OK: {self.rows} rows{span}, head {self.head}"
        where = f"row id {self.broken_id} (seq {self.broken_seq})" if self.broken_id is not None else "the chain"
        return f"audit chain BROKEN at {where}: {self.reason}"


def _broken(row: dict[str, Any] | None, reason: str, checked: int) -> Verdict:
    return Verdict(ok=False, rows=checked, broken_id=int(row["id"]) if row and row.get("id") is not None else None,
                   broken_seq=int(row["seq"]) if row and row.get("seq") is not None else None, reason=reason)


class _Walk:
    """Checks rows one after the other, from an anchor (the seq and hash before the first)."""

    def __init__(self, anchor_seq: int, anchor_hash: str) -> None:
        self.expected = anchor_seq + 1
        self.prev = anchor_hash
        self.checked = 0
        self.first: int | None = None
        self.last_prune: dict[str, Any] | None = None

    def step(self, r: dict[str, Any]) -> Verdict | None:
        seq = int(r["seq"])
        if seq != self.expected:
            if seq > self.expected:
                missing = f"seq {self.expected}" if seq == self.expected + 1 else f"seq {self.expected}..{seq - 1}"
                return _broken(r, f"the row(s) before it are missing ({missing}): deleted", self.checked)
            return _broken(r, f"seq out of order (expected {self.expected})", self.checked)
        if r.get("prev_hash") != self.prev:
            return _broken(r, f"prev_hash does not match the hash of seq {seq - 1}: that row was altered"
                              " or replaced", self.checked)
        if r.get("hash") != row_hash(self.prev, r):
            return _broken(r, "its content does not match its hash: the row was altered after it was written",
                           self.checked)
        if r.get("action") == PRUNE_ACTION and r.get("entity") == "audit_log":
            self.last_prune = r
        self.first = seq if self.first is None else self.first
        self.prev = r["hash"]
        self.expected = seq + 1
        self.checked += 1
        return None

    def done(self, head_seq: int, head_hash: str | None, anchor_seq: int, anchor_hash: str) -> Verdict:
        last = self.expected - 1
        if last != head_seq:
            return Verdict(ok=False, rows=self.checked, reason=f"the chain ends at seq {last} but its head is"
                           f" seq {head_seq}: the last {head_seq - last} row(s) were deleted")
        if head_hash is not None and self.prev != head_hash:
            return Verdict(ok=False, rows=self.checked, reason="the last row's hash is not the chain's head hash")
        if anchor_seq > 0:
            cp = self.last_prune
            detail = json.loads(cp["detail"]) if cp and cp.get("detail") else {}
            if detail.get("through_seq") != anchor_seq or detail.get("anchor_hash") != anchor_hash:
                return Verdict(ok=False, rows=self.checked,
                               reason=f"the chain starts after seq {anchor_seq}, which no pruning checkpoint"
                                      " in the chain records: rows were deleted from its start")
        return Verdict(ok=True, rows=self.checked, first_seq=self.first, last_seq=last if self.checked else None,
                       head=self.prev)


async def _chain(tx: Tx) -> dict[str, Any]:
    chain = await tx.fetchrow("SELECT seq, head_hash, anchor_seq, anchor_hash FROM audit_chain WHERE id = 1")
    if chain is None:
        raise RuntimeError("audit_chain is missing: run the migrations (0005_audit_chain)")
    return chain


async def verify(db: Database) -> Verdict:
    """Walk the whole chain (in one read snapshot) and say whether it is intact."""
    async with db.read() as tx:
        chain = await _chain(tx)
        anchor_seq, anchor_hash = int(chain["anchor_seq"]), str(chain["anchor_hash"])
        outside = await tx.fetchrow("SELECT id, seq FROM audit_log WHERE seq IS NULL OR seq <= $1"
                                    " ORDER BY id LIMIT 1", anchor_seq)
        if outside is not None:
            why = ("it has no place in the chain (written around it)" if outside["seq"] is None
                   else f"it is at or before the chain's start (seq {anchor_seq}, pruned)")
            return _broken(outside, why, 0)
        if chain["head_hash"] is None:
            # Rows from before migration 0005 that no audit write has sealed yet.
            return Verdict(ok=False, rows=0, reason="older rows are not sealed yet (run `patrol audit verify`,"
                                                    " which seals them, or write any audit row)")
        walk = _Walk(anchor_seq, anchor_hash)
        after = anchor_seq
        while True:
            rows = await tx.fetch(f"SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                                  after, _PAGE)
            for r in rows:
                bad = walk.step(r)
                if bad is not None:
                    return bad
            if len(rows) < _PAGE:
                break
            after = int(rows[-1]["seq"])
        return walk.done(int(chain["seq"]), chain["head_hash"], anchor_seq, anchor_hash)


def verify_rows(lines: Iterable[str]) -> Verdict:
    """Verify an export (:func:`export`): its header names the anchor and the head it ends at."""
    it: Iterator[str] = iter(lines)
    try:
        header = json.loads(next(it))
    except (StopIteration, ValueError):
        return Verdict(ok=False, rows=0, reason="not an audit export (no header line)")
    if header.get("format") != EXPORT_FORMAT:
        return Verdict(ok=False, rows=0, reason="not an audit export (unknown format)")
    walk = _Walk(int(header["from_seq"]), str(header["from_hash"]))
    for n, line in enumerate(it, start=2):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError:
            return Verdict(ok=False, rows=walk.checked, reason=f"line {n} is not JSON")
        bad = walk.step(r)
        if bad is not None:
            return bad
    # The export's own end: its head is what the chain head was when it was written.
    return walk.done(int(header["to_seq"]), header.get("to_hash"), 0, "")


async def seal(db: Database) -> int:
    """Chain rows from before migration 0005 if no audit write has yet; returns how many."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE audit_chain SET seq = seq WHERE id = 1")  # the chain lock
        chain = await tx.fetchrow("SELECT seq, head_hash FROM audit_chain WHERE id = 1")
        if chain is None or chain["head_hash"] is not None:
            return 0
        head = await seal_legacy(tx, int(chain["seq"]))
        await tx.execute("UPDATE audit_chain SET head_hash = $1 WHERE id = 1", head)
        return int(chain["seq"])


# =========================================================================== export


async def export(db: Database, since_ms: int | None = None) -> AsyncIterator[str]:
    """JSON lines: a header (the hash the first exported row chains to, and the head),
    then every row from ``since_ms`` on with its seq and hashes: checkable with
    :func:`verify_rows` without the database (`patrol audit verify --file`)."""
    async with db.read() as tx:
        chain = await _chain(tx)
        start = int(chain["anchor_seq"])
        if since_ms is not None:
            first = await tx.fetchval("SELECT MIN(seq) FROM audit_log WHERE at >= $1 AND seq > $2",
                                      since_ms, start)
            start = int(first) - 1 if first is not None else int(chain["seq"])
        if start > int(chain["anchor_seq"]):
            from_hash = await tx.fetchval("SELECT hash FROM audit_log WHERE seq = $1", start)
        else:
            from_hash = chain["anchor_hash"]
        yield json.dumps({"format": EXPORT_FORMAT, "version": 1, "exported_at": now_ms(),
                          "from_seq": start, "from_hash": from_hash, "to_seq": int(chain["seq"]),
                          "to_hash": chain["head_hash"], "fields": list(CHAIN_FIELDS)},
                         separators=(",", ":"))
        after = start
        while True:
            rows = await tx.fetch(f"SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                                  after, _PAGE)
            for r in rows:
                yield json.dumps(r, separators=(",", ":"), ensure_ascii=False)
            if len(rows) < _PAGE:
                break
            after = int(rows[-1]["seq"])


# =========================================================================== retention


async def prune(db: Database, older_than_days: float, now: int | None = None, *,
                batch_size: int = 5_000) -> int:
    """Delete audit rows older than ``older_than_days``, keeping the rest verifiable.

    In batches, one transaction each: take the chain lock, move the anchor to
    the last row deleted (its hash is where verification now starts), delete,
    and append a ``prune`` checkpoint row naming that anchor, so the chain
    itself records where it was cut. Returns the number of rows deleted.
    """
    if older_than_days <= 0:
        raise ValueError("older_than_days must be positive")
    cutoff = (now_ms() if now is None else now) - int(older_than_days * DAY_MS)
    total = 0
    while True:
        async with db.transaction() as tx:
            # The lock first (as every append does), then read the chain under it.
            await tx.execute("UPDATE audit_chain SET seq = seq WHERE id = 1")
            chain = await _chain(tx)
            if chain["head_hash"] is None:
                await tx.execute("UPDATE audit_chain SET head_hash = $1 WHERE id = 1",
                                 await seal_legacy(tx, int(chain["seq"])))
            # A prefix of the chain, so what remains is still one chain: the oldest rows up to the
            # first that is not old enough, at most a batch of them.
            anchor, head = int(chain["anchor_seq"]), int(chain["seq"])
            young = await tx.fetchval("SELECT MIN(seq) FROM audit_log WHERE seq > $1 AND at >= $2",
                                      anchor, cutoff)
            through = min(head if young is None else int(young) - 1, anchor + batch_size)
            if through <= anchor:
                return total
            # What is deleted must verify first: pruning never hides tampering.
            walk = _Walk(anchor, str(chain["anchor_hash"]))
            for r in await tx.fetch(f"SELECT {COLUMNS} FROM audit_log WHERE seq > $1 AND seq <= $2"
                                    " ORDER BY seq", anchor, through):
                bad = walk.step(r)
                if bad is not None:
                    raise AuditChainBroken(bad.line())
            if walk.expected != through + 1:
                raise AuditChainBroken(f"audit chain BROKEN: rows up to seq {through} are missing")
            anchor_hash = walk.prev
            n = await tx.execute("DELETE FROM audit_log WHERE seq <= $1", through)
            await tx.execute("UPDATE audit_chain SET anchor_seq = $1, anchor_hash = $2 WHERE id = 1",
                             through, anchor_hash)
            await append(tx, [make_row(action=PRUNE_ACTION, entity="audit_log", entity_id=None,
                                       detail={"through_seq": through, "anchor_hash": anchor_hash,
                                               "deleted": n, "older_than_days": older_than_days,
                                               "cutoff": cutoff})])
        total += n
        if through - anchor < batch_size:
            return total
