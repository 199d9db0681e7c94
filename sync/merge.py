"""Pure merge rules: no I/O, plain values in and out.

* per-field last-writer-wins with concurrency detection (``merge_fields``);
* latest-by-event-time for unit status (``status_is_newer``);
* device clock offset estimation (``estimate_offset``), correction and clamping
  (``correct_time``) and keeping one device's events in its order (``DeviceOrder``);
* milestones keep the earliest event time (``earliest``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

FUTURE_TOLERANCE_MS = 60_000  # a device stamp further ahead than this (after offset correction) is clamped
# An event that reaches the server later than this after it happened was made offline.
OFFLINE_AFTER_MS = 60_000


# --------------------------------------------------------------------------- per-field LWW


@dataclass(frozen=True)
class Writer:
    """Who writes: the mutation's identity as the merge rules see it."""

    hlc: str
    by: str | None          # user id
    at: int | None          # event time of the write
    client_id: str | None
    seq: int | None
    base_version: int | None  # entity version the writer had seen (None: never saw the entity)


@dataclass(frozen=True)
class FieldConflict:
    field: str
    server_value: Any
    server_meta: dict[str, Any]
    client_value: Any
    winner: str  # 'server' | 'client' (which value LWW made current)


@dataclass
class FieldMerge:
    values: dict[str, Any] = field(default_factory=dict)   # fields to write
    meta: dict[str, Any] = field(default_factory=dict)     # the whole new field_meta
    applied: list[str] = field(default_factory=list)       # written, no concurrency
    unchanged: list[str] = field(default_factory=list)     # same value already there
    conflicts: list[FieldConflict] = field(default_factory=list)
    meta_changed: bool = False                             # only stamps moved (equal values)

    @property
    def changed(self) -> bool:
        return bool(self.values)

    @property
    def needs_write(self) -> bool:
        return bool(self.values) or self.meta_changed


def saw_write(meta: dict[str, Any] | None, w: Writer) -> bool:
    """Had the writer seen the field's last write when it made its edit?

    Yes if the write is covered by the writer's base version, or if it was
    the writer's own earlier mutation (an offline phone editing twice in a row
    never saw its first edit come back, but obviously knows about it).
    """
    if not meta:
        return True
    if w.base_version is not None and int(meta.get("v", 0)) <= w.base_version:
        return True
    if w.client_id is not None and meta.get("cid") == w.client_id and w.seq is not None \
            and meta.get("seq") is not None and int(meta["seq"]) < w.seq:
        return True
    return False


def merge_fields(current: dict[str, Any], meta: dict[str, Any], incoming: dict[str, Any],
                 w: Writer, new_version: int) -> FieldMerge:
    """Per-field LWW by HLC with conflict detection.

    For each incoming field:
      * the writer saw the last write (or there is none): write it;
      * the same value is already there: nothing to do;
      * concurrent (neither saw the other's write): the higher HLC wins, and a
        conflict keeping both values is reported whichever side won.
    """
    out = FieldMerge(meta=dict(meta))
    stamp = {"hlc": w.hlc, "by": w.by, "at": w.at, "v": new_version, "cid": w.client_id,
             "seq": w.seq}
    for name, value in incoming.items():
        fmeta = meta.get(name)
        cur = current.get(name)
        if value == cur:
            # Same value: nothing to write, but a higher stamp must still be
            # remembered — whether or not the writer saw the last write (a phone
            # repeating its own earlier value later is still the later writer) —
            # or the next LWW comparison would depend on arrival order.
            out.unchanged.append(name)
            if fmeta and w.hlc > str(fmeta.get("hlc", "")):
                out.meta[name] = stamp
                out.meta_changed = True
            continue
        if saw_write(fmeta, w):
            out.values[name] = value
            out.meta[name] = stamp
            out.applied.append(name)
            continue
        client_wins = w.hlc > str(fmeta.get("hlc", ""))
        out.conflicts.append(FieldConflict(name, cur, dict(fmeta), value,
                                           "client" if client_wins else "server"))
        if client_wins:
            out.values[name] = value
            out.meta[name] = stamp
    return out


