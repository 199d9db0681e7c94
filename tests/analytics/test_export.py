"""Per-incident export shape."""

from __future__ import annotations

import msgspec

from server.analytics.export import export_incident, export_json
from sync.store import Database

from .dataset import M, load, t


async def test_export_incident(db: Database) -> None:
    await load(db)
    call = t(15, 10, 20)
    async with db.transaction() as tx:
        await tx.execute("UPDATE incidents SET closed_at = $1, outcome = 'resolved', number = 'SM-1',"
                         " caller_name = 'Petar', caller_phone = '+381601234567',"
                         " address = 'Glavna 1', lat = 45.0, lon = 19.8 WHERE id = 'i2'", call + 60 * M)
        await tx.executemany(
            "INSERT INTO notes (id, incident_id, unit_id, body, device_at, event_at, server_at, hlc, late)"
            " VALUES ($1, 'i2', 'u-ru2', 'secret body', $2, $2, $2, 'h', $3)",
            [("n1", call + 20 * M, 0), ("n2", call + 70 * M, 1)])
        await tx.execute("INSERT INTO field_reports (id, incident_id, created_at, updated_at)"
                         " VALUES ('f1', 'i2', 0, 0)")
    ex = await export_incident(db, "i2", now_ms=123)
    assert ex is not None
    assert (ex.format, ex.version, ex.exported_at) == ("patrol.incident-export", 1, 123)
    assert ex.incident.number == "SM-1" and ex.incident.type_label == "Fight"
    assert ex.incident.org_unit.code == "SM-RU"
    assert ex.incident.location.address == "Glavna 1"
    assert ex.incident.call_received_at_iso == "2025-01-15T10:20:00.000+01:00"
    assert [(e.kind, e.call_sign, e.at - call) for e in ex.timeline] == [
        ("call_received", None, 0), ("incident_created", None, 0),
        ("dispatched", "RU-1", 2 * M), ("dispatched", "RU-2", 4 * M), ("acknowledged", "RU-2", 5 * M),
        ("on_scene", "RU-2", 16 * M), ("note", "RU-2", 20 * M), ("cleared", "RU-2", 50 * M),
        ("closed", None, 60 * M), ("note", "RU-2", 70 * M)]
    on_scene = next(e for e in ex.timeline if e.kind == "on_scene")
    assert on_scene.corrected and not on_scene.late
    assert [(u.call_sign, u.state, u.corrected) for u in ex.units] == [
        ("RU-1", "declined", []), ("RU-2", "cleared", ["on_scene_at"])]
    assert ex.intervals.call_to_arrival_ms == 16 * M and ex.intervals.dispatch_to_arrival_ms == 12 * M
    assert ex.intervals.arrival_assignment_id == "a3"
    assert "call_to_arrival" in ex.intervals.corrected
    assert (ex.outcome.state, ex.outcome.outcome) == ("closed", "resolved")
    assert (ex.notes_count, ex.late_notes_count, ex.field_reports_count) == (2, 1, 1)
    raw = export_json(ex)
    assert b"Petar" not in raw and b"+38160" not in raw and b"secret body" not in raw
    assert msgspec.json.decode(raw)["intervals"]["call_to_arrival_ms"] == 16 * M
    assert await export_incident(db, "nope", now_ms=0) is None
