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

from .principal import Principal


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
