"""The audit trail is tamper-evident (issue 11.6): a hash chain per database,
appended under one lock, verified by `patrol audit verify`, exported as
checkable JSON lines, pruned by retention without breaking verification."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from server import audit
from server.cli import main
from server.clock import ManualClock
from server.settings import load
from server.storage import connect
from server.storage.migrate import migrate
from sync import engine
from sync.principal import Principal
from sync.store import Database
from tests.conftest import require_pg
from tests.sync.factories import make_world, new_id

VIEWER = Principal(user_id="user-1", role="dispatcher", org_unit_id="org-1", scope_path="/SM/",
                   device_id="dev-1")


async def _write(db: Database, n: int, *, action: str = "view", entity: str = "incident") -> None:
    for i in range(n):
        async with db.transaction() as tx:
            await audit.record(tx, action=action, entity=entity, entity_id=f"e-{i}", principal=VIEWER,
                               fields=("caller_name",), ip="10.0.0.1", detail={"i": i})


async def _rows(db: Database, sql: str, *args: Any) -> list[dict[str, Any]]:
    async with db.read() as tx:
        return await tx.fetch(sql, *args)


async def _exec(db: Database, sql: str, *args: Any) -> None:
    async with db.transaction() as tx:
        await tx.execute(sql, *args)


async def _id_of(db: Database, seq: int) -> int:
    return int((await _rows(db, "SELECT id FROM audit_log WHERE seq = $1", seq))[0]["id"])


async def test_an_untouched_chain_verifies(db: Database) -> None:
    empty = await audit.verify(db)
    assert empty.ok and empty.rows == 0 and empty.line().startswith("audit chain OK: 0 rows")
    await _write(db, 5)
    verdict = await audit.verify(db)
    assert verdict.ok and verdict.rows == 5 and (verdict.first_seq, verdict.last_seq) == (1, 5)
    rows = await _rows(db, "SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == audit.GENESIS_HASH
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:]))
    assert verdict.head == rows[-1]["hash"]
    assert verdict.line() == f"audit chain OK: 5 rows (seq 1..5), head {rows[-1]['hash']}"


@pytest.mark.parametrize(("column", "value"), [("actor_id", "someone-else"), ("entity_id", "e-other"),
                                               ("fields", "description"), ("at", 1), ("action", "create"),
                                               ("detail", '{"i":99}'), ("ip", None)])
async def test_an_altered_row_is_found(db: Database, column: str, value: Any) -> None:
    await _write(db, 5)
    await _exec(db, f"UPDATE audit_log SET {column} = $1 WHERE seq = 3", value)
    verdict = await audit.verify(db)
    assert not verdict.ok
    assert (verdict.broken_id, verdict.broken_seq) == (await _id_of(db, 3), 3)
    assert "altered" in verdict.reason


async def test_an_altered_row_with_a_recomputed_hash_breaks_the_next_link(db: Database) -> None:
    await _write(db, 5)
    row = (await _rows(db, f"SELECT {audit.COLUMNS} FROM audit_log WHERE seq = 3"))[0]
    row["actor_id"] = "someone-else"
    await _exec(db, "UPDATE audit_log SET actor_id = $1, hash = $2 WHERE seq = 3", "someone-else",
                audit.row_hash(row["prev_hash"], row))
    verdict = await audit.verify(db)
    assert not verdict.ok and verdict.broken_seq == 4 and "prev_hash" in verdict.reason


async def test_a_deleted_row_is_found(db: Database) -> None:
    await _write(db, 6)
    await _exec(db, "DELETE FROM audit_log WHERE seq = 3")
    verdict = await audit.verify(db)
    assert not verdict.ok
    assert (verdict.broken_id, verdict.broken_seq) == (await _id_of(db, 4), 4)
    assert "missing (seq 3)" in verdict.reason and "deleted" in verdict.reason
    assert verdict.line().startswith(f"audit chain BROKEN at row id {verdict.broken_id} (seq 4):")


async def test_deleting_from_either_end_is_found(db: Database) -> None:
    await _write(db, 6)
    await _exec(db, "DELETE FROM audit_log WHERE seq >= 5")
    verdict = await audit.verify(db)
    assert not verdict.ok and "last 2 row(s) were deleted" in verdict.reason
    await _exec(db, "DELETE FROM audit_log WHERE seq <= 2")
    verdict = await audit.verify(db)
    assert not verdict.ok and verdict.broken_seq == 3 and "missing (seq 1..2)" in verdict.reason


async def test_a_row_written_around_the_chain_is_found(db: Database) -> None:
    await _write(db, 2)
    await _exec(db, "INSERT INTO audit_log (at, action, entity) VALUES (1, 'view', 'incident')")
    verdict = await audit.verify(db)
    assert not verdict.ok and "no place in the chain" in verdict.reason


async def test_concurrent_writers_keep_one_chain(db: Database) -> None:
    """Many transactions at once on one instance (a pool on PostgreSQL), each holding its
    transaction open a moment after appending."""
    async def writer(k: int) -> None:
        for i in range(5):
            async with db.transaction() as tx:
                await audit.record(tx, action="view", entity="incident", entity_id=f"w{k}-{i}", principal=VIEWER)
                await asyncio.sleep(0.002)
                await audit.record_views(tx, VIEWER, "field_report", [f"r{k}-{i}-a", f"r{k}-{i}-b"])

    await asyncio.gather(*(writer(k) for k in range(8)))
    verdict = await audit.verify(db)
    assert verdict.ok and verdict.rows == 8 * 5 * 3, verdict.line()


async def test_concurrent_instances_and_sync_pushes_keep_one_chain_on_postgresql(database_url: str) -> None:
    """Several server instances (pools) on one PostgreSQL: REST reads, sign-in style rows and
    sync pushes writing caller details all append at once; the chain stays one."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several writer processes: PostgreSQL (SQLite has one writer by design)")
    require_pg()
    dbs = [await connect(database_url) for _ in range(4)]
    try:
        await migrate(dbs[0])
        w = await make_world(dbs[0])

        async def reader(db: Database, k: int) -> None:
            for i in range(10):
                async with db.transaction() as tx:
                    await audit.record_views(tx, VIEWER, "incident", [f"i{k}-{i}"])
                    await asyncio.sleep(0.001 * (i % 3))

        async def dispatcher(db: Database, who: str) -> None:
            dev = w.device(who)
            for i in range(6):
                m = dev.mut("incident.create", {"incident_id": new_id(), "org_unit_id": w.org["ruma"],
                                                "type": "theft", "caller_name": f"c{i}"}, at=1_764_000_000_000)
                res = await engine.apply_batch(db, dev.p, [m], device_now=None)
                assert res.results[0].outcome == "applied", res.results[0]

        await asyncio.gather(*(reader(db, k) for k, db in enumerate(dbs)),
                             dispatcher(dbs[1], "dispatcher"), dispatcher(dbs[2], "commander"))
        verdict = await audit.verify(dbs[3])
        assert verdict.ok and verdict.rows == 4 * 10 + 2 * 6, verdict.line()
        creates = await _rows(dbs[0], "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'create'")
        assert creates[0]["n"] == 12
    finally:
        for db in dbs:
            await db.close()


