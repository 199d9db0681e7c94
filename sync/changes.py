"""Change-log entries and the JSON snapshots of entities they carry.

Entity snapshots are built from explicit column lists (never ``SELECT *``),
so nothing like a password hash or session token can leak into the log;
JSON columns are parsed so clients receive objects, not strings.

Personal data (``sync.audit.PERSONAL_FIELDS``) never travels in a change,
a pull or a snapshot, because none of them is audited: incidents carry no
caller name or phone, field reports no ``persons`` (only ``has_persons``,
0/1), and a conflict over a personal field carries no values, only
``personal: 1`` and ``values_ref``, the audited endpoint that shows them
(``GET /api/conflicts/{id}/values``). :func:`redact` is applied where rows
are read from the entity tables and again where change-log rows are read
back, so rows logged before this rule are cleaned on the way out too.

Visibility (see docs/sync-protocol.md, "Who sees what"):

* ``scope_path`` is the org-unit path the change belongs to. Dispatchers,
  commanders and admins see every change whose ``scope_path`` starts with
  their own scope path. Audience-only rows (catch-up copies and evictions
  for one unit) have an empty ``scope_path``, which no desk scope matches.
* ``audience`` lists the patrol units whose officers see the change; it is
  stored as JSON on the row and, for cheap pulls, once per unit in the
  ``change_audience`` index table (unit_id, seq).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from .audit import PERSONAL_FIELDS
from .store import Row, Tx


class Change(msgspec.Struct, kw_only=True):
    seq: int
    at: int
    entity: str
    entity_id: str
    op: str                      # 'upsert' | 'delete' (delete = remove from your replica)
    scope_path: str
    unit_id: str | None
    audience: list[str]
    data: dict[str, Any]
    origin_client_id: str | None = None
    origin_seq: int | None = None


_JSON_COLS = frozenset({"field_meta", "flags", "server_value", "client_value", "resolved_value"})

# A conflict row is about a personal field (SQL over the conflicts table).
_PERSONAL_COND = " OR ".join(f"(entity = '{e}' AND field IN ({', '.join(repr(f) for f in fields)}))"
                             for e, fields in PERSONAL_FIELDS.items())
_PERSONAL_SQL = f"CASE WHEN {_PERSONAL_COND} THEN 1 ELSE 0 END"
CONFLICT_VALUES = ("server_value", "client_value", "resolved_value")


def _unless_personal(col: str) -> str:
    return f"CASE WHEN {_PERSONAL_COND} THEN NULL ELSE {col} END AS {col}"


def values_ref(conflict_id: str) -> str:
    """Where the values of a personal-field conflict are read (audited)."""
    return f"/api/conflicts/{conflict_id}/values"


ENTITY_COLUMNS: dict[str, tuple[str, str]] = {
    "unit": ("units", "id, call_sign, kind, org_unit_id, active, status, status_at, status_hlc, "
             "current_assignment_id, last_lat, last_lon, last_accuracy_m, last_position_at, "
             "version, updated_at"),
    "incident": ("incidents", "id, number, org_unit_id, source, call_received_at, type, priority, "
                 "lat, lon, address, description, hazards, state, "
                 "outcome, closed_at, created_by, created_at, updated_at, version, field_meta"),
    "assignment": ("assignments", "id, incident_id, unit_id, state, is_primary, assigned_by, "
                   "assigned_at, acknowledged_at, declined_at, decline_reason, en_route_at, "
                   "on_scene_at, action_at, cleared_at, ended_at, replaced_by_unit_id, end_reason, flags, "
                   "version, created_at, updated_at"),
    "note": ("notes", "id, incident_id, author_id, unit_id, device_id, body, device_at, event_at, "
             "server_at, hlc, late, flags"),
    "field_report": ("field_reports", "id, incident_id, unit_id, author_id, summary, actions_taken, "
                     "CASE WHEN persons IS NULL THEN 0 ELSE 1 END AS has_persons, "
                     "vehicles, evidence, field_meta, version, created_at, updated_at"),
    "alert": ("emergency_alerts", "id, unit_id, user_id, device_id, org_unit_id, lat, lon, "
              "raised_at, device_at, server_at, hlc, state, acknowledged_by, acknowledged_at, "
              "acknowledged_by_name, resolved_at, ended_by, ended_by_name, end_reason, note"),
    "conflict": ("conflicts", "id, org_unit_id, entity, entity_id, field, base_version, "
                 f"{_unless_personal('server_value')}, server_by, server_at, server_hlc, "
                 f"{_unless_personal('client_value')}, client_by, client_at, client_hlc, client_id, "
                 f"client_seq, state, resolution, {_unless_personal('resolved_value')}, "
                 f"resolved_by, resolved_at, created_at, {_PERSONAL_SQL} AS personal"),
    "unit_status_event": ("unit_status_events", "id, unit_id, status, assignment_id, user_id, "
                          "device_id, device_at, event_at, server_at, hlc, lat, lon, flags"),
}

# Entities that make up "state" (a snapshot); status events are history.
STATE_ENTITIES = ("unit", "incident", "assignment", "note", "field_report", "alert", "conflict")


def to_data(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if k in _JSON_COLS and isinstance(v, str):
            v = json.loads(v)
        out[k] = v
    return out


def redact(entity: str, data: dict[str, Any]) -> dict[str, Any]:
    """Take personal data out of an entity snapshot (in place; idempotent).

    Snapshots read with ``ENTITY_COLUMNS`` never held it; this is for any other
    source, change-log rows written before the rule above all.
    """
    for f in PERSONAL_FIELDS.get(entity, ()):
        if f in data:
            value = data.pop(f)
            if entity == "field_report" and f == "persons":
                data["has_persons"] = 0 if value is None else 1
    if entity == "conflict" and "field" in data:
        personal = 1 if data.get("personal") or data.get("field") in PERSONAL_FIELDS.get(
            str(data.get("entity")), ()) else 0
        data["personal"] = personal
        if personal:
            for col in CONFLICT_VALUES:
                if col in data:
                    data[col] = None
            if data.get("id"):
                data["values_ref"] = values_ref(str(data["id"]))
    return data


async def load(tx: Tx, entity: str, entity_id: str) -> dict[str, Any] | None:
    table, cols = ENTITY_COLUMNS[entity]
    row = await tx.fetchrow(f"SELECT {cols} FROM {table} WHERE id = $1", entity_id)
    return redact(entity, to_data(row)) if row is not None else None


async def load_where(tx: Tx, entity: str, where: str, *args: Any) -> list[dict[str, Any]]:
    table, cols = ENTITY_COLUMNS[entity]
    rows = await tx.fetch(f"SELECT {cols} FROM {table} WHERE {where} ORDER BY id", *args)
    return [redact(entity, to_data(r)) for r in rows]


def from_row(row: Row) -> Change:
    data = json.loads(row["data"])
    if row["op"] == "upsert" and isinstance(data, dict):
        redact(row["entity"], data)
    return Change(
        seq=int(row["seq"]), at=int(row["at"]), entity=row["entity"], entity_id=row["entity_id"],
        op=row["op"], scope_path=row["scope_path"], unit_id=row["unit_id"],
        audience=json.loads(row["audience"]) if row.get("audience") else [],
        data=data,
        origin_client_id=row["origin_client_id"],
        origin_seq=int(row["origin_seq"]) if row["origin_seq"] is not None else None,
    )


CHANGE_COLUMNS = ("seq, at, entity, entity_id, op, scope_path, unit_id, data, origin_client_id, "
                  "origin_seq, audience")


async def append(tx: Tx, entries: list[dict[str, Any]], at: int, origin_client_id: str | None,
                 origin_seq: int | None) -> list[Change]:
    """Give the entries gap-free sequence numbers and write them (see :func:`append_groups`)."""
    return await append_groups(tx, [(entries, origin_client_id, origin_seq)], at)


async def append_groups(tx: Tx, groups: list[tuple[list[dict[str, Any]], str | None, int | None]],
                        at: int) -> list[Change]:
    """Give the entries of several mutations gap-free sequence numbers and write them.

    ``groups`` holds (entries, origin client id, origin seq) per mutation, in
    the order they were applied; the numbers follow that order. They come
    from ``counters`` with one UPDATE … RETURNING inside the caller's
    transaction: the row lock is held until commit, so commits happen in
    sequence order on PostgreSQL too, and a reader that sees seq N has
    already seen every seq below it.
    """
    total = sum(len(entries) for entries, _, _ in groups)
    if not total:
        return []
    last = await tx.fetchval(
        "UPDATE counters SET value = value + $1 WHERE name = 'change_seq' RETURNING value", total)
    seq = int(last) - total
    changes: list[Change] = []
    rows: list[tuple[Any, ...]] = []
    aud_rows: list[tuple[Any, ...]] = []
    for entries, origin_client_id, origin_seq in groups:
        for e in entries:
            seq += 1
            ch = Change(seq=seq, at=at, entity=e["entity"], entity_id=e["entity_id"], op=e["op"],
                        scope_path=e["scope_path"], unit_id=e["unit_id"], audience=e["audience"],
                        data=e["data"], origin_client_id=origin_client_id, origin_seq=origin_seq)
            changes.append(ch)
            rows.append((seq, at, ch.entity, ch.entity_id, ch.op, ch.scope_path, ch.unit_id,
                         json.dumps(ch.data, separators=(",", ":")), origin_client_id, origin_seq,
                         json.dumps(ch.audience)))
            aud_rows.extend((u, seq) for u in ch.audience)
    await tx.executemany(
        f"INSERT INTO change_log ({CHANGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        rows)
    if aud_rows:
        await tx.executemany("INSERT INTO change_audience (unit_id, seq) VALUES ($1, $2)", aud_rows)
    return changes
