"""VAPID keys: created once, reused, private (0600), clear errors; `patrol vapid`."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from server.push import cli as push_cli
from server.push.keys import VapidKeyError, load_or_create
from server.settings import load
from tests.push.helpers import unb64url


def test_created_once_in_a_new_directory_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "sub" / "vapid_private.pem"
    first = load_or_create(path)
    assert first.created and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["vapid_private.pem"]  # no temp file left
    raw = unb64url(first.application_server_key)
    assert len(raw) == 65 and raw[0] == 4
    public = first.private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert raw == public


def test_reused_on_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "vapid.pem"
    first = load_or_create(path)
    before = path.read_bytes()
    second = load_or_create(path)
    assert not second.created
    assert second.application_server_key == first.application_server_key
    assert path.read_bytes() == before


def test_corrupt_file_is_a_clear_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "vapid.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    with pytest.raises(VapidKeyError, match=str(path)):
        load_or_create(path)
    assert "garbage" in path.read_text()  # never overwritten


def test_unreadable_path_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "vapid.pem"
    path.mkdir()  # a directory where the file should be: unreadable even for root
    with pytest.raises(VapidKeyError, match=f"cannot read VAPID key file {path}"):
        load_or_create(path)


def test_wrong_key_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vapid.pem"
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    with pytest.raises(VapidKeyError, match="P-256"):
        load_or_create(path)
    other_curve = ec.generate_private_key(ec.SECP384R1())
    path.write_bytes(other_curve.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    with pytest.raises(VapidKeyError, match="P-256"):
        load_or_create(path)


def test_uncreatable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(VapidKeyError, match=str(blocker)):
        load_or_create(blocker / "vapid.pem")


def _run_vapid(argv: list[str], env: dict[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="patrol")
    sub = parser.add_subparsers(dest="command", required=True)
    push_cli.register(sub)
    args = parser.parse_args(argv)
    args.func(args, load(env))
    return args


def test_patrol_vapid_prints_the_key_and_creates_it_once(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    env = {"PATROL_DATA_DIR": str(tmp_path / "data")}
    _run_vapid(["vapid"], env)
    out, err = capsys.readouterr()
    path = tmp_path / "data" / "vapid_private.pem"
    assert path.is_file() and "created a new VAPID key pair" in err
    key = out.strip()
    assert len(unb64url(key)) == 65
    _run_vapid(["vapid"], env)
    out2, err2 = capsys.readouterr()
    assert out2.strip() == key and err2 == ""


def test_patrol_vapid_honours_the_key_path_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "keys" / "push.pem"
    _run_vapid(["vapid", "-v"], {"PATROL_VAPID_KEY_PATH": str(path)})
    assert path.is_file()
    _run_vapid(["vapid", "-v"], {"PATROL_VAPID_KEY_PATH": str(path)})
    assert str(path) in capsys.readouterr().err


def test_patrol_vapid_reports_a_corrupt_key_as_a_cli_error(tmp_path: Path) -> None:
    from server.cli import CliError

    path = tmp_path / "bad.pem"
    path.write_text("not a key")
    with pytest.raises(CliError, match=str(path)):
        _run_vapid(["vapid"], {"PATROL_VAPID_KEY_PATH": str(path)})


def test_group_readable_key_is_used_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "vapid.pem"
    first = load_or_create(path)
    os.chmod(path, 0o644)
    again = load_or_create(path)
    assert again.application_server_key == first.application_server_key
    assert "chmod 600" in caplog.text
