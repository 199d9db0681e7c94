"""Bounds and U+0000 in mutations: refused per mutation, named, never failing the push.

The decoding rules (sync.mutations) and, on SQLite and PostgreSQL, that a push
holding such a mutation commits: the bad one is rejected (stored when it can
be, so a retry is a replay), the next one is applied.
"""

from __future__ import annotations

from typing import Any

import pytest

from sync import engine
from sync.mutations import (
    EPOCH_MAX_MS,
    MAX_SAFE_INT,
    AddNote,
    Invalid,
    Mutation,
    ReportLocation,
    decode,
    decode_args,
    find_big_int,
    find_nul,
)
from sync.store import Database
from tests.sync.factories import MIN, T0, make_world, new_id, open_incident, rows

GOOD = {"v": 1, "client_id": "dev-1", "seq": 17, "name": "incident.add_note",
        "hlc": "019a5e3c1f00-0000-dev-1", "device_at": T0, "base_version": None,
        "args": {"note_id": "0190b7e2-0000-7000-8000-000000000001", "incident_id": "i1", "body": "ok"}}


@pytest.mark.parametrize("patch,field,code", [
    ({"seq": 2**64}, "seq", "out_of_range"),
    ({"seq": MAX_SAFE_INT + 1}, "seq", "out_of_range"),
    ({"device_at": EPOCH_MAX_MS + 1}, "device_at", "out_of_range"),
    ({"device_at": -1}, "device_at", "out_of_range"),
    ({"device_at": 10**30}, "device_at", "out_of_range"),
    ({"base_version": 2**63}, "base_version", "out_of_range"),
    ({"hlc": "019a5e3c1f00-0000-dev\x00"}, "hlc", "invalid_text"),
    ({"name": "incident.add_note\x00"}, "name", "invalid_text"),
    ({"args": {**GOOD["args"], "body": "a\x00b"}}, "args.body", "invalid_text"),
    ({"args": {**GOOD["args"], "x\x00": 1}}, "args.x\\u0000", "invalid_text"),
    ({"extra": [{"deep": ["\x00"]}]}, "extra[0].deep[0]", "invalid_text"),
])
def test_bad_values_are_named_with_a_code(patch: dict[str, Any], field: str, code: str) -> None:
    got = decode({**GOOD, **patch})
    assert isinstance(got, Invalid), got
    assert (got.field, got.code) == (field, code)
    assert "\x00" not in got.message and "\x00" not in got.field


@pytest.mark.parametrize("patch,storable", [
    ({"seq": 2**64}, False),            # beyond the BIGINT column: answered, not stored
    ({"v": 2**40}, False),              # applied_mutations.protocol is an INTEGER
    ({"name": "x\x00"}, False),         # the engine stores the name as sent
    ({"args": {"body": "\x00"}}, True),
    ({"device_at": 10**30}, True),
])
def test_a_refusal_is_stored_only_when_it_can_be(patch: dict[str, Any], storable: bool) -> None:
    got = decode({**GOOD, **patch})
    assert isinstance(got, Invalid)
    assert (got.client_id == "dev-1") is storable
    if not storable and isinstance(patch.get("name"), str):
        assert got.name is None


def test_old_clocks_and_the_v0_shape_are_still_accepted() -> None:
    reset_phone = decode({**GOOD, "device_at": 86_400_000})  # 1970-01-02: the offset corrects it
    assert isinstance(reset_phone, Mutation)
    v0 = decode({"client_id": "d", "seq": 1, "op": "assignment.ack", "hlc": "019a5e3c1f00-0000-d",
                 "at": 1e300, "args": {"assignment_id": "a"}})
    assert isinstance(v0, Invalid) and v0.field == "device_at" and v0.code == "out_of_range"


def test_args_bounds_and_text() -> None:
    m = decode(GOOD)
    assert isinstance(m, Mutation)
    loc = Mutation(v=1, client_id="d", seq=1, name="unit.report_location", hlc=GOOD["hlc"], device_at=T0,
                   args={"unit_id": "u", "pings": [{"at": T0, "lat": 45.0, "lon": 19.0, "speed_mps": 1e9}]})
    bad = decode_args(loc, ReportLocation)
    assert isinstance(bad, Invalid) and (bad.field, bad.code) == ("args.pings[0].speed_mps", "out_of_range")
    assert isinstance(decode_args(m, AddNote), AddNote)


def test_finders() -> None:
    assert find_nul({"a": ["ok", {"b": "x\x00"}]}) == "a[1].b"
    assert find_nul({"a": "\\u0000 is spelt out, not a NUL"}) is None
    assert find_nul([[[[["\x00"]]]]] * 1) == "[0][0][0][0][0]"
    deep: Any = "\x00"
    for _ in range(5000):  # no recursion limit to hit
        deep = [deep]
    assert find_nul(deep) is not None
    assert find_big_int({"a": [1, 2**63]}) == "a[1]"
    assert find_big_int({"a": [-(2**63), 2**63 - 1, True]}) is None


async def test_a_push_with_bad_mutations_commits_the_good_ones(db: Database) -> None:
    w = await make_world(db)
    inc_id, _ = await open_incident(db, w)
    o1 = w.device("officer1")
    t = T0 + MIN

    def note(body: str) -> dict[str, Any]:
        return o1.mut("incident.add_note", {"note_id": new_id(), "incident_id": inc_id, "body": body},
                      at=t, queue=False)

    nul_text = note("before\x00after")
    nul_name = {**note("x"), "name": "incident.add_note\x00"}
    huge_seq = {**note("y"), "seq": 2**64}
    huge_v = {**note("z"), "v": 2**40}
    good = note("fine")
    batch = [nul_text, nul_name, huge_seq, huge_v, good]
    for attempt in range(2):
        res = await engine.apply_batch(db, o1.p, batch, device_now=t, server_now=t)
        outcomes = [(r.outcome, r.reason_code, (r.result or {}).get("field")) for r in res.results]
        assert outcomes[:4] == [("rejected", "invalid", "args.body"), ("rejected", "invalid", "name"),
                                ("rejected", "invalid", "seq"), ("rejected", "invalid", "v")], outcomes
        assert res.results[4].outcome == "applied"
        assert [r.replay for r in res.results] == [attempt == 1, False, False, False, attempt == 1]
    notes = await rows(db, "SELECT body FROM notes WHERE incident_id = $1", inc_id)
    assert [n["body"] for n in notes] == ["fine"]
    stored = await rows(db, "SELECT seq, reason_code FROM applied_mutations WHERE client_id = $1 ORDER BY seq",
                        o1.p.device_id)
    assert [s["seq"] for s in stored] == [nul_text["seq"], good["seq"]]
