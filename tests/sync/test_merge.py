"""Pure merge rules and state machines (no database)."""

from __future__ import annotations

import itertools

import pytest

from sync import machines as sm
from sync.merge import (
    Writer,
    clock_offset,
    correct_time,
    earliest,
    merge_fields,
    saw_write,
    status_is_newer,
)


def w(hlc: str, base: int | None, cid: str = "c1", seq: int = 1, by: str = "u1") -> Writer:
    return Writer(hlc=hlc, by=by, at=0, client_id=cid, seq=seq, base_version=base)


META_V2 = {"address": {"hlc": "000000000010-0000-b", "by": "u2", "v": 2, "cid": "c2", "seq": 4}}


def test_field_written_when_writer_saw_the_last_write() -> None:
    fm = merge_fields({"address": "Old"}, META_V2, {"address": "New"}, w("000000000005-0000-a", base=2), 3)
    assert fm.values == {"address": "New"} and fm.applied == ["address"] and not fm.conflicts
    assert fm.meta["address"]["v"] == 3 and fm.meta["address"]["by"] == "u1"


def test_never_written_field_is_just_written() -> None:
    fm = merge_fields({"hazards": None}, {}, {"hazards": "dog"}, w("000000000001-0000-a", base=None), 2)
    assert fm.values == {"hazards": "dog"} and not fm.conflicts


def test_concurrent_edit_with_higher_hlc_wins_and_is_a_conflict() -> None:
    fm = merge_fields({"address": "B's"}, META_V2, {"address": "A's"}, w("000000000020-0000-a", base=1), 3)
    assert fm.values == {"address": "A's"}
    [c] = fm.conflicts
    assert (c.field, c.server_value, c.client_value, c.winner) == ("address", "B's", "A's", "client")


def test_concurrent_edit_with_lower_hlc_loses_but_is_kept_as_conflict() -> None:
    fm = merge_fields({"address": "B's"}, META_V2, {"address": "A's"}, w("000000000009-0000-a", base=1), 3)
    assert fm.values == {} and not fm.changed
    assert fm.conflicts[0].winner == "server" and fm.conflicts[0].client_value == "A's"
    assert fm.meta == META_V2  # the server's write keeps its stamp


def test_same_value_is_not_a_conflict() -> None:
    fm = merge_fields({"address": "Same"}, META_V2, {"address": "Same"}, w("000000000001-0000-a", base=1), 3)
    assert fm.unchanged == ["address"] and not fm.conflicts and not fm.changed


def test_own_earlier_write_is_not_concurrent() -> None:
    # an offline phone edits twice from base 1; its first edit made version 2
    meta = {"summary": {"hlc": "000000000010-0000-a", "by": "u1", "v": 2, "cid": "c1", "seq": 3}}
    assert saw_write(meta["summary"], w("000000000011-0000-a", base=1, seq=4))
    assert not saw_write(meta["summary"], w("000000000011-0000-a", base=1, cid="other", seq=4))
    fm = merge_fields({"summary": "v1"}, meta, {"summary": "v2"}, w("000000000011-0000-a", base=1, seq=4), 3)
    assert fm.applied == ["summary"] and not fm.conflicts


def test_mixed_fields_each_get_their_own_rule() -> None:
    meta = {**META_V2, "hazards": {"hlc": "000000000001-0000-a", "by": "u1", "v": 1, "cid": "c1", "seq": 1}}
    fm = merge_fields({"address": "B's", "hazards": "x", "description": "d"}, meta,
                      {"address": "A's", "hazards": "y", "description": "d"},
                      w("000000000009-0000-z", base=1, cid="c9"), 3)
    assert fm.applied == ["hazards"] and fm.unchanged == ["description"]
    assert [c.field for c in fm.conflicts] == ["address"]


def test_lww_winner_does_not_depend_on_arrival_order() -> None:
    edits = [("000000000005-0000-a", "a", "c1"), ("000000000009-0000-b", "b", "c2"),
             ("000000000007-0000-c", "c", "c3")]
    finals = set()
    for order in itertools.permutations(edits):
        value, meta, version = "orig", {}, 1
        for i, (h, v, cid) in enumerate(order):
            fm = merge_fields({"f": value}, meta, {"f": v}, w(h, base=1, cid=cid, seq=1), version + 1)
            if fm.changed:
                value, meta, version = fm.values["f"], fm.meta, version + 1
        finals.add(value)
    assert finals == {"b"}


def test_status_latest_by_event_time_then_hlc() -> None:
    assert status_is_newer(100, "h", None, None)
    assert status_is_newer(100, "000000000001-0000-a", 99, "000000000009-0000-z")
    assert not status_is_newer(98, "000000000009-0000-z", 99, "000000000001-0000-a")
    assert status_is_newer(99, "000000000002-0000-a", 99, "000000000001-0000-a")


def test_earliest_keeps_the_first_milestone() -> None:
    assert earliest(None, 5) == 5 and earliest(3, 5) == 3 and earliest(7, 5) == 5


def test_clock_offset_and_correction() -> None:
    assert clock_offset(10_000, 7_000) == 3_000 and clock_offset(1, None) is None
    assert correct_time(5_000, 3_000, server_now=10_000) == (8_000, {})


def test_future_event_is_clamped_and_flagged() -> None:
    at, flags = correct_time(1_000_000, 0, server_now=10_000)
    assert at == 10_000 and flags["clamped"] == "future" and flags["device_at"] == 1_000_000
    # within tolerance: untouched
    assert correct_time(10_000 + 30_000, 0, server_now=10_000)[0] == 40_000


