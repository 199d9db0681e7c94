"""Minimal fixture data for sync tests: an org tree, users, units, devices.

``make_world`` seeds one directorate with two stations, a dispatcher, a
commander, officers and patrol units, all with ids and codes unique to the
world, so several worlds can live in one database (property tests).
``Device`` plays a phone or console: it stamps mutations with its own HLC and
an increasing seq, and keeps a replica built only from pulls.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from uuid6 import uuid7

from sync import engine
from sync.hlc import HLC
from sync.principal import Principal
from sync.store import Database

T0 = 1_764_000_000_000  # 2025-11-24 ~16:00 UTC: the tests' "start of shift"
MIN = 60_000
HOUR = 60 * MIN


def new_id() -> str:
    return str(uuid7())


@dataclass
class World:
    tag: str
    org: dict[str, str]          # key -> org id ('dir', 'ruma', 'sid')
    paths: dict[str, str]
    users: dict[str, str]        # key -> user id
    units: dict[str, str]        # key -> unit id ('pa11', 'pa12', 'pb1')
    call_signs: dict[str, str]
    principals: dict[str, Principal] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)

    def device(self, who: str, **kw: Any) -> Device:
        """The (one) device of this person; seq numbers continue across calls."""
        if who not in self.devices:
            self.devices[who] = Device(self.principals[who], **kw)
        return self.devices[who]


async def make_world(db: Database, tag: str | None = None, at: int = T0) -> World:
    tag = tag or uuid.uuid4().hex[:6].upper()
    d = f"D{tag}"
    org = {"dir": f"org-{d}", "ruma": f"org-{d}-RUMA", "sid": f"org-{d}-SID"}
    paths = {"dir": f"/{d}/", "ruma": f"/{d}/{d}-RUMA/", "sid": f"/{d}/{d}-SID/"}
    users = {k: f"user-{tag}-{k}" for k in ("dispatcher", "commander", "sid_dispatcher",
                                            "officer1", "officer2", "officer3", "officer4")}
    units = {k: f"unit-{tag}-{k}" for k in ("pa11", "pa12", "pb1")}
    call_signs = {"pa11": f"PA-11-{tag}", "pa12": f"PA-12-{tag}", "pb1": f"PB-1-{tag}"}
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO org_units (id, parent_id, kind, code, name, path, created_at)"
                         " VALUES ($1, NULL, 'directorate', $2, $3, $4, $5)",
                         org["dir"], d, f"Directorate {d}", paths["dir"], at)
        for k, code in (("ruma", f"{d}-RUMA"), ("sid", f"{d}-SID")):
            await tx.execute("INSERT INTO org_units (id, parent_id, kind, code, name, path, created_at)"
                             " VALUES ($1, $2, 'station', $3, $4, $5, $6)",
                             org[k], org["dir"], code, f"Station {code}", paths[k], at)
        user_org = {"dispatcher": "ruma", "commander": "dir", "sid_dispatcher": "sid",
                    "officer1": "ruma", "officer2": "ruma", "officer3": "ruma", "officer4": "sid"}
        roles = {"dispatcher": "dispatcher", "commander": "commander", "sid_dispatcher": "dispatcher"}
        for k, uid in users.items():
            await tx.execute(
                "INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash,"
                " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'not-a-hash', $6, $6)",
                uid, f"{k}-{tag}", f"{k.title()} {tag}", roles.get(k, "officer"), org[user_org[k]], at)
        unit_org = {"pa11": "ruma", "pa12": "ruma", "pb1": "sid"}
        for k, uid in units.items():
            await tx.execute(
                "INSERT INTO units (id, call_sign, kind, org_unit_id, status, created_at, updated_at)"
                " VALUES ($1, $2, 'car', $3, 'available', $4, $4)", uid, call_signs[k], org[unit_org[k]], at)
    w = World(tag, org, paths, users, units, call_signs)
    w.principals = {
        "dispatcher": Principal(user_id=users["dispatcher"], role="dispatcher", org_unit_id=org["ruma"],
                                scope_path=paths["ruma"], device_id=f"dev-{tag}-disp", display_name="Disp"),
        "commander": Principal(user_id=users["commander"], role="commander", org_unit_id=org["dir"],
                               scope_path=paths["dir"], device_id=f"dev-{tag}-cmd"),
        "sid_dispatcher": Principal(user_id=users["sid_dispatcher"], role="dispatcher",
                                    org_unit_id=org["sid"], scope_path=paths["sid"],
                                    device_id=f"dev-{tag}-sdisp"),
        "officer1": Principal(user_id=users["officer1"], role="officer", org_unit_id=org["ruma"],
                              scope_path=paths["ruma"], unit_id=units["pa11"], device_id=f"dev-{tag}-o1"),
        "officer2": Principal(user_id=users["officer2"], role="officer", org_unit_id=org["ruma"],
                              scope_path=paths["ruma"], unit_id=units["pa12"], device_id=f"dev-{tag}-o2"),
        # officer3 shares unit PA-11 with officer1 (two phones in one car)
        "officer3": Principal(user_id=users["officer3"], role="officer", org_unit_id=org["ruma"],
                              scope_path=paths["ruma"], unit_id=units["pa11"], device_id=f"dev-{tag}-o3"),
        "officer4": Principal(user_id=users["officer4"], role="officer", org_unit_id=org["sid"],
                              scope_path=paths["sid"], unit_id=units["pb1"], device_id=f"dev-{tag}-o4"),
    }
    return w


class Device:
    """A phone or console: HLC, seq counter, outbox and a pulled replica."""

    def __init__(self, principal: Principal, clock_skew_ms: int = 0) -> None:
        self.p = principal
        self.clock = HLC(principal.device_id.replace(" ", "_"))
        self.seq = 0
        self.skew = clock_skew_ms
        self.outbox: list[dict[str, Any]] = []
        self.cursor = 0
        self.replica: dict[tuple[str, str], dict[str, Any]] = {}
        self.last_seq: int | None = None

    def mut(self, name: str, args: dict[str, Any], *, at: int, base_version: int | None = None,
            queue: bool = True) -> dict[str, Any]:
        """A wire-shaped mutation made at true time ``at`` (device clock = at + skew)."""
        self.seq += 1
        device_at = at + self.skew
        m = {"v": 1, "client_id": self.p.device_id, "seq": self.seq, "name": name,
             "hlc": self.clock.now(device_at), "device_at": device_at, "base_version": base_version,
             "args": args}
        if queue:
            self.outbox.append(m)
        return m

    async def push(self, db: Database, *, at: int, mutations: list[dict[str, Any]] | None = None
                   ) -> engine.PushResult:
        batch = list(self.outbox) if mutations is None else mutations
        res = await engine.apply_batch(db, self.p, batch, device_now=at + self.skew, server_now=at)
        done = {r.seq for r in res.results}
        if mutations is None:
            self.outbox = [m for m in self.outbox if m["seq"] not in done]
        self.clock.recv(res.hlc, at + self.skew)
        return res

    async def pull_all(self, db: Database, limit: int = 500) -> int:
        """Pull until no more; apply to the replica. Returns the number of pull rounds."""
        rounds = 0
        while True:
            rounds += 1
            res = await engine.pull(db, self.p, self.cursor, limit)
            if res.snapshot:
                self.replica = {}
            for c in res.changes:
                key = (c.entity, c.entity_id)
                if c.op == "delete":
                    self.replica.pop(key, None)
                else:
                    self.replica[key] = c.data
            self.cursor = res.cursor
            self.last_seq = res.last_seq
            if not res.more:
                return rounds

    def state(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The replica without history (status events)."""
        return {k: v for k, v in self.replica.items() if k[0] != "unit_status_event"}


