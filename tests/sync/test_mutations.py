"""Envelope decoding, argument validation and protocol upgrades."""

from __future__ import annotations

import pytest

from sync.mutations import (
    PROTOCOL_VERSION,
    UPGRADERS,
    Invalid,
    Mutation,
    SetStatus,
    decode,
    decode_args,
    upgrade,
)

GOOD = {"v": 1, "client_id": "dev-1", "seq": 17, "name": "unit.set_status",
        "hlc": "019a5e3c1f00-0000-dev-1", "device_at": 1_764_000_000_000, "base_version": None,
        "args": {"unit_id": "u1", "status": "on_scene"}}


def test_wire_shape_decodes() -> None:
    m = decode(GOOD)
    assert isinstance(m, Mutation) and m.seq == 17 and m.args["status"] == "on_scene"
    a = decode_args(m, SetStatus)
    assert isinstance(a, SetStatus) and a.status == "on_scene"


@pytest.mark.parametrize("patch,field", [
    ({"seq": "x"}, "seq"), ({"seq": -1}, "seq"), ({"hlc": "yesterday"}, "hlc"),
    ({"device_at": None}, "device_at"), ({"client_id": ""}, "client_id"),
    ({"v": 99}, "v"), ({"name": None}, "name"),
])
def test_bad_envelope_names_the_field(patch: dict, field: str) -> None:
    got = decode({**GOOD, **patch})
    assert isinstance(got, Invalid) and got.field == field


def test_missing_envelope_field_is_named() -> None:
    raw = dict(GOOD)
    del raw["device_at"]
    got = decode(raw)
    assert isinstance(got, Invalid) and got.field == "device_at"


@pytest.mark.parametrize("args,field", [
    ({"unit_id": "u1", "status": "flying"}, "args.status"),
    ({"unit_id": 3, "status": "busy"}, "args.unit_id"),
    ({"status": "busy"}, "args.unit_id"),
    ({"unit_id": "u1", "status": "busy", "lat": 123.0, "lon": 1.0}, "args.lat"),
    ({"unit_id": "u1", "status": "busy", "colour": "red"}, "args.colour"),
])
def test_bad_args_name_the_field(args: dict, field: str) -> None:
    m = decode({**GOOD, "args": args})
    assert isinstance(m, Mutation)
    got = decode_args(m, SetStatus)
    assert isinstance(got, Invalid) and got.field == field


def test_not_an_object() -> None:
    assert isinstance(decode([1, 2]), Invalid)


def test_v0_prototype_shape_is_upgraded() -> None:
    old = {"v": 0, "client_id": "dev-1", "seq": 3, "op": "unit.set_status",
           "hlc": "019a5e3c1f00-0000-dev-1", "at": 1_764_000_000.5, "base": 4,
           "args": {"unit_id": "u1", "state": "en_route"}}
    m = decode(old)
    assert isinstance(m, Mutation)
    assert (m.v, m.name, m.device_at, m.base_version) == (PROTOCOL_VERSION, "unit.set_status",
                                                         1_764_000_000_500, 4)
    assert m.args == {"unit_id": "u1", "status": "en_route"}
    assert old["args"] == {"unit_id": "u1", "state": "en_route"}  # input not mutated


def test_v0_ack_alias_and_missing_v_means_v0() -> None:
    old = {"client_id": "d", "seq": 1, "op": "assignment.ack", "hlc": "019a5e3c1f00-0000-d",
           "at": 1, "args": {"assignment_id": "a"}}
    m = decode(old)
    assert isinstance(m, Mutation) and m.name == "assignment.acknowledge" and m.device_at == 1000


def test_upgrade_chain_covers_every_supported_version() -> None:
    assert set(UPGRADERS) == set(range(PROTOCOL_VERSION))
    assert upgrade(dict(GOOD)) == GOOD
