"""Merge rules, one example per rule and per rejection reason (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from sync.registry import hhmm
from sync.store import Database

from .factories import HOUR, MIN, T0, description_conflict, make_world, new_id, one, open_incident, row, rows


def status(unit: str, st: str, **kw: object) -> dict:
    return {"unit_id": unit, "status": st, **kw}


# ------------------------------------------------------------------ unit status


async def test_offline_on_scene_keeps_its_event_time(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w, at=T0)
    o1 = w.device("officer1")
    u = w.units["pa11"]
    o1.mut("unit.set_status", status(u, "en_route"), at=T0 + 2 * MIN)
    o1.mut("unit.set_status", status(u, "on_scene"), at=T0 + 5 * MIN)   # "10:05", offline
    res = await o1.push(db, at=T0 + 20 * MIN)                          # synced "10:20"
    assert [r.outcome for r in res.results] == ["applied", "applied"]
    unit = await row(db, "SELECT status, status_at FROM units WHERE id = $1", u)
    assert unit == {"status": "on_scene", "status_at": T0 + 5 * MIN}
    a = await row(db, "SELECT state, en_route_at, on_scene_at, acknowledged_at, flags FROM assignments"
                      " WHERE id = $1", asg)
    assert (a["state"], a["en_route_at"], a["on_scene_at"]) == ("on_scene", T0 + 2 * MIN, T0 + 5 * MIN)
    assert a["acknowledged_at"] == T0 + 2 * MIN and json.loads(a["flags"])["en_route_at"]["implied_ack"]
    assert (await row(db, "SELECT state FROM incidents WHERE id = $1", inc))["state"] == "in_progress"


async def test_late_older_event_is_history_not_current(db: Database) -> None:
    w = await make_world(db)
    u = w.units["pa11"]
    phone_a, phone_b = w.device("officer1"), w.device("officer3")  # two phones, one car
    r = await one(db, phone_a, "unit.set_status", status(u, "busy"), at=T0 + 30 * MIN)
    assert r.outcome == "applied"
    # phone B was offline: its "available" at +10 arrives after A's "busy" at +30
    r = await one(db, phone_b, "unit.set_status", status(u, "available"), at=T0 + 10 * MIN,
                  sync_at=T0 + 40 * MIN)
    assert r.outcome == "merged" and r.reason_code == "older_than_current"
    assert hhmm(T0 + 30 * MIN) in r.reason
    unit = await row(db, "SELECT status, status_at FROM units WHERE id = $1", u)
    assert unit == {"status": "busy", "status_at": T0 + 30 * MIN}
    hist = await rows(db, "SELECT status, event_at FROM unit_status_events WHERE unit_id = $1 ORDER BY event_at", u)
    assert [(h["status"], h["event_at"]) for h in hist] == [("available", T0 + 10 * MIN), ("busy", T0 + 30 * MIN)]


async def test_illegal_status_transition_is_rejected_with_reason(db: Database) -> None:
    w = await make_world(db)
    u = w.units["pa11"]
    o1 = w.device("officer1")
    assert (await one(db, o1, "unit.set_status", status(u, "off_duty"), at=T0)).outcome == "applied"
    r = await one(db, o1, "unit.set_status", status(u, "on_scene"), at=T0 + MIN)
    assert r.outcome == "rejected" and r.reason_code == "illegal_transition"
    assert "off duty" in r.reason and "on scene" in r.reason
    assert (await row(db, "SELECT status FROM units WHERE id = $1", u))["status"] == "off_duty"
    assert len(await rows(db, "SELECT id FROM unit_status_events WHERE unit_id = $1", u)) == 1


async def test_transition_is_checked_against_the_status_at_event_time(db: Database) -> None:
    w = await make_world(db)
    u = w.units["pa11"]
    o1 = w.device("officer1")
    await one(db, o1, "unit.set_status", status(u, "off_duty"), at=T0 + 60 * MIN)
    # an older "en route" (when the unit was still available) is legal history
    r = await one(db, w.device("officer3"), "unit.set_status", status(u, "en_route"), at=T0 + 10 * MIN,
                  sync_at=T0 + 70 * MIN)
    assert r.outcome == "merged" and r.reason_code == "older_than_current"


async def test_off_duty_with_assignment_in_progress_is_rejected(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    u = w.units["pa11"]
    o1 = w.device("officer1")
    await one(db, o1, "unit.set_status", status(u, "en_route"), at=T0 + MIN)
    await one(db, o1, "unit.set_status", status(u, "busy"), at=T0 + 2 * MIN)
    r = await one(db, o1, "unit.set_status", status(u, "off_duty"), at=T0 + 3 * MIN)
    assert r.outcome == "rejected" and r.reason_code == "active_assignment"


async def test_available_after_on_scene_clears_the_assignment(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    u = w.units["pa11"]
    o1 = w.device("officer1")
    for i, st in enumerate(["en_route", "on_scene", "available"]):
        assert (await one(db, o1, "unit.set_status", status(u, st), at=T0 + (i + 1) * 10 * MIN)).outcome == "applied"
    a = await row(db, "SELECT state, cleared_at, ended_at FROM assignments WHERE id = $1", asg)
    assert a == {"state": "cleared", "cleared_at": T0 + 30 * MIN, "ended_at": T0 + 30 * MIN}
    assert (await row(db, "SELECT current_assignment_id FROM units WHERE id = $1", u))["current_assignment_id"] is None


async def test_late_en_route_after_on_scene_keeps_on_scene(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    u = w.units["pa11"]
    await one(db, w.device("officer1"), "unit.set_status", status(u, "on_scene", assignment_id=asg), at=T0 + 9 * MIN)
    r = await one(db, w.device("officer3"), "unit.set_status", status(u, "en_route", assignment_id=asg),
                  at=T0 + 4 * MIN, sync_at=T0 + 12 * MIN)
    assert r.outcome == "merged"
    a = await row(db, "SELECT state, en_route_at, on_scene_at FROM assignments WHERE id = $1", asg)
    assert a == {"state": "on_scene", "en_route_at": T0 + 4 * MIN, "on_scene_at": T0 + 9 * MIN}


async def test_location_pings_are_appended_and_latest_wins(db: Database) -> None:
    w = await make_world(db)
    u = w.units["pa11"]
    o1 = w.device("officer1")
    pings = [{"at": T0 + i * 1000, "lat": 45 + i / 1000, "lon": 19.8, "accuracy_m": 5.0} for i in range(50)]
    r = await one(db, o1, "unit.report_location", {"unit_id": u, "pings": pings[25:]}, at=T0 + MIN)
    assert r.outcome == "applied" and r.result["stored"] == 25
    await one(db, o1, "unit.report_location", {"unit_id": u, "pings": pings[:25]}, at=T0 + MIN)  # older batch late
    unit = await row(db, "SELECT last_lat, last_position_at FROM units WHERE id = $1", u)
    assert unit == {"last_lat": 45.049, "last_position_at": T0 + 49_000}
    assert (await row(db, "SELECT COUNT(*) AS n FROM location_pings WHERE unit_id = $1", u))["n"] == 50


# ------------------------------------------------------------------ device clocks


async def test_future_event_time_is_clamped_and_flagged(db: Database) -> None:
    w = await make_world(db)
    u = w.units["pa11"]
    o1 = w.device("officer1")
    # the phone's clock jumped: it stamps an event two hours ahead, but its
    # clock reading at sync time agrees with the server (offset 0)
    r = await one(db, o1, "unit.set_status", status(u, "busy"), at=T0 + 2 * HOUR, sync_at=T0, device_now=T0)
    assert r.outcome == "applied" and r.result["flags"]["clamped"] == "future"
    ev = await row(db, "SELECT event_at, device_at, flags FROM unit_status_events WHERE unit_id = $1", u)
    assert ev["event_at"] == T0 and ev["device_at"] == T0 + 2 * HOUR
    assert json.loads(ev["flags"])["device_at"] == T0 + 2 * HOUR
    assert (await row(db, "SELECT status_at FROM units WHERE id = $1", u))["status_at"] == T0


async def test_event_before_the_call_is_clamped_so_response_times_stay_true(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w, at=T0 + HOUR)  # call received at T0+1h
    u = w.units["pa11"]
    o1 = w.device("officer1", clock_skew_ms=-3 * HOUR)  # phone 3 h behind ...
    o1.mut("unit.set_status", status(u, "on_scene", assignment_id=asg), at=T0 + HOUR + 10 * MIN)
    # ... but it reports its clock wrongly too (device_now says it is fine): offset 0
    from sync import engine
    res = await engine.apply_batch(db, o1.p, o1.outbox, device_now=T0 + 2 * HOUR, server_now=T0 + 2 * HOUR)
    assert res.results[0].outcome == "applied"
    a = await row(db, "SELECT on_scene_at, flags FROM assignments WHERE id = $1", asg)
    assert a["on_scene_at"] == T0 + HOUR  # not before the call
    assert json.loads(a["flags"])["on_scene_at"]["clamped"] == "before_call"


async def test_offset_correction_gives_true_times_for_a_slow_phone(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w, at=T0)
    o1 = w.device("officer1", clock_skew_ms=-10 * MIN)  # 10 minutes slow, consistently
    o1.mut("unit.set_status", status(w.units["pa11"], "on_scene"), at=T0 + 5 * MIN)
    await o1.push(db, at=T0 + 60 * MIN)
    a = await row(db, "SELECT on_scene_at FROM assignments WHERE id = $1", asg)
    assert a["on_scene_at"] == T0 + 5 * MIN


# ------------------------------------------------------------------ incidents: per-field LWW


async def test_concurrent_edit_of_one_field_becomes_a_conflict(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w)  # version 2 after assignment (dispatched)
    v = (await row(db, "SELECT version FROM incidents WHERE id = $1", inc))["version"]
    disp, o1 = w.device("dispatcher"), w.device("officer1")
    # both saw version v; the officer (offline) edits first, syncs later
    m_off = o1.mut("incident.update", {"incident_id": inc, "address": "Glavna 12"}, at=T0 + 5 * MIN, base_version=v)
    r1 = await one(db, disp, "incident.update", {"incident_id": inc, "address": "Glavna 21"}, at=T0 + 8 * MIN,
                   base_version=v)
    assert r1.outcome == "applied"
    res = await o1.push(db, at=T0 + 30 * MIN)
    r2 = res.results[0]
    assert m_off["seq"] == r2.seq and r2.outcome == "conflict" and r2.reason_code == "concurrent_edit"
    assert "address" in r2.reason and "both versions are kept" in r2.reason
    inc_row = await row(db, "SELECT address, field_meta FROM incidents WHERE id = $1", inc)
    assert inc_row["address"] == "Glavna 21"  # the later HLC (dispatcher's) stays current
    c = await row(db, "SELECT * FROM conflicts WHERE entity_id = $1", inc)
    assert json.loads(c["server_value"]) == "Glavna 21" and json.loads(c["client_value"]) == "Glavna 12"
    assert c["server_by"] == w.users["dispatcher"] and c["client_by"] == w.users["officer1"]
    assert c["client_at"] == T0 + 5 * MIN and c["server_at"] == T0 + 8 * MIN
    assert c["field"] == "address" and c["state"] == "open" and c["base_version"] == v
    assert r2.result["conflicts"][0]["id"] == c["id"]


async def test_non_overlapping_fields_merge_without_conflict(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w)
    v = (await row(db, "SELECT version FROM incidents WHERE id = $1", inc))["version"]
    r1 = await one(db, w.device("dispatcher"), "incident.update", {"incident_id": inc, "priority": 1},
                   at=T0 + 5 * MIN, base_version=v)
    r2 = await one(db, w.device("officer1"), "incident.update", {"incident_id": inc, "hazards": "dog"},
                   at=T0 + 4 * MIN, base_version=v)
    assert (r1.outcome, r2.outcome) == ("applied", "applied")
    i = await row(db, "SELECT priority, hazards, version FROM incidents WHERE id = $1", inc)
    assert (i["priority"], i["hazards"], i["version"]) == (1, "dog", v + 2)
    assert await rows(db, "SELECT id FROM conflicts") == []


async def test_sequential_edits_by_one_offline_phone_are_not_conflicts(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w)
    v = (await row(db, "SELECT version FROM incidents WHERE id = $1", inc))["version"]
    o1 = w.device("officer1")
    o1.mut("incident.update", {"incident_id": inc, "description": "draft"}, at=T0 + MIN, base_version=v)
    o1.mut("incident.update", {"incident_id": inc, "description": "final"}, at=T0 + 2 * MIN, base_version=v)
    res = await o1.push(db, at=T0 + HOUR)
    assert [r.outcome for r in res.results] == ["applied", "applied"]
    assert (await row(db, "SELECT description FROM incidents WHERE id = $1", inc))["description"] == "final"


async def test_update_of_closed_incident_is_rejected(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w)
    await one(db, w.device("dispatcher"), "incident.close", {"incident_id": inc, "outcome": "resolved"},
              at=T0 + HOUR)
    r = await one(db, w.device("dispatcher"), "incident.update", {"incident_id": inc, "priority": 4},
                  at=T0 + 2 * HOUR, base_version=9)
    assert r.outcome == "rejected" and r.reason_code == "incident_closed" and "note" in r.reason


async def test_update_without_fields_is_invalid(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w)
    r = await one(db, w.device("dispatcher"), "incident.update", {"incident_id": inc}, at=T0, base_version=1)
    assert r.reason_code == "invalid" and r.result == {"field": "args"}


# ------------------------------------------------------------------ conflicts resolved by a human


_conflict = description_conflict


async def test_resolve_conflict_with_client_value(db: Database) -> None:
    w = await make_world(db)
    inc, cid = await _conflict(db, w)
    r = await one(db, w.device("commander"), "conflict.resolve", {"conflict_id": cid, "resolution": "client"},
                  at=T0 + HOUR)
    assert r.outcome == "applied"
    i = await row(db, "SELECT description, field_meta FROM incidents WHERE id = $1", inc)
    assert i["description"] == "client"
    assert json.loads(i["field_meta"])["description"]["resolved"] == cid
    c = await row(db, "SELECT state, resolution, resolved_by, resolved_value FROM conflicts WHERE id = $1", cid)
    assert c == {"state": "resolved", "resolution": "client", "resolved_by": w.users["commander"],
                 "resolved_value": '"client"'}
    # resolving twice is refused, naming who decided
    r = await one(db, w.device("dispatcher"), "conflict.resolve", {"conflict_id": cid, "resolution": "server"},
                  at=T0 + 2 * HOUR)
    assert r.outcome == "rejected" and r.reason_code == "already_resolved" and "client value" in r.reason


async def test_resolve_conflict_with_merged_value_and_validation(db: Database) -> None:
    w = await make_world(db)
    inc, cid = await _conflict(db, w)
    d = w.device("dispatcher")
    r = await one(db, d, "conflict.resolve", {"conflict_id": cid, "resolution": "merged"}, at=T0 + HOUR)
    assert r.reason_code == "invalid" and r.result == {"field": "args.value"}
    r = await one(db, d, "conflict.resolve", {"conflict_id": cid, "resolution": "merged", "value": 5},
                  at=T0 + HOUR)
    assert r.reason_code == "invalid"
    r = await one(db, d, "conflict.resolve", {"conflict_id": cid, "resolution": "merged",
                                              "value": "server + client"}, at=T0 + HOUR)
    assert r.outcome == "applied"
    assert (await row(db, "SELECT description FROM incidents WHERE id = $1", inc))["description"] == "server + client"


async def test_resolve_conflict_with_server_value(db: Database) -> None:
    w = await make_world(db)
    inc, cid = await _conflict(db, w)
    r = await one(db, w.device("dispatcher"), "conflict.resolve", {"conflict_id": cid, "resolution": "server"},
                  at=T0 + HOUR)
    assert r.outcome == "applied"
    assert (await row(db, "SELECT description FROM incidents WHERE id = $1", inc))["description"] == "server"
    assert (await row(db, "SELECT resolution FROM conflicts WHERE id = $1", cid))["resolution"] == "server"


# ------------------------------------------------------------------ field reports


async def test_field_report_concurrent_text_edit_is_a_conflict(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w)
    rep = new_id()
    o1, o3 = w.device("officer1"), w.device("officer3")  # two officers of PA-11
    r = await one(db, o1, "report.update", {"report_id": rep, "incident_id": inc, "summary": "s0"}, at=T0 + MIN)
    assert r.outcome == "applied" and r.result["created"]
    r1 = await one(db, o1, "report.update", {"report_id": rep, "incident_id": inc, "summary": "s-one",
                                             "vehicles": "BG-123"}, at=T0 + 5 * MIN, base_version=1)
    r3 = await one(db, o3, "report.update", {"report_id": rep, "incident_id": inc, "summary": "s-three",
                                             "persons": "J. Doe"}, at=T0 + 6 * MIN, base_version=1)
    assert r1.outcome == "applied" and r3.outcome == "conflict"
    rp = await row(db, "SELECT summary, vehicles, persons, version FROM field_reports WHERE id = $1", rep)
    assert rp == {"summary": "s-three", "vehicles": "BG-123", "persons": "J. Doe", "version": 3}
    c = await row(db, "SELECT entity, field, server_value, client_value FROM conflicts WHERE entity_id = $1", rep)
    assert c == {"entity": "field_report", "field": "summary", "server_value": '"s-one"',
                 "client_value": '"s-three"'}


async def test_report_for_another_incident_id_is_invalid(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w)
    inc2, _ = await open_incident(db, w, assign=None)
    rep = new_id()
    d = w.device("dispatcher")
    await one(db, d, "report.update", {"report_id": rep, "incident_id": inc, "summary": "a"}, at=T0)
    r = await one(db, d, "report.update", {"report_id": rep, "incident_id": inc2, "summary": "b"}, at=T0)
    assert r.reason_code == "invalid"


# ------------------------------------------------------------------ notes


async def test_notes_are_append_only_and_late_notes_are_flagged(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    o1 = w.device("officer1")
    n_before, n_after = new_id(), new_id()
    o1.mut("incident.add_note", {"note_id": n_before, "incident_id": inc, "body": "witness left"}, at=T0 + 20 * MIN)
    o1.mut("incident.add_note", {"note_id": n_after, "incident_id": inc, "body": "plate was BG-1"}, at=T0 + 50 * MIN)
    await one(db, w.device("dispatcher"), "incident.close", {"incident_id": inc}, at=T0 + 30 * MIN)
    res = await o1.push(db, at=T0 + HOUR)
    assert [r.outcome for r in res.results] == ["applied", "merged"]
    assert res.results[1].reason_code == "late_note" and hhmm(T0 + 30 * MIN) in res.results[1].reason
    notes = {r["id"]: r for r in await rows(db, "SELECT id, late, flags FROM notes WHERE incident_id = $1", inc)}
    # Written at +20 min, synced at +60 min: kept with its time, marked as written offline.
    assert notes[n_before]["late"] == 0 and json.loads(notes[n_before]["flags"]) == {
        "synced_after_close": True, "offline": True, "sync_delay_ms": 40 * MIN}
    assert notes[n_after]["late"] == 1
    assert json.loads(notes[n_after]["flags"])["sync_delay_ms"] == 10 * MIN


async def test_two_notes_at_once_are_both_kept(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w)
    await one(db, w.device("officer1"), "incident.add_note", {"note_id": new_id(), "incident_id": inc, "body": "same"},
              at=T0 + MIN)
    await one(db, w.device("officer3"), "incident.add_note", {"note_id": new_id(), "incident_id": inc, "body": "same"},
              at=T0 + MIN)
    assert len(await rows(db, "SELECT id FROM notes WHERE incident_id = $1", inc)) == 2


async def test_note_from_a_unit_taken_off_the_incident_is_kept(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w, assign="pa11")
    o1 = w.device("officer1")
    m = o1.mut("incident.add_note", {"note_id": new_id(), "incident_id": inc, "body": "offline note"}, at=T0 + 5 * MIN)
    await one(db, w.device("dispatcher"), "assignment.reassign",
              {"assignment_id": asg, "new_assignment_id": new_id(), "unit_id": w.units["pa12"]}, at=T0 + 10 * MIN)
    res = await o1.push(db, at=T0 + 30 * MIN)
    assert res.results[0].outcome == "applied"
    assert (await row(db, "SELECT body FROM notes WHERE id = $1", m["args"]["note_id"]))["body"] == "offline note"


# ------------------------------------------------------------------ assignments


async def test_acknowledging_a_reassigned_assignment_names_the_new_unit(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w, assign="pa11")
    o1 = w.device("officer1")
    ack = o1.mut("assignment.acknowledge", {"assignment_id": asg}, at=T0 + 15 * MIN)  # offline
    r = await one(db, w.device("dispatcher"), "assignment.reassign",
                  {"assignment_id": asg, "new_assignment_id": new_id(), "unit_id": w.units["pa12"]},
                  at=T0 + 12 * MIN)
    assert r.outcome == "applied"
    res = await o1.push(db, at=T0 + 20 * MIN)
    r = res.results[0]
    assert r.seq == ack["seq"] and r.outcome == "rejected" and r.reason_code == "assignment_reassigned"
    assert r.reason == f"This assignment was given to {w.call_signs['pa12']} at {hhmm(T0 + 12 * MIN)}."
    assert r.result["new_unit_id"] == w.units["pa12"]
    old = await row(db, "SELECT state, replaced_by_unit_id FROM assignments WHERE id = $1", asg)
    assert old == {"state": "reassigned", "replaced_by_unit_id": w.units["pa12"]}


async def test_acknowledging_a_cancelled_assignment_is_rejected(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    await one(db, w.device("dispatcher"), "assignment.cancel", {"assignment_id": asg}, at=T0 + 3 * MIN)
    r = await one(db, w.device("officer1"), "assignment.acknowledge", {"assignment_id": asg}, at=T0 + 4 * MIN)
    assert r.outcome == "rejected" and r.reason_code == "assignment_cancelled"
    assert (await row(db, "SELECT current_assignment_id FROM units WHERE id = $1",
                      w.units["pa11"]))["current_assignment_id"] is None


async def test_acknowledge_twice_is_merged_and_decline_after_en_route_is_illegal(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    o1, o3 = w.device("officer1"), w.device("officer3")
    assert (await one(db, o1, "assignment.acknowledge", {"assignment_id": asg}, at=T0 + MIN)).outcome == "applied"
    r = await one(db, o3, "assignment.acknowledge", {"assignment_id": asg}, at=T0 + 2 * MIN)
    assert r.outcome == "merged" and r.reason_code == "already_acknowledged"
    await one(db, o1, "unit.set_status", status(w.units["pa11"], "en_route"), at=T0 + 3 * MIN)
    r = await one(db, o3, "assignment.decline", {"assignment_id": asg, "reason": "flat tyre"}, at=T0 + 4 * MIN)
    assert r.outcome == "rejected" and r.reason_code == "illegal_transition"


async def test_decline_frees_the_unit(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    r = await one(db, w.device("officer1"), "assignment.decline", {"assignment_id": asg, "reason": "flat tyre"},
                  at=T0 + MIN)
    assert r.outcome == "applied"
    a = await row(db, "SELECT state, decline_reason FROM assignments WHERE id = $1", asg)
    assert a == {"state": "declined", "decline_reason": "flat tyre"}
    r = await one(db, w.device("officer1"), "assignment.acknowledge", {"assignment_id": asg}, at=T0 + 2 * MIN)
    assert r.reason_code == "illegal_transition"


async def test_one_active_assignment_per_unit_unless_additional(db: Database) -> None:
    w = await make_world(db)
    inc1, asg1 = await open_incident(db, w, assign="pa11")
    inc2, _ = await open_incident(db, w, at=T0 + MIN, assign=None)
    d = w.device("dispatcher")
    r = await one(db, d, "assignment.create", {"assignment_id": new_id(), "incident_id": inc2,
                                               "unit_id": w.units["pa11"]}, at=T0 + 2 * MIN)
    assert r.outcome == "rejected" and r.reason_code == "unit_busy" and w.call_signs["pa11"] in r.reason
    r = await one(db, d, "assignment.create", {"assignment_id": new_id(), "incident_id": inc2,
                                               "unit_id": w.units["pa11"], "additional": True}, at=T0 + 3 * MIN)
    assert r.outcome == "applied"
    # the unit's current assignment stays the first one
    assert (await row(db, "SELECT current_assignment_id FROM units WHERE id = $1",
                      w.units["pa11"]))["current_assignment_id"] == asg1


async def test_second_unit_on_an_incident_needs_the_flag(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w, assign="pa11")
    d = w.device("dispatcher")
    r = await one(db, d, "assignment.create", {"assignment_id": new_id(), "incident_id": inc,
                                               "unit_id": w.units["pa12"]}, at=T0 + MIN)
    assert r.reason_code == "incident_has_unit"
    second = new_id()
    r = await one(db, d, "assignment.create", {"assignment_id": second, "incident_id": inc,
                                               "unit_id": w.units["pa12"], "additional": True}, at=T0 + MIN)
    assert r.outcome == "applied" and r.result["is_primary"] is False
    assert (await row(db, "SELECT is_primary FROM assignments WHERE id = $1", second))["is_primary"] == 0


async def test_assignment_to_closed_incident_or_inactive_unit_is_rejected(db: Database) -> None:
    w = await make_world(db)
    inc, _ = await open_incident(db, w, assign=None)
    d = w.device("dispatcher")
    async with db.transaction() as tx:
        await tx.execute("UPDATE units SET active = 0 WHERE id = $1", w.units["pa12"])
    r = await one(db, d, "assignment.create", {"assignment_id": new_id(), "incident_id": inc,
                                               "unit_id": w.units["pa12"]}, at=T0 + MIN)
    assert r.reason_code == "unit_inactive"
    await one(db, d, "incident.close", {"incident_id": inc, "cancelled": True}, at=T0 + 2 * MIN)
    r = await one(db, d, "assignment.create", {"assignment_id": new_id(), "incident_id": inc,
                                               "unit_id": w.units["pa11"]}, at=T0 + 3 * MIN)
    assert r.reason_code == "incident_closed"


async def test_reassign_of_ended_assignment_is_refused(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w)
    d = w.device("dispatcher")
    await one(db, d, "assignment.reassign", {"assignment_id": asg, "new_assignment_id": new_id(),
                                             "unit_id": w.units["pa12"]}, at=T0 + MIN)
    r = await one(db, d, "assignment.reassign", {"assignment_id": asg, "new_assignment_id": new_id(),
                                                 "unit_id": w.units["pa12"]}, at=T0 + 2 * MIN)
    assert r.reason_code == "assignment_reassigned"


async def test_status_for_a_reassigned_assignment_is_kept_and_explained(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w, assign="pa11")
    o1 = w.device("officer1")
    o1.mut("unit.set_status", status(w.units["pa11"], "on_scene", assignment_id=asg), at=T0 + 5 * MIN)
    await one(db, w.device("dispatcher"), "assignment.reassign",
              {"assignment_id": asg, "new_assignment_id": new_id(), "unit_id": w.units["pa12"]}, at=T0 + 12 * MIN)
    res = await o1.push(db, at=T0 + 20 * MIN)
    r = res.results[0]
    # the arrival really happened before the reassignment: the truth is kept on the old assignment
    assert r.outcome == "merged" and r.reason_code == "assignment_reassigned" and r.reason.startswith("Status saved.")
    a = await row(db, "SELECT state, on_scene_at FROM assignments WHERE id = $1", asg)
    assert a == {"state": "reassigned", "on_scene_at": T0 + 5 * MIN}
    assert (await row(db, "SELECT status FROM units WHERE id = $1", w.units["pa11"]))["status"] == "on_scene"


async def test_close_ends_active_assignments(db: Database) -> None:
    w = await make_world(db)
    inc, asg = await open_incident(db, w, assign="pa11")
    second = new_id()
    d = w.device("dispatcher")
    await one(db, d, "assignment.create", {"assignment_id": second, "incident_id": inc,
                                           "unit_id": w.units["pa12"], "additional": True}, at=T0 + MIN)
    await one(db, w.device("officer1"), "unit.set_status", status(w.units["pa11"], "on_scene"), at=T0 + 5 * MIN)
    r = await one(db, w.device("officer1"), "incident.close", {"incident_id": inc, "outcome": "report filed"},
                  at=T0 + 40 * MIN)
    assert r.outcome == "applied" and r.result["ended_assignments"] == 2
    st = {x["id"]: x["state"] for x in await rows(db, "SELECT id, state FROM assignments WHERE incident_id = $1", inc)}
    assert st == {asg: "cleared", second: "cancelled"}
    i = await row(db, "SELECT state, outcome, closed_at FROM incidents WHERE id = $1", inc)
    assert i == {"state": "closed", "outcome": "report filed", "closed_at": T0 + 40 * MIN}
    r = await one(db, d, "incident.close", {"incident_id": inc}, at=T0 + 50 * MIN)
    assert r.outcome == "merged" and r.reason_code == "already_closed"
    r = await one(db, d, "incident.close", {"incident_id": inc, "cancelled": True}, at=T0 + 50 * MIN)
    assert r.reason_code == "illegal_transition"


async def test_officer_can_create_a_patrol_incident_for_own_unit(db: Database) -> None:
    w = await make_world(db)
    o1 = w.device("officer1")
    inc, asg = new_id(), new_id()
    r = await one(db, o1, "incident.create", {"incident_id": inc, "source": "patrol", "type": "found_drugs",
                                              "assignment_id": asg, "lat": 45.0, "lon": 19.8}, at=T0)
    assert r.outcome == "applied" and r.result["number"].endswith("000001")
    a = await row(db, "SELECT unit_id, state FROM assignments WHERE id = $1", asg)
    assert a == {"unit_id": w.units["pa11"], "state": "acknowledged"}
    i = await row(db, "SELECT state, priority, field_meta FROM incidents WHERE id = $1", inc)
    assert i["state"] == "dispatched" and i["priority"] == 3
    assert json.loads(i["field_meta"])["lat"]["by"] == w.users["officer1"]


# ------------------------------------------------------------------ alerts


async def test_every_alert_is_its_own_row(db: Database) -> None:
    w = await make_world(db)
    o1, o3 = w.device("officer1"), w.device("officer3")
    ids = [new_id() for _ in range(3)]
    o1.mut("alert.raise", {"alert_id": ids[0], "lat": 45.0, "lon": 19.0}, at=T0)
    o1.mut("alert.raise", {"alert_id": ids[1], "lat": 45.0, "lon": 19.0}, at=T0)  # same moment, same place
    o3.mut("alert.raise", {"alert_id": ids[2], "lat": 45.0, "lon": 19.0}, at=T0)
    await o1.push(db, at=T0 + 1000)
    await o3.push(db, at=T0 + 1000)
    got = await rows(db, "SELECT id, unit_id, state FROM emergency_alerts ORDER BY id")
    assert sorted(g["id"] for g in got) == sorted(ids)
    assert all(g["unit_id"] == w.units["pa11"] and g["state"] == "raised" for g in got)
    d = w.device("dispatcher")
    assert (await one(db, d, "alert.acknowledge", {"alert_id": ids[0]}, at=T0 + MIN)).outcome == "applied"
    r = await one(db, w.device("commander"), "alert.acknowledge", {"alert_id": ids[0]}, at=T0 + MIN)
    assert r.outcome == "merged" and r.reason_code == "already_acknowledged"
    r = await one(db, o1, "alert.raise", {"alert_id": new_id(), "unit_id": w.units["pa12"]}, at=T0)
    assert r.reason_code == "out_of_scope"