async def server_state(db: Database, principal: Principal) -> dict[tuple[str, str], dict[str, Any]]:
    async with db.read() as tx:
        items = await engine.snapshot(tx, principal)
    return {(it["entity"], it["data"]["id"]): it["data"] for it in items}


async def row(db: Database, sql: str, *args: Any) -> dict[str, Any] | None:
    async with db.read() as tx:
        return await tx.fetchrow(sql, *args)


async def rows(db: Database, sql: str, *args: Any) -> list[dict[str, Any]]:
    async with db.read() as tx:
        return await tx.fetch(sql, *args)


async def one(db: Database, device: Device, name: str, args: dict[str, Any], *, at: int,
              base_version: int | None = None, sync_at: int | None = None,
              device_now: int | None = None) -> engine.MutationResult:
    """Make one mutation at true time ``at`` and push it at ``sync_at`` (default: at once).

    ``device_now`` overrides the device's clock reading sent with the push.
    """
    m = device.mut(name, args, at=at, base_version=base_version, queue=False)
    sync_at = at if sync_at is None else sync_at
    res = await engine.apply_batch(db, device.p, [m],
                                   device_now=(sync_at + device.skew) if device_now is None else device_now,
                                   server_now=sync_at)
    assert len(res.results) == 1
    return res.results[0]


async def open_incident(db: Database, w: World, *, at: int = T0, assign: str | None = "pa11",
                        **fields: Any) -> tuple[str, str | None]:
    """A dispatcher creates an incident (and assigns a unit); returns (incident_id, assignment_id)."""
    disp = w.device("dispatcher")
    inc_id = new_id()
    args = {"incident_id": inc_id, "type": "traffic_accident", "priority": 2,
            "address": "Glavna 1, Ruma", "description": "Two cars", **fields}
    r = await one(db, disp, "incident.create", args, at=at)
    assert r.outcome == "applied", r
    asg_id = None
    if assign:
        asg_id = new_id()
        r = await one(db, disp, "assignment.create", {"assignment_id": asg_id, "incident_id": inc_id,
                                                      "unit_id": w.units[assign]}, at=at + 1000)
        assert r.outcome == "applied", r
    return inc_id, asg_id


async def description_conflict(db: Database, w: Any) -> tuple[str, str]:
    """An incident whose description a dispatcher and an offline officer edited concurrently
    (the officer's earlier edit synced later): (incident id, conflict id)."""
    inc, _ = await open_incident(db, w)
    v = (await row(db, "SELECT version FROM incidents WHERE id = $1", inc))["version"]
    await one(db, w.device("dispatcher"), "incident.update", {"incident_id": inc, "description": "server"},
              at=T0 + 8 * MIN, base_version=v)
    r = await one(db, w.device("officer1"), "incident.update", {"incident_id": inc, "description": "client"},
                  at=T0 + 5 * MIN, base_version=v, sync_at=T0 + 10 * MIN)
    assert r.outcome == "conflict"
    return inc, r.result["conflicts"][0]["id"]
