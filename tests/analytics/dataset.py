"""A small hand-made dataset with known answers (Europe/Belgrade, January 2025: UTC+1).

Scope /SM/ has stations SM-RU and SM-IN; /NS/NS-X/ is outside it.
Wednesday 2025-01-15 is "the day"; the week is Mon 13 – Mon 20 January.
"""

from __future__ import annotations

from datetime import datetime

from server.analytics.stats import TZ
from sync.store import Database

M = 60_000


def t(day: int, hour: int, minute: int = 0, month: int = 1) -> int:
    return int(datetime(2025, month, day, hour, minute, tzinfo=TZ).timestamp() * 1000)


WEEK_START = t(13, 0)
WEEK_END = t(20, 0)
DAY_START = t(15, 0)
DAY_END = t(16, 0)

ORGS = [
    ("o-sm", None, "directorate", "SM", "PU Sremska Mitrovica", "/SM/"),
    ("o-ru", "o-sm", "station", "SM-RU", "PS Ruma", "/SM/SM-RU/"),
    ("o-in", "o-sm", "station", "SM-IN", "PS Inđija", "/SM/SM-IN/"),
    ("o-ns", None, "directorate", "NS", "PU Novi Sad", "/NS/"),
    ("o-nsx", "o-ns", "station", "NS-X", "PS X", "/NS/NS-X/"),
]
UNITS = [("u-ru1", "RU-1", "o-ru"), ("u-ru2", "RU-2", "o-ru"), ("u-in1", "IN-1", "o-in"),
         ("u-ns1", "NS-1", "o-nsx")]

# id, org, source, call_received_at, type, priority, state
INCIDENTS = [
    ("i1", "o-ru", "112", t(15, 10, 0), "theft", 1, "closed"),
    ("i2", "o-ru", "112", t(15, 10, 20), "fight", 1, "closed"),
    ("i3", "o-in", "113", t(15, 14, 10), "theft", 2, "closed"),
    ("i4", "o-in", "112", t(15, 23, 30), "noise", 3, "closed"),
    ("i5", "o-ru", "patrol", t(15, 11, 0), "theft", 2, "closed"),
    ("i6", "o-ru", "112", t(15, 12, 0), "theft", 1, "cancelled"),
    ("i7", "o-nsx", "112", t(15, 10, 0), "theft", 1, "closed"),
    ("i8", "o-ru", "112", t(15, 10, 40), "theft", 4, "new"),
    ("i9", "o-ru", "112", t(21, 10, 0), "theft", 1, "closed"),  # next week
]


def _asg(id, incident, unit, call, assigned, ack=None, en_route=None, on_scene=None, action=None,
         cleared=None, state="cleared", flags="{}"):
    rel = lambda v: None if v is None else call + v
    return (id, incident, unit, state, call + assigned, rel(ack), rel(en_route), rel(on_scene),
            rel(action), rel(cleared), flags)


ASSIGNMENTS = [
    _asg("a1", "i1", "u-ru1", t(15, 10, 0), M, ack=M + 30_000, en_route=2 * M, on_scene=8 * M,
         action=9 * M, cleared=30 * M),
    _asg("a2", "i2", "u-ru1", t(15, 10, 20), 2 * M, state="declined"),
    _asg("a3", "i2", "u-ru2", t(15, 10, 20), 4 * M, ack=5 * M, on_scene=16 * M, cleared=50 * M,
         flags='{"on_scene_at": "clamped"}'),
    _asg("a4", "i3", "u-in1", t(15, 14, 10), 3 * M, ack=4 * M, on_scene=-M),
    _asg("a5", "i4", "u-in1", t(15, 23, 30), 5 * M, on_scene=25 * M, state="on_scene",
         flags='{"late": ["on_scene_at"]}'),
    _asg("a6", "i5", "u-ru2", t(15, 11, 0), 0, on_scene=0),
    _asg("a7", "i6", "u-ru1", t(15, 12, 0), M, state="cancelled"),
    _asg("a8", "i7", "u-ns1", t(15, 10, 0), M, on_scene=2 * M),
    _asg("a9", "i9", "u-ru1", t(21, 10, 0), M, on_scene=3 * M),
]

# id, unit, org, starts, ends
SHIFTS = [
    ("s1", "u-ru1", "o-ru", t(15, 6), t(15, 14)),
    ("s2", "u-ru1", "o-ru", t(15, 13), t(15, 15)),   # overlaps s1: counted once
    ("s3", "u-ru2", "o-ru", t(15, 14), t(15, 22)),
    ("s4", "u-in1", "o-in", t(15, 20, 15), t(15, 21, 45)),
    ("s5", "u-ns1", "o-nsx", t(15, 6), t(15, 18)),
]

# id, unit, status, event_at, hlc, flags
EVENTS = [
    ("e0", "u-ru1", "available", t(14, 8), "0000000001", "{}"),
    ("e1", "u-ru1", "off_duty", t(14, 22), "0000000002", "{}"),
    ("e2", "u-ru1", "available", t(15, 6, 30), "0000000003", "{}"),
    ("e3", "u-ru1", "en_route", t(15, 10, 1), "0000000004", "{}"),
    ("e4", "u-ru1", "on_scene", t(15, 10, 8), "0000000005", '{"clamped": true}'),
    ("e5", "u-ru1", "available", t(15, 10, 30), "0000000006", "{}"),
    ("e6", "u-ru1", "off_duty", t(15, 14, 30), "0000000007", "{}"),
    ("e7", "u-ru2", "available", t(15, 15), "0000000008", "{}"),
    # same event time: HLC order decides, off_duty is the later one
    ("e9", "u-ru2", "off_duty", t(15, 23), "0000000010", "{}"),
    ("e8", "u-ru2", "available", t(15, 23), "0000000009", "{}"),
    ("e10", "u-ns1", "available", t(15, 6), "0000000011", "{}"),
]


async def load(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO org_units (id, parent_id, kind, code, name, path, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, 0)", ORGS)
        await tx.executemany(
            "INSERT INTO units (id, call_sign, kind, org_unit_id, created_at, updated_at)"
            " VALUES ($1, $2, 'car', $3, 0, 0)", UNITS)
        await tx.executemany(
            "INSERT INTO incident_types (code, default_priority, labels) VALUES ($1, $2, $3)",
            [("theft", 2, '{"en": "Theft", "sr-Latn": "Krađa"}'), ("fight", 1, '{"en": "Fight"}'),
             ("noise", 3, '{"en": "Noise"}')])
        await tx.executemany(
            "INSERT INTO incidents (id, org_unit_id, source, call_received_at, type, priority, state,"
            " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $4, $4)", INCIDENTS)
        await tx.executemany(
            "INSERT INTO assignments (id, incident_id, unit_id, state, assigned_at, acknowledged_at,"
            " en_route_at, on_scene_at, action_at, cleared_at, flags, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $5, $5)", ASSIGNMENTS)
        await tx.executemany(
            "INSERT INTO shifts (id, unit_id, org_unit_id, starts_at, ends_at, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, 0, 0)", SHIFTS)
        await tx.executemany(
            "INSERT INTO unit_status_events (id, unit_id, status, device_at, event_at, server_at, hlc, flags)"
            " VALUES ($1, $2, $3, $4, $4, $4, $5, $6)", EVENTS)
