"""Two commanders saving overlapping shifts for one officer at the same moment:
only one may win (the overlap check must not race)."""

from __future__ import annotations

import asyncio

from server.services.shifts import MemberIn, ShiftError, ShiftIn, create_shift
from sync.principal import Principal
from sync.store import Database
from tests.support.world import build_world

HOUR = 3_600_000


async def test_concurrent_overlapping_saves_for_one_officer_cannot_both_pass(db: Database) -> None:
    world = await build_world(db)
    commander = Principal(user_id=world.users["commander"], role="commander", org_unit_id="org-sm",
                          scope_path="/SM/", device_id="00000000-0000-4000-8000-00000000c0de")
    start = world.now + 48 * HOUR
    officer = world.users["officer-a"]

    def shift(unit: str, offset: int) -> ShiftIn:
        return ShiftIn(unit_id=unit, starts_at=start + offset, ends_at=start + offset + 8 * HOUR,
                       members=[MemberIn(user_id=officer, role="member")])

    results = await asyncio.gather(create_shift(db, commander, shift("unit-a", 0)),
                                   create_shift(db, commander, shift("unit-b", HOUR)),
                                   return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], ShiftError), results
    async with db.read() as tx:
        n = await tx.fetchval(
            "SELECT COUNT(*) FROM shift_members m JOIN shifts s ON s.id = m.shift_id"
            " WHERE m.user_id = $1 AND s.starts_at >= $2", officer, start)
    assert n == 1
