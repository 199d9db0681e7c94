"""Which unit to send: available units ranked by straight-line distance.

A pure function over unit snapshots so it can be tested without a database.
Units whose position is stale are still listed but ranked after fresh ones
at similar distance, with the age shown, because a 40-minute-old fix may be
far from where the car is now.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

EARTH_RADIUS_M = 6_371_000.0
STALE_AFTER_MS = 10 * 60_000
# Extra "virtual distance" per minute of position age beyond the stale limit.
STALE_PENALTY_M_PER_MIN = 200.0


class Recommendation(msgspec.Struct):
    unit_id: str
    call_sign: str
    status: str
    distance_m: float | None
    position_age_s: int | None
    stale: bool
    score_m: float
    reason_code: str          # nearest | stale_position | no_position | declined (clients translate these)
    reason: str               # the same in English, for logs and tooltips


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _fmt_km(m: float) -> str:
    return f"{m / 1000:.1f} km" if m >= 1000 else f"{m:.0f} m"


def rank_units(units: list[dict[str, Any]], lat: float | None, lon: float | None, now: int,
               limit: int = 10, declined: frozenset[str] = frozenset()) -> list[Recommendation]:
    """Available units (status 'available', no current assignment) by distance to (lat, lon).

    Units in ``declined`` turned this incident down already: they are still listed (the
    dispatcher may insist) but after every other unit, with reason_code ``declined``."""
    out: list[Recommendation] = []
    for u in units:
        if u.get("status") != "available" or u.get("current_assignment_id") or not u.get("active", 1):
            continue
        has_fix = u.get("last_lat") is not None and u.get("last_lon") is not None
        age_s = (now - u["last_position_at"]) // 1000 if u.get("last_position_at") else None
        stale = age_s is None or age_s * 1000 > STALE_AFTER_MS
        if has_fix and lat is not None and lon is not None:
            dist = haversine_m(lat, lon, u["last_lat"], u["last_lon"])
            penalty = 0.0
            if stale and age_s is not None:
                penalty = (age_s * 1000 - STALE_AFTER_MS) / 60_000 * STALE_PENALTY_M_PER_MIN
            score = dist + penalty
            reason = f"available, {_fmt_km(dist)} away"
            code = "nearest"
            if stale:
                reason += f", position {age_s // 60 if age_s is not None else '?'} min old"
                code = "stale_position"
        else:
            dist, score = None, 1e12  # unknown position ranks last
            reason = "available, position unknown"
            code = "no_position"
        if u["id"] in declined:
            score += 2e12  # after every unit that did not decline, unknown positions included
            code, reason = "declined", reason + "; declined this incident"
        out.append(Recommendation(unit_id=u["id"], call_sign=u["call_sign"], status=u["status"],
                                  distance_m=round(dist, 1) if dist is not None else None,
                                  position_age_s=age_s, stale=stale, score_m=score, reason_code=code, reason=reason))
    out.sort(key=lambda r: (r.score_m, r.call_sign))
    return out[:limit]
