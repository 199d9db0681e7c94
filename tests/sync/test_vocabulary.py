"""The JS vocabulary (pwa/src/shared/vocabulary.js) is generated from the Python rules and
committed; it must be what the generator makes now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sync import machines, principal, vocabulary

ROOT = Path(__file__).resolve().parents[2]


def test_committed_js_is_what_the_generator_writes() -> None:
    committed = vocabulary.JS_PATH.read_text(encoding="utf-8")
    assert committed == vocabulary.render(), (
        "pwa/src/shared/vocabulary.js is out of date: run `python -m sync.vocabulary --write` and commit it")


def test_the_file_says_it_is_generated() -> None:
    head = vocabulary.JS_PATH.read_text(encoding="utf-8").splitlines()[0]
    assert "GENERATED" in head and "DO NOT EDIT" in head


def test_limits_are_the_mutation_types() -> None:
    v = vocabulary.vocabulary()
    assert v["TEXT_MAX"] == 20_000 and v["SHORT_MAX"] == 500 and v["NOTE_MAX"] == 20_000
    assert v["LIMITS"]["incident.create"]["description"] == v["TEXT_MAX"]
    assert v["LIMITS"]["incident.update"]["address"] == v["SHORT_MAX"]
    assert v["LIMITS"]["incident.add_note"]["body"] == v["NOTE_MAX"]
    assert v["LIMITS"]["report.update"]["summary"] == v["TEXT_MAX"]


def test_states_and_roles_are_the_rules() -> None:
    v = vocabulary.vocabulary()
    assert set(v["ACTIVE_ASSIGNMENT_STATES"]) == machines.ACTIVE_ASSIGNMENT
    assert set(v["VISIBLE_ASSIGNMENT_STATES"]) == machines.VISIBLE_ASSIGNMENT
    assert set(v["UNIT_STATUSES"]) == machines.UNIT_STATUS.states
    assert set(v["TERMINAL_INCIDENT_STATES"]) == machines.INCIDENT.terminal
    assert v["ROLES"] == list(principal.ROLES) and set(v["DESK_ROLES"]) == principal.DESK_ROLES


def test_check_command_fails_on_a_stale_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stale = tmp_path / "vocabulary.js"
    stale.write_text(vocabulary.render().replace("20000", "19999"), encoding="utf-8")
    monkeypatch.setattr(vocabulary, "JS_PATH", stale)
    assert vocabulary.main(["--check"]) == 1
    assert vocabulary.main(["--write"]) == 0
    assert vocabulary.main(["--check"]) == 0


def test_module_runs_from_the_command_line() -> None:
    out = subprocess.run([sys.executable, "-m", "sync.vocabulary", "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