# --------------------------------------------------------------------------- unit status


def status_is_newer(event_at: int, hlc: str, cur_at: int | None, cur_hlc: str | None) -> bool:
    """Does a status event become the current status? Latest by event time, then HLC."""
    if cur_at is None:
        return True
    return (event_at, hlc) > (cur_at, cur_hlc or "")


def earliest(existing: int | None, new: int) -> int:
    """Milestones keep the first time (order-independent under re-delivery)."""
    return new if existing is None else min(existing, new)


# --------------------------------------------------------------------------- device clocks

# Offset estimation. A push carries the device's clock reading when it was sent
# (device_now); the server reads its own when the push reaches the engine, so
# every sample server_now - device_now is the true offset plus the push's
# one-way delay (transit, queueing), which is never negative. The lowest recent
# sample is therefore the best estimate (NTP's minimum filter).
CLOCK_REFRESH_MS = 10 * 60_000  # a kept sample older than this gives way to any new one (drift)
CLOCK_JUMP_MS = 2 * 60_000      # a sample higher by more than this is a clock set back, not transit


def clock_offset(server_now: int, device_now: int | None) -> int | None:
    """One sample of the device's offset: server time minus device time when the push arrives.

    It is the true offset plus the push's delay (>= 0); see ``estimate_offset``.
    """
    if device_now is None:
        return None
    return server_now - device_now


def estimate_offset(sample: int | None, stored: int | None, stored_at: int | None, server_now: int, *,
                    refresh_ms: int = CLOCK_REFRESH_MS, jump_ms: int = CLOCK_JUMP_MS
                    ) -> tuple[int | None, int | None]:
    """The device's clock offset to use and keep: (offset_ms, sampled_at).

    ``stored`` / ``stored_at`` are the kept sample and the server time it was
    taken at; ``sample`` is this push's (None: the push did not say its clock).
    The kept sample is replaced by the new one when
      * there is none (or it has no sample time: kept before this rule);
      * the new one is lower or equal: less delay in it (also a clock set forward);
      * it is older than ``refresh_ms``: follow the clock's drift;
      * the new one is higher by more than ``jump_ms``: no delay explains that,
        the device's clock was set back.
    Otherwise the new one is higher by transit or queueing time and is ignored.
    """
    if sample is None:
        return stored, stored_at
    if stored is None or stored_at is None or sample <= stored:
        return sample, server_now
    if server_now - stored_at >= refresh_ms or sample - stored > jump_ms:
        return sample, server_now
    return stored, stored_at


def correct_time(device_at: int, offset_ms: int | None, server_now: int, *,
                 not_before: int | None = None, floor: tuple[int, int] | None = None,
                 tolerance_ms: int = FUTURE_TOLERANCE_MS) -> tuple[int, dict[str, Any]]:
    """Device time to event time: add the device's clock offset, then clamp.

    ``floor`` is ``(at, seq)``: the latest event time the same device's earlier
    mutations got (see ``DeviceOrder``), ``seq`` being the earlier mutation's;
    an event is never put before it (``clamped: "device_order"``), so a
    device's events keep its order whatever the offset estimate did between
    them. ``not_before`` (the call time) comes last.

    Returns (event_at, flags). Flags are empty when nothing was adjusted
    beyond the offset; otherwise they say what was clamped and keep the
    original device time so nothing is hidden.
    """
    flags: dict[str, Any] = {}
    at = device_at + (offset_ms or 0)
    if at > server_now + tolerance_ms:
        flags["clamped"] = "future"
        flags["device_at"] = device_at
        at = server_now
    if floor is not None and at < floor[0]:
        flags["clamped"] = "device_order"
        flags["device_at"] = device_at
        flags["after_seq"] = floor[1]
        at = floor[0]
    if not_before is not None and at < not_before:
        flags["clamped"] = "before_call"
        flags["device_at"] = device_at
        flags.pop("after_seq", None)
        at = not_before
    if flags and offset_ms:
        flags["offset_ms"] = offset_ms
    if server_now - at > OFFLINE_AFTER_MS:
        # Made offline and synced later: the time is kept, and the record says so, so a
        # timeline can mark it and response-time reports can count "late" events.
        flags["offline"] = True
        flags["sync_delay_ms"] = server_now - at
    return at, flags


