"""What a run must show, read from the database after convergence and from the clients' records.

* **exactly once**: every mutation a client made has one outcome row in
  ``applied_mutations``, and a kept one (applied / merged / conflict) has
  exactly one effect (its status event, note, alert, incident or
  assignment row, looked up by the id the client gave it; duplicates by
  ``(device_id, hlc)``). *Lost*: the server confirmed it (an outcome row, or
  an answer to the client) but the outcome row or the effect is missing.
  *Duplicated*: two effects for one mutation, a ``duplicate_id`` rejection
  of an id only that mutation used, or two different answers to one seq.
  Every generated mutation is valid, so any rejection is reported too.
* **reordered**: a phone's *last* status ended as ``older_than_current`` (or
  the unit's final status is not the one the phone sent last): a merge
  outcome, not a loss, so it has a column of its own (it is still a failure).
* **no gap**: for every console, every change-log seq in its scope after its
  first cursor was in a live ``change`` frame or a catch-up page at least
  once. A unit snapshot counts as covered when a later snapshot of the same
  unit arrived (the server coalesces those on purpose); a resume snapshot
  covers nothing (it is state, not history).
* **reached**: every assignment and alert created during the load reached
  every console whose scope covers it (in a change or a snapshot).
* **confirmed**: no client has an unconfirmed mutation left.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from server.storage import connect
from tests.chaos.clients import Console, Device, Sent

EFFECT_TABLE = {"status": "unit_status_events", "note": "notes", "alert": "emergency_alerts",
                "incident": "incidents", "assignment": "assignments"}
KEPT = ("applied", "merged", "conflict")


@dataclass
class Findings:
    sent: int = 0
    outcomes: int = 0
    kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)          # "device/seq kind: why"
    duplicated: list[str] = field(default_factory=list)
    reordered: list[str] = field(default_factory=list)
    history: int = 0       # older_than_current outcomes of statuses that were not a phone's last (fine)
    unconfirmed: int = 0
    console_missed: dict[str, list[int]] = field(default_factory=dict)
    console_superseded: dict[str, int] = field(default_factory=dict)
    console_resume_snapshots: dict[str, int] = field(default_factory=dict)
    console_live_pages: dict[str, int] = field(default_factory=dict)
    console_expected: dict[str, int] = field(default_factory=dict)
    unreached: list[str] = field(default_factory=list)     # "assignment <id> -> console"
    reached_checked: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def missed_total(self) -> int:
        return sum(len(v) for v in self.console_missed.values())


def console_gaps(con: Console, log: list[dict[str, Any]], *,
                 as_the_console_believes: bool = False) -> tuple[list[int], int, int]:
    """(seqs missed, unit snapshots superseded, changes expected) for one console.

    ``log``: change-log rows (seq, entity, entity_id, scope_path), at least those after the
    console's first cursor. ``as_the_console_believes``: count the frame a negative-control
    console dropped as received (the console moved its cursor over it; waiting for it to come
    again would only wait out the timeout)."""
    scope, start = con.account.scope, con.first_cursor or 0
    believed = {con.dropped[0]} if as_the_console_believes and con.dropped else set()
    latest_unit: dict[str, int] = defaultdict(int)
    for seq, (entity, eid) in con.received.items():
        if entity == "unit":
            latest_unit[eid] = max(latest_unit[eid], seq)
    missed, superseded, expected = [], 0, 0
    for r in log:
        seq = int(r["seq"])
        if seq <= start or not r["scope_path"] or not r["scope_path"].startswith(scope):
            continue
        expected += 1
        if seq in con.received or seq in believed:
            continue
        if r["entity"] == "unit" and latest_unit.get(r["entity_id"], 0) > seq:
            superseded += 1
            continue
        missed.append(seq)
    return missed, superseded, expected


async def check(db_url: str, devices: list[Device], consoles: list[Console], load_started: float) -> Findings:
    f = Findings()
    db = await connect(db_url)
    try:
        async with db.read() as tx:
            stored = {(r["client_id"], int(r["seq"])): r for r in await tx.fetch(
                "SELECT client_id, seq, name, outcome, reason_code FROM applied_mutations")}
            effects: dict[str, dict[str, dict[str, Any]]] = {}
            for kind, table in EFFECT_TABLE.items():
                cols = "id, device_id, hlc" if kind in ("status", "note", "alert") else "id"
                effects[kind] = {r["id"]: r for r in await tx.fetch(f"SELECT {cols} FROM {table}")}
            by_stamp: dict[str, Counter[tuple[str, str]]] = {}
            for kind in ("status", "note", "alert"):
                by_stamp[kind] = Counter((r["device_id"], r["hlc"]) for r in effects[kind].values())
            unit_status = {r["id"]: r["status"] for r in await tx.fetch("SELECT id, status FROM units")}
            log = await tx.fetch("SELECT seq, entity, entity_id, scope_path FROM change_log ORDER BY seq")
    finally:
        await db.close()

    # -- exactly once --------------------------------------------------------------------------
    for dev in devices:
        f.unconfirmed += dev.unconfirmed
        last_status: Sent | None = None
        for rec in dev.sent.values():
            f.sent += 1
            key = f"{dev.account.username}/{rec.seq} {rec.kind}"
            row = stored.get((rec.device, rec.seq))
            if len({s for s in rec.seen}) > 1:
                f.duplicated.append(f"{key}: different answers {sorted(map(str, rec.seen))}")
            if row is None:
                if rec.outcome is not None:
                    f.lost.append(f"{key}: answered {rec.outcome}, but no outcome row")
                continue
            f.outcomes += 1
            if rec.outcome is not None and (rec.outcome, rec.reason_code) != (row["outcome"], row["reason_code"]):
                f.duplicated.append(f"{key}: answered {rec.outcome}/{rec.reason_code}, "
                                    f"stored {row['outcome']}/{row['reason_code']}")
            if row["outcome"] == "rejected":
                f.rejected[row["reason_code"] or "?"] += 1
                if row["reason_code"] == "duplicate_id":
                    f.duplicated.append(f"{key}: rejected duplicate_id (applied twice?)")
                continue
            f.kept += 1
            effect = effects[rec.kind].get(rec.effect_id)
            if effect is None:
                f.lost.append(f"{key}: outcome {row['outcome']} but no {EFFECT_TABLE[rec.kind]} row {rec.effect_id}")
            elif rec.kind in by_stamp and by_stamp[rec.kind][(effect["device_id"], effect["hlc"])] > 1:
                f.duplicated.append(f"{key}: {by_stamp[rec.kind][(effect['device_id'], effect['hlc'])]} "
                                    f"{EFFECT_TABLE[rec.kind]} rows")
            if rec.kind == "status":
                if row["reason_code"] == "older_than_current":
                    f.history += 1
                if last_status is None or rec.seq > last_status.seq:
                    last_status = rec
        if last_status is not None and dev.account.unit_id:
            row = stored.get((last_status.device, last_status.seq))
            final = unit_status.get(dev.account.unit_id)
            if row is not None and row["reason_code"] == "older_than_current":
                f.history -= 1
                f.reordered.append(f"{dev.account.username}: last status (seq {last_status.seq}, "
                                   f"{last_status.status}) kept as history; unit is {final}")
            elif final != last_status.status:
                f.reordered.append(f"{dev.account.username}: unit is {final}, last status sent "
                                   f"{last_status.status} (seq {last_status.seq})")

    # -- no gap, per console -------------------------------------------------------------------
    for con in consoles:
        if con.first_cursor is None:
            f.failures.append(f"console {con.name} never caught up once")
            continue
        missed, superseded, expected = console_gaps(con, log)
        f.console_expected[con.name] = expected
        f.console_missed[con.name] = missed
        f.console_superseded[con.name] = superseded
        f.console_resume_snapshots[con.name] = con.snapshots_after_first
        f.console_live_pages[con.name] = con.pages_while_live

    # -- assignments and alerts reach every console whose scope covers them --------------------------
    first_row: dict[tuple[str, str], tuple[int, str]] = {}
    for r in log:
        if r["entity"] in ("assignment", "alert") and r["scope_path"]:
            first_row.setdefault((r["entity"], r["entity_id"]), (int(r["seq"]), r["scope_path"]))
    for dev in devices:
        for rec in dev.sent.values():
            if rec.kind not in ("assignment", "alert") or rec.made_at < load_started:
                continue
            row = stored.get((rec.device, rec.seq))
            if row is None or row["outcome"] not in KEPT:
                continue
            created = first_row.get((rec.kind, rec.effect_id))
            if created is None:
                f.unreached.append(f"{rec.kind} {rec.effect_id}: no change-log row with a scope")
                continue
            seq, path = created
            for con in consoles:
                if con.first_cursor is None or seq <= con.first_cursor or not path.startswith(con.account.scope):
                    continue
                f.reached_checked += 1
                if (rec.kind, rec.effect_id) not in con.entities:
                    f.unreached.append(f"{rec.kind} {rec.effect_id} (seq {seq}) -> {con.name}")

    # -- verdict -----------------------------------------------------------------------------------------
    if f.lost:
        f.failures.append(f"{len(f.lost)} lost: " + "; ".join(f.lost[:3]))
    if f.duplicated:
        f.failures.append(f"{len(f.duplicated)} duplicated: " + "; ".join(f.duplicated[:3]))
    if f.rejected:
        f.failures.append("unexpected rejections: " + ", ".join(f"{k} {v}" for k, v in f.rejected.items()))
    if f.reordered:
        f.failures.append(f"{len(f.reordered)} reordered: " + "; ".join(f.reordered[:3]))
    if f.unconfirmed:
        f.failures.append(f"{f.unconfirmed} mutations never confirmed")
    for name, missed in f.console_missed.items():
        if missed:
            f.failures.append(f"console {name} missed {len(missed)} of {f.console_expected[name]} changes "
                              f"(first seqs {missed[:5]})")
    if f.unreached:
        f.failures.append(f"{len(f.unreached)} assignment/alert deliveries missing: " + "; ".join(f.unreached[:3]))
    return f