async def test_verify_after_pruning_passes_and_still_finds_tampering(db: Database, clock: ManualClock) -> None:
    await _write(db, 4)                       # day 0
    clock.advance(days=20)
    await _write(db, 3, entity="field_report")  # day 20
    clock.advance(days=20)                    # day 40: the first four are older than 30 days
    await _write(db, 2, action="login", entity="session")
    assert await audit.prune(db, 30) == 4
    verdict = await audit.verify(db)
    assert verdict.ok, verdict.line()
    assert (verdict.first_seq, verdict.last_seq, verdict.rows) == (5, 10, 6)  # 5 kept + the checkpoint
    cp = (await _rows(db, "SELECT * FROM audit_log WHERE action = 'prune'"))[0]
    assert json.loads(cp["detail"])["through_seq"] == 4 and json.loads(cp["detail"])["deleted"] == 4
    assert cp["seq"] == 10 and cp["at"] == clock.now_ms()
    assert await audit.prune(db, 30) == 0     # nothing more is old enough
    clock.advance(days=15)                    # day 55: the day-20 rows go too, in batches of 2
    assert await audit.prune(db, 30, batch_size=2) == 3
    verdict = await audit.verify(db)
    assert verdict.ok and verdict.first_seq == 8, verdict.line()

    # Cutting more rows from the start and moving the anchor to match is still found:
    # the newest checkpoint in the chain names where pruning really stopped.
    first = (await _rows(db, "SELECT seq, hash FROM audit_log ORDER BY seq LIMIT 1"))[0]
    await _exec(db, "DELETE FROM audit_log WHERE seq = $1", first["seq"])
    await _exec(db, "UPDATE audit_chain SET anchor_seq = $1, anchor_hash = $2", first["seq"], first["hash"])
    verdict = await audit.verify(db)
    assert not verdict.ok and "no pruning checkpoint" in verdict.reason, verdict.line()


async def test_pruning_refuses_to_cut_a_tampered_stretch(db: Database, clock: ManualClock) -> None:
    await _write(db, 4)
    clock.advance(days=40)
    await _write(db, 1)
    await _exec(db, "UPDATE audit_log SET actor_id = 'x' WHERE seq = 2")
    with pytest.raises(audit.AuditChainBroken, match="seq 2"):
        await audit.prune(db, 30)
    assert len(await _rows(db, "SELECT seq FROM audit_log")) == 5  # the evidence is kept


