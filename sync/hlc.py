"""Hybrid logical clock (Kulkarni, Demirbas et al., 2014).

A timestamp is (physical ms, logical counter, node id). Encoded as text::

    <physical ms: 12 lowercase hex digits>-<logical: 4 lowercase hex digits>-<node id>

e.g. ``019a5e3c1f00-0000-srv1``. Fixed widths make plain string order equal
to (physical, logical, node) order, so the database and the PWA can compare
stamps without parsing. The counter overflows past 0xffff: that raises
:class:`HlcOverflow` rather than silently breaking the order.

The clock is a plain object holding the last stamp it issued; the caller
passes the wall time (ms), which keeps it deterministic and easy to test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PHYSICAL = 0xFFFF_FFFF_FFFF
MAX_LOGICAL = 0xFFFF
_RE = re.compile(r"^([0-9a-f]{12})-([0-9a-f]{4})-([^\s]{1,64})$")


class HlcError(ValueError):
    """A malformed HLC string or an impossible value."""


class HlcOverflow(HlcError):
    """The logical counter would pass 0xffff within one physical millisecond."""


class HlcDrift(HlcError):
    """A remote stamp is further ahead of our wall clock than allowed."""


@dataclass(frozen=True, order=True)
class Stamp:
    physical: int
    logical: int
    node: str

    def encode(self) -> str:
        return encode(self.physical, self.logical, self.node)

    def __str__(self) -> str:
        return self.encode()


def encode(physical: int, logical: int, node: str) -> str:
    if not 0 <= physical <= MAX_PHYSICAL:
        raise HlcError(f"physical time {physical} is out of range")
    if not 0 <= logical <= MAX_LOGICAL:
        raise HlcOverflow(f"logical counter {logical} is out of range")
    if not node or len(node) > 64 or any(ch.isspace() for ch in node):
        raise HlcError("node id must be a non-empty token")
    return f"{physical:012x}-{logical:04x}-{node}"


def decode(text: str) -> Stamp:
    m = _RE.match(text) if isinstance(text, str) else None
    if not m:
        raise HlcError(f"not an HLC timestamp: {text!r} (expected 012x-04x-node)")
    return Stamp(int(m.group(1), 16), int(m.group(2), 16), m.group(3))


def is_valid(text: str) -> bool:
    return isinstance(text, str) and _RE.match(text) is not None


def physical_of(text: str) -> int:
    return int(text[:12], 16)


class HLC:
    """One node's clock. ``now`` for a local event, ``recv`` for a remote stamp.

    ``max_drift_ms`` bounds how far a remote stamp may run ahead of our wall
    clock before ``recv`` refuses it (a phone whose clock is a year ahead must
    not drag the server's clock along).
    """

    def __init__(self, node: str, max_drift_ms: int | None = None) -> None:
        encode(0, 0, node)  # validates the node id
        self.node = node
        self.max_drift_ms = max_drift_ms
        self.physical = 0
        self.logical = 0

    def _stamp(self) -> str:
        return encode(self.physical, self.logical, self.node)

    def now(self, wall_ms: int) -> str:
        """Stamp a local or send event."""
        if wall_ms > self.physical:
            self.physical, self.logical = wall_ms, 0
        else:
            if self.logical >= MAX_LOGICAL:
                raise HlcOverflow("HLC logical counter overflow (more than 65535 events in one ms "
                                  "or a clock far behind the last seen stamp)")
            self.logical += 1
        return self._stamp()

    def recv(self, remote: str, wall_ms: int) -> str:
        """Merge a received stamp; returns the stamp of the receive event."""
        r = decode(remote)
        if self.max_drift_ms is not None and r.physical - wall_ms > self.max_drift_ms:
            raise HlcDrift(f"remote clock {r.physical - wall_ms} ms ahead (limit {self.max_drift_ms})")
        old = self.physical
        phys = max(old, r.physical, wall_ms)
        if phys == old and phys == r.physical:
            logical = max(self.logical, r.logical) + 1
        elif phys == old:
            logical = self.logical + 1
        elif phys == r.physical:
            logical = r.logical + 1
        else:
            logical = 0
        if logical > MAX_LOGICAL:
            raise HlcOverflow("HLC logical counter overflow on receive")
        self.physical, self.logical = phys, logical
        return self._stamp()

    def peek(self) -> str:
        """The last stamp issued (without advancing)."""
        return self._stamp()
