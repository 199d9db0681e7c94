"""The harness's own small world, written straight into a migrated database.

Two directorates so scopes differ: /CH/ with stations CH-A and CH-B, and a
foreign /XX/ with station XX-A. One officer (one phone) per unit, on a shift
around now; a dispatch desk per station that opens incidents and assigns
units; consoles at the directorate and the station levels. Sessions are
made here (only the SHA-256 of each token is stored, as the server does): a
sign-in costs an Argon2 hash, and dozens of them would dominate a short run.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from sync.clock import now_ms
from sync.store import Database

ORGS = [  # id, parent, kind, code, path
    ("c-org-ch", None, "directorate", "CH", "/CH/"),
    ("c-org-cha", "c-org-ch", "station", "CH-A", "/CH/CH-A/"),
    ("c-org-chb", "c-org-ch", "station", "CH-B", "/CH/CH-B/"),
    ("c-org-xx", None, "directorate", "XX", "/XX/"),
    ("c-org-xxa", "c-org-xx", "station", "XX-A", "/XX/XX-A/"),
]
PATHS = {oid: path for oid, _, _, _, path in ORGS}
STATIONS = ["c-org-cha", "c-org-chb", "c-org-xxa"]
CONSOLE_ORGS = ["c-org-ch", "c-org-cha", "c-org-chb", "c-org-xx"]


@dataclass
class Account:
    user_id: str
    username: str
    role: str
    org_id: str
    device_id: str
    token: str
    unit_id: str | None = None

    @property
    def scope(self) -> str:
        return PATHS[self.org_id]


@dataclass
class World:
    officers: list[Account] = field(default_factory=list)
    dispatchers: list[Account] = field(default_factory=list)   # one per station: open incidents, assign
    consoles: list[Account] = field(default_factory=list)
    units_by_org: dict[str, list[str]] = field(default_factory=dict)

    def accounts(self) -> list[Account]:
        return self.officers + self.dispatchers + self.consoles


def _device(n: int) -> str:
    return f"c0c0c0c0-0000-4000-8000-{n:012d}"


async def build_world(db: Database, *, units: int, consoles_per_scope: int = 1,
                      extra_consoles: list[str] | None = None) -> World:
    """``units`` units/officers spread 40/40/20 over CH-A, CH-B, XX-A.

    ``extra_consoles``: org ids for additional consoles (e.g. the slow one)."""
    now = now_ms()
    world = World()
    n = 0

    def account(username: str, role: str, org: str, unit: str | None = None) -> Account:
        nonlocal n
        n += 1
        return Account(user_id=f"c-user-{n}", username=username, role=role, org_id=org,
                       device_id=_device(n), token=secrets.token_urlsafe(24), unit_id=unit)

    share = [0.4, 0.4, 0.2]
    counts = [max(1, round(units * s)) for s in share]
    unit_rows = []
    for org, count in zip(STATIONS, counts):
        world.units_by_org[org] = []
        for i in range(count):
            uid = f"c-unit-{org[-3:]}-{i}"
            world.units_by_org[org].append(uid)
            unit_rows.append((uid, f"{org[-3:].upper()}-{i + 10}", org, now))
            world.officers.append(account(f"off-{org[-3:]}-{i}", "officer", org, uid))
    for org in STATIONS:
        world.dispatchers.append(account(f"disp-{org[-3:]}", "dispatcher", org))
    for k in range(consoles_per_scope):
        for org in CONSOLE_ORGS:
            world.consoles.append(account(f"con-{org[-3:]}-{k}", "dispatcher", org))
    for j, org in enumerate(extra_consoles or []):
        world.consoles.append(account(f"con-extra-{j}", "dispatcher", org))

    async with db.transaction() as tx:
        for oid, parent, kind, code, path in ORGS:
            await tx.execute("INSERT INTO org_units (id, parent_id, kind, code, name, path, created_at)"
                             " VALUES ($1,$2,$3,$4,$5,$6,$7)", oid, parent, kind, code, f"Chaos {code}", path, now)
        await tx.execute("INSERT INTO incident_types (code, default_priority, labels, sort, active)"
                         " VALUES ('chaos', 3, '{\"en\": \"Chaos drill\"}', 0, 1)")
        await tx.executemany(
            "INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash, created_at,"
            " updated_at) VALUES ($1,$2,$3,$4,$5,'x',$6,$6)",
            [(a.user_id, a.username, a.username, a.role, a.org_id, now) for a in world.accounts()])
        await tx.executemany(
            "INSERT INTO units (id, call_sign, kind, org_unit_id, status, status_at, created_at, updated_at)"
            " VALUES ($1,$2,'car',$3,'available',$4,$4,$4)", unit_rows)
        await tx.executemany(
            "INSERT INTO shifts (id, org_unit_id, unit_id, starts_at, ends_at, created_at, updated_at)"
            " VALUES ($1,$2,$3,$4,$5,$6,$6)",
            [(f"c-shift-{a.unit_id}", a.org_id, a.unit_id, now - 3_600_000, now + 8 * 3_600_000, now)
             for a in world.officers])
        await tx.executemany("INSERT INTO shift_members (shift_id, user_id) VALUES ($1,$2)",
                             [(f"c-shift-{a.unit_id}", a.user_id) for a in world.officers])
        await tx.executemany("INSERT INTO devices (id, first_user_id, created_at) VALUES ($1,$2,$3)",
                             [(a.device_id, a.user_id, now) for a in world.accounts()])
        await tx.executemany(
            "INSERT INTO sessions (id, token_hash, user_id, device_id, created_at, last_used_at, expires_at)"
            " VALUES ($1,$2,$3,$4,$5,$5,$6)",
            [(f"c-sess-{a.user_id}", hashlib.sha256(a.token.encode()).hexdigest(), a.user_id, a.device_id,
              now, now + 86_400_000) for a in world.accounts()])
    return world
