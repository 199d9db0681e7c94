"""The demo data set: deterministic, plausible, internally consistent, on both databases.

Seeding costs a fraction of a second, so the checks share one seeded database
per adapter (module scope); the determinism tests seed fresh ones.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from server.auth.passwords import verify_password
from server.seed import DEMO_LOGINS, DEMO_PASSWORD, SeedSummary, is_empty, seed_demo
from server.storage import connect
from server.storage.migrate import migrate
from sync.hlc import is_valid as hlc_is_valid
from sync.store import Database
from tests.conftest import drop_pg_schema, fresh_pg_database, require_pg

pytestmark = pytest.mark.asyncio(loop_scope="module")

TZ = ZoneInfo("Europe/Belgrade")
# An evening: units busy, shifts changing soon, plenty of today's pings.
NOW = int(datetime(2026, 3, 30, 19, 40, tzinfo=TZ).timestamp() * 1000)
SEED = 20241218
DAY = 86_400_000

# Tables compared by the determinism tests, with their ordering keys.
DIGEST = {
    "org_units": "id", "users": "id", "units": "id", "incident_types": "code", "shifts": "id",
    "shift_members": "shift_id, user_id", "incidents": "id", "assignments": "id",
    "unit_status_events": "id", "notes": "id", "location_pings": "id", "counters": "name",
}


async def _fresh(dialect: str, tmp: Path) -> tuple[Database, str | None]:
    if dialect == "sqlite":
        db = await connect(f"sqlite:///{tmp / f'seed-{uuid.uuid4().hex[:8]}.db'}")
        await migrate(db)
        return db, None
    require_pg()
    db, schema = await fresh_pg_database()
    return db, schema


async def _dispose(db: Database, schema: str | None) -> None:
    await db.close()
    if schema is not None:
        await drop_pg_schema(schema)


async def _digest(db: Database) -> str:
    h = hashlib.sha256()
    async with db.read() as tx:
        for table, order in DIGEST.items():
            for row in await tx.fetch(f"SELECT * FROM {table} ORDER BY {order}"):
                h.update(json.dumps(row, sort_keys=True, default=str).encode())
    return h.hexdigest()


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgresql"])
async def seeded(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Database, SeedSummary]]:
    db, schema = await _fresh(request.param, tmp_path_factory.mktemp("seed"))
    try:
        assert await is_empty(db)
        summary = await seed_demo(db, seed=SEED, now_ms=NOW)
        yield db, summary
    finally:
        await _dispose(db, schema)


async def _rows(db: Database, sql: str, *args: Any) -> list[dict[str, Any]]:
    async with db.read() as tx:
        return await tx.fetch(sql, *args)


async def _val(db: Database, sql: str, *args: Any) -> Any:
    async with db.read() as tx:
        return await tx.fetchval(sql, *args)


# --- determinism --------------------------------------------------------------------


async def test_same_seed_same_rows_different_seed_differs(seeded, tmp_path: Path) -> None:
    db, _ = seeded
    again, schema = await _fresh(db.dialect, tmp_path)
    other, schema2 = await _fresh(db.dialect, tmp_path)
    try:
        await seed_demo(again, seed=SEED, now_ms=NOW)
        await seed_demo(other, seed=SEED + 1, now_ms=NOW)
        first = await _digest(db)
        assert await _digest(again) == first
        assert await _digest(other) != first
    finally:
        await _dispose(again, schema)
        await _dispose(other, schema2)


async def test_sqlite_and_postgresql_get_identical_rows(seeded, tmp_path: Path) -> None:
    db, _ = seeded
    if db.dialect != "sqlite":
        pytest.skip("compared once, from the SQLite side")
    pg, schema = await _fresh("postgresql", tmp_path)
    try:
        await seed_demo(pg, seed=SEED, now_ms=NOW)
        assert await _digest(pg) == await _digest(db)
    finally:
        await _dispose(pg, schema)


# --- the empty-database rule --------------------------------------------------------------


async def test_refuses_a_database_with_data(seeded) -> None:
    db, _ = seeded
    assert not await is_empty(db)
    with pytest.raises(ValueError, match="empty database"):
        await seed_demo(db, seed=SEED, now_ms=NOW)
    assert await _val(db, "SELECT COUNT(*) FROM users") == 47  # nothing was added


# --- counts -----------------------------------------------------------------------


async def test_counts(seeded) -> None:
    db, summary = seeded
    for table, n in summary.counts().items():
        assert await _val(db, f"SELECT COUNT(*) FROM {table}") == n, table
    roles = {r["role"]: r["n"] for r in await _rows(db, "SELECT role, COUNT(*) AS n FROM users GROUP BY role")}
    assert roles == {"officer": 40, "dispatcher": 5, "commander": 1, "admin": 1}
    assert summary.org_units == 5 and summary.units == 15 and summary.incident_types >= 12
    days = 31
    assert 20 * days <= summary.incidents <= 40 * days
    assert summary.incidents <= summary.assignments <= summary.incidents * 1.4
    assert 0 < summary.location_pings < 50_000
    assert summary.unit_status_events > 3 * summary.incidents
    assert summary.notes > 0
    kinds = {r["kind"] for r in await _rows(db, "SELECT DISTINCT kind FROM units")}
    assert {"car", "foot", "border", "traffic", "motorcycle"} <= kinds
    stations = await _rows(db, "SELECT code, kind, path FROM org_units ORDER BY path")
    assert [(s["code"], s["path"]) for s in stations] == [
        ("SM", "/SM/"), ("SM-IN", "/SM/SM-IN/"), ("SM-RU", "/SM/SM-RU/"), ("SM-SID", "/SM/SM-SID/"),
        ("SM-SM", "/SM/SM-SM/")]
    assert next(s for s in stations if s["code"] == "SM-SID")["kind"] == "border_centre"
    by_day = await _rows(db, "SELECT call_received_at FROM incidents")
    assert max(r["call_received_at"] for r in by_day) <= NOW
    assert min(r["call_received_at"] for r in by_day) >= NOW - 31 * DAY


async def test_incident_types_have_all_labels(seeded) -> None:
    db, _ = seeded
    for row in await _rows(db, "SELECT code, default_priority, labels FROM incident_types"):
        labels = json.loads(row["labels"])
        assert set(labels) >= {"en", "sr-Latn", "sr-Cyrl", "sl"}, row["code"]
        assert 1 <= row["default_priority"] <= 4


async def test_every_role_logs_in_with_the_demo_password(seeded) -> None:
    db, _ = seeded
    usernames = [u for u, _, _ in DEMO_LOGINS]
    assert {"officer01", "dispatcher1", "commander", "admin"} <= set(usernames)
    rows = await _rows(db, "SELECT username, role, password_hash FROM users")
    assert len({r["password_hash"] for r in rows}) == 1  # hashed once, shared
    one_per_role = {r["role"]: r for r in rows}
    assert len(one_per_role) == 4
    assert verify_password(next(iter(one_per_role.values()))["password_hash"], DEMO_PASSWORD)
    assert not verify_password(rows[0]["password_hash"], "wrong")
    by_name = {r["username"]: r["role"] for r in rows}
    for username, role, _ in DEMO_LOGINS:
        assert by_name[username] == role


# --- consistency ---------------------------------------------------------------------


async def test_ids_are_uuids(seeded) -> None:
    db, _ = seeded
    for table in ("org_units", "users", "units", "shifts", "incidents", "assignments", "unit_status_events",
                  "notes"):
        for r in await _rows(db, f"SELECT id FROM {table}"):
            assert str(uuid.UUID(r["id"])) == r["id"]
            assert uuid.UUID(r["id"]).version == 7


async def test_milestones_are_ordered(seeded) -> None:
    db, _ = seeded
    rows = await _rows(
        db, "SELECT a.*, i.call_received_at, i.state AS inc_state FROM assignments a"
            " JOIN incidents i ON i.id = a.incident_id")
    missing = 0
    for a in rows:
        seq = [a["call_received_at"], a["assigned_at"], a["acknowledged_at"], a["en_route_at"],
               a["on_scene_at"], a["action_at"], a["cleared_at"]]
        present = [t for t in seq if t is not None]
        assert present == sorted(present), a["id"]
        assert all(t <= NOW for t in present)
        missing += sum(1 for t in seq[2:4] if t is None) if a["state"] == "cleared" else 0
        if a["state"] == "cleared":
            assert a["on_scene_at"] and a["cleared_at"] and a["ended_at"] == a["cleared_at"]
        if a["state"] == "declined":
            assert a["declined_at"] and a["decline_reason"] and a["replaced_by_unit_id"]
        if a["state"] == "cancelled":
            assert a["ended_at"] and a["on_scene_at"] is None and a["inc_state"] == "cancelled"
    assert missing > 0  # some officers forgot to tap


async def test_incidents_are_numbered_and_closed_with_an_outcome(seeded) -> None:
    db, summary = seeded
    rows = await _rows(db, "SELECT number, state, outcome, closed_at, call_received_at FROM incidents"
                           " ORDER BY number")
    numbers = [int(r["number"].rsplit("-", 1)[1]) for r in rows]
    assert numbers == list(range(1, len(rows) + 1))
    assert all(r["number"].startswith("SM-20") for r in rows)
    assert await _val(db, "SELECT value FROM counters WHERE name = 'incident_number'") == len(rows)
    assert summary.last_incident_number == rows[-1]["number"]
    states: dict[str, int] = {}
    for r in rows:
        states[r["state"]] = states.get(r["state"], 0) + 1
        if r["state"] in ("closed", "cancelled"):
            assert r["outcome"] and r["closed_at"] >= r["call_received_at"]
        else:
            assert r["outcome"] is None and r["closed_at"] is None
    assert states["closed"] > 0.9 * len(rows)
    assert states.get("cancelled", 0) > 0
    assert states.get("dispatched", 0) + states.get("in_progress", 0) >= 1
    assert summary.open_incidents == len(rows) - states["closed"] - states.get("cancelled", 0)


async def test_units_current_state_matches_assignments_and_history(seeded) -> None:
    db, _ = seeded
    units = await _rows(db, "SELECT * FROM units")
    statuses = [u["status"] for u in units]
    assert statuses.count("off_duty") >= 3
    assert statuses.count("available") >= 1
    assert sum(1 for s in statuses if s in ("en_route", "on_scene", "busy")) >= 2
    for u in units:
        latest = await _rows(db, "SELECT status, event_at, hlc FROM unit_status_events WHERE unit_id = $1"
                                 " ORDER BY event_at DESC, hlc DESC LIMIT 1", u["id"])
        if latest:
            assert (u["status"], u["status_at"], u["status_hlc"]) == (
                latest[0]["status"], latest[0]["event_at"], latest[0]["hlc"]), u["call_sign"]
        if u["current_assignment_id"] is None:
            assert u["status"] in ("available", "off_duty"), u["call_sign"]
            continue
        a = await _rows(db, "SELECT a.unit_id, a.state, i.state AS inc_state FROM assignments a"
                            " JOIN incidents i ON i.id = a.incident_id WHERE a.id = $1", u["current_assignment_id"])
        assert a and a[0]["unit_id"] == u["id"]
        assert a[0]["state"] in ("pending", "acknowledged", "en_route", "on_scene")
        assert a[0]["inc_state"] in ("dispatched", "in_progress")
        assert u["status"] != "off_duty"
    # An active assignment always shows on its unit.
    active = await _rows(db, "SELECT id, unit_id FROM assignments"
                             " WHERE state IN ('pending', 'acknowledged', 'en_route', 'on_scene')")
    current = {u["id"]: u["current_assignment_id"] for u in units}
    assert active and all(current[a["unit_id"]] == a["id"] for a in active)
    # Positions: on-duty units reported within minutes; everyone has one.
    for u in units:
        assert u["last_lat"] is not None and u["last_position_at"] is not None
        if u["status"] != "off_duty":
            assert NOW - u["last_position_at"] < 10 * 60_000, u["call_sign"]


async def test_status_events_are_consistent(seeded) -> None:
    db, _ = seeded
    rows = await _rows(db, "SELECT unit_id, status, device_at, event_at, server_at, hlc, flags"
                           " FROM unit_status_events ORDER BY unit_id, event_at, hlc")
    offline = skewed = 0
    allowed = {"off_duty": {"available"}, "available": {"en_route", "on_scene", "busy", "off_duty", "available"},
               "en_route": {"on_scene", "available", "busy"}, "on_scene": {"busy", "available"},
               "busy": {"available", "off_duty"}}
    prev: dict[str, str] = {}
    for r in rows:
        assert hlc_is_valid(r["hlc"])
        assert r["server_at"] >= r["event_at"] and r["event_at"] <= NOW
        flags = json.loads(r["flags"])
        offline += bool(flags.get("offline"))
        skewed += "offset_ms" in flags
        if abs(r["event_at"] - r["device_at"]) > 30_000:
            assert flags.get("offset_ms") == r["event_at"] - r["device_at"]
        if r["unit_id"] in prev:
            assert r["status"] in allowed[prev[r["unit_id"]]], (prev[r["unit_id"]], r["status"])
        prev[r["unit_id"]] = r["status"]
    assert offline > 0 and skewed > 0


async def test_no_officer_in_two_overlapping_shifts(seeded) -> None:
    db, _ = seeded
    rows = await _rows(db, "SELECT m.user_id, s.starts_at, s.ends_at, u.role FROM shift_members m"
                           " JOIN shifts s ON s.id = m.shift_id JOIN users u ON u.id = m.user_id"
                           " ORDER BY m.user_id, s.starts_at")
    last: dict[str, int] = {}
    for r in rows:
        assert r["role"] == "officer"
        assert r["starts_at"] >= last.get(r["user_id"], 0), r["user_id"]
        last[r["user_id"]] = r["ends_at"]
    sizes = await _rows(db, "SELECT shift_id, COUNT(*) AS n, SUM(CASE WHEN role = 'lead' THEN 1 ELSE 0 END) AS leads"
                            " FROM shift_members GROUP BY shift_id")
    assert all(s["n"] == 2 and s["leads"] == 1 for s in sizes)


async def test_shifts_cover_past_today_and_tomorrow(seeded) -> None:
    db, _ = seeded
    rows = await _rows(db, "SELECT s.starts_at, s.ends_at, u.call_sign FROM shifts s JOIN units u ON u.id = s.unit_id")
    today = datetime.fromtimestamp(NOW / 1000, TZ).date()
    by_day: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        start = datetime.fromtimestamp(r["starts_at"] / 1000, TZ)
        assert start.hour in (6, 14, 22) and start.minute == 0
        by_day.setdefault(start.date(), []).append(r)
    assert min(by_day) <= today.fromordinal(today.toordinal() - 30)
    assert max(by_day) == today.fromordinal(today.toordinal() + 1)
    for day in (today, today.fromordinal(today.toordinal() + 1)):
        starts = {(r["call_sign"], datetime.fromtimestamp(r["starts_at"] / 1000, TZ).hour) for r in by_day[day]}
        for sign in ("SM-11", "RU-21", "IN-31", "GP-41"):  # round the clock
            assert {(sign, 6), (sign, 14), (sign, 22)} <= starts


async def test_everything_is_in_srem(seeded) -> None:
    db, _ = seeded
    for table, lat, lon in (("org_units", "lat", "lon"), ("units", "last_lat", "last_lon"),
                            ("incidents", "lat", "lon"), ("unit_status_events", "lat", "lon"),
                            ("location_pings", "lat", "lon")):
        box = (await _rows(db, f"SELECT MIN({lat}) AS a, MAX({lat}) AS b, MIN({lon}) AS c, MAX({lon}) AS d"
                               f" FROM {table}"))[0]
        assert 44.7 <= box["a"] <= box["b"] <= 45.3, table
        assert 19.0 <= box["c"] <= box["d"] <= 20.4, table


async def test_pings_cover_todays_shifts_only(seeded) -> None:
    db, _ = seeded
    rows = await _rows(db, "SELECT unit_id, MIN(device_at) AS a, MAX(device_at) AS b, MAX(server_at) AS s,"
                           " COUNT(*) AS n FROM location_pings GROUP BY unit_id")
    assert len(rows) >= 4
    for r in rows:
        assert NOW - DAY - 10 * 60_000 <= r["a"] and r["b"] <= NOW + 10 * 60_000 and r["s"] <= NOW + 5_000
        assert r["n"] <= 24 * 60 + 5
