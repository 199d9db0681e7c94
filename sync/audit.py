"""The audit row: its one definition, its hash chain, and how it is appended.

Who created, changed or consulted personal data, when, from which device
(EU Directive 2016/680 art. 25). Both layers write audit rows inside their
own transactions: the server for reads (caller details, report persons,
conflict values), sign-ins and administration; the sync handlers for writes
of personal data arriving as mutations. So the row, its canonical encoding
and the append live here, in ``sync/`` (which must not import ``server/``);
``server/audit.py`` re-exports :func:`record` and adds verification, export
and retention.

Tamper evidence: every row carries ``seq`` (gap-free, one chain per
database), ``prev_hash`` and ``hash = SHA-256(prev_hash, canonical(row))``.
The chain's state is the one row of ``audit_chain`` (migration 0005):
``seq``/``head_hash`` of the last row, and ``anchor_seq``/``anchor_hash``,
where the chain starts after retention pruned older rows. Appending updates
that row first, so its row lock serialises audit writers on PostgreSQL until
they commit (like ``counters.change_seq`` for the change log); SQLite has a
single writer anyway. A rolled-back transaction rolls back its rows and the
chain update together, so the chain has no gaps.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from .clock import now_ms
from .principal import Principal
from .store import Tx

# Fields that hold personal data, per entity: reading them is audited, and they
# never travel in list, detail, pull or conflict payloads (see sync/changes.py).
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "incident": ("caller_name", "caller_phone"),
    "field_report": ("persons",),
    "user": ("full_name", "badge_no"),
}
# The personal fields that sync mutations write (users are written by admins over REST).
SYNC_PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {k: PERSONAL_FIELDS[k] for k in ("incident", "field_report")}

GENESIS_HASH = "0" * 64
HASH_VERSION = b"patrol-audit-v1"
# The columns the hash covers, in this order (``prev_hash`` is hashed in front of them).
CHAIN_FIELDS = ("seq", "at", "actor_id", "device_id", "action", "entity", "entity_id", "fields", "ip",
                "detail")
COLUMNS = "id, " + ", ".join(CHAIN_FIELDS) + ", prev_hash, hash"


def is_personal(entity: str | None, field: str | None) -> bool:
    return bool(entity) and field in PERSONAL_FIELDS.get(entity or "", ())


class AuditRow(msgspec.Struct, frozen=True, kw_only=True):
    """One audit entry as written (``seq`` and the hashes are given when appended)."""

    at: int
    action: str                   # view | create | change | login | revoke | prune | …
    entity: str
    entity_id: str | None = None
    actor_id: str | None = None
    device_id: str | None = None
    fields: str | None = None     # comma-separated field names, never values
    ip: str | None = None
    detail: str | None = None     # compact JSON (sorted keys), never personal values


def make_row(*, action: str, entity: str, entity_id: str | None = None,
             principal: Principal | None = None, actor_id: str | None = None,
             device_id: str | None = None, fields: Iterable[str] = (), ip: str | None = None,
             detail: Mapping[str, Any] | None = None, at: int | None = None) -> AuditRow:
    return AuditRow(
        at=now_ms() if at is None else int(at), action=action, entity=entity, entity_id=entity_id,
        actor_id=principal.user_id if principal else actor_id,
        device_id=principal.device_id if principal else device_id,
        fields=",".join(fields) or None, ip=ip,
        detail=json.dumps(detail, separators=(",", ":"), sort_keys=True, ensure_ascii=False) if detail else None)


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash covers: its chain fields, positionally, as compact JSON."""
    values = []
    for f in CHAIN_FIELDS:
        v = row.get(f)
        values.append(int(v) if f in ("seq", "at") and v is not None else v)
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    return hashlib.sha256(HASH_VERSION + b"\n" + prev_hash.encode("ascii") + b"\n" + canonical(row)).hexdigest()


_INSERT = (f"INSERT INTO audit_log ({', '.join(CHAIN_FIELDS)}, prev_hash, hash)"
           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")


async def seal_legacy(tx: Tx, upto: int) -> str:
    """Chain the rows written before migration 0005 (numbered by it, not yet hashed)."""
    prev = GENESIS_HASH
    rows = await tx.fetch(f"SELECT {COLUMNS} FROM audit_log WHERE seq <= $1 ORDER BY seq", upto)
    for r in rows:
        h = row_hash(prev, r)
        await tx.execute("UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE id = $1", r["id"], prev, h)
        prev = h
    return prev


async def append(tx: Tx, rows: Sequence[AuditRow]) -> list[int]:
    """Append rows to the chain inside the caller's transaction; returns their seqs.

    The first statement updates the ``audit_chain`` row: on PostgreSQL its lock
    is held until the caller commits, so concurrent writers chain one after the
    other, each on the head the previous one committed.
    """
    if not rows:
        return []
    n = len(rows)
    chain = await tx.fetchrow(
        "UPDATE audit_chain SET seq = seq + $1 WHERE id = 1 RETURNING seq, head_hash", n)
    if chain is None:
        raise RuntimeError("audit_chain is missing: run the migrations (0005_audit_chain)")
    last = int(chain["seq"])
    first = last - n + 1
    prev = chain["head_hash"]
    if prev is None:  # rows from before the chain existed: sealed by the first append
        prev = await seal_legacy(tx, first - 1)
    out: list[tuple[Any, ...]] = []
    for i, r in enumerate(rows):
        values = {f: getattr(r, f) for f in CHAIN_FIELDS if f != "seq"}
        values["seq"] = first + i
        h = row_hash(prev, values)
        out.append((*(values[f] for f in CHAIN_FIELDS), prev, h))
        prev = h
    await tx.executemany(_INSERT, out)
    await tx.execute("UPDATE audit_chain SET head_hash = $1 WHERE id = 1", prev)
    return list(range(first, last + 1))


async def record(tx: Tx, *, action: str, entity: str, entity_id: str | None,
                 principal: Principal | None = None, actor_id: str | None = None,
                 device_id: str | None = None, fields: Iterable[str] = (), ip: str | None = None,
                 detail: dict[str, Any] | None = None, at: int | None = None) -> int:
    """Write one audit row in the caller's transaction; returns its seq."""
    row = make_row(action=action, entity=entity, entity_id=entity_id, principal=principal,
                   actor_id=actor_id, device_id=device_id, fields=fields, ip=ip, detail=detail, at=at)
    return (await append(tx, [row]))[0]
