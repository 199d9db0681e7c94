"""GET /api/units: the crew on shift now and the crew coming within the sign-on hour."""

from __future__ import annotations

import time

from litestar.testing import AsyncTestClient

from server.storage import connect
from tests.server.conftest import headers, sign_in


async def _shift(url: str, shift_id: str, unit: str, org: str, starts: int, members: list[str]) -> None:
    db = await connect(url)
    try:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO shifts (id, org_unit_id, unit_id, starts_at, ends_at, created_at, updated_at)"
                " VALUES ($1,$2,$3,$4,$5,$4,$4)", shift_id, org, unit, starts, starts + 8 * 3_600_000)
            for m in members:
                await tx.execute("INSERT INTO shift_members (shift_id, user_id, role) VALUES ($1, $2, 'member')",
                                 shift_id, m)
    finally:
        await db.close()


async def test_the_desk_sees_who_is_coming_on_within_the_hour(api: AsyncTestClient, database_url: str) -> None:
    users = api.world.users  # type: ignore[attr-defined]
    now = int(time.time() * 1000)
    await _shift(database_url, "next-b", "unit-b", "org-b", now + 30 * 60_000, [users["officer-a2"]])
    await _shift(database_url, "later-b", "unit-b", "org-b", now + 2 * 3_600_000, [users["officer-a"]])
    desk = await sign_in(api, "dispatcher")
    units = {u["call_sign"]: u for u in (await api.get("/api/units", headers=headers(desk))).json()}
    b = units["B-21"]
    assert [c["full_name"] for c in b["crew"]] == ["Officer-B"]
    assert [c["full_name"] for c in b["next_crew"]] == ["Officer-A2"], "only the shift within the hour"
    assert b["next_shift_starts_at"] == now + 30 * 60_000
    a = units["A-11"]
    assert a["next_crew"] == [] and a["next_shift_starts_at"] is None
    assert sorted(c["full_name"] for c in a["crew"]) == ["Officer-A", "Officer-A2"]
