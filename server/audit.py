"""The audit trail: who created, changed or viewed personal data, when, from which device.

Police data-protection law requires logging of consultation, not only of
changes, so reads of caller details and report persons are recorded too.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from server.clock import now_ms
from sync.principal import Principal
from sync.store import Tx

# Fields that hold personal data, per entity; reading them is audited.
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "incident": ("caller_name", "caller_phone"),
    "field_report": ("persons",),
    "user": ("full_name", "badge_no"),
}


async def record(tx: Tx, *, action: str, entity: str, entity_id: str | None,
                 principal: Principal | None = None, actor_id: str | None = None,
                 device_id: str | None = None, fields: Iterable[str] = (), ip: str | None = None,
                 detail: dict[str, Any] | None = None, at: int | None = None) -> None:
    await tx.execute(
        "INSERT INTO audit_log (at, actor_id, device_id, action, entity, entity_id, fields, ip, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        at if at is not None else now_ms(),
        principal.user_id if principal else actor_id,
        principal.device_id if principal else device_id,
        action, entity, entity_id,
        ",".join(fields) or None, ip,
        json.dumps(detail, separators=(",", ":")) if detail else None,
    )


async def record_views(tx: Tx, principal: Principal, entity: str, entity_ids: Iterable[str],
                       ip: str | None = None) -> None:
    """Record that `principal` consulted the personal fields of these entities."""
    fields = PERSONAL_FIELDS.get(entity, ())
    now = now_ms()
    for entity_id in entity_ids:
        await record(tx, action="view", entity=entity, entity_id=entity_id, principal=principal,
                     fields=fields, ip=ip, at=now)
