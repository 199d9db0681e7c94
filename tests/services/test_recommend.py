from server.services.recommend import haversine_m, rank_units

NOW = 1_800_000_000_000


def unit(uid: str, lat: float | None, lon: float | None, status: str = "available", age_s: int = 30,
         assignment: str | None = None) -> dict:
    return {"id": uid, "call_sign": uid.upper(), "status": status, "current_assignment_id": assignment,
            "last_lat": lat, "last_lon": lon, "last_position_at": NOW - age_s * 1000 if lat is not None else None,
            "active": 1}


def test_haversine_known_distance() -> None:
    # Sremska Mitrovica to Ruma: about 16.9 km as the crow flies.
    assert 16_700 < haversine_m(44.9764, 19.6122, 45.0081, 19.8222) < 17_100


def test_nearest_available_first_and_busy_excluded() -> None:
    units = [unit("far", 45.10, 19.60), unit("near", 44.98, 19.61), unit("busy", 44.9765, 19.6123, status="busy"),
             unit("assigned", 44.9765, 19.6123, assignment="a1")]
    ranked = rank_units(units, 44.9764, 19.6122, NOW)
    assert [r.unit_id for r in ranked] == ["near", "far"]
    assert ranked[0].reason_code == "nearest" and "away" in ranked[0].reason


def test_stale_position_ranks_after_a_fresh_one_at_similar_distance() -> None:
    units = [unit("stale", 44.980, 19.612, age_s=60 * 60), unit("fresh", 44.985, 19.612, age_s=20)]
    ranked = rank_units(units, 44.9764, 19.6122, NOW)
    assert [r.unit_id for r in ranked] == ["fresh", "stale"]
    assert ranked[1].stale and ranked[1].reason_code == "stale_position" and ranked[1].position_age_s == 3600


def test_unknown_position_ranks_last_and_no_incident_point_keeps_units() -> None:
    units = [unit("nowhere", None, None), unit("near", 44.98, 19.61)]
    assert [r.unit_id for r in rank_units(units, 44.9764, 19.6122, NOW)] == ["near", "nowhere"]
    assert rank_units(units, 44.9764, 19.6122, NOW)[1].reason_code == "no_position"
    assert {r.unit_id for r in rank_units(units, None, None, NOW)} == {"near", "nowhere"}
