"""Hybrid logical clock: encoding, order, send/receive rules, overflow, drift."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.hlc import HLC, HlcDrift, HlcError, HlcOverflow, Stamp, decode, encode, physical_of


def test_encoding_is_fixed_width_lowercase_hex() -> None:
    assert encode(0x19A5E3C1F00, 3, "srv1") == "019a5e3c1f00-0003-srv1"
    assert decode("019a5e3c1f00-0003-srv1") == Stamp(0x19A5E3C1F00, 3, "srv1")
    assert physical_of("019a5e3c1f00-0003-srv1") == 0x19A5E3C1F00


def test_node_may_contain_dashes_like_a_uuid() -> None:
    s = encode(5, 1, "0190b7e2-aaaa-7bbb-8ccc-123456789abc")
    assert decode(s).node == "0190b7e2-aaaa-7bbb-8ccc-123456789abc"


@pytest.mark.parametrize("bad", ["", "019A5E3C1F00-0003-n", "19a5e3c1f00-0003-n", "019a5e3c1f00-003-n",
                                 "019a5e3c1f00-0003-", "019a5e3c1f00-0003-a b", None, 12])
def test_malformed_stamps_are_refused(bad: object) -> None:
    with pytest.raises(HlcError):
        decode(bad)  # type: ignore[arg-type]


def test_out_of_range_values_are_refused() -> None:
    with pytest.raises(HlcError):
        encode(-1, 0, "n")
    with pytest.raises(HlcError):
        encode(1 << 48, 0, "n")
    with pytest.raises(HlcOverflow):
        encode(1, 0x10000, "n")
    with pytest.raises(HlcError):
        HLC("has space")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**48 - 1), st.integers(0, 0xFFFF),
                          st.text("abcxyz-0123456789", min_size=1, max_size=6)), min_size=2, max_size=20))
def test_string_order_equals_tuple_order(stamps: list[tuple[int, int, str]]) -> None:
    encoded = sorted(stamps, key=lambda t: encode(*t))
    assert [tuple(x) for x in encoded] == sorted(stamps)


def test_now_is_monotonic_when_the_wall_clock_stalls_or_goes_back() -> None:
    c = HLC("a")
    s1 = c.now(1000)
    s2 = c.now(1000)
    s3 = c.now(900)  # wall clock stepped back
    s4 = c.now(1001)
    assert s1 < s2 < s3 < s4
    assert decode(s3) == Stamp(1000, 2, "a")
    assert decode(s4) == Stamp(1001, 0, "a")


def test_recv_goes_past_the_remote_stamp() -> None:
    c = HLC("srv")
    c.now(1000)
    remote = encode(5000, 7, "phone")
    got = c.recv(remote, 2000)
    assert got > remote
    assert decode(got) == Stamp(5000, 8, "srv")
    assert c.now(2000) > got  # later local events stay after it
    # equal physical on both sides: max of the counters + 1
    c2 = HLC("x")
    c2.recv(encode(10, 3, "a"), 1)
    assert decode(c2.recv(encode(10, 9, "b"), 1)) == Stamp(10, 10, "x")
    # wall clock ahead of both: counter resets
    assert decode(c2.recv(encode(10, 9, "b"), 50)) == Stamp(50, 0, "x")


def test_happened_before_is_preserved_across_random_message_exchange() -> None:
    rnd = random.Random(7)
    clocks = [HLC(f"n{i}") for i in range(3)]
    walls = [rnd.randint(0, 50) for _ in clocks]
    last: list[str | None] = [None, None, None]
    for _ in range(500):
        i = rnd.randrange(3)
        walls[i] += rnd.randint(-5, 10)  # clocks wander, even backwards
        if rnd.random() < 0.5 and any(last):
            j = rnd.choice([k for k in range(3) if last[k]])
            sent = last[j]
            got = clocks[i].recv(sent, walls[i])
            assert got > sent
        else:
            got = clocks[i].now(walls[i])
        if last[i]:
            assert got > last[i]
        last[i] = got


def test_counter_overflow_raises_instead_of_wrapping() -> None:
    c = HLC("a")
    c.now(10)
    for _ in range(0xFFFF):
        c.now(10)
    assert decode(c.peek()).logical == 0xFFFF
    with pytest.raises(HlcOverflow):
        c.now(10)
    with pytest.raises(HlcOverflow):
        HLC("b").recv(encode(10, 0xFFFF, "a"), 10)


def test_drift_limit_refuses_a_clock_far_ahead() -> None:
    c = HLC("srv", max_drift_ms=60_000)
    with pytest.raises(HlcDrift):
        c.recv(encode(1_000_000, 0, "phone"), 1000)
    assert c.physical == 0  # not dragged along
    assert c.recv(encode(50_000, 0, "phone"), 1000) > encode(50_000, 0, "phone")
