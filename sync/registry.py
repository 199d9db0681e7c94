"""The mutation registry and the per-mutation context handlers work with.

A handler is registered with :func:`mutation`, declaring its name, argument
type, the roles that may run it, its org scope rule and its merge rule. The
engine checks the role; the handler enforces the scope through the
``Ctx.authorize_*`` helpers (which need the loaded rows) and returns an
:class:`Outcome` or raises :class:`Reject`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from uuid6 import uuid7

from . import changes as ch
from .hlc import HLC, HlcError
from .machines import VISIBLE_ASSIGNMENT
from .merge import DeviceOrder, correct_time
from .mutations import Args, Mutation
from .principal import DESK_ROLES, ROLES, Principal
from .store import Row, Tx

Scope = Literal["own_unit", "assigned_incident", "org"]
ALL_ROLES = frozenset(ROLES)
DESK = frozenset(DESK_ROLES)
_VISIBLE_SQL = "(" + ", ".join(f"'{s}'" for s in sorted(VISIBLE_ASSIGNMENT)) + ")"


def _tz() -> Any:
    try:
        return ZoneInfo(os.environ.get("PATROL_TZ", "Europe/Belgrade"))
    except Exception:  # no tz database: fall back to UTC
        return UTC


TZ = _tz()


def hhmm(ms: int | None) -> str:
    """'10:12' in the service's local time zone (PATROL_TZ, default Europe/Belgrade)."""
    if ms is None:
        return "an unknown time"
    return datetime.fromtimestamp(ms / 1000, TZ).strftime("%H:%M")


