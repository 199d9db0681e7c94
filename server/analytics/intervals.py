"""Response-time intervals of one incident, from its timeline. Pure: no I/O.

The quality measure of police work is the time from the citizen's call to the
police arriving and acting. One incident gives six intervals (milliseconds):

=====================  ==================================================================
``call_to_dispatch``   first dispatch (earliest ``assigned_at`` of any assignment)
                       minus ``call_received_at``: how long the call waited for a unit.
``dispatch_to_ack``    the *first-dispatched* assignment's ``acknowledged_at`` minus its
                       ``assigned_at``: how fast the crew confirmed. If that crew never
                       acknowledged (declined, reassigned first) the interval is missing;
                       a later crew's acknowledgement does not stand in for it.
``dispatch_to_arrival`` the *first-arriving* assignment's ``on_scene_at`` minus **its own**
                       ``assigned_at``: how long the unit that got there first took from
                       its dispatch. (A reassignment delay shows in ``call_to_arrival``,
                       not here, so the figures are not additive.)
``call_to_arrival``    earliest ``on_scene_at`` of any assignment minus
                       ``call_received_at``: the citizen's view, the headline figure.
``arrival_to_cleared`` the first-arriving assignment's ``cleared_at`` minus its
                       ``on_scene_at``: time the first unit spent on scene.
``call_to_action``     earliest ``action_at`` of any assignment minus ``call_received_at``.
=====================  ==================================================================

Which assignment counts
    *Dispatch*: the assignment with the smallest ``assigned_at`` (ties broken by
    assignment id), whatever its later fate (declined and reassigned ones
    included: the dispatcher did dispatch). *Arrival*: among assignments whose
    ``on_scene_at`` is plausible (not before the call and not before that
    assignment's own dispatch) the smallest ``on_scene_at`` (ties: earlier
    ``assigned_at``, then assignment id). *Action*: likewise the smallest
    plausible ``action_at``.

Missing, invalid, corrected, late
    * A missing milestone makes every interval that needs it ``None`` and the
      interval is counted as *missing* -- never 0.
    * An interval that would be negative (device clocks that lie and were not
      caught) is ``None`` and counted as *invalid*, never clipped to 0. When
      some assignments have an implausible arrival and another one has a
      plausible one, the plausible one is used and nothing is invalid.
    * Times the sync layer *clamped* (corrected) are used as kept, but an
      interval whose end points include a clamped time is counted as
      *corrected*, so a report can say "n of N times were corrected".
    * Times that reached the server *late* (an offline phone syncing later)
      are the real event times and are used as they are; intervals touching
      one are counted as *late* for information.

The assignment's ``flags`` JSON is read leniently (see :func:`parse_flags`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

MILESTONES: tuple[str, ...] = (
    "assigned_at", "acknowledged_at", "en_route_at", "on_scene_at", "action_at", "cleared_at",
)

INTERVALS: tuple[str, ...] = (
    "call_to_dispatch",
    "dispatch_to_ack",
    "dispatch_to_arrival",
    "call_to_arrival",
    "arrival_to_cleared",
    "call_to_action",
)

_CORRECTED_WORDS = frozenset({"clamped", "corrected", "adjusted", "clamp"})
_LATE_WORDS = frozenset({"late", "offline", "delayed"})


class AssignmentTimes(msgspec.Struct, frozen=True, kw_only=True):
    """The milestones of one assignment (ms UTC, ``None`` when not reached)."""

    id: str
    unit_id: str
    assigned_at: int
    acknowledged_at: int | None = None
    en_route_at: int | None = None
    on_scene_at: int | None = None
    action_at: int | None = None
    cleared_at: int | None = None
    state: str = "pending"
    corrected: frozenset[str] = frozenset()  # milestone columns the sync layer clamped
    late: frozenset[str] = frozenset()       # milestone columns that arrived late (offline)


class IncidentTimeline(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    call_received_at: int
    assignments: tuple[AssignmentTimes, ...] = ()


class IncidentIntervals(msgspec.Struct, frozen=True, kw_only=True):
    """The six intervals of one incident (ms) and what went wrong with them.

    ``missing``, ``invalid``, ``corrected`` and ``late`` name intervals (from
    :data:`INTERVALS`); an interval is in at most one of ``missing`` /
    ``invalid``, and ``corrected`` / ``late`` only ever name intervals that
    have a value.
    """

    incident_id: str
    call_to_dispatch: int | None = None
    dispatch_to_ack: int | None = None
    dispatch_to_arrival: int | None = None
    call_to_arrival: int | None = None
    arrival_to_cleared: int | None = None
    call_to_action: int | None = None
    dispatch_assignment_id: str | None = None
    arrival_assignment_id: str | None = None
    arrival_unit_id: str | None = None
    missing: frozenset[str] = frozenset()
    invalid: frozenset[str] = frozenset()
    corrected: frozenset[str] = frozenset()
    late: frozenset[str] = frozenset()

    def value(self, interval: str) -> int | None:
        return getattr(self, interval)


def _milestone_name(word: str) -> str | None:
    word = word.strip().lower()
    if word in MILESTONES:
        return word
    if f"{word}_at" in MILESTONES:
        return f"{word}_at"
    aliases = {"arrived_at": "on_scene_at", "arrival": "on_scene_at", "dispatched_at": "assigned_at",
               "ack": "acknowledged_at", "ack_at": "acknowledged_at", "cleared": "cleared_at"}
    return aliases.get(word)


def _kinds(value: Any) -> set[str]:
    """Which kinds ('corrected', 'late') a flag value speaks of."""
    out: set[str] = set()
    if value is True:
        out.add("corrected")
    elif isinstance(value, str):
        v = value.lower()
        if v in _CORRECTED_WORDS:
            out.add("corrected")
        if v in _LATE_WORDS:
            out.add("late")
    elif isinstance(value, (list, tuple)):
        for item in value:
            out |= _kinds(item)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            k = str(k).lower()
            if k in _CORRECTED_WORDS and v:
                out.add("corrected")
            elif k in _LATE_WORDS and v:
                out.add("late")
            elif k in {"reason", "kind", "type", "why"}:
                out |= _kinds(v)
    return out


def parse_flags(flags: str | Mapping[str, Any] | None) -> tuple[frozenset[str], frozenset[str]]:
    """Read an assignment's ``flags`` JSON into (corrected, late) milestone sets.

    Accepted shapes (all may be mixed in one object):

    * keyed by milestone: ``{"on_scene_at": "clamped"}``, ``{"on_scene": true}``
      (``true`` means clamped), ``{"on_scene_at": {"clamped": true, "device_at": …}}``,
      ``{"on_scene_at": {"reason": "late"}}``, ``{"on_scene_at": ["clamped", "late"]}``;
    * keyed by kind: ``{"clamped": ["on_scene_at"], "late": ["on_scene"]}``.

    Unknown keys are ignored; malformed JSON counts as no flags.
    """
    if flags is None or flags == "" or flags == "{}":  # the common case, without a JSON parse
        return frozenset(), frozenset()
    if isinstance(flags, str):
        try:
            data = json.loads(flags)
        except ValueError:
            return frozenset(), frozenset()
    else:
        data = flags
    if not isinstance(data, Mapping):
        return frozenset(), frozenset()
    corrected: set[str] = set()
    late: set[str] = set()
    for key, value in data.items():
        key_l = str(key).lower()
        milestone = _milestone_name(key_l)
        if milestone is not None:
            kinds = _kinds(value)
            if "corrected" in kinds:
                corrected.add(milestone)
            if "late" in kinds:
                late.add(milestone)
            continue
        target = corrected if key_l in _CORRECTED_WORDS else late if key_l in _LATE_WORDS else None
        if target is None:
            continue
        names = value if isinstance(value, (list, tuple)) else [value] if isinstance(value, str) else (
            list(value.keys()) if isinstance(value, Mapping) else [])
        for name in names:
            m = _milestone_name(str(name))
            if m is not None:
                target.add(m)
    return frozenset(corrected), frozenset(late)


def _plausible(a: AssignmentTimes, column: str, call_at: int) -> bool:
    t = getattr(a, column)
    return t is not None and t >= call_at and t >= a.assigned_at


def first_dispatch(assignments: Iterable[AssignmentTimes]) -> AssignmentTimes | None:
    """The assignment with the smallest ``assigned_at`` (ties: smallest id)."""
    return min(assignments, key=lambda a: (a.assigned_at, a.id), default=None)


def first_reaching(assignments: Iterable[AssignmentTimes], column: str,
                   call_at: int) -> AssignmentTimes | None:
    """The assignment that reached ``column`` first among plausible ones
    (not before the call, not before its own dispatch); ties: earlier
    ``assigned_at``, then id."""
    candidates = [a for a in assignments if _plausible(a, column, call_at)]
    return min(candidates, key=lambda a: (getattr(a, column), a.assigned_at, a.id), default=None)


def compute_intervals(timeline: IncidentTimeline) -> IncidentIntervals:
    """All six intervals of one incident; see the module docstring for the rules."""
    call = timeline.call_received_at
    asg = timeline.assignments
    values: dict[str, int | None] = dict.fromkeys(INTERVALS)
    missing: set[str] = set()
    invalid: set[str] = set()
    corrected: set[str] = set()
    late: set[str] = set()

    def put(name: str, end: int | None, start: int | None, touched: list[tuple[AssignmentTimes, str]]) -> None:
        if end is None or start is None:
            missing.add(name)
            return
        if end < start:
            invalid.add(name)
            return
        values[name] = end - start
        if any(col in a.corrected for a, col in touched):
            corrected.add(name)
        if any(col in a.late for a, col in touched):
            late.add(name)

    def put_invalid_or_missing(name: str, column: str) -> None:
        # Some assignment reached the milestone but none plausibly: invalid.
        if any(getattr(a, column) is not None for a in asg):
            invalid.add(name)
        else:
            missing.add(name)

    disp = first_dispatch(asg)
    if disp is None:
        put("call_to_dispatch", None, call, [])
        put("dispatch_to_ack", None, None, [])
    else:
        put("call_to_dispatch", disp.assigned_at, call, [(disp, "assigned_at")])
        put("dispatch_to_ack", disp.acknowledged_at, disp.assigned_at,
            [(disp, "acknowledged_at"), (disp, "assigned_at")])

    arr = first_reaching(asg, "on_scene_at", call)
    if arr is None:
        for name in ("dispatch_to_arrival", "call_to_arrival"):
            put_invalid_or_missing(name, "on_scene_at")
        missing.add("arrival_to_cleared")
    else:
        put("dispatch_to_arrival", arr.on_scene_at, arr.assigned_at,
            [(arr, "on_scene_at"), (arr, "assigned_at")])
        put("call_to_arrival", arr.on_scene_at, call, [(arr, "on_scene_at")])
        put("arrival_to_cleared", arr.cleared_at, arr.on_scene_at,
            [(arr, "cleared_at"), (arr, "on_scene_at")])

    act = first_reaching(asg, "action_at", call)
    if act is None:
        put_invalid_or_missing("call_to_action", "action_at")
    else:
        put("call_to_action", act.action_at, call, [(act, "action_at")])

    return IncidentIntervals(
        incident_id=timeline.incident_id,
        **values,
        dispatch_assignment_id=disp.id if disp else None,
        arrival_assignment_id=arr.id if arr else None,
        arrival_unit_id=arr.unit_id if arr else None,
        missing=frozenset(missing),
        invalid=frozenset(invalid),
        corrected=frozenset(corrected),
        late=frozenset(late),
    )


def assignment_from_row(row: Mapping[str, Any]) -> AssignmentTimes:
    """Build :class:`AssignmentTimes` from an ``assignments`` row (dict)."""
    corrected, late = parse_flags(row.get("flags"))
    return AssignmentTimes(
        id=row["id"],
        unit_id=row["unit_id"],
        assigned_at=int(row["assigned_at"]),
        acknowledged_at=row.get("acknowledged_at"),
        en_route_at=row.get("en_route_at"),
        on_scene_at=row.get("on_scene_at"),
        action_at=row.get("action_at"),
        cleared_at=row.get("cleared_at"),
        state=row.get("state") or "pending",
        corrected=corrected,
        late=late,
    )