def test_event_before_the_call_is_clamped_to_the_call() -> None:
    at, flags = correct_time(1_000, 0, server_now=10_000, not_before=5_000)
    assert at == 5_000 and flags == {"clamped": "before_call", "device_at": 1_000}


# ---------------------------------------------------------------------------- state machines


@pytest.mark.parametrize("frm,to", [("off_duty", "available"), ("available", "en_route"),
                                    ("en_route", "on_scene"), ("on_scene", "available"),
                                    ("available", "off_duty"), ("busy", "available"),
                                    ("available", "available")])
def test_legal_unit_transitions(frm: str, to: str) -> None:
    assert sm.unit_status_guard(frm, to, active_assignment_state=None) is None


@pytest.mark.parametrize("frm,to", [("off_duty", "en_route"), ("off_duty", "on_scene"),
                                    ("on_scene", "off_duty"), ("en_route", "off_duty")])
def test_illegal_unit_transitions_are_refused_with_a_reason(frm: str, to: str) -> None:
    r = sm.unit_status_guard(frm, to, active_assignment_state=None)
    assert r is not None and r.code == "illegal_transition"
    assert sm.LABEL[frm] in r.reason and sm.LABEL[to] in r.reason


def test_off_duty_guard_with_assignment_in_progress() -> None:
    r = sm.unit_status_guard("busy", "off_duty", active_assignment_state="en_route")
    assert r is not None and r.code == "active_assignment"
    assert sm.unit_status_guard("busy", "off_duty", active_assignment_state="pending") is None


def test_unknown_status_is_invalid() -> None:
    r = sm.UNIT_STATUS.check("available", "flying")
    assert r is not None and r.code == "invalid"


def test_assignment_machine_terminal_states_have_no_exit() -> None:
    for s in sm.ASSIGNMENT.terminal:
        for to in sm.ASSIGNMENT.states:
            assert not sm.ASSIGNMENT.can(s, to)
    assert sm.ASSIGNMENT.can("pending", "on_scene")  # offline: arrived without acknowledging
    assert not sm.ASSIGNMENT.can("on_scene", "en_route")


def test_milestones_only_move_forward() -> None:
    assert sm.milestone_target("on_scene", "acknowledged") == "on_scene"
    assert sm.milestone_target("en_route", "on_scene") is None  # late en route keeps on scene
    assert sm.milestone_target("available", "on_scene") == "cleared"
    assert sm.milestone_target("available", "pending") is None
    assert sm.milestone_target("busy", "on_scene") is None


def test_incident_lifecycle() -> None:
    assert sm.incident_after_assignment("new", "pending") == "dispatched"
    assert sm.incident_after_assignment("dispatched", "on_scene") == "in_progress"
    assert sm.incident_after_assignment("in_progress", "en_route") is None
    assert sm.INCIDENT.check("closed", "in_progress").code == "illegal_transition"  # type: ignore[union-attr]
    assert sm.INCIDENT.check("new", "closed") is None


def test_equal_value_with_higher_concurrent_stamp_moves_the_stamp() -> None:
    # C writes x (h5), then A writes x (h9) concurrently: A's stamp must be kept,
    # so that B's y (h7) loses as it would in any other arrival order.
    meta_c = {"f": {"hlc": "000000000005-0000-c", "by": "c", "v": 2, "cid": "c", "seq": 1}}
    fm = merge_fields({"f": "x"}, meta_c, {"f": "x"}, w("000000000009-0000-a", base=1, cid="a"), 3)
    assert not fm.changed and fm.needs_write and fm.meta["f"]["hlc"] == "000000000009-0000-a"
    fm2 = merge_fields({"f": "x"}, fm.meta, {"f": "y"}, w("000000000007-0000-b", base=1, cid="b"), 4)
    assert not fm2.changed and fm2.conflicts[0].winner == "server"


def test_events_synced_more_than_a_minute_later_are_marked_offline() -> None:
    server_now = 10_000_000
    assert correct_time(server_now - 60_000, 0, server_now=server_now) == (server_now - 60_000, {})
    at, flags = correct_time(server_now - 15 * 60_000, 0, server_now=server_now)
    assert at == server_now - 15 * 60_000  # the time is kept as it happened
    assert flags == {"offline": True, "sync_delay_ms": 15 * 60_000}


def test_repeating_ones_own_value_later_still_moves_the_lww_stamp() -> None:
    """Found by the property test: a phone writes 'alpha' at +2, again 'alpha' at +4
    (offline, same base); another officer wrote 'charlie' at +3. Whatever the arrival
    order, the last writer (+4, 'alpha') must win."""
    from sync.merge import Writer, merge_fields

    def w(hlc: str, cid: str, seq: int) -> Writer:
        return Writer(hlc=hlc, by=cid, at=0, client_id=cid, seq=seq, base_version=1)

    start_meta = {"description": {"hlc": "000000000001-0000-d", "v": 1, "cid": "d", "seq": 1}}
    a1, a2, c = w("000000000002-0000-o1", "o1", 5), w("000000000004-0000-o1", "o1", 6), w("000000000003-0000-o3", "o3", 9)

    def run(order: list[tuple[Writer, str]]) -> str:
        value, meta, version = "start", dict(start_meta), 1
        for writer, text in order:
            version += 1
            fm = merge_fields({"description": value}, meta, {"description": text}, writer, version)
            value = fm.values.get("description", value)
            meta = fm.meta
        return value

    assert run([(a1, "alpha"), (a2, "alpha"), (c, "charlie")]) == "alpha"
    assert run([(c, "charlie"), (a1, "alpha"), (a2, "alpha")]) == "alpha"
    assert run([(a1, "alpha"), (c, "charlie"), (a2, "alpha")]) == "alpha"
