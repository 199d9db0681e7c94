"""Pure device-clock rules: offset estimation, device-order floor, clamping (no database)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.merge import (
    CLOCK_JUMP_MS,
    CLOCK_REFRESH_MS,
    DeviceOrder,
    correct_time,
    estimate_offset,
)

NOW = 1_764_000_000_000
MIN = 60_000

# --------------------------------------------------------------------------- estimate_offset


def test_the_first_sample_is_taken() -> None:
    assert estimate_offset(1500, None, None, NOW) == (1500, NOW)


def test_no_sample_keeps_what_is_stored() -> None:
    assert estimate_offset(None, 700, NOW - 5, NOW) == (700, NOW - 5)
    assert estimate_offset(None, None, None, NOW) == (None, None)


def test_a_lower_or_equal_sample_is_taken_at_once() -> None:
    assert estimate_offset(200, 1500, NOW - 1000, NOW) == (200, NOW)
    assert estimate_offset(200, 200, NOW - 9 * MIN, NOW) == (200, NOW)  # same: its age restarts
    # a clock set forward by an hour: the sample drops, taken at once
    assert estimate_offset(200 - 60 * MIN, 200, NOW - 1000, NOW) == (200 - 60 * MIN, NOW)


def test_a_higher_sample_within_the_window_is_transit_and_ignored() -> None:
    assert estimate_offset(1500, 0, NOW - 1000, NOW) == (0, NOW - 1000)
    assert estimate_offset(CLOCK_JUMP_MS, 0, NOW - CLOCK_REFRESH_MS + 1, NOW) == (0, NOW - CLOCK_REFRESH_MS + 1)


def test_a_higher_sample_replaces_one_older_than_the_refresh_window() -> None:
    assert estimate_offset(1500, 0, NOW - CLOCK_REFRESH_MS, NOW) == (1500, NOW)
    assert estimate_offset(1500, 0, None, NOW) == (1500, NOW)  # a row from before sample times


def test_a_sample_higher_by_more_than_the_jump_threshold_is_a_clock_set_back() -> None:
    assert estimate_offset(CLOCK_JUMP_MS + 1, 0, NOW - 1000, NOW) == (CLOCK_JUMP_MS + 1, NOW)
    assert estimate_offset(3 * MIN + 40, 40, NOW - 1000, NOW) == (3 * MIN + 40, NOW)


def test_the_window_and_threshold_can_be_set() -> None:
    assert estimate_offset(500, 0, NOW - 1000, NOW, refresh_ms=1000) == (500, NOW)
    assert estimate_offset(500, 0, NOW - 1000, NOW, jump_ms=499) == (500, NOW)
    assert estimate_offset(500, 0, NOW - 1000, NOW, jump_ms=500) == (0, NOW - 1000)


@settings(max_examples=200)
@given(true_offset=st.integers(-10**9, 10**9),
       delays=st.lists(st.tuples(st.integers(0, 30_000), st.integers(1, 120_000)), min_size=1, max_size=30))
def test_the_estimate_is_never_below_the_true_offset_nor_above_the_worst_delay(
        true_offset: int, delays: list[tuple[int, int]]) -> None:
    """Samples = true offset + delay >= 0: the estimate stays within [true, true + max delay],
    and within the refresh window it is the lowest sample seen since it was taken."""
    offset: int | None = None
    at: int | None = None
    now = NOW
    for delay, gap in delays:
        now += gap
        offset, at = estimate_offset(true_offset + delay, offset, at, now)
        assert offset is not None and true_offset <= offset <= true_offset + max(d for d, _ in delays)


# --------------------------------------------------------------------------- correct_time with a floor


def test_an_event_is_not_put_before_the_devices_earlier_one() -> None:
    at, flags = correct_time(1_000, 0, server_now=10_000, floor=(1_500, 4))
    assert at == 1_500
    assert flags == {"clamped": "device_order", "device_at": 1_000, "after_seq": 4}


def test_a_floor_below_the_corrected_time_changes_nothing() -> None:
    assert correct_time(5_000, 3_000, server_now=10_000, floor=(8_000, 1)) == (8_000, {})
    assert correct_time(5_000, 3_000, server_now=10_000, floor=(7_999, 1)) == (8_000, {})


def test_the_floor_keeps_the_offset_in_the_flags() -> None:
    at, flags = correct_time(1_000, 250, server_now=10_000, floor=(1_500, 4))
    assert (at, flags["offset_ms"]) == (1_500, 250)


def test_the_floor_comes_after_the_future_clamp() -> None:
    # clamped to server time, then kept after an earlier event that was within the tolerance
    at, flags = correct_time(500_000, 0, server_now=10_000, floor=(50_000, 2))
    assert at == 50_000 and flags["clamped"] == "device_order" and flags["device_at"] == 500_000


def test_the_call_time_comes_last() -> None:
    at, flags = correct_time(1_000, 0, server_now=10_000, floor=(1_500, 4), not_before=2_000)
    assert at == 2_000 and flags == {"clamped": "before_call", "device_at": 1_000}
    at, flags = correct_time(1_000, 0, server_now=10_000, floor=(3_000, 4), not_before=2_000)
    assert at == 3_000 and flags["clamped"] == "device_order"


def test_an_offline_event_kept_after_a_floor_is_still_marked_offline() -> None:
    at, flags = correct_time(NOW - 20 * MIN, 0, server_now=NOW, floor=(NOW - 15 * MIN, 9))
    assert at == NOW - 15 * MIN
    assert flags["offline"] is True and flags["sync_delay_ms"] == 15 * MIN


# --------------------------------------------------------------------------- DeviceOrder


def test_no_history_no_floor() -> None:
    o = DeviceOrder()
    assert o.floor(1) is None
    assert o.last() == (None, None)


def test_the_stored_floor_counts_for_higher_seqs_only() -> None:
    o = DeviceOrder(7, 5_000)
    assert o.floor(8) == (5_000, 7)
    assert o.floor(7) is None and o.floor(3) is None  # a lower seq arriving late is not held back


def test_batch_times_follow_seq_order() -> None:
    o = DeviceOrder(2, 1_000, batch=[(3, 900), (4, 950), (5, 2_000)])
    assert o.floor(3) == (1_000, 2)
    o.done(3, 1_000)
    assert o.floor(4) == (1_000, 3)
    o.done(4, 1_200)
    assert o.floor(5) == (1_200, 4)
    o.done(5, 2_000)
    assert o.last() == (5, 2_000)


def test_a_mutation_run_ahead_is_kept_after_the_lower_seqs_but_does_not_move_them() -> None:
    # seq 6 is an alert: run first; seqs 5 and 7 around it
    o = DeviceOrder(4, 1_000, batch=[(5, 3_000), (6, 2_000), (7, 4_000)])
    assert o.floor(6) == (3_000, 5)          # 5 has not run: its base time counts
    o.done(6, 3_000)
    assert o.floor(5) == (1_000, 4)          # the alert (seq 6) does not hold back seq 5
    o.done(5, 3_500)                         # 5 got a later time when it ran (a clamp)
    assert o.floor(7) == (3_500, 5)
    o.done(7, 4_000)
    assert o.last() == (7, 4_000)


def test_a_rejected_mutation_counts_for_nothing() -> None:
    o = DeviceOrder(1, 1_000, batch=[(2, 9_000), (3, 2_000)])
    o.done(2, None)
    assert o.floor(3) == (1_000, 1)
    assert o.floor(4) == (2_000, 3)  # 3 has not run yet: its base counts, 2's does not
    o.done(3, None)
    assert o.floor(4) == (1_000, 1)
    assert o.last() == (1, 1_000)


def test_last_is_the_highest_seq_and_the_latest_time() -> None:
    o = DeviceOrder(9, 5_000)
    o.done(4, 7_000)  # out of order (a lower seq arriving late): not held back, but remembered
    assert o.last() == (9, 7_000)
    assert o.floor(10) == (7_000, 4)


@settings(max_examples=200)
@given(stored=st.one_of(st.none(), st.tuples(st.integers(0, 20), st.integers(0, 100))),
       runs=st.lists(st.tuples(st.integers(0, 30), st.one_of(st.none(), st.integers(0, 100))),
                     max_size=25, unique_by=lambda r: r[0]),
       queries=st.lists(st.integers(0, 32), max_size=10))
def test_floor_is_the_latest_time_of_lower_seqs(stored: tuple[int, int] | None,
                                               runs: list[tuple[int, int | None]], queries: list[int]) -> None:
    """Against a brute-force model, with mutations run in any order."""
    base = {seq: (at if at is not None else 50) for seq, at in runs}
    o = DeviceOrder(*(stored or (None, None)), batch=list(base.items()))
    unrun = set(base)
    times: dict[int, int] = {}

    def model(seq: int) -> int | None:
        cands = [at for q, at in times.items() if q < seq]
        if stored is not None and stored[0] < seq:
            cands.append(stored[1])
        if any(q < seq for q in unrun):
            cands += [base[q] for q in unrun if q < seq]
        return max(cands) if cands else None

    for seq, at in runs:
        for q in queries:
            f = o.floor(q)
            assert (f[0] if f else None) == model(q)
        unrun.discard(seq)
        o.done(seq, at)
        if at is not None:
            times[seq] = at
    seqs = list(times) + ([stored[0]] if stored else [])
    ats = list(times.values()) + ([stored[1]] if stored else [])
    assert o.last() == ((max(seqs), max(ats)) if seqs else (None, None))
