"""Availability for today: planned bars for the whole day, actual status and gaps only up to now."""

from __future__ import annotations

import time
from pathlib import Path

from server.analytics.stats import local
from tests.shifts.support import app_client, sign_in
from tests.support.world import build_world

H = 3_600_000


async def test_today_is_not_projected_into_the_future(database_url: str, tmp_path: Path) -> None:
    async with app_client(database_url, tmp_path, build_world) as (client, world):
        auth = await sign_in(client, "commander")
        day = local(int(time.time() * 1000)).date().isoformat()
        r = await client.get("/api/analytics/availability", params={"day": day, "org_unit": "org-a"},
                             headers=auth)
        assert r.status_code == 200, r.text
        body = r.json()
        now = int(time.time() * 1000)
        assert body["start_ms"] <= body["as_of_ms"] <= now < body["end_ms"]
        (a11,) = body["units"]
        # shift-a runs from an hour ago to 7 h from now; no status event ever: unknown so far
        bar = a11["planned"][0]
        assert bar["planned_end_ms"] == world.now + 7 * H
        assert bar["end_ms"] == min(world.now + 7 * H, body["end_ms"])
        assert a11["actual"][-1]["end_ms"] == body["as_of_ms"]
        assert all(g["end_ms"] <= body["as_of_ms"] for g in a11["gaps"])
        assert 0 < a11["uncovered_ms"] <= H + 60_000  # the hour so far, not the 8 h shift
        # a day in the future: the plan only
        r = await client.get("/api/analytics/availability", params={"day": "2099-01-01"}, headers=auth)
        assert r.json()["as_of_ms"] == r.json()["start_ms"]
        assert all(u["actual"] == [] and u["gaps"] == [] for u in r.json()["units"])
