"""Storage conformance: the same tests, unchanged, against every adapter."""

from __future__ import annotations

import asyncio

import pytest

from server.storage.migrate import current_version, latest_version, migrate
from sync.store import Database, IntegrityError


async def _org(db: Database, code: str = "SM") -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO org_units (id, parent_id, kind, code, name, path, created_at)"
            " VALUES ($1, NULL, 'directorate', $2, $3, $4, $5)",
            f"id-{code}", code, f"Directorate {code}", f"/{code}/", 1,
        )


async def test_migrations_are_applied_once(db: Database) -> None:
    assert await current_version(db) == latest_version() >= 1
    assert await migrate(db) == []


async def test_round_trip_of_types(db: Database) -> None:
    await _org(db)
    async with db.read() as tx:
        row = await tx.fetchrow("SELECT id, code, path, created_at, lat FROM org_units WHERE code = $1", "SM")
    assert row == {"id": "id-SM", "code": "SM", "path": "/SM/", "created_at": 1, "lat": None}


async def test_big_integers_and_floats(db: Database) -> None:
    await _org(db)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO units (id, call_sign, kind, org_unit_id, last_lat, last_lon, created_at, updated_at)"
            " VALUES ('u1', 'PA-1', 'car', 'id-SM', $1, $2, $3, $3)",
            44.9765, 19.6124, 1_764_000_000_123,
        )
    async with db.read() as tx:
        row = await tx.fetchrow("SELECT last_lat, last_lon, created_at, status, version FROM units")
    assert row == {"last_lat": 44.9765, "last_lon": 19.6124, "created_at": 1_764_000_000_123,
                   "status": "off_duty", "version": 1}


async def test_rollback_on_error_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO org_units (id, kind, code, name, path, created_at)"
                " VALUES ('x', 'directorate', 'X', 'X', '/X/', 1)"
            )
            raise RuntimeError("boom")
    async with db.read() as tx:
        assert await tx.fetchval("SELECT COUNT(*) FROM org_units") == 0


async def test_unique_violation_is_integrity_error_and_rolls_back(db: Database) -> None:
    await _org(db)
    with pytest.raises(IntegrityError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO org_units (id, kind, code, name, path, created_at)"
                " VALUES ('other', 'station', 'S1', 'S1', '/SM/S1/', 1)"
            )
            await _insert_dup(tx)
    async with db.read() as tx:
        assert await tx.fetchval("SELECT COUNT(*) FROM org_units") == 1


async def _insert_dup(tx) -> None:  # type: ignore[no-untyped-def]
    await tx.execute(
        "INSERT INTO org_units (id, kind, code, name, path, created_at)"
        " VALUES ('dup', 'directorate', 'SM', 'again', '/SM2/', 1)"
    )


async def test_check_constraint_is_integrity_error(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO org_units (id, kind, code, name, path, created_at)"
                " VALUES ('bad', 'galaxy', 'G', 'G', '/G/', 1)"
            )


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO units (id, call_sign, kind, org_unit_id, created_at, updated_at)"
                " VALUES ('u', 'PA-9', 'car', 'no-such-org', 1, 1)"
            )


async def test_execute_returns_rowcount_and_executemany(db: Database) -> None:
    await _org(db)
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO org_units (id, parent_id, kind, code, name, path, created_at)"
            " VALUES ($1, 'id-SM', 'station', $2, $2, $3, 1)",
            [(f"s{i}", f"S{i}", f"/SM/S{i}/") for i in range(5)],
        )
        changed = await tx.execute("UPDATE org_units SET name = 'renamed' WHERE parent_id = 'id-SM'")
    assert changed == 5
    async with db.read() as tx:
        rows = await tx.fetch("SELECT code FROM org_units WHERE path LIKE $1 ORDER BY code", "/SM/%")
    assert [r["code"] for r in rows] == ["S0", "S1", "S2", "S3", "S4", "SM"]


async def test_fetch_helpers_on_empty_results(db: Database) -> None:
    async with db.read() as tx:
        assert await tx.fetch("SELECT id FROM users") == []
        assert await tx.fetchrow("SELECT id FROM users") is None
        assert await tx.fetchval("SELECT id FROM users") is None


