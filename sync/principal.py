"""Who is calling the sync layer: resolved by the server from the session."""

from __future__ import annotations

from typing import Literal

import msgspec

Role = Literal["officer", "dispatcher", "commander", "admin"]
ROLES: tuple[str, ...] = ("officer", "dispatcher", "commander", "admin")
DESK_ROLES = frozenset({"dispatcher", "commander", "admin"})


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    role: Role
    org_unit_id: str
    scope_path: str           # org-unit path of the subtree this person may see, e.g. '/SM/SM-RUMA/'
    unit_id: str | None = None  # the officer's unit on the current shift
    device_id: str            # the sync client_id of this installation
    display_name: str = ""

    @property
    def is_officer(self) -> bool:
        return self.role == "officer"

    def in_scope(self, path: str | None) -> bool:
        """Is an org-unit path inside this principal's subtree?"""
        return bool(path) and path.startswith(self.scope_path)