async def test_rows_from_before_the_chain_are_sealed_by_the_first_write(db: Database) -> None:
    # As migration 0005 leaves an existing trail: rows numbered, no hashes, the head unknown.
    async with db.transaction() as tx:
        for i in range(3):
            await tx.execute("INSERT INTO audit_log (seq, at, actor_id, action, entity, entity_id)"
                             " VALUES ($1, $2, 'old', 'view', 'incident', $3)", i + 1, 1000 + i, f"old-{i}")
        await tx.execute("UPDATE audit_chain SET seq = 3, head_hash = NULL")
    assert not (await audit.verify(db)).ok
    await _write(db, 1)
    verdict = await audit.verify(db)
    assert verdict.ok and verdict.rows == 4, verdict.line()
    assert await audit.seal(db) == 0


async def test_an_export_verifies_on_its_own(db: Database, clock: ManualClock, tmp_path: Path) -> None:
    await _write(db, 3)
    clock.advance(days=2)
    since = clock.now_ms()
    await _write(db, 4)
    lines = [line async for line in audit.export(db, since)]
    header = json.loads(lines[0])
    assert header["format"] == audit.EXPORT_FORMAT and header["from_seq"] == 3 and len(lines) == 5
    assert audit.verify_rows(lines).ok and audit.verify_rows(lines).rows == 4
    full = [line async for line in audit.export(db)]
    assert audit.verify_rows(full).rows == 7
    bad = json.loads(lines[2])
    bad["entity_id"] = "changed"
    verdict = audit.verify_rows([lines[0], lines[1], json.dumps(bad), *lines[3:]])
    assert not verdict.ok and verdict.broken_seq == 5
    assert not audit.verify_rows([lines[0], lines[1], *lines[3:]]).ok  # a line left out


# =========================================================================== the command


def _cli(*args: str) -> int:
    return main(list(args))


@pytest.fixture
async def cli_db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Database]:
    """A migrated database that the `patrol` CLI in this process uses too (through PATROL_*)."""
    monkeypatch.setenv("PATROL_DATABASE_URL", database_url)
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path))
    db = await connect(database_url)
    try:
        await migrate(db)
        yield db
    finally:
        await db.close()


async def test_patrol_audit_verify_export_and_prune(cli_db: Database, tmp_path: Path, clock: ManualClock,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db
    await _write(db, 3)
    assert await asyncio.to_thread(_cli, "audit", "verify") == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("audit chain OK: 3 rows (seq 1..3), head ")

    export = tmp_path / "audit.jsonl"
    assert await asyncio.to_thread(_cli, "audit", "export", "--since", "0") == 0
    export.write_text(capsys.readouterr().out)
    assert await asyncio.to_thread(_cli, "audit", "verify", "--file", str(export)) == 0
    assert capsys.readouterr().out.startswith("audit chain OK: 3 rows")

    await _exec(db, "DELETE FROM audit_log WHERE seq = 2")
    assert await asyncio.to_thread(_cli, "audit", "verify") == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith(f"audit chain BROKEN at row id {await _id_of(db, 3)} (seq 3)")
    assert await asyncio.to_thread(_cli, "audit", "export", "--since", "yesterday") == 2
    assert "--since 'yesterday'" in capsys.readouterr().err


async def test_patrol_audit_prune_follows_the_setting(cli_db: Database, clock: ManualClock,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db = cli_db
    await _write(db, 3)
    clock.advance(days=100)
    await _write(db, 1)
    assert await asyncio.to_thread(_cli, "audit", "prune") == 0
    assert "retention is off" in capsys.readouterr().out
    monkeypatch.setenv("PATROL_AUDIT_RETENTION_DAYS", "90")
    assert await asyncio.to_thread(_cli, "audit", "prune") == 0
    assert capsys.readouterr().out.strip() == "deleted 3 audit rows older than 90 days"
    assert await asyncio.to_thread(_cli, "audit", "verify") == 0
    assert capsys.readouterr().out.startswith("audit chain OK: 2 rows (seq 4..5)")


def test_the_retention_setting_is_typed_and_documented() -> None:
    assert load({}).audit_retention_days == 0
    assert load({"PATROL_AUDIT_RETENTION_DAYS": "365"}).audit_retention_days == 365
    from server.settings import SettingsError, describe

    with pytest.raises(SettingsError, match="PATROL_AUDIT_RETENTION_DAYS"):
        load({"PATROL_AUDIT_RETENTION_DAYS": "-1"})
    doc = dict((v, d) for v, _, d in describe())["PATROL_AUDIT_RETENTION_DAYS"]
    assert "verifies" in doc and "\n" not in doc
