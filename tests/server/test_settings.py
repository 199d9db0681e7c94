from __future__ import annotations

import pytest

from server import settings as settings_mod
from server.settings import SettingsError, load


def test_defaults_need_no_environment() -> None:
    s = load({})
    assert s.port == 8000 and s.host == "127.0.0.1"
    assert s.effective_database_url.startswith("sqlite:///") and s.effective_database_url.endswith("data/patrol.db")


def test_values_are_converted_from_strings() -> None:
    s = load({"PATROL_PORT": "9001", "PATROL_LOG_LEVEL": "debug", "PATROL_LOCATION_RETENTION_DAYS": "7"})
    assert (s.port, s.log_level, s.location_retention_days) == (9001, "debug", 7)


@pytest.mark.parametrize(("var", "value", "expected"), [
    ("PATROL_PORT", "eighty", "PATROL_PORT='eighty': Expected `int`"),
    ("PATROL_PORT", "70000", "PATROL_PORT='70000': Expected `int` <= 65535"),
    ("PATROL_LOG_LEVEL", "loud", "PATROL_LOG_LEVEL='loud'"),
    ("PATROL_DATABASE_URL", "mysql://h/db", "unsupported scheme 'mysql'"),
    ("PATROL_DATABASE_URL", "postgresql://host-only", "needs a database name"),
    ("PATROL_DATABASE_URL", "sqlite://relative.db", "sqlite:///relative/file.db"),
])
def test_bad_values_name_the_variable(var: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as info:
        load({var: value})
    assert expected in str(info.value)
    assert var in str(info.value)


def test_every_setting_is_documented() -> None:
    rows = settings_mod.describe()
    assert len(rows) >= 15
    for var, _default, doc in rows:
        assert var.startswith("PATROL_") and doc, var


def test_effective_settings_mask_the_database_password() -> None:
    s = load({"PATROL_DATABASE_URL": "postgresql://patrol:s3cret@db.internal:5432/patrol"})
    printed = dict((var, value) for var, value, _ in settings_mod.effective(s))
    assert printed["PATROL_DATABASE_URL"] == "postgresql://patrol:***@db.internal:5432/patrol"
    assert "s3cret" not in " ".join(printed.values())


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "http://127.0.0.1:8000"),
    ({"PATROL_PORT": "9010"}, "http://127.0.0.1:9010"),          # push links followed the port
    ({"PATROL_HOST": "0.0.0.0", "PATROL_PORT": "80"}, "http://127.0.0.1:80"),
    ({"PATROL_HOST": "10.1.2.3", "PATROL_PORT": "8443"}, "http://10.1.2.3:8443"),
    ({"PATROL_PUBLIC_URL": "https://patrol.pu-sm.example/", "PATROL_PORT": "9010"},
     "https://patrol.pu-sm.example"),
])
def test_the_public_url_follows_host_and_port_unless_set(env: dict[str, str], expected: str) -> None:
    assert load(env).effective_public_url == expected
