-- Sync layer, schema v2: who sees each change, and the change-log low-water mark.
-- Portable SQL for SQLite and PostgreSQL.

-- The units whose officers see a change (also kept as JSON on the row, so a
-- change read back is complete). One row per (unit, change): an officer's
-- pull is one index range scan on (unit_id, seq).
ALTER TABLE change_log ADD COLUMN audience TEXT NOT NULL DEFAULT '[]';

CREATE TABLE change_audience (
  unit_id TEXT NOT NULL,
  seq     BIGINT NOT NULL,
  PRIMARY KEY (unit_id, seq)
);
CREATE INDEX change_audience_seq ON change_audience (seq);

-- Every change-log row with seq <= this value has been compacted away; a
-- client whose cursor is older gets a full snapshot of its scope.
INSERT INTO counters (name, value) VALUES ('change_low_water', 0);

-- The replay lookup and "last seq applied for this device" are served by the
-- primary key (client_id, seq); history queries for a unit by event time are
-- served by unit_status_events_unit_time. One more for officers' visibility:
CREATE INDEX assignments_unit_incident ON assignments (unit_id, incident_id);