class Reject(Exception):
    """The mutation can never apply: recorded as rejected with a readable reason."""

    def __init__(self, code: str, reason: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.result = result


@dataclass
class Outcome:
    outcome: Literal["applied", "merged", "conflict"] = "applied"
    reason_code: str | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None


Handler = Callable[["Ctx", Any], Awaitable[Outcome]]


@dataclass(frozen=True)
class HandlerSpec:
    name: str
    args: type[Args]
    roles: frozenset[str]
    scope: Scope
    merge_rule: str
    fn: Handler


REGISTRY: dict[str, HandlerSpec] = {}


def mutation(name: str, args: type[Args], *, roles: frozenset[str], scope: Scope,
             merge: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if name in REGISTRY:
            raise ValueError(f"mutation {name} registered twice")
        REGISTRY[name] = HandlerSpec(name, args, roles, scope, merge, fn)
        return fn
    return register


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


@dataclass
class Ctx:
    """Everything one mutation's handler may use; one per transaction."""

    tx: Tx
    principal: Principal
    m: Mutation
    server_now: int
    offset_ms: int | None
    hlc: str                    # the mutation's HLC as used by merge rules (clamped if far ahead)
    clock: HLC                  # the server's clock
    org_paths: dict[str, str]
    # incident id -> row lock this transaction holds on it (PostgreSQL), shared by a batch
    locks: dict[str, str] = field(default_factory=dict)
    # who works on which incident, remembered across a batch's mutations; the engine
    # forgets it whenever a statement writes to assignments (or a savepoint is undone)
    reads: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # the event times the device's other mutations got (see merge.DeviceOrder); None: no floor
    order: DeviceOrder | None = None
    # the event time this mutation got for itself (event_time() without device_at)
    own_event_at: int | None = None
    _touched: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    _watch: dict[tuple[str, str], bool] = field(default_factory=dict)

    # ------------------------------------------------------------------ loading

    async def org_path(self, org_unit_id: str) -> str:
        path = self.org_paths.get(org_unit_id)
        if path is None:
            path = await self.tx.fetchval("SELECT path FROM org_units WHERE id = $1", org_unit_id)
            if path is None:
                raise Reject("not_found", "That station or directorate does not exist.",
                             {"org_unit_id": org_unit_id})
            self.org_paths[org_unit_id] = path
        return path

    async def row(self, table: str, entity_id: str, what: str) -> Row:
        row = await self.tx.fetchrow(f"SELECT * FROM {table} WHERE id = $1", entity_id)
        if row is None:
            raise Reject("not_found", f"This {what} does not exist (or was removed).",
                         {"id": entity_id})
        return row

    async def unit(self, unit_id: str) -> Row:
        return await self.row("units", unit_id, "unit")

    async def incident(self, incident_id: str) -> Row:
        return await self.row("incidents", incident_id, "incident")

    async def assignment(self, assignment_id: str) -> Row:
        return await self.row("assignments", assignment_id, "assignment")

    async def call_sign(self, unit_id: str | None) -> str:
        if not unit_id:
            return "another unit"
        cs = await self.tx.fetchval("SELECT call_sign FROM units WHERE id = $1", unit_id)
        return cs or "another unit"

    async def user_name(self, user_id: str | None) -> str:
        if not user_id:
            return "someone"
        name = await self.tx.fetchval("SELECT full_name FROM users WHERE id = $1", user_id)
        return name or "someone"

    # ------------------------------------------------------------------ scope

    @property
    def is_officer(self) -> bool:
        return self.principal.role == "officer"

    async def authorize_org(self, org_unit_id: str) -> str:
        path = await self.org_path(org_unit_id)
        if not self.principal.in_scope(path):
            raise Reject("out_of_scope", "This belongs to a station outside your area.",
                         {"org_unit_id": org_unit_id})
        return path

    async def authorize_unit(self, unit: Row) -> None:
        if self.is_officer:
            if unit["id"] != self.principal.unit_id:
                raise Reject("out_of_scope",
                             f"You can only act for your own unit, not {unit['call_sign']}.",
                             {"unit_id": unit["id"]})
            return
        await self.authorize_org(unit["org_unit_id"])

    async def unit_works_on(self, incident_id: str, unit_id: str | None, *, ever: bool = False) -> bool:
        if not unit_id:
            return False
        key = ("works", incident_id, unit_id, ever)
        if key in self.reads:
            return bool(self.reads[key])
        states = "" if ever else f" AND state IN {_VISIBLE_SQL}"
        found = bool(await self.tx.fetchval(
            f"SELECT 1 FROM assignments WHERE unit_id = $1 AND incident_id = $2{states} LIMIT 1",
            unit_id, incident_id))
        if self._stable(incident_id):
            self.reads[key] = found
        return found

    def _stable(self, incident_id: str) -> bool:
        """Can no other transaction change who works on this incident until we commit?

        SQLite: one writer, and the batch is it. PostgreSQL: once this transaction holds
        a lock on the incident row, visibility changes of others wait for our commit.
        """
        return self.tx.dialect != "postgresql" or incident_id in self.locks

    async def authorize_incident(self, inc: Row, *, ever: bool = False) -> None:
        """Officers: their unit is (or, with ``ever``, was at some point) assigned to it."""
        if self.is_officer:
            if not await self.unit_works_on(inc["id"], self.principal.unit_id, ever=ever):
                raise Reject("out_of_scope", "Your unit is not assigned to this incident.",
                             {"incident_id": inc["id"]})
            return
        await self.authorize_org(inc["org_unit_id"])

    # ------------------------------------------------------------------ time

    def event_time(self, device_at: int | None = None, *, not_before: int | None = None
                   ) -> tuple[int, dict[str, Any]]:
        """Event time (and flags) of a device time: offset-corrected and clamped.

        Without ``device_at`` it is the mutation's own time (``m.device_at``): it
        is kept at or after the times the device's lower seqs got (the floor of
        ``order``; flagged ``clamped: "device_order"``) and remembered as this
        mutation's, for the device's later ones. A time the mutation carries in
        its args (a ping's, a call's) is corrected the same way but not ordered.
        """
        if device_at is not None:
            return correct_time(device_at, self.offset_ms, self.server_now, not_before=not_before)
        floor = self.order.floor(self.m.seq) if self.order is not None else None
        at, flags = correct_time(self.m.device_at, self.offset_ms, self.server_now, not_before=not_before,
                                 floor=floor)
        self.own_event_at = at if self.own_event_at is None else max(self.own_event_at, at)
        return at, flags

    def server_hlc(self) -> str:
        """A fresh server stamp, ahead of everything this server has seen."""
        return self.clock.now(self.server_now)

    def server_hlc_recv(self, stamp: str) -> None:
        try:
            self.clock.recv(stamp, self.server_now)
        except HlcError:
            pass  # a stamp too far ahead does not drag the server clock along

    def new_id(self) -> str:
        return str(uuid7())

    # ------------------------------------------------------------------ change emission

    def touch(self, entity: str, entity_id: str, *, scope_path: str | None = None,
              audience: list[str] | None = None, incident_id: str | None = None,
              unit_id: str | None = None) -> None:
        """Queue a change for an entity (its snapshot is read when the mutation ends).

        ``incident_id``: the audience is every unit working on that incident
        (computed after all writes) and the scope is the incident's org path.
        """
        key = (entity, entity_id, "main")
        self._touched[key] = {"entity": entity, "entity_id": entity_id, "op": "upsert",
                              "scope_path": scope_path, "audience": audience,
                              "incident_id": incident_id, "unit_id": unit_id}

    async def _lock_incident(self, incident_id: str, mode: str) -> None:
        """PostgreSQL: lock the incident row until commit (SQLite has one writer at a time).

        A change's audience (the units working on its incident) is computed before the
        commit. A visibility change (a unit added to or removed from the incident) takes
        FOR UPDATE before it reads anything; audience computation takes FOR KEY SHARE, in
        its own statement, before it reads the assignments. So one of the two waits for
        the other's commit and then reads it: a unit that starts working on an incident
        gets every change of it, either in the change's audience or as a catch-up copy.
        """
        if self.tx.dialect != "postgresql":
            return
        held = self.locks.get(incident_id)
        if held == mode or held == "UPDATE":  # held until commit: taken once per batch
            return
        await self.tx.fetch(f"SELECT id FROM incidents WHERE id = $1 FOR {mode}", incident_id)
        self.locks[incident_id] = mode

    async def watch_visibility(self, incident_id: str, unit_id: str) -> None:
        """Remember whether a unit sees an incident now; compared again at the end."""
        key = (incident_id, unit_id)
        if key not in self._watch:
            await self._lock_incident(incident_id, "UPDATE")
            self._watch[key] = await self.unit_works_on(incident_id, unit_id)

    async def _incident_audience(self, incident_id: str) -> tuple[str | None, list[str]]:
        """The incident's org unit and the units working on it, in one query."""
        key = ("audience", incident_id)
        if key in self.reads:
            return self.reads[key]  # type: ignore[no-any-return]
        rows = await self.tx.fetch(
            "SELECT i.org_unit_id, a.unit_id FROM incidents i LEFT JOIN assignments a"
            f" ON a.incident_id = i.id AND a.state IN {_VISIBLE_SQL} WHERE i.id = $1", incident_id)
        if not rows:
            return None, []
        out = rows[0]["org_unit_id"], sorted({r["unit_id"] for r in rows if r["unit_id"] is not None})
        if self._stable(incident_id):
            self.reads[key] = out
        return out

    async def finish(self) -> list[ch.Change]:
        """Write the queued changes to the change log; return them."""
        return await ch.append(self.tx, await self.entries(), self.server_now, self.m.client_id, self.m.seq)

    async def entries(self) -> list[dict[str, Any]]:
        """The queued changes as change-log entries with their data (not yet numbered or written)."""
        entries: list[dict[str, Any]] = []
        aud_cache: dict[str, list[str]] = {}
        path_cache: dict[str, str] = {}

        async def incident_scope(inc_id: str) -> tuple[str, list[str]]:
            if inc_id not in aud_cache:
                await self._lock_incident(inc_id, "KEY SHARE")
                org, aud_cache[inc_id] = await self._incident_audience(inc_id)
                path_cache[inc_id] = await self.org_path(org)  # type: ignore[arg-type]
            return path_cache[inc_id], aud_cache[inc_id]

        for t in self._touched.values():
            data = await ch.load(self.tx, t["entity"], t["entity_id"])
            if data is None:
                continue
            scope, audience = t["scope_path"], t["audience"]
            if t["incident_id"] is not None:
                scope, inc_aud = await incident_scope(t["incident_id"])
                audience = sorted(set(inc_aud) | set(audience or []))
            entries.append({"entity": t["entity"], "entity_id": t["entity_id"], "op": "upsert",
                            "scope_path": scope or "", "audience": audience or [],
                            "unit_id": t["unit_id"]})
            entries[-1]["data"] = data
        # Units that started or stopped working on an incident: catch-up copies
        # or evictions, for that unit only (empty scope_path: desks never see them).
        for (inc_id, unit_id), before in self._watch.items():
            after = await self.unit_works_on(inc_id, unit_id)
            if before == after:
                continue
            related = [("incident", inc_id)]
            for ent, table in (("note", "notes"), ("field_report", "field_reports")):
                rows = await self.tx.fetch(f"SELECT id FROM {table} WHERE incident_id = $1 ORDER BY id", inc_id)
                related.extend((ent, r["id"]) for r in rows)
            # other units' assignments on the incident (the unit's own stay visible to it)
            rows = await self.tx.fetch("SELECT id FROM assignments WHERE incident_id = $1 AND unit_id <> $2"
                                       " ORDER BY id", inc_id, unit_id)
            related.extend(("assignment", r["id"]) for r in rows)
            for ent, eid in related:
                if after:
                    data = await ch.load(self.tx, ent, eid)
                    op = "upsert"
                else:
                    data, op = {"id": eid, "reason": "unassigned"}, "delete"
                entries.append({"entity": ent, "entity_id": eid, "op": op, "scope_path": "",
                                "audience": [unit_id], "unit_id": unit_id, "data": data})
        return entries