async def test_counter_increments_serialise_concurrent_writers(db: Database) -> None:
    """The change-log sequence comes from counters; concurrent writers must not
    lose an increment or see the same value twice."""

    async def bump() -> int:
        async with db.transaction() as tx:
            return int(await tx.fetchval(
                "UPDATE counters SET value = value + 1 WHERE name = 'change_seq' RETURNING value"))

    values = await asyncio.gather(*(bump() for _ in range(40)))
    assert sorted(values) == list(range(1, 41))


async def test_reads_see_committed_writes_only(db: Database) -> None:
    await _org(db)
    async with db.transaction() as tx:
        await tx.execute("UPDATE org_units SET name = 'pending' WHERE code = 'SM'")
        async with db.read() as rtx:
            name = await rtx.fetchval("SELECT name FROM org_units WHERE code = 'SM'")
    assert name == "Directorate SM"
    async with db.read() as rtx:
        assert await rtx.fetchval("SELECT name FROM org_units WHERE code = 'SM'") == "pending"


async def test_cancelled_transaction_rolls_back_and_the_next_one_works(db: Database) -> None:
    started = asyncio.Event()

    async def abandoned() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO org_units (id, kind, code, name, path, created_at)"
                             " VALUES ('gone', 'directorate', 'G', 'G', '/G/', 1)")
            started.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(abandoned())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _org(db, "K")
    async with db.read() as tx:
        assert [r["code"] for r in await tx.fetch("SELECT code FROM org_units ORDER BY code")] == ["K"]


async def test_savepoints_inside_a_transaction(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("SAVEPOINT s")
        await tx.execute("INSERT INTO org_units (id, kind, code, name, path, created_at)"
                         " VALUES ('a', 'directorate', 'A', 'A', '/A/', 1)")
        await tx.execute("ROLLBACK TO SAVEPOINT s")
        await tx.execute("RELEASE SAVEPOINT s")
        await tx.execute("SAVEPOINT s")
        await tx.execute("INSERT INTO org_units (id, kind, code, name, path, created_at)"
                         " VALUES ('b', 'directorate', 'B', 'B', '/B/', 1)")
        await tx.execute("RELEASE SAVEPOINT s")
    async with db.read() as tx:
        assert [r["id"] for r in await tx.fetch("SELECT id FROM org_units")] == ["b"]


async def test_deadlock_is_a_transient_error_and_rolls_back(db: Database) -> None:
    """Two transactions lock two rows in opposite order: SQLite's single writer runs them one
    after the other; PostgreSQL picks one to roll back and reports it as a TransientError."""
    from sync.store import TransientError

    async with db.transaction() as tx:
        await tx.execute("INSERT INTO counters (name, value) VALUES ('dl_a', 0), ('dl_b', 0)")
    first_locked = asyncio.Event(), asyncio.Event()

    async def bump(mine: int, rows: tuple[str, str]) -> str:
        try:
            async with db.transaction() as tx:
                await tx.execute("UPDATE counters SET value = value + 1 WHERE name = $1", rows[0])
                first_locked[mine].set()
                try:  # wait (briefly) until the other one holds its first row too
                    await asyncio.wait_for(first_locked[1 - mine].wait(), 0.5)
                except TimeoutError:
                    pass
                await tx.execute("UPDATE counters SET value = value + 1 WHERE name = $1", rows[1])
            return "ok"
        except TransientError:
            return "rolled back"

    outcomes = await asyncio.gather(bump(0, ("dl_a", "dl_b")), bump(1, ("dl_b", "dl_a")))
    assert "ok" in outcomes
    async with db.read() as tx:
        got = await tx.fetch("SELECT value FROM counters WHERE name IN ('dl_a', 'dl_b')")
    assert [int(r["value"]) for r in got] == [outcomes.count("ok")] * 2


async def test_cancelled_reads_leave_the_pool_usable(db: Database) -> None:
    """Sockets are cancelled mid-read when a client goes away: no reader connection
    may be left inside a transaction for the next request."""
    await _org(db)

    async def reader(delay_steps: int) -> None:
        async with db.read() as tx:
            for _ in range(delay_steps):
                await asyncio.sleep(0)
            await tx.fetchval("SELECT COUNT(*) FROM org_units")

    for round_ in range(30):
        tasks = [asyncio.create_task(reader(i % 3)) for i in range(6)]
        for _ in range(round_ % 4):
            await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for _ in range(10):
        async with db.read() as tx:
            assert await tx.fetchval("SELECT COUNT(*) FROM org_units") == 1
