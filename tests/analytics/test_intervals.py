"""Intervals of one incident from hand-made timelines."""

from __future__ import annotations

from server.analytics.intervals import (
    INTERVALS,
    AssignmentTimes,
    IncidentTimeline,
    assignment_from_row,
    compute_intervals,
    parse_flags,
)

M = 60_000  # one minute in ms
CALL = 1_700_000_000_000


def a(id: str, assigned: int, **kw) -> AssignmentTimes:
    return AssignmentTimes(id=id, unit_id=f"u-{id}", assigned_at=CALL + assigned, **{
        k: (CALL + v if isinstance(v, int) else v) for k, v in kw.items()})


def iv(*assignments: AssignmentTimes):
    return compute_intervals(IncidentTimeline(incident_id="i1", call_received_at=CALL,
                                              assignments=tuple(assignments)))


def test_complete_single_assignment():
    r = iv(a("a1", 2 * M, acknowledged_at=3 * M, en_route_at=4 * M, on_scene_at=12 * M,
             action_at=13 * M, cleared_at=40 * M))
    assert (r.call_to_dispatch, r.dispatch_to_ack, r.dispatch_to_arrival, r.call_to_arrival,
            r.arrival_to_cleared, r.call_to_action) == (2 * M, M, 10 * M, 12 * M, 28 * M, 13 * M)
    assert r.missing == r.invalid == r.corrected == r.late == frozenset()
    assert r.dispatch_assignment_id == r.arrival_assignment_id == "a1"
    assert r.arrival_unit_id == "u-a1"


def test_no_assignment_everything_missing_never_zero():
    r = iv()
    assert all(r.value(name) is None for name in INTERVALS)
    assert r.missing == frozenset(INTERVALS)
    assert r.invalid == frozenset()


def test_missing_milestones_only_affect_their_intervals():
    r = iv(a("a1", 2 * M, on_scene_at=9 * M))  # no ack, no action, not cleared
    assert r.call_to_dispatch == 2 * M
    assert r.call_to_arrival == 9 * M and r.dispatch_to_arrival == 7 * M
    assert r.dispatch_to_ack is None and r.arrival_to_cleared is None and r.call_to_action is None
    assert r.missing == {"dispatch_to_ack", "arrival_to_cleared", "call_to_action"}


def test_first_dispatch_and_first_arrival_are_different_assignments():
    # a1 dispatched first but declined; a2 dispatched later arrives; a3 arrives later still.
    r = iv(
        a("a1", 1 * M, state="declined"),
        a("a2", 4 * M, acknowledged_at=5 * M, on_scene_at=14 * M, cleared_at=30 * M),
        a("a3", 3 * M, acknowledged_at=3 * M + 30_000, on_scene_at=20 * M),
    )
    assert r.dispatch_assignment_id == "a1"
    assert r.call_to_dispatch == 1 * M
    # the first-dispatched crew never acknowledged: missing, not a2's or a3's ack
    assert r.dispatch_to_ack is None and "dispatch_to_ack" in r.missing
    assert r.arrival_assignment_id == "a2"
    assert r.call_to_arrival == 14 * M
    assert r.dispatch_to_arrival == 10 * M  # from a2's own dispatch at 4 min
    assert r.arrival_to_cleared == 16 * M


def test_ties_are_broken_deterministically():
    # same assigned_at: smaller id is the dispatch; same on_scene_at: earlier dispatch, then id
    r = iv(a("b", 1 * M, on_scene_at=10 * M), a("a", 1 * M, on_scene_at=10 * M),
           a("c", 0, on_scene_at=10 * M))
    assert r.dispatch_assignment_id == "c"
    assert r.arrival_assignment_id == "c"
    r2 = iv(a("b", 1 * M, on_scene_at=10 * M), a("a", 1 * M, on_scene_at=10 * M))
    assert r2.dispatch_assignment_id == "a" and r2.arrival_assignment_id == "a"


def test_negative_interval_is_invalid_not_zero():
    # device clock says "on scene" 3 min before the call: excluded and counted invalid
    r = iv(a("a1", 1 * M, acknowledged_at=0, on_scene_at=-3 * M))
    assert r.call_to_arrival is None and r.dispatch_to_arrival is None
    assert {"call_to_arrival", "dispatch_to_arrival", "dispatch_to_ack"} <= r.invalid
    assert "call_to_arrival" not in r.missing
    assert "arrival_to_cleared" in r.missing


def test_implausible_arrival_is_skipped_when_another_unit_arrived_plausibly():
    r = iv(a("a1", 1 * M, on_scene_at=-5 * M), a("a2", 2 * M, on_scene_at=11 * M))
    assert r.arrival_assignment_id == "a2" and r.call_to_arrival == 11 * M
    assert r.invalid == frozenset()


