"""Deterministic demo data: PU Sremska Mitrovica with 30 days of history.

``seed_demo(db, seed=…, now_ms=…)`` fills an *empty*, migrated database with
an organisation tree, users, patrol units, incident types, shift plans
(past 31 days, today, tomorrow), a month of incidents with full response-time
milestones, the matching unit status history, notes, and today's location
pings. Same seed and same ``now_ms`` give the same rows, on SQLite and on
PostgreSQL alike (the one exception: the argon2 hash of the demo password
has a random salt; it is computed once per process and reused).

Everything is built in memory first (:func:`build_demo`, pure and
synchronous), then written in one transaction with ``executemany``.

Status and milestone model, so other parts can rely on it:

* status events per unit: ``available`` at the start of a crewed shift,
  ``en_route`` / ``on_scene`` / ``busy`` (= action taken) / ``available``
  (= cleared) per assignment, ``off_duty`` at the end of the last contiguous
  shift (or after the running job is cleared);
* ``units.status`` is the latest event at ``now``; ``current_assignment_id``
  is set while the unit has a pending/acknowledged/en-route/on-scene assignment;
* ``device_at = event_at - clock_offset`` (the unit phone's offset; two
  phones were minutes off for a few days, flagged ``offset_ms``); ``server_at``
  is a moment later, or minutes later inside an offline window (flag
  ``{"offline": true, "sync_delay_ms": …}``; the assignment's ``flags`` then
  has ``{"on_scene_at": {"offline": true, "sync_delay_ms": …}}`` per milestone,
  keyed like the sync layer's own milestone flags);
* HLC stamps are :func:`sync.hlc.encode` of the event time, node ``seed-<call sign>``.
"""

from __future__ import annotations

import bisect
import json
import math
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from server.auth.passwords import hash_password
from sync.hlc import encode as hlc_encode
from sync.store import Database, Tx

from . import data as D

__all__ = [
    "DEMO_LOGINS",
    "DEMO_PASSWORD",
    "DemoData",
    "SeedSummary",
    "build_demo",
    "demo_password_hash",
    "is_empty",
    "seed_demo",
]

DEMO_PASSWORD = "patrol-demo"

DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("officer01", "officer", "officer app, PS Sremska Mitrovica (officer01–officer10)"),
    ("officer11", "officer", "officer app, PS Ruma (officer11–officer20)"),
    ("officer21", "officer", "officer app, PS Inđija (officer21–officer30)"),
    ("officer31", "officer", "officer app, border-police station Šid (officer31–officer40)"),
    ("dispatcher1", "dispatcher", "dispatcher console: live board, map, incidents (dispatcher1–5)"),
    ("commander", "commander", "shift planning and response-time analytics"),
    ("admin", "admin", "users, devices and sessions"),
]

TZ = ZoneInfo(D.TIMEZONE)
MIN = 60_000
HOUR = 3_600_000
DAY = 86_400_000
HISTORY_DAYS = 30
PING_INTERVAL_MS = 60_000
SHIFT_HOURS = {"06": 6, "14": 14, "22": 22}

TABLES = ("org_units", "users", "units", "incident_types", "shifts", "shift_members", "incidents",
          "assignments", "unit_status_events", "notes", "location_pings")


class SeedSummary(msgspec.Struct, frozen=True):
    """What :func:`seed_demo` wrote: rows per table."""

    seed: int
    now_ms: int
    org_units: int
    users: int
    units: int
    incident_types: int
    shifts: int
    shift_members: int
    incidents: int
    assignments: int
    unit_status_events: int
    notes: int
    location_pings: int
    open_incidents: int
    last_incident_number: str

    def counts(self) -> dict[str, int]:
        return {t: getattr(self, t) for t in TABLES}

    def __str__(self) -> str:
        parts = ", ".join(f"{t} {n}" for t, n in self.counts().items())
        return f"{parts}; {self.open_incidents} open incidents, last number {self.last_incident_number}"


# --- small helpers -------------------------------------------------------------------


class _Ids:
    """UUIDv7-shaped ids: the record's own timestamp, random bits from a seeded RNG."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed * 7919 + 1)

    def new(self, ms: int) -> str:
        rand_a = self._rng.getrandbits(12)
        rand_b = self._rng.getrandbits(62)
        value = ((ms & 0xFFFF_FFFF_FFFF) << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
        return str(uuid.UUID(int=value))


def hlc(ms: int, node: str, counter: int = 0) -> str:
    """The sync layer's HLC text for a stamp at `ms` (see :mod:`sync.hlc`)."""
    return hlc_encode(ms, counter, node)


def _local_ms(d: date, hour: int) -> int:
    return int(datetime(d.year, d.month, d.day, hour, tzinfo=TZ).timestamp() * 1000)


def _local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, TZ)


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12_742.0 * math.asin(math.sqrt(a))


def _bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360.0) % 360.0


