"""Pure merge rules: no I/O, plain values in and out.

* per-field last-writer-wins with concurrency detection (``merge_fields``);
* latest-by-event-time for unit status (``status_is_newer``);
* device clock correction and clamping (``correct_time``);
* milestones keep the earliest event time (``earliest``).
"""

from __future__ import annotations

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


def clock_offset(server_now: int, device_now: int | None) -> int | None:
    """Server time minus device time, estimated when the push arrives."""
    if device_now is None:
        return None
    return server_now - device_now


def correct_time(device_at: int, offset_ms: int | None, server_now: int, *,
                 not_before: int | None = None, tolerance_ms: int = FUTURE_TOLERANCE_MS
                 ) -> tuple[int, dict[str, Any]]:
    """Device time to event time: add the device's clock offset, then clamp.

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
    if not_before is not None and at < not_before:
        flags["clamped"] = "before_call"
        flags["device_at"] = device_at
        at = not_before
    if flags and offset_ms:
        flags["offset_ms"] = offset_ms
    if server_now - at > OFFLINE_AFTER_MS:
        # Made offline and synced later: the time is kept, and the record says so, so a
        # timeline can mark it and response-time reports can count "late" events.
        flags["offline"] = True
        flags["sync_delay_ms"] = server_now - at
    return at, flags