def test_arrival_before_own_dispatch_is_not_plausible():
    r = iv(a("a1", 5 * M, on_scene_at=4 * M))
    assert r.call_to_arrival is None and "call_to_arrival" in r.invalid


def test_dispatch_before_call_is_invalid():
    r = iv(a("a1", -2 * M, on_scene_at=8 * M))
    assert r.call_to_dispatch is None and "call_to_dispatch" in r.invalid
    assert r.call_to_arrival == 8 * M


def test_cleared_before_arrival_is_invalid():
    r = iv(a("a1", 1 * M, on_scene_at=8 * M, cleared_at=7 * M))
    assert r.arrival_to_cleared is None and "arrival_to_cleared" in r.invalid


def test_zero_interval_is_valid():
    r = iv(a("a1", 0, acknowledged_at=0, on_scene_at=0))
    assert r.call_to_dispatch == 0 and r.dispatch_to_ack == 0 and r.call_to_arrival == 0
    assert r.invalid == r.missing - {"arrival_to_cleared", "call_to_action"} == frozenset()


def test_clamped_time_is_used_and_counted_as_corrected():
    asg = AssignmentTimes(id="a1", unit_id="u1", assigned_at=CALL + M, on_scene_at=CALL + 9 * M,
                          cleared_at=CALL + 30 * M, corrected=frozenset({"on_scene_at"}))
    r = iv(asg)
    assert r.call_to_arrival == 9 * M  # the kept (clamped) value is used
    assert r.corrected == {"call_to_arrival", "dispatch_to_arrival", "arrival_to_cleared"}
    assert r.late == frozenset()


def test_late_offline_event_keeps_device_time_and_is_counted_late():
    # Officer arrived at +10 min while offline; the sync at +25 min kept +10 min.
    row = {"id": "a1", "unit_id": "u1", "state": "on_scene", "assigned_at": CALL + M,
           "acknowledged_at": CALL + 2 * M, "en_route_at": CALL + 2 * M,
           "on_scene_at": CALL + 10 * M, "action_at": None, "cleared_at": None,
           "flags": '{"on_scene_at": {"late": true, "server_at": 1700000001500000}}'}
    r = iv(assignment_from_row(row))
    assert r.call_to_arrival == 10 * M
    assert r.late == {"call_to_arrival", "dispatch_to_arrival"}
    assert r.corrected == frozenset()


def test_late_event_can_make_another_unit_the_first_to_arrive():
    # a2's arrival synced late (offline) but happened before a1's: a2 arrived first.
    a1 = a("a1", 1 * M, on_scene_at=15 * M)
    a2 = AssignmentTimes(id="a2", unit_id="u2", assigned_at=CALL + 2 * M, on_scene_at=CALL + 8 * M,
                         late=frozenset({"on_scene_at"}))
    r = iv(a1, a2)
    assert r.arrival_assignment_id == "a2" and r.call_to_arrival == 8 * M
    assert "call_to_arrival" in r.late


def test_parse_flags_shapes():
    assert parse_flags(None) == (frozenset(), frozenset())
    assert parse_flags("{}") == (frozenset(), frozenset())
    assert parse_flags("not json") == (frozenset(), frozenset())
    assert parse_flags("[1, 2]") == (frozenset(), frozenset())
    assert parse_flags('{"on_scene_at": "clamped"}') == ({"on_scene_at"}, frozenset())
    assert parse_flags('{"on_scene": true}') == ({"on_scene_at"}, frozenset())
    assert parse_flags('{"on_scene_at": {"reason": "late"}}') == (frozenset(), {"on_scene_at"})
    assert parse_flags('{"on_scene_at": ["clamped", "late"]}') == ({"on_scene_at"}, {"on_scene_at"})
    assert parse_flags('{"clamped": ["on_scene_at", "acknowledged"], "late": ["cleared_at"]}') == (
        {"on_scene_at", "acknowledged_at"}, {"cleared_at"})
    assert parse_flags({"something_else": 1}) == (frozenset(), frozenset())


def test_parse_flags_as_written_by_sync_and_seed():
    # sync.merge.correct_time, merged under the milestone column by sync.handlers
    assert parse_flags('{"on_scene_at": {"clamped": "before_call", "device_at": 1, "offset_ms": -5}}') == (
        {"on_scene_at"}, frozenset())
    assert parse_flags('{"acknowledged_at": {"clamped": "future", "device_at": 9}}') == (
        {"acknowledged_at"}, frozenset())
    # an acknowledgement implied by "en route" is not a clock correction
    assert parse_flags('{"en_route_at": {"implied_ack": true}}') == (frozenset(), frozenset())
    # the demo seed's offline window
    assert parse_flags('{"on_scene_at": {"offline": true, "sync_delay_ms": 600000}}') == (
        frozenset(), {"on_scene_at"})
