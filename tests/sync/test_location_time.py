"""Location pings are on the server's clock, like status events (issue 11.9): a phone a year
off made its track vanish from the replay of the day it drove."""

from __future__ import annotations

from server.analytics import queries
from sync.store import Database

from .factories import MIN, T0, make_world, one, rows

YEAR_MS = 365 * 24 * 3_600_000


async def test_pings_of_a_phone_whose_clock_is_a_year_off_replay_at_the_true_time(db: Database) -> None:
    w = await make_world(db)
    u = w.units["pa11"]
    phone = w.device("officer1")
    phone.skew = -YEAR_MS  # the phone's clock says last year
    pings = [{"at": T0 + i * 10_000 - YEAR_MS, "lat": 45 + i / 1000, "lon": 19.8, "accuracy_m": 5.0}
             for i in range(6)]
    r = await one(db, phone, "unit.report_location", {"unit_id": u, "pings": pings}, at=T0 + MIN)
    assert r.outcome == "applied"
    stored = await rows(db, "SELECT device_at, event_at FROM location_pings WHERE unit_id = $1 ORDER BY id", u)
    assert [s["device_at"] for s in stored] == [p["at"] for p in pings], "the phone's own time is kept"
    assert [s["event_at"] for s in stored] == [T0 + i * 10_000 for i in range(6)]
    track = await queries.track(db, u, T0 - MIN, T0 + 2 * MIN)
    assert track is not None
    assert [p.at_ms for p in track.points] == [T0 + i * 10_000 for i in range(6)]
