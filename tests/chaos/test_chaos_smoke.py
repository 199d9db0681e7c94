"""A short run of the fault harness (tests/chaos, docs/reliability.md) inside the normal test run.

Real `patrol serve` subprocesses, a few seconds of load each: kill -9 and a
restart on SQLite, a PostgreSQL outage through a TCP proxy on PostgreSQL
(skipped, or failed with PATROL_REQUIRE_PG=1, when it is unreachable), and the
negative control that shows the checks can fail. `make test-chaos` runs every
scenario on both databases, longer and bigger. No timed assertions: the
convergence times are printed, not judged.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.chaos.harness import Options, Result, details, run_one, table
from tests.conftest import require_pg


def _run(scenario: str, database: str, tmp_path: Path, **options: object) -> Result:
    opts = Options(scale=1, units=8, seconds=float(options.pop("seconds", 6.0)), **options)  # type: ignore[arg-type]
    result = asyncio.run(run_one(scenario, database, opts, tmp_path, pg_reason=None))
    print(table([result]))
    print(details([result]))
    assert result.error is None, result.error
    assert result.findings is not None
    return result


def test_kill_9_during_a_reconnect_storm_on_sqlite_loses_and_doubles_nothing(tmp_path: Path) -> None:
    r = _run("kill9", "sqlite", tmp_path)
    assert r.findings is not None
    assert r.findings.sent > 30
    assert r.net.errors["refused"] > 0, "no client noticed the server was gone: nothing was tested"
    assert r.failures == [], details([r])


def test_a_postgresql_outage_loses_and_doubles_nothing(tmp_path: Path) -> None:
    require_pg()
    r = _run("pg_outage", "postgresql", tmp_path)
    assert r.findings is not None
    assert r.net.http_5xx[503] + sum(r.net.closes.values()) > 0, "nobody saw the outage: nothing was tested"
    assert r.failures == [], details([r])


def test_the_negative_control_is_reported_by_the_checks(tmp_path: Path) -> None:
    """One confirmed note deleted from the database, one live frame dropped by a console:
    the checks must say exactly that (a lost mutation, a gap at that seq)."""
    r = _run("none", "sqlite", tmp_path, seconds=3.0, negative_control=True)
    assert r.control is not None and r.findings is not None
    assert r.control["deleted"] is not None and r.control["dropped"] is not None
    assert r.control["lost_detected"] and r.control["gap_detected"], details([r])
    assert len(r.findings.lost) == 1
    assert r.findings.missed_total == 1
    assert r.ok and r.failures  # the control "passes" because the checks failed where they should
