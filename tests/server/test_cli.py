"""The `patrol` command: help everywhere, one clear line for bad settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.cli import build_parser, main

COMMANDS = ["serve", "migrate", "seed", "config"]


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out
    assert "PATROL_DATABASE_URL" in out


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(COMMANDS) <= set(sub.choices)  # type: ignore[union-attr]
    import argparse

    def walk(p: argparse.ArgumentParser, prefix: list[str]) -> list[list[str]]:
        paths = []
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    paths.append(prefix + [name])
                    paths += walk(child, prefix + [name])
        return paths

    paths = walk(parser, [])
    assert ["user", "add"] in paths and ["device", "revoke"] in paths and ["vapid"] in paths
    for path in paths:
        with pytest.raises(SystemExit) as info:
            main([*path, "--help"])
        assert info.value.code == 0
        assert f"usage: patrol {' '.join(path)}" in capsys.readouterr().out


def _patrol(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env={**env, "PATH": "/usr/bin:/bin"},
                          cwd=cwd, capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.parametrize(("url", "fragment"), [
    ("mysql://localhost/patrol", "unsupported scheme 'mysql'"),
    ("postgresql://patrol@127.0.0.1:1/patrol", "is unreachable"),
    ("postgresql://patrol@no-such-host.invalid:5432/patrol", "is unreachable"),
])
def test_wrong_database_url_gives_one_clear_line(url: str, fragment: str, tmp_path: Path) -> None:
    import os

    env = {"PATROL_DATABASE_URL": url, "PATROL_DATA_DIR": str(tmp_path),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "HOME": os.environ.get("HOME", "/tmp")}
    result = _patrol(["migrate"], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("patrol: error: ") and fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_migrate_then_config_on_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path))
    assert main(["migrate"]) == 0
    assert "applied 0001_schema" in capsys.readouterr().out
    assert (tmp_path / "patrol.db").is_file()
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["config"]) == 0
    assert f"sqlite:///{tmp_path}/patrol.db" in capsys.readouterr().out


def test_user_and_device_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path))
    assert main(["seed", "--demo"]) == 0
    assert "demo data loaded" in capsys.readouterr().out
    assert main(["seed", "--demo", "--if-empty"]) == 0
    assert "already has data" in capsys.readouterr().out
    assert main(["seed", "--demo"]) == 2
    assert "not empty" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    assert main(["user", "add", "novak", "--role", "officer", "--org", "SM-RU", "--name", "Nikola Novak",
                 "--password-stdin"]) == 0
    assert "created officer novak (Nikola Novak) in SM-RU" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    assert main(["user", "add", "novak", "--role", "officer", "--org", "SM-RU", "--name", "X",
                 "--password-stdin"]) == 2
    assert "is taken" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    assert main(["user", "add", "other", "--role", "officer", "--org", "NOPE", "--name", "X",
                 "--password-stdin"]) == 2
    assert "no org unit with code 'NOPE'" in capsys.readouterr().err
    assert main(["user", "list"]) == 0
    assert "novak" in capsys.readouterr().out
    assert main(["device", "list"]) == 0
    assert "no devices" in capsys.readouterr().out
    assert main(["device", "revoke", "00000000-0000-4000-8000-000000000000"]) == 2
    assert "no device with id" in capsys.readouterr().err