class DeviceOrder:
    """The event times one device's mutations got, so that its later ones never get earlier times.

    A push's offset estimate can be worse than the one before it (the push
    waited somewhere), and a device's clock can be set back between two of its
    events; either way, what the device did later (higher seq) must not end up
    before what it did earlier. ``floor(seq)`` is the latest event time among
    the device's mutations with a lower seq:

    * ``last_seq`` / ``last_at``: the device's highest seq with an event time and
      the latest event time, from earlier pushes (the ``devices`` row);
    * the event times this batch's mutations got (``done``);
    * mutations of this batch that have not run yet, by their ``base`` times
      (offset and future clamp only): alerts run before the rest of their
      batch, and an alert still comes after what the device did before it. A
      mutation run ahead of lower seqs never moves those: only lower seqs count.

    A rejected mutation (``done(seq, None)``) counts for nothing.
    """

    def __init__(self, last_seq: int | None = None, last_at: int | None = None,
                 batch: list[tuple[int, int]] | None = None) -> None:
        self.last_seq = last_seq
        self.last_at = last_at if last_seq is not None else None
        self._base = dict(batch or [])
        self._unrun = sorted(self._base)
        # event times given in this batch, by seq, with prefix maxima: (at, seq) of the latest so far
        self._seqs: list[int] = []
        self._ats: list[int] = []
        self._best: list[tuple[int, int]] = []

    def floor(self, seq: int) -> tuple[int, int] | None:
        """(at, from_seq): the latest event time of the device's mutations before ``seq``."""
        # candidates are (at, seq): the latest time, and of equal times the latest seq
        best: tuple[int, int] | None = None
        if self.last_seq is not None and self.last_at is not None and self.last_seq < seq:
            best = (self.last_at, self.last_seq)
        i = bisect.bisect_left(self._seqs, seq)
        if i and (best is None or self._best[i - 1] > best):
            best = self._best[i - 1]
        if self._unrun and self._unrun[0] < seq:  # run ahead of lower seqs (an alert): rare
            for q in self._unrun:
                if q >= seq:
                    break
                if best is None or (self._base[q], q) > best:
                    best = (self._base[q], q)
        return best

    def done(self, seq: int, at: int | None) -> None:
        """The mutation ran; ``at`` is the event time it got (None: rejected, or it has none)."""
        j = bisect.bisect_left(self._unrun, seq)
        if j < len(self._unrun) and self._unrun[j] == seq:
            del self._unrun[j]
        if at is None:
            return
        i = bisect.bisect_left(self._seqs, seq)
        if i < len(self._seqs) and self._seqs[i] == seq:
            at = max(at, self._ats[i])
            self._ats[i] = at
        else:
            self._seqs.insert(i, seq)
            self._ats.insert(i, at)
            self._best.insert(i, (at, seq))
        # prefix maxima from i on; later entries only change while the running best does
        for k in range(i, len(self._seqs)):
            prev = self._best[k - 1] if k else None
            cand = (self._ats[k], self._seqs[k])
            new = cand if prev is None or cand > prev else prev
            if k > i and new == self._best[k]:
                break
            self._best[k] = new

    def last(self) -> tuple[int | None, int | None]:
        """(highest seq, latest event time) of the device, to keep for its next pushes."""
        seq, at = self.last_seq, self.last_at
        if self._seqs:
            top_seq, top_at = self._seqs[-1], self._best[-1][0]
            seq = top_seq if seq is None else max(seq, top_seq)
            at = top_at if at is None else max(at, top_at)
        return seq, at
