"""Explicit state machines: unit status, assignment lifecycle, incident lifecycle.

Each machine is a table of named states and allowed transitions, with a
guard function that returns ``None`` when a transition is legal or a
:class:`Refusal` (reason code + sentence) when it is not. Illegal moves are
refused, never silently "fixed". Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

LABEL = {
    "available": "available", "en_route": "en route", "on_scene": "on scene",
    "busy": "busy", "off_duty": "off duty",
    "pending": "pending", "acknowledged": "acknowledged", "declined": "declined",
    "cleared": "cleared", "reassigned": "reassigned", "cancelled": "cancelled",
    "new": "new", "dispatched": "dispatched", "in_progress": "in progress", "closed": "closed",
}


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str


@dataclass(frozen=True)
class Machine:
    name: str
    states: frozenset[str]
    transitions: dict[str, frozenset[str]]
    terminal: frozenset[str]

    def can(self, frm: str, to: str) -> bool:
        return to in self.transitions.get(frm, frozenset())

    def check(self, frm: str, to: str) -> Refusal | None:
        if to not in self.states:
            return Refusal("invalid", f"'{to}' is not a {self.name} state.")
        if self.can(frm, to):
            return None
        return Refusal("illegal_transition",
                       f"A {self.name} cannot go from {LABEL.get(frm, frm)} to {LABEL.get(to, to)}.")


def _m(name: str, table: dict[str, set[str]], terminal: set[str]) -> Machine:
    states = frozenset(table) | frozenset(s for v in table.values() for s in v)
    return Machine(name, states, {k: frozenset(v) for k, v in table.items()}, frozenset(terminal))


# Unit status. Repeating the current status is legal (a double tap, two phones
# of one crew): it is kept in the history and changes nothing else.
UNIT_STATUS = _m("unit status", {
    "off_duty": {"off_duty", "available", "busy"},
    "available": {"available", "en_route", "on_scene", "busy", "off_duty"},
    "en_route": {"en_route", "on_scene", "available", "busy"},
    "on_scene": {"on_scene", "available", "busy", "en_route"},
    "busy": {"busy", "available", "en_route", "on_scene", "off_duty"},
}, set())

ACTIVE_ASSIGNMENT = frozenset({"pending", "acknowledged", "en_route", "on_scene"})
# Assignments a unit "works": their incident is visible to the unit's officers.
VISIBLE_ASSIGNMENT = ACTIVE_ASSIGNMENT | {"cleared"}

ASSIGNMENT = _m("assignment", {
    "pending": {"acknowledged", "declined", "en_route", "on_scene", "reassigned", "cancelled"},
    "acknowledged": {"en_route", "on_scene", "cleared", "reassigned", "cancelled"},
    "en_route": {"on_scene", "cleared", "reassigned", "cancelled"},
    "on_scene": {"cleared", "reassigned", "cancelled"},
    "declined": set(), "cleared": set(), "reassigned": set(), "cancelled": set(),
}, {"declined", "cleared", "reassigned", "cancelled"})

# Forward order of the working states, so a late milestone never moves an
# assignment backwards (en route arriving after on scene keeps on scene).
ASSIGNMENT_RANK = {"pending": 0, "acknowledged": 1, "en_route": 2, "on_scene": 3}

INCIDENT = _m("incident", {
    "new": {"dispatched", "in_progress", "closed", "cancelled"},
    "dispatched": {"new", "in_progress", "closed", "cancelled"},  # new: back in the queue
    "in_progress": {"closed", "cancelled"},
    "closed": set(), "cancelled": set(),
}, {"closed", "cancelled"})


def unit_status_guard(frm: str, to: str, *, active_assignment_state: str | None) -> Refusal | None:
    """Unit status transition with its guards.

    - the transition must be in the table;
    - going off duty with an assignment in progress (en route / on scene) is refused:
      clear it first.
    """
    r = UNIT_STATUS.check(frm, to)
    if r:
        return r
    if to == "off_duty" and active_assignment_state in ("en_route", "on_scene"):
        return Refusal("active_assignment",
                       "You cannot go off duty while your unit is "
                       f"{LABEL[active_assignment_state]} on an assignment; clear it first.")
    return None


def milestone_target(status: str, assignment_state: str) -> str | None:
    """The assignment state a unit status implies, or None if it implies no move.

    en_route / on_scene move an assignment forward (never backward);
    available / off_duty / busy after work on it clear it.
    """
    if status in ("en_route", "on_scene"):
        if assignment_state in ASSIGNMENT_RANK and ASSIGNMENT_RANK[assignment_state] < ASSIGNMENT_RANK[status]:
            return status
        return None
    if status == "available" and assignment_state in ("acknowledged", "en_route", "on_scene"):
        return "cleared"
    return None


def incident_after_assignment(incident_state: str, assignment_state: str) -> str | None:
    """Incident lifecycle driven by its assignments."""
    if assignment_state in ("pending", "acknowledged", "en_route") and incident_state == "new":
        return "dispatched"
    if assignment_state == "on_scene" and incident_state in ("new", "dispatched"):
        return "in_progress"
    return None


def incident_after_unassignment(incident_state: str, active_left: int) -> str | None:
    """A unit left the incident (declined, cancelled): with no unit left on it, a dispatched
    incident goes back to the queue ('new'), visibly, instead of staying 'dispatched' to nobody."""
    if incident_state == "dispatched" and active_left == 0:
        return "new"
    return None
