"""Who sees which change: the one visibility rule, shared by pull and live fan-out.

* Officers see a change when their unit is in its ``audience`` (their own
  unit, its status history, its assignments, and the incidents, notes and
  field reports of incidents their unit works on, plus evictions when it
  stops working on one).
* Dispatchers, commanders and admins see every change whose ``scope_path``
  lies in their org subtree. Audience-only rows have an empty scope_path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .machines import VISIBLE_ASSIGNMENT
from .principal import Principal

_VISIBLE_STATES = "(" + ", ".join(f"'{s}'" for s in sorted(VISIBLE_ASSIGNMENT)) + ")"


def officer_sees_incident_sql(incident: str, unit: str) -> str:
    """SQL: the unit ``unit`` works (or worked, cleared) on the incident ``incident``.

    The REST reads use it, so an officer reads over REST exactly the incidents
    their pull carries (``VISIBLE_ASSIGNMENT``): the station the incident belongs
    to does not matter, and a unit that declined or was reassigned away no longer
    reads it, its notes or its caller.
    """
    return (f"EXISTS (SELECT 1 FROM assignments va WHERE va.incident_id = {incident}"
            f" AND va.unit_id = {unit} AND va.state IN {_VISIBLE_STATES})")


def _get(change: Any, key: str) -> Any:
    if isinstance(change, Mapping):
        return change.get(key)
    return getattr(change, key, None)


def can_see(principal: Principal, change: Any) -> bool:
    """``change``: a :class:`sync.changes.Change` or its dict form."""
    if principal.role == "officer":
        audience = _get(change, "audience") or ()
        return principal.unit_id is not None and principal.unit_id in audience
    scope = _get(change, "scope_path") or ""
    return bool(scope) and bool(principal.scope_path) and scope.startswith(principal.scope_path)
