from server.services.incidents import build_timeline

CALL = 1_800_000_000_000
MIN = 60_000


def test_timeline_orders_milestones_and_carries_their_flags() -> None:
    incident = {"call_received_at": CALL, "created_at": CALL + MIN, "source": "112", "closed_at": CALL + 60 * MIN,
                "outcome": "resolved"}
    assignments = [{"unit_id": "u1", "call_sign": "RU-21", "state": "cleared", "assigned_at": CALL + 2 * MIN,
                    "acknowledged_at": CALL + 3 * MIN, "en_route_at": CALL + 3 * MIN, "on_scene_at": CALL + 15 * MIN,
                    "action_at": None, "cleared_at": CALL + 50 * MIN, "declined_at": None, "ended_at": CALL + 50 * MIN,
                    "flags": {"on_scene_at": {"offline": True, "sync_delay_ms": 20 * MIN}}}]
    notes = [{"event_at": CALL + 55 * MIN, "unit_id": "u1", "body": "witness", "author_name": "Marko", "late": 0,
              "flags": {}}]
    tl = build_timeline(incident, assignments, notes)
    assert [e.kind for e in tl] == ["call_received", "created", "assigned", "acknowledged", "en_route", "on_scene",
                                    "cleared", "note", "closed"]
    on_scene = next(e for e in tl if e.kind == "on_scene")
    assert on_scene.flags == {"offline": True, "sync_delay_ms": 20 * MIN} and on_scene.call_sign == "RU-21"
    assert next(e for e in tl if e.kind == "en_route").flags is None