def _jitter(rng: random.Random, lat: float, lon: float, radius_km: float) -> tuple[float, float]:
    r = radius_km * math.sqrt(rng.random())
    theta = rng.uniform(0.0, 2 * math.pi)
    dlat = r * math.cos(theta) / 111.32
    dlon = r * math.sin(theta) / (111.32 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def _weighted(rng: random.Random, items: Sequence[Any], weights: Sequence[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _phone(rng: random.Random) -> str:
    return f"+381 6{rng.choice('0123456')} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


@lru_cache(maxsize=1)
def demo_password_hash() -> str:
    """The argon2 hash of DEMO_PASSWORD, computed once per process (argon2 is slow on purpose)."""
    return hash_password(DEMO_PASSWORD)


# --- the in-memory model ------------------------------------------------------------


@dataclass
class _Shift:
    id: str
    unit: _Unit
    start: int
    end: int
    members: list[str]        # user ids, lead first


@dataclass
class _Unit:
    id: str
    call_sign: str
    kind: str
    station: str
    org_id: str
    lat: float
    lon: float
    clock_offset_ms: int = 0
    skew: tuple[int, int, int] = (0, 0, 0)   # (offset ms, from, to): a phone clock that was off for days
    shifts: list[_Shift] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    busy_until: int = 0
    offline: list[tuple[int, int]] = field(default_factory=list)

    def offset_at(self, t: int) -> int:
        """Server time minus this phone's clock at `t`."""
        off, a, b = self.skew
        return off if a <= t < b else self.clock_offset_ms

    def shift_at(self, t: int) -> _Shift | None:
        i = bisect.bisect_right(self.starts, t) - 1
        if i >= 0 and self.shifts[i].start <= t < self.shifts[i].end:
            return self.shifts[i]
        return None

    def last_shift_before(self, t: int) -> _Shift | None:
        i = bisect.bisect_right(self.starts, t) - 1
        return self.shifts[i] if i >= 0 else None

    def lead_at(self, t: int) -> str | None:
        s = self.last_shift_before(t)
        return s.members[0] if s else None


@dataclass
class _Asg:
    id: str
    unit: _Unit
    is_primary: bool
    assigned_by: str | None
    assigned_at: int
    ack: int | None = None
    declined_at: int | None = None
    decline_reason: str | None = None
    en_route: int | None = None
    on_scene: int | None = None
    action: int | None = None
    cleared: int | None = None
    cancel_at: int | None = None
    planned_arrival: int = 0
    replaced_by: str | None = None
    late: dict[str, int] = field(default_factory=dict)

    def end(self) -> int:
        for t in (self.declined_at, self.cancel_at, self.cleared):
            if t is not None:
                return t
        raise AssertionError("an assignment always ends")


@dataclass
class _Inc:
    id: str
    station: str
    source: str
    call: int
    type: str
    priority: int
    lat: float
    lon: float
    address: str
    description: str
    hazards: str | None
    caller_name: str | None
    caller_phone: str | None
    created_by: str | None
    created_at: int
    closed_at: int = 0
    outcome: str | None = None
    cancelled: bool = False
    assignments: list[_Asg] = field(default_factory=list)
    notes: list[tuple[int, str | None, _Unit | None, str]] = field(default_factory=list)
    number: str = ""


@dataclass
class DemoData:
    """Rows per table, in insert order (tuples in the column order of :data:`COLUMNS`)."""

    rows: dict[str, list[tuple[Any, ...]]]
    last_number: int
    last_number_text: str
    open_incidents: int


COLUMNS: dict[str, tuple[str, ...]] = {
    "org_units": ("id", "parent_id", "kind", "code", "name", "path", "lat", "lon", "created_at"),
    "users": ("id", "username", "full_name", "role", "org_unit_id", "badge_no", "password_hash",
              "locale", "active", "created_at", "updated_at"),
    "units": ("id", "call_sign", "kind", "org_unit_id", "active", "status", "status_at", "status_hlc",
              "current_assignment_id", "last_lat", "last_lon", "last_accuracy_m", "last_position_at",
              "version", "created_at", "updated_at"),
    "incident_types": ("code", "default_priority", "labels", "sort", "active"),
    "shifts": ("id", "org_unit_id", "unit_id", "starts_at", "ends_at", "planned_area", "notes",
               "created_by", "created_at", "updated_at"),
    "shift_members": ("shift_id", "user_id", "role"),
    "incidents": ("id", "number", "org_unit_id", "source", "call_received_at", "type", "priority",
                  "lat", "lon", "address", "description", "hazards", "caller_name", "caller_phone",
                  "state", "outcome", "closed_at", "created_by", "created_at", "updated_at", "version",
                  "field_meta"),
    "assignments": ("id", "incident_id", "unit_id", "state", "is_primary", "assigned_by", "assigned_at",
                    "acknowledged_at", "declined_at", "decline_reason", "en_route_at", "on_scene_at",
                    "action_at", "cleared_at", "ended_at", "replaced_by_unit_id", "flags", "version",
                    "created_at", "updated_at"),
    "unit_status_events": ("id", "unit_id", "status", "assignment_id", "user_id", "device_id",
                           "device_at", "event_at", "server_at", "hlc", "lat", "lon", "flags"),
    "notes": ("id", "incident_id", "author_id", "unit_id", "device_id", "body", "device_at", "event_at",
              "server_at", "hlc", "late", "flags"),
    "location_pings": ("unit_id", "user_id", "device_id", "lat", "lon", "accuracy_m", "heading",
                       "speed_mps", "device_at", "event_at", "server_at"),
}

FOOT_TYPES = {"public_order", "noise", "theft", "suspicious_person", "assault"}
TRAFFIC_TYPES = {"traffic_accident", "drunk_driver", "animal_on_road", "suspicious_person"}
BORDER_TYPES = {"illegal_border_crossing", "migrant_group"}


def _duty_end(jobs: list[tuple[int, int]], shift_end: int) -> int:
    """When a crew really goes off duty: jobs running at the end of the shift, or taken
    just after it, are finished first (overtime)."""
    off = shift_end
    while True:
        later = [end for start, end in jobs if start <= off + 15 * MIN and off < end]
        if not later:
            return off
        off = max(later)


class _Builder:
    def __init__(self, seed: int, now_ms: int, password_hash: str) -> None:
        self.seed = seed
        self.now = now_ms
        self.pw = password_hash
        self.ids = _Ids(seed)
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
        self.today = _local(now_ms).date()
        self.org: dict[str, str] = {}
        self.station_org: dict[str, D.Org] = {s.code: s for s in D.STATIONS}
        self.units: list[_Unit] = []
        self.officers: dict[str, list[str]] = {}
        self.dispatchers: list[str] = []
        self.commander = ""
        self.used_names: set[str] = set()

    def rng(self, stream: int) -> random.Random:
        """An independent, seeded RNG per concern: changing one part leaves the others alone."""
        return random.Random(self.seed * 1000 + stream)

    # -- organisation, people, units, types ------------------------------------------

    def org_units(self) -> None:
        created = self.now - 3 * 365 * DAY
        d = D.DIRECTORATE
        self.org[d.code] = self.ids.new(created)
        self.rows["org_units"].append((self.org[d.code], None, d.kind, d.code, d.name, f"/{d.code}/",
                                       d.lat, d.lon, created))
        for s in D.STATIONS:
            self.org[s.code] = self.ids.new(created + 1)
            self.rows["org_units"].append((self.org[s.code], self.org[d.code], s.kind, s.code, s.name,
                                           f"/{d.code}/{s.code}/", s.lat, s.lon, created + 1))

    def _name(self, rng: random.Random, female_share: float) -> str:
        while True:
            first = rng.choice(D.FEMALE_FIRST if rng.random() < female_share else D.MALE_FIRST)
            name = f"{first} {rng.choice(D.SURNAMES)}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def users(self) -> None:
        rng = self.rng(1)
        created = self.now - 400 * DAY
        badges: set[str] = set()

        def add(username: str, role: str, org_code: str, female_share: float, locale: str = "sr-Latn") -> str:
            uid = self.ids.new(created)
            while True:
                badge = f"{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
                if badge not in badges:
                    badges.add(badge)
                    break
            self.rows["users"].append((uid, username, self._name(rng, female_share), role, self.org[org_code],
                                       badge, self.pw, locale, 1, created, created))
            return uid

        n = 0
        for station in D.AREA_SHARE:
            self.officers[station] = []
            for _ in range(D.OFFICERS_PER_STATION):
                n += 1
                self.officers[station].append(add(f"officer{n:02d}", "officer", station, 0.2))
        for i in range(1, 6):
            self.dispatchers.append(add(f"dispatcher{i}", "dispatcher", "SM", 0.55,
                                        "sr-Cyrl" if i == 4 else "sr-Latn"))
        self.commander = add("commander", "commander", "SM", 0.3)
        add("admin", "admin", "SM", 0.3, "en")

    def units_and_types(self) -> None:
        rng = self.rng(2)
        created = self.now - 2 * 365 * DAY
        for call_sign, kind, station in D.UNITS:
            s = self.station_org[station]
            offset = rng.randint(-1500, 1500)
            self.units.append(_Unit(self.ids.new(created), call_sign, kind, station, self.org[station],
                                    s.lat, s.lon, offset))
        # Two phones whose clocks were minutes off for a few days: the server corrects and flags.
        a, b = rng.sample([u for u in self.units if u.call_sign in D.ROUND_THE_CLOCK.values()], 2)
        start = self.now - rng.randint(8, 14) * DAY
        a.skew = (4 * MIN + 12_000, start, start + rng.randint(2, 4) * DAY)
        start = self.now - rng.randint(2, 6) * DAY
        b.skew = (-(2 * MIN + 40_000), start, start + rng.randint(1, 2) * DAY)
        for i, (code, prio, labels) in enumerate(D.INCIDENT_TYPES):
            self.rows["incident_types"].append((code, prio, _json(labels), (i + 1) * 10, 1))

    # -- shifts ----------------------------------------------------------------------

    def shifts(self) -> None:
        rng = self.rng(3)
        by_sign = {u.call_sign: u for u in self.units}
        first = self.today - timedelta(days=HISTORY_DAYS + 1)
        last = self.today + timedelta(days=1)
        pairs: dict[str, list[list[str]]] = {}
        offsets: dict[str, int] = {}
        for station, officers in self.officers.items():
            people = list(officers)
            rng.shuffle(people)
            pairs[station] = [people[i:i + 2] for i in range(0, len(people), 2)]
            offsets[station] = rng.randrange(len(D.ROTATION))
        day = first
        while day <= last:
            n = day.toordinal()
            for station in self.officers:
                crews = pairs[station]
                for k, crew in enumerate(crews[:4]):
                    slot = D.ROTATION[(n + offsets[station] + 2 * k) % len(D.ROTATION)]
                    if slot is not None:
                        self._shift(rng, by_sign[D.ROUND_THE_CLOCK[station]], day, slot, crew)
                planned = D.DAY_CREW_PLAN[station].get(day.isoweekday())
                if planned is not None:
                    self._shift(rng, by_sign[planned[1]], day, planned[0], crews[4])
            day += timedelta(days=1)
        for unit in self.units:
            unit.shifts.sort(key=lambda s: s.start)
            unit.starts = [s.start for s in unit.shifts]

    def _shift(self, rng: random.Random, unit: _Unit, day: date, slot: str, crew: list[str]) -> None:
        start = _local_ms(day, SHIFT_HOURS[slot])
        end_day = day + timedelta(days=1) if slot == "22" else day
        end = _local_ms(end_day, (SHIFT_HOURS[slot] + 8) % 24)
        created = min(start - 6 * DAY + 9 * HOUR, self.now - HOUR)
        sh = _Shift(self.ids.new(created), unit, start, end, list(crew))
        unit.shifts.append(sh)
        note = None
        if rng.random() < 0.08:
            note = rng.choice(("Pojačana kontrola saobraćaja", "Kontrola brzine na IB-21",
                               "Obilazak udaljenih zaseoka", "Pojačan nadzor granične linije",
                               "Obezbeđenje utakmice"))
        self.rows["shifts"].append((sh.id, self.org[unit.station], unit.id, start, end,
                                    rng.choice(D.PLANNED_AREAS[unit.station]), note, self.commander,
                                    created, created))
        for i, uid in enumerate(crew):
            self.rows["shift_members"].append((sh.id, uid, "lead" if i == 0 else "member"))

    # -- incidents -------------------------------------------------------------------

    def _dispatcher_at(self, t: int) -> str:
        lt = _local(t)
        ordinal = lt.date().toordinal()
        if lt.hour < 6:
            ordinal, slot = ordinal - 1, 2
        else:
            slot = 0 if lt.hour < 14 else 1 if lt.hour < 22 else 2
        return self.dispatchers[(ordinal * 3 + slot) % len(self.dispatchers)]

    def _call_times(self, rng: random.Random) -> list[int]:
        times: list[int] = []
        start_day = self.today - timedelta(days=HISTORY_DAYS)
        for i in range(HISTORY_DAYS + 1):
            day = start_day + timedelta(days=i)
            weekend = day.isoweekday() in (5, 6, 7)
            n = rng.randint(20, 31) + (rng.randint(4, 9) if weekend else 0)
            weights = list(D.HOUR_WEIGHTS)
            if day.isoweekday() in (6, 7):  # Friday and Saturday nights run late
                for h in (0, 1, 2, 3):
                    weights[h] *= 1.8
            midnight = _local_ms(day, 0)
            for _ in range(n):
                hour = _weighted(rng, range(24), weights)
                t = midnight + hour * HOUR + rng.randrange(HOUR)
                if t < self.now - 2 * MIN:
                    times.append(t)
        times.sort()
        return times

    def _place(self, rng: random.Random, station: str, itype: str) -> D.Place:
        places = D.PLACES[station]
        weights = []
        for p in places:
            w = p.weight
            if itype in BORDER_TYPES:
                w = w * 3 if (p.crossing or p.name in ("Batrovci", "Gibarac", "Jamena", "Morović",
                                                       "Berkasovo", "Adaševci")) else w * 0.2
            elif p.crossing and itype not in ("traffic_accident", "suspicious_person", "theft"):
                w *= 0.1
            weights.append(w)
        return _weighted(rng, places, weights)

    def _location(self, rng: random.Random, station: str, place: D.Place, itype: str) -> tuple[float, float, str]:
        if itype == "traffic_accident" and rng.random() < 0.3:
            road = rng.choice(D.ROADS[station])
            lat, lon = _jitter(rng, place.lat, place.lon, 2.5)
            return lat, lon, road
        if place.crossing:
            lat, lon = _jitter(rng, place.lat, place.lon, 0.4)
            return lat, lon, f"Granični prelaz {place.name.removeprefix('GP ')}"
        if itype in BORDER_TYPES:
            lat, lon = _jitter(rng, place.lat, place.lon, 2.0)
            where = rng.choice(("atar sela", "pruga kod sela", "šuma kod sela", "napušteni objekat, selo"))
            return lat, lon, f"{where[0].upper()}{where[1:]} {place.name}"
        if place.town:
            lat, lon = _jitter(rng, place.lat, place.lon, 1.6)
            streets = D.TOWN_STREETS.get(place.name, D.VILLAGE_STREETS)
        else:
            lat, lon = _jitter(rng, place.lat, place.lon, 0.6)
            streets = D.VILLAGE_STREETS
        number = rng.randint(1, 140)
        suffix = rng.choice(("", "", "", "", "a", "b")) if number < 60 else ""
        return lat, lon, f"{rng.choice(streets)} {number}{suffix}, {place.name}"

    def _unit_fits(self, unit: _Unit, itype: str, dist_km: float) -> bool:
        if unit.kind == "foot":
            return itype in FOOT_TYPES and dist_km <= 1.8
        if unit.kind == "traffic":
            return itype in TRAFFIC_TYPES
        if unit.kind == "motorcycle":
            return itype in TRAFFIC_TYPES or itype in FOOT_TYPES
        return True

    def _unit_pos(self, rng: random.Random, unit: _Unit) -> tuple[float, float]:
        """Where a unit roughly is when a call comes (history has no pings)."""
        if unit.kind == "border":
            p = rng.choice(D.PLACES["SM-SID"][:6])
            return _jitter(rng, p.lat, p.lon, 2.5)
        return _jitter(rng, unit.lat, unit.lon, 1.0 if unit.kind == "foot" else 3.5)

    def _candidates(self, rng: random.Random, station: str, t: int, lat: float, lon: float,
                    itype: str, exclude: set[str], wide: bool = False) -> list[tuple[float, _Unit]]:
        local, other = [], []
        for u in self.units:
            if u.id in exclude or u.busy_until > t or u.shift_at(t) is None:
                continue
            ulat, ulon = self._unit_pos(rng, u)
            dist = _haversine_km(ulat, ulon, lat, lon)
            if not self._unit_fits(u, itype, dist):
                continue
            if u.station == station:
                local.append((dist, u))
            elif u.kind in ("car", "border") and (dist < 30 or wide):
                other.append((dist + 8.0, u))  # a neighbour station's car comes only if needed
        local.sort(key=lambda x: (x[0], x[1].call_sign))
        other.sort(key=lambda x: (x[0], x[1].call_sign))
        return local + other

    def _milestones(self, rng: random.Random, a: _Asg, dist_km: float, prio: int, *, patrol: bool) -> None:
        if patrol:
            a.ack = a.assigned_at + rng.randint(2_000, 12_000)
            a.on_scene = a.ack + rng.randint(5_000, 40_000)
            a.planned_arrival = a.on_scene
            return
        a.ack = a.assigned_at + min(90_000, 10_000 + int(rng.expovariate(1 / 22_000)))
        a.en_route = a.ack + rng.randint(5_000, 75_000)
        speed = {1: 80, 2: 66, 3: 52, 4: 46}[prio] * (0.09 if a.unit.kind == "foot" else 1.0)
        travel_min = dist_km * 1.35 / speed * 60 + rng.uniform(1.5, 4.0) + rng.expovariate(1 / 2.0)
        travel_min = max(4.0, min(travel_min, 35.0 if rng.random() < 0.95 else 48.0))
        a.on_scene = max(a.assigned_at + int(travel_min * MIN), a.en_route + MIN)
        a.planned_arrival = a.on_scene

    def _finish(self, rng: random.Random, a: _Asg, itype: str) -> None:
        assert a.on_scene is not None
        a.action = a.on_scene + rng.randint(20_000, 5 * MIN)
        lo, hi = D.HANDLING_MIN[itype]
        a.cleared = a.action + int(rng.triangular(lo, hi, lo + (hi - lo) * 0.35) * MIN)

    def incidents(self) -> list[_Inc]:
        rng = self.rng(4)
        calls: list[tuple[int, str | None]] = [(t, None) for t in self._call_times(rng)]
        # A few calls right before `now`, so the board always shows a unit busy, one en
        # route and a call not yet dispatched (more come from the regular flow).
        for phase, back in (("busy", 50), ("en_route", 9), ("new", 1)):
            calls.append((self.now - back * MIN - rng.randint(0, 40_000), phase))
        calls.sort(key=lambda c: (c[0], c[1] or ""))
        stations = list(D.AREA_SHARE)
        shares = [D.AREA_SHARE[s] for s in stations]
        # Most on-duty units should be free at `now`: a regular call of the last hours that
        # would leave more than half of them engaged is rolled back (it "never happened").
        on_duty_now = sum(1 for u in self.units if u.shift_at(self.now) is not None)
        cap = max(2, on_duty_now // 2)
        forced_left = sum(1 for _, p in calls if p in ("busy", "en_route"))
        out: list[_Inc] = []
        for call, phase in calls:
            if phase is None and call > self.now - 6 * HOUR:
                snap = self._snapshot(rng)
                inc = self._one_incident(rng, call, phase, stations, shares)
                engaged = sum(1 for u in self.units if u.busy_until > self.now)
                if inc is not None and engaged + forced_left > cap:
                    self._restore(rng, snap)
                    inc = None
            else:
                inc = self._one_incident(rng, call, phase, stations, shares)
                if phase in ("busy", "en_route"):
                    forced_left -= 1
            if inc is not None:
                out.append(inc)
        return out

    def _snapshot(self, rng: random.Random) -> Any:
        return (rng.getstate(), self.ids._rng.getstate(),
                [(u.busy_until, len(u.offline)) for u in self.units])

    def _restore(self, rng: random.Random, snap: Any) -> None:
        rng.setstate(snap[0])
        self.ids._rng.setstate(snap[1])
        for u, (busy, n) in zip(self.units, snap[2]):
            u.busy_until = busy
            del u.offline[n:]

    def _one_incident(self, rng: random.Random, call: int, phase: str | None,
                      stations: list[str], shares: list[float]) -> _Inc | None:
        if phase is not None:
            # Forced recent call: pick a free on-duty car whose shift covers `now`.
            free = [u for u in self.units
                    if u.kind in ("car", "border") and u.busy_until <= call - MIN
                    and u.shift_at(call) is not None and u.shift_at(self.now) is not None]
            if not free:
                return None
            forced_unit = rng.choice(free)
            station = forced_unit.station
        else:
            forced_unit = None
            station = _weighted(rng, stations, shares)
        # What happens depends on where: border area, town or village.
        if station == "SM-SID":
            weights = D.TYPE_WEIGHTS["border"]
            itype = _weighted(rng, list(weights), list(weights.values()))
            place = self._place(rng, station, itype)
        else:
            places = D.PLACES[station]
            place = _weighted(rng, places, [p.weight for p in places])
            weights = D.TYPE_WEIGHTS["town" if place.town else "village"]
            itype = _weighted(rng, list(weights), list(weights.values()))
        lat, lon, address = self._location(rng, station, place, itype)
        prio = next(p for c, p, _ in D.INCIDENT_TYPES if c == itype)
        r = rng.random()
        if r < 0.12:
            prio = max(1, prio - 1)
        elif r < 0.24:
            prio = min(4, prio + 1)
        if itype in BORDER_TYPES:
            source = _weighted(rng, ["patrol", "112", "113", "other"], [45, 20, 20, 15])
        elif itype in ("animal_on_road", "drunk_driver", "suspicious_person", "traffic_accident"):
            source = _weighted(rng, ["112", "113", "patrol", "other"], [45, 35, 17, 3])
        else:
            source = _weighted(rng, ["112", "113", "patrol", "other"], [58, 35, 5, 2])
        if phase is not None and source == "patrol":
            source = "112"

        # Who goes, and when.
        delay = {1: (50, 240), 2: (70, 360), 3: (90, 600), 4: (120, 600)}[prio]
        t_disp = call + rng.randint(*delay) * 1000
        if phase is not None:
            assert forced_unit is not None
            t_disp = call + rng.randint(60, 120) * 1000
            cands = [(_haversine_km(*self._unit_pos(rng, forced_unit), lat, lon), forced_unit)]
        elif source == "patrol":
            t_disp = call + rng.randint(10, 60) * 1000
            cands = [(0.0, u) for _, u in self._candidates(rng, station, t_disp, lat, lon, itype, set())
                     if u.station == station]
        else:
            cands = self._candidates(rng, station, t_disp, lat, lon, itype, set())
            if not cands:
                # Nobody free here: the next free unit anywhere in the directorate, or the
                # first one of this station to clear, whichever comes first.
                cands = self._candidates(rng, station, t_disp + 3 * MIN, lat, lon, itype, set(), wide=True)
                if cands:
                    t_disp += 3 * MIN
            tries = 0
            while not cands and tries < 4:
                on_duty = [u.busy_until for u in self.units
                           if u.shift_at(t_disp) is not None and u.busy_until > t_disp]
                if not on_duty:
                    break
                t_disp = min(on_duty) + rng.randint(30, 150) * 1000
                cands = self._candidates(rng, station, t_disp, lat, lon, itype, set(), wide=True)
                tries += 1
        if not cands:
            return None
        if len(cands) > 1 and rng.random() < 0.15:
            cands[0], cands[1] = cands[1], cands[0]   # the dispatcher's pick is not always the nearest
        dispatcher = self._dispatcher_at(call)
        primary_dist, unit = cands[0]
        lead = unit.lead_at(call)
        created_by = lead if source == "patrol" else dispatcher
        assigned_by = lead if source == "patrol" else dispatcher

        inc = _Inc(
            id=self.ids.new(call), station=station, source=source, call=call, type=itype, priority=prio,
            lat=lat, lon=lon, address=address, description=rng.choice(D.DESCRIPTIONS[itype]),
            hazards=self._hazards(rng, itype),
            caller_name=None, caller_phone=None, created_by=created_by,
            created_at=call + min(60_000, (t_disp - call) // 2),
        )
        if source in ("112", "113"):
            if rng.random() < 0.9:
                inc.caller_name = self._caller(rng)
            inc.caller_phone = _phone(rng)
        elif source == "other":
            if itype in BORDER_TYPES:
                inc.caller_name = rng.choice(("Termovizijski nadzor GP Batrovci", "Granična policija Hrvatske",
                                              "Železnička stanica Šid"))
            else:
                inc.caller_name = rng.choice(("Hitna pomoć Sremska Mitrovica", "VSJ Ruma",
                                              "Centar za socijalni rad Inđija", "Putevi Srbije, dežurna služba"))

        # Declined first, then reassigned to the next unit.
        if phase is None and source != "patrol" and len(cands) > 1 and rng.random() < 0.035:
            first = _Asg(self.ids.new(t_disp), unit, True, assigned_by, t_disp)
            first.declined_at = t_disp + rng.randint(20, 90) * 1000
            first.decline_reason = rng.choice(D.DECLINE_REASONS)
            unit.busy_until = max(unit.busy_until, first.declined_at)
            inc.assignments.append(first)
            primary_dist, unit = cands[1]
            first.replaced_by = unit.id
            t_disp = first.declined_at + rng.randint(30, 120) * 1000

        a = _Asg(self.ids.new(t_disp), unit, True, assigned_by, t_disp)
        self._milestones(rng, a, primary_dist, prio, patrol=source == "patrol")
        inc.assignments.append(a)

        if phase is not None:
            self._force_phase(rng, a, phase, itype)
        elif source != "patrol" and rng.random() < 0.03:
            assert a.en_route is not None
            lo = a.en_route + MIN
            a.cancel_at = rng.randint(lo, max(lo, a.on_scene - MIN))
            a.on_scene = None
            inc.cancelled = True
        else:
            self._finish(rng, a, itype)
            if source != "patrol" and rng.random() < 0.07:
                gone = _weighted(rng, ["ack", "en_route", "action"], [40, 35, 25])
                setattr(a, gone, None)
        unit.busy_until = a.end()

        # Backup for the urgent ones.
        if phase is None and not inc.cancelled and rng.random() < {1: 0.35, 2: 0.08}.get(prio, 0.0):
            more = [(d, u) for d, u in self._candidates(rng, station, t_disp + MIN, lat, lon, itype,
                                                        {x.unit.id for x in inc.assignments})
                    if u.kind != "foot"]
            if more:
                dist, bu = more[0]
                b = _Asg(self.ids.new(t_disp + MIN), bu, False, assigned_by,
                         t_disp + rng.randint(60, 300) * 1000)
                self._milestones(rng, b, dist, prio, patrol=False)
                assert b.on_scene is not None and a.cleared is not None
                b.action = b.on_scene + rng.randint(15_000, 3 * MIN)
                b.cleared = max(b.action + 5 * MIN, min(a.cleared - MIN, b.action + rng.randint(10, 40) * MIN))
                bu.busy_until = b.cleared
                inc.assignments.append(b)

        ends = [x.end() for x in inc.assignments]
        if inc.cancelled:
            inc.closed_at = max(ends)
            inc.outcome = rng.choice(D.CANCEL_OUTCOMES)
        else:
            inc.closed_at = max(ends) + rng.randint(1, 15) * MIN
            inc.outcome = rng.choice(D.OUTCOMES[itype])

        self._offline(rng, inc)
        self._notes(rng, inc, dispatcher)
        return inc

    def _force_phase(self, rng: random.Random, a: _Asg, phase: str, itype: str) -> None:
        now = self.now
        if phase == "new":        # taken a minute ago, dispatch still to come
            a.assigned_at = now + 2 * MIN
            a.ack = a.assigned_at + 30_000
            a.en_route = a.ack + 20_000
            a.on_scene = a.assigned_at + 9 * MIN
        elif phase == "en_route":
            a.ack = a.assigned_at + 25_000
            a.en_route = a.ack + 30_000
            a.on_scene = now + rng.randint(3, 8) * MIN
        else:                     # busy: on scene and acting, not cleared yet
            self._finish(rng, a, itype)
            a.cleared = max(a.cleared or 0, now + rng.randint(15, 40) * MIN)
            return
        a.planned_arrival = a.on_scene
        self._finish(rng, a, itype)

    def _hazards(self, rng: random.Random, itype: str) -> str | None:
        options = {
            "assault": "Lice naoružano nožem", "domestic_violence": "Prisutna deca; raniji incidenti",
            "burglary": "Pas u dvorištu", "public_order": "Lica pod dejstvom alkohola",
            "fire_assist": "Plinske boce u objektu", "migrant_group": "Među licima ima dece i povređenih",
        }
        if itype in options and rng.random() < 0.3:
            return options[itype]
        return None

    def _caller(self, rng: random.Random) -> str:
        first = rng.choice(D.FEMALE_FIRST if rng.random() < 0.5 else D.MALE_FIRST)
        return f"{first} {rng.choice(D.SURNAMES)}"

    def _offline(self, rng: random.Random, inc: _Inc) -> None:
        """Some phones lose coverage: the milestones they tap sync minutes later."""
        for a in inc.assignments:
            if a.declined_at is not None:
                continue
            p = 0.28 if a.unit.kind == "border" or inc.station == "SM-SID" else 0.07
            if rng.random() >= p:
                continue
            marks = [(n, t) for n, t in (("en_route", a.en_route), ("on_scene", a.on_scene),
                                         ("action", a.action), ("cleared", a.cleared)) if t is not None]
            if not marks:
                continue
            _, t0 = rng.choice(marks)
            back = t0 + rng.randint(2, 25) * MIN + rng.randint(0, 59_000)
            if back > self.now:  # not synced yet would mean: not in the database yet
                back = self.now - rng.randint(5_000, 60_000)
                if back <= t0:
                    continue
            a.unit.offline.append((t0, back))
            for n, t in marks:
                if t0 <= t <= back:
                    a.late[n] = back - t

    def _notes(self, rng: random.Random, inc: _Inc, dispatcher: str) -> None:
        a = next((x for x in inc.assignments if x.declined_at is None), None)
        if rng.random() < 0.22:
            inc.notes.append((inc.call + rng.randint(1, 6) * MIN, dispatcher, None, rng.choice(D.DISPATCH_NOTES)))
        if a is not None and a.on_scene is not None and rng.random() < 0.28:
            inc.notes.append((a.on_scene + rng.randint(2, 20) * MIN, a.unit.lead_at(a.on_scene), a.unit,
                              rng.choice(D.OFFICER_NOTES)))
        if a is not None and not inc.cancelled and rng.random() < 0.025:
            inc.notes.append((inc.closed_at + rng.randint(10, 360) * MIN, a.unit.lead_at(inc.closed_at), a.unit,
                              rng.choice(D.LATE_NOTES)))

    # -- rows as seen at `now` -----------------------------------------------------

    def incident_rows(self, incidents: list[_Inc]) -> tuple[int, str, int]:
        rng = self.rng(5)
        now = self.now
        status_events: list[tuple[_Unit, int, str, str | None, float | None, float | None, str | None]] = []
        active: dict[str, str] = {}       # unit id -> assignment id
        number = 0
        text = ""
        open_count = 0
        for inc in incidents:
            number += 1
            text = f"SM-{_local(inc.call).year}-{number:06d}"
            inc.number = text
            live = [a for a in inc.assignments if a.assigned_at <= now]
            if inc.cancelled and inc.closed_at <= now:
                state = "cancelled"
            elif inc.closed_at <= now:
                state = "closed"
            else:
                open_count += 1
                working = [a for a in live if a.declined_at is None or a.declined_at > now]
                if any(a.on_scene is not None and a.on_scene <= now for a in working):
                    state = "in_progress"
                elif working:
                    state = "dispatched"
                else:
                    state = "new"
            closed = state in ("closed", "cancelled")
            touched = [inc.created_at]
            for a in live:
                row, events = self._assignment_row(inc, a)
                self.rows["assignments"].append(row)
                status_events.extend(events)
                touched.append(row[-1])
                if row[3] in ("pending", "acknowledged", "en_route", "on_scene"):
                    active[a.unit.id] = a.id
            if closed:
                touched.append(inc.closed_at)
            updated = max(touched)
            self.rows["incidents"].append((
                inc.id, text, self.org[inc.station], inc.source, inc.call, inc.type, inc.priority,
                inc.lat, inc.lon, inc.address, inc.description, inc.hazards, inc.caller_name, inc.caller_phone,
                state, inc.outcome if closed else None, inc.closed_at if closed else None, inc.created_by,
                inc.created_at, updated, 1 + len(live) + (1 if closed else 0), "{}",
            ))
            for at, author, unit, body in inc.notes:
                if at > now:
                    continue
                offset = unit.offset_at(at) if unit else 0
                server_at = at + rng.randint(120, 1500)
                if unit is not None and any(a <= at <= b for a, b in unit.offline):
                    server_at = next(b for a, b in unit.offline if a <= at <= b) + rng.randint(200, 3000)
                node = f"seed-{unit.call_sign}" if unit else "seed-console"
                late = 1 if closed and at > inc.closed_at else 0
                self.rows["notes"].append((self.ids.new(at), inc.id, author, unit.id if unit else None, None,
                                           body, at - offset, at, server_at, hlc(at, node), late,
                                           '{"late":true}' if late else "{}"))
        self._unit_rows(status_events, active)
        return number, text, open_count

    def _assignment_row(self, inc: _Inc, a: _Asg) -> tuple[tuple[Any, ...], list[Any]]:
        now = self.now

        def seen(t: int | None) -> int | None:
            return t if t is not None and t <= now else None

        ack, en_route, on_scene = seen(a.ack), seen(a.en_route), seen(a.on_scene)
        action, cleared, declined, cancel = seen(a.action), seen(a.cleared), seen(a.declined_at), seen(a.cancel_at)
        if declined is not None:
            state, ended = "declined", declined
        elif cancel is not None:
            state, ended = "cancelled", cancel
        elif cleared is not None:
            state, ended = "cleared", cleared
        elif on_scene is not None:
            state, ended = "on_scene", None
        elif en_route is not None:
            state, ended = "en_route", None
        elif ack is not None:
            state, ended = "acknowledged", None
        else:
            state, ended = "pending", None
        late = {f"{k}_at": {"offline": True, "sync_delay_ms": v}
                for k, v in a.late.items() if seen(getattr(a, k)) is not None}
        flags = _json(late) if late else "{}"
        marks = [t for t in (a.assigned_at, ack, declined, en_route, on_scene, action, cleared, cancel) if t]
        row = (a.id, inc.id, a.unit.id, state, 1 if a.is_primary else 0, a.assigned_by, a.assigned_at,
               ack, declined, a.decline_reason if declined else None, en_route, on_scene, action, cleared,
               ended, a.replaced_by if declined else None, flags, len(marks), a.assigned_at, max(marks))
        events: list[Any] = []
        if declined is None:
            for status, t, where in (("en_route", en_route, None), ("on_scene", on_scene, inc),
                                     ("busy", action, inc), ("available", cleared or cancel, inc)):
                if t is not None:
                    lat = inc.lat if where else None
                    lon = inc.lon if where else None
                    events.append((a.unit, t, status, a.id, lat, lon, None))
        return row, events

    def _unit_rows(self, events: list[Any], active: dict[str, str]) -> None:
        rng = self.rng(6)
        now = self.now
        by_unit: dict[str, list[Any]] = {u.id: [] for u in self.units}
        for ev in events:
            by_unit[ev[0].id].append(ev)
        for u in self.units:
            # Shift boundaries: on at the start of a crewed block, off at its end
            # (or once the job running at the end is cleared).
            jobs = [(a.assigned_at, a.end()) for a, _ in self._all_asg
                    if a.unit is u and a.declined_at is None]
            for i, s in enumerate(u.shifts):
                if s.start > now:
                    break
                if i == 0 or u.shifts[i - 1].end != s.start:
                    by_unit[u.id].append((u, s.start, "available", None, None, None, "shift"))
                if i + 1 < len(u.shifts) and u.shifts[i + 1].start == s.end:
                    continue
                # Jobs running at the end of the shift (or taken just after it) are
                # finished first: overtime, then off duty.
                off = _duty_end(jobs, s.end)
                if off != s.end:
                    off += rng.randint(2, 8) * MIN
                if off <= now:
                    by_unit[u.id].append((u, off, "off_duty", None, None, None, "shift"))
        ping_tail = self._pings(rng)
        for u in self.units:
            evs = sorted(by_unit[u.id], key=lambda e: (e[1], e[2]))
            last = None
            for ev in evs:
                _, t, status, asg, lat, lon, _kind = ev
                if t > now:
                    continue
                if lat is None:
                    lat, lon = _jitter(rng, u.lat, u.lon, 0.3 if status in ("available", "off_duty") else 3.0)
                server_at = t + rng.randint(150, 1800)
                flags: dict[str, Any] = {}
                window = next((w for w in u.offline if w[0] <= t <= w[1]), None)
                if window is not None:
                    server_at = window[1] + rng.randint(300, 4000)
                    flags = {"offline": True, "sync_delay_ms": server_at - t}
                offset = u.offset_at(t)
                if abs(offset) > 30_000:
                    flags["offset_ms"] = offset
                node = f"seed-{u.call_sign}"
                h = hlc(t, node)
                self.rows["unit_status_events"].append((
                    self.ids.new(t), u.id, status, asg, u.lead_at(t), None, t - offset, t,
                    server_at, h, lat, lon, _json(flags) if flags else "{}"))
                last = (t, status, h)
            status, status_at, status_hlc = "off_duty", None, None
            if last is not None:
                status_at, status, status_hlc = last
            current = active.get(u.id)
            ping = ping_tail.get(u.id)
            if ping is not None:
                plat, plon, acc, pat = ping
            else:
                plat, plon = _jitter(rng, u.lat, u.lon, 0.25)
                acc = float(rng.randint(5, 20))
                past = [s.end for s in u.shifts if s.end <= now]
                pat = max(past) if past else None
            n_events = sum(1 for e in evs if e[1] <= now)
            updated = max(x for x in (status_at, pat, u.shifts[0].start if u.shifts else None, now - 2 * 365 * DAY)
                          if x is not None)
            self.rows["units"].append((u.id, u.call_sign, u.kind, u.org_id, 1, status, status_at, status_hlc,
                                       current, plat, plon, acc, pat, 1 + n_events, now - 2 * 365 * DAY,
                                       min(updated, now)))

    # -- pings -----------------------------------------------------------------------

    def _pings(self, rng: random.Random) -> dict[str, tuple[float, float, float, int]]:
        """Tracks of the last 24 hours of shifts, a fix a minute per crewed unit; returns
        each unit's last fix."""
        now = self.now
        day_start = now - DAY
        tail: dict[str, tuple[float, float, float, int]] = {}
        jobs_by_unit: dict[str, list[_Asg]] = {}
        for a, inc in self._all_asg:
            if a.declined_at is None and a.assigned_at >= day_start - 12 * HOUR:
                jobs_by_unit.setdefault(a.unit.id, []).append(a)
        for u in self.units:
            blocks: list[list[int]] = []
            for s in u.shifts:
                if s.end <= day_start or s.start > now:
                    continue
                if blocks and blocks[-1][1] == s.start:
                    blocks[-1][1] = s.end
                else:
                    blocks.append([s.start, s.end])
            jobs = sorted(jobs_by_unit.get(u.id, []), key=lambda a: a.assigned_at)
            for a0, b0 in blocks:
                # A job running at the end of the shift keeps the phone reporting until cleared.
                a_ms = max(a0, day_start)
                b_ms = min(_duty_end([(a.assigned_at, a.end()) for a in jobs], b0), now)
                last = self._track(rng, u, a_ms, b_ms, jobs)
                if last is not None:
                    tail[u.id] = last
        return tail

    def _track(self, rng: random.Random, u: _Unit, a_ms: int, b_ms: int,
               jobs: list[_Asg]) -> tuple[float, float, float, int] | None:
        places = D.PLACES[u.station]
        if u.kind == "border":
            places = tuple(p for p in places if p.crossing or not p.town) + places[:1]
        speed_range = {"foot": (1.0, 1.6), "traffic": (7.0, 13.0), "motorcycle": (8.0, 14.0)}.get(u.kind, (7.0, 14.0))
        lat, lon = _jitter(rng, u.lat, u.lon, 0.15)
        target = (lat, lon)
        pause_until = a_ms + rng.randint(3, 15) * MIN
        heading = 0.0
        origin: dict[str, tuple[float, float]] = {}
        rows = self.rows["location_pings"]
        last = None
        speed_pick = rng.uniform(*speed_range)
        # Coverage gaps (border and villages): fixes are buffered and sent in a burst.
        gaps = list(u.offline)
        t = a_ms
        while t <= b_ms:
            job = next((j for j in jobs if (j.en_route or j.ack or j.assigned_at) <= t < j.end()), None)
            if job is not None:
                inc = self._inc_of[job.id]
                start = job.en_route or job.ack or job.assigned_at
                arrive = job.on_scene or job.planned_arrival
                if t < arrive:
                    if job.id not in origin:
                        origin[job.id] = (lat, lon)
                    olat, olon = origin[job.id]
                    f = (t - start) / max(1, arrive - start)
                    nlat, nlon = olat + (inc.lat - olat) * f, olon + (inc.lon - olon) * f
                else:
                    nlat, nlon = _jitter(rng, inc.lat, inc.lon, 0.008)
                target = (nlat, nlon)
                pause_until = t + rng.randint(2, 10) * MIN
            elif t < pause_until:
                nlat, nlon = lat, lon
            else:
                dist_km = _haversine_km(lat, lon, *target)
                step_km = speed_pick * PING_INTERVAL_MS / 1000 / 1000
                if dist_km <= step_km:
                    nlat, nlon = target
                    if u.kind == "foot":
                        target = _jitter(rng, u.lat, u.lon, 1.5)
                    else:
                        p = _weighted(rng, places, [p.weight for p in places])
                        target = _jitter(rng, p.lat, p.lon, 1.2 if p.town else 0.5)
                    pause_until = t + rng.randint(0, 25 if u.kind == "traffic" else 10) * MIN
                    speed_pick = rng.uniform(*speed_range)
                else:
                    f = step_km / dist_km
                    nlat, nlon = lat + (target[0] - lat) * f, lon + (target[1] - lon) * f
            moved_m = _haversine_km(lat, lon, nlat, nlon) * 1000
            if moved_m > 5:
                heading = _bearing(lat, lon, nlat, nlon)
            lat, lon = nlat, nlon
            if rng.random() >= 0.02:  # a few fixes never make it
                acc = round(rng.uniform(3.0, 14.0) if rng.random() < 0.9 else rng.uniform(25.0, 90.0), 1)
                plat = round(lat + rng.gauss(0, acc / 3 / 111_320), 6)
                plon = round(lon + rng.gauss(0, acc / 3 / 78_000), 6)
                device_at = t - rng.randint(200, 1500)     # the fix, a moment before it is sent
                server_at = t - rng.randint(0, 150)
                gap = next((g for g in gaps if g[0] <= t <= g[1]), None)
                if gap is not None:
                    server_at = gap[1] + rng.randint(300, 4000)
                if server_at <= self.now:
                    rows.append((u.id, u.lead_at(t), None, plat, plon, acc, round(heading, 1),
                                 round(moved_m / (PING_INTERVAL_MS / 1000), 1), device_at - u.offset_at(t),
                                 device_at, server_at))
                    last = (plat, plon, acc, device_at)
            t += PING_INTERVAL_MS
        return last

    # -- all together -----------------------------------------------------------------

    def build(self) -> DemoData:
        self.org_units()
        self.users()
        self.units_and_types()
        self.shifts()
        incidents = self.incidents()
        self._all_asg = [(a, inc) for inc in incidents for a in inc.assignments]
        self._inc_of = {a.id: inc for inc in incidents for a in inc.assignments}
        number, text, open_count = self.incident_rows(incidents)
        return DemoData(self.rows, number, text, open_count)


def build_demo(seed: int, now_ms: int, password_hash: str) -> DemoData:
    """All demo rows, in memory: pure and deterministic in (seed, now_ms, password_hash)."""
    return _Builder(seed, now_ms, password_hash).build()


# --- writing ------------------------------------------------------------------------

_BATCH = 5_000


async def is_empty(db: Database) -> bool:
    """True when the database holds no users, org units, units or incidents."""
    async with db.read() as tx:
        return await _is_empty(tx)


async def _is_empty(tx: Tx) -> bool:
    for table in ("users", "org_units", "units", "incidents"):
        if await tx.fetchval(f"SELECT 1 FROM {table} LIMIT 1") is not None:
            return False
    return True


async def seed_demo(db: Database, *, seed: int = 20241218, now_ms: int | None = None,
                    password_hash: str | None = None) -> SeedSummary:
    """Load the demo data set into an empty, migrated database.

    Raises ValueError when the database already has data. ``now_ms`` defaults
    to the current time; all data is placed relative to it.
    """
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    if not await is_empty(db):
        raise ValueError("demo data goes only into an empty database: this one already has users or "
                         "organisation units (use a new database file or schema)")
    demo = build_demo(seed, now_ms, password_hash or demo_password_hash())
    async with db.transaction() as tx:
        if not await _is_empty(tx):
            raise ValueError("demo data goes only into an empty database: data appeared meanwhile")
        for table, columns in COLUMNS.items():
            rows = demo.rows[table]
            if not rows:
                continue
            placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
            for i in range(0, len(rows), _BATCH):
                await tx.executemany(sql, rows[i:i + _BATCH])
        await tx.execute("UPDATE counters SET value = $1 WHERE name = 'incident_number'", demo.last_number)
    counts = {t: len(demo.rows[t]) for t in TABLES}
    return SeedSummary(seed=seed, now_ms=now_ms, open_incidents=demo.open_incidents,
                       last_incident_number=demo.last_number_text, **counts)
