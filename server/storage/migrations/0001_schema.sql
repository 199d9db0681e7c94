-- Patrol schema, version 1: the whole mission's domain.
-- Portable SQL for SQLite and PostgreSQL. Conventions:
--   * ids are TEXT; anything a phone can create offline uses a client-made UUIDv7;
--   * times are BIGINT milliseconds since the Unix epoch, UTC;
--   * booleans are INTEGER 0/1 (same value on both databases);
--   * structured extras are JSON in TEXT columns;
--   * {{autoid}} is the only dialect macro (an auto-increment integer key).

CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('change_seq', 0);
INSERT INTO counters (name, value) VALUES ('incident_number', 0);

-- Organisation: directorate > station / border-police centre. `path` is a
-- materialised path of codes ('/SM/SM-RUMA/') so a subtree is one prefix match.
CREATE TABLE org_units (
  id         TEXT PRIMARY KEY,
  parent_id  TEXT REFERENCES org_units(id),
  kind       TEXT NOT NULL CHECK (kind IN ('ministry', 'directorate', 'station', 'border_centre')),
  code       TEXT NOT NULL UNIQUE,
  name       TEXT NOT NULL,
  path       TEXT NOT NULL UNIQUE,
  lat        DOUBLE PRECISION,
  lon        DOUBLE PRECISION,
  created_at BIGINT NOT NULL
);

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  full_name     TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('officer', 'dispatcher', 'commander', 'admin')),
  org_unit_id   TEXT NOT NULL REFERENCES org_units(id),
  badge_no      TEXT,
  password_hash TEXT NOT NULL,
  locale        TEXT NOT NULL DEFAULT 'sr-Latn',
  active        INTEGER NOT NULL DEFAULT 1,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);
CREATE INDEX users_org_unit ON users (org_unit_id);

-- A device is one installation of the app (its id is the sync client_id).
CREATE TABLE devices (
  id              TEXT PRIMARY KEY,
  label           TEXT,
  user_agent      TEXT,
  first_user_id   TEXT REFERENCES users(id),
  created_at      BIGINT NOT NULL,
  last_seen_at    BIGINT,
  clock_offset_ms BIGINT,          -- server time minus device time, last estimate
  revoked_at      BIGINT,
  revoked_by      TEXT REFERENCES users(id)
);

CREATE TABLE sessions (
  id           TEXT PRIMARY KEY,
  token_hash   TEXT NOT NULL UNIQUE, -- sha256 of the bearer token; the token itself is never stored
  user_id      TEXT NOT NULL REFERENCES users(id),
  device_id    TEXT NOT NULL REFERENCES devices(id),
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  revoked_at   BIGINT
);
CREATE INDEX sessions_device ON sessions (device_id);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_attempts (
  id       {{autoid}},
  username TEXT NOT NULL,
  ip       TEXT,
  at       BIGINT NOT NULL,
  ok       INTEGER NOT NULL
);
CREATE INDEX login_attempts_user_at ON login_attempts (username, at);

CREATE TABLE push_subscriptions (
  id              TEXT PRIMARY KEY,
  device_id       TEXT NOT NULL REFERENCES devices(id),
  user_id         TEXT NOT NULL REFERENCES users(id),
  endpoint        TEXT NOT NULL UNIQUE,
  p256dh          TEXT NOT NULL,
  auth            TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  last_success_at BIGINT,
  failures        INTEGER NOT NULL DEFAULT 0
);

-- Patrol units (call signs) and their current, derived state.
CREATE TABLE units (
  id                    TEXT PRIMARY KEY,
  call_sign             TEXT NOT NULL UNIQUE,
  kind                  TEXT NOT NULL CHECK (kind IN ('car', 'foot', 'motorcycle', 'border', 'traffic', 'k9', 'boat')),
  org_unit_id           TEXT NOT NULL REFERENCES org_units(id),
  active                INTEGER NOT NULL DEFAULT 1,
  status                TEXT NOT NULL DEFAULT 'off_duty'
                        CHECK (status IN ('available', 'en_route', 'on_scene', 'busy', 'off_duty')),
  status_at             BIGINT,      -- event time of the current status
  status_hlc            TEXT,
  current_assignment_id TEXT,
  last_lat              DOUBLE PRECISION,
  last_lon              DOUBLE PRECISION,
  last_accuracy_m       DOUBLE PRECISION,
  last_position_at      BIGINT,
  version               BIGINT NOT NULL DEFAULT 1,
  created_at            BIGINT NOT NULL,
  updated_at            BIGINT NOT NULL
);
CREATE INDEX units_org_unit ON units (org_unit_id);

CREATE TABLE shifts (
  id           TEXT PRIMARY KEY,
  org_unit_id  TEXT NOT NULL REFERENCES org_units(id),
  unit_id      TEXT NOT NULL REFERENCES units(id),
  starts_at    BIGINT NOT NULL,
  ends_at      BIGINT NOT NULL,
  planned_area TEXT,
  notes        TEXT,
  created_by   TEXT REFERENCES users(id),
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL,
  CHECK (ends_at > starts_at)
);
CREATE INDEX shifts_unit_time ON shifts (unit_id, starts_at);
CREATE INDEX shifts_org_time ON shifts (org_unit_id, starts_at);

CREATE TABLE shift_members (
  shift_id TEXT NOT NULL REFERENCES shifts(id) ON DELETE CASCADE,
  user_id  TEXT NOT NULL REFERENCES users(id),
  role     TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('lead', 'member')),
  PRIMARY KEY (shift_id, user_id)
);
CREATE INDEX shift_members_user ON shift_members (user_id);

-- Configurable incident types (the dispatcher's pick list).
CREATE TABLE incident_types (
  code             TEXT PRIMARY KEY,
  default_priority INTEGER NOT NULL CHECK (default_priority BETWEEN 1 AND 4),
  labels           TEXT NOT NULL,   -- JSON {"en": "...", "sr-Latn": "...", ...}
  sort             INTEGER NOT NULL DEFAULT 0,
  active           INTEGER NOT NULL DEFAULT 1
);

-- Incidents: priority 1 is the most urgent. `field_meta` holds, per editable
-- field, the HLC, author and version of its last write (per-field LWW).
CREATE TABLE incidents (
  id               TEXT PRIMARY KEY,
  number           TEXT UNIQUE,
  org_unit_id      TEXT NOT NULL REFERENCES org_units(id),
  source           TEXT NOT NULL CHECK (source IN ('112', '113', 'patrol', 'other')),
  call_received_at BIGINT NOT NULL,
  type             TEXT NOT NULL,
  priority         INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
  lat              DOUBLE PRECISION,
  lon              DOUBLE PRECISION,
  address          TEXT,
  description      TEXT,
  hazards          TEXT,
  caller_name      TEXT,
  caller_phone     TEXT,
  state            TEXT NOT NULL DEFAULT 'new'
                   CHECK (state IN ('new', 'dispatched', 'in_progress', 'closed', 'cancelled')),
  outcome          TEXT,
  closed_at        BIGINT,
  created_by       TEXT REFERENCES users(id),
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  version          BIGINT NOT NULL DEFAULT 1,
  field_meta       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incidents_org_call ON incidents (org_unit_id, call_received_at);
CREATE INDEX incidents_state ON incidents (state);

-- Assignments carry the response-time milestones as event times (device time
-- corrected by the sync layer); `flags` notes clamped or late milestones.
CREATE TABLE assignments (
  id                  TEXT PRIMARY KEY,
  incident_id         TEXT NOT NULL REFERENCES incidents(id),
  unit_id             TEXT NOT NULL REFERENCES units(id),
  state               TEXT NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'acknowledged', 'declined', 'en_route', 'on_scene',
                                       'cleared', 'reassigned', 'cancelled')),
  is_primary          INTEGER NOT NULL DEFAULT 1,
  assigned_by         TEXT REFERENCES users(id),
  assigned_at         BIGINT NOT NULL,
  acknowledged_at     BIGINT,
  declined_at         BIGINT,
  decline_reason      TEXT,
  en_route_at         BIGINT,
  on_scene_at         BIGINT,
  action_at           BIGINT,
  cleared_at          BIGINT,
  ended_at            BIGINT,
  replaced_by_unit_id TEXT REFERENCES units(id),
  flags               TEXT NOT NULL DEFAULT '{}',
  version             BIGINT NOT NULL DEFAULT 1,
  created_at          BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL
);
CREATE INDEX assignments_incident ON assignments (incident_id);
CREATE INDEX assignments_unit_state ON assignments (unit_id, state);

-- Every status event is kept; units.status is derived (latest by event time).
CREATE TABLE unit_status_events (
  id            TEXT PRIMARY KEY,
  unit_id       TEXT NOT NULL REFERENCES units(id),
  status        TEXT NOT NULL,
  assignment_id TEXT REFERENCES assignments(id),
  user_id       TEXT REFERENCES users(id),
  device_id     TEXT,
  device_at     BIGINT NOT NULL,  -- as the phone's clock said
  event_at      BIGINT NOT NULL,  -- device time corrected and clamped by the server
  server_at     BIGINT NOT NULL,  -- when the server stored it
  hlc           TEXT NOT NULL,
  lat           DOUBLE PRECISION,
  lon           DOUBLE PRECISION,
  flags         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX unit_status_events_unit_time ON unit_status_events (unit_id, event_at);

CREATE TABLE notes (
  id          TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL REFERENCES incidents(id),
  author_id   TEXT REFERENCES users(id),
  unit_id     TEXT REFERENCES units(id),
  device_id   TEXT,
  body        TEXT NOT NULL,
  device_at   BIGINT NOT NULL,
  event_at    BIGINT NOT NULL,
  server_at   BIGINT NOT NULL,
  hlc         TEXT NOT NULL,
  late        INTEGER NOT NULL DEFAULT 0,  -- written after the incident was closed
  flags       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX notes_incident ON notes (incident_id, event_at);

CREATE TABLE field_reports (
  id            TEXT PRIMARY KEY,
  incident_id   TEXT NOT NULL REFERENCES incidents(id),
  unit_id       TEXT REFERENCES units(id),
  author_id     TEXT REFERENCES users(id),
  summary       TEXT,
  actions_taken TEXT,
  persons       TEXT,   -- personal data: reads are audited
  vehicles      TEXT,
  evidence      TEXT,
  field_meta    TEXT NOT NULL DEFAULT '{}',
  version       BIGINT NOT NULL DEFAULT 1,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);
CREATE INDEX field_reports_incident ON field_reports (incident_id);

-- The high-volume table: an append-only time series, pruned by retention.
CREATE TABLE location_pings (
  id         {{autoid}},
  unit_id    TEXT NOT NULL REFERENCES units(id),
  user_id    TEXT,
  device_id  TEXT,
  lat        DOUBLE PRECISION NOT NULL,
  lon        DOUBLE PRECISION NOT NULL,
  accuracy_m DOUBLE PRECISION,
  heading    DOUBLE PRECISION,
  speed_mps  DOUBLE PRECISION,
  device_at  BIGINT NOT NULL,
  server_at  BIGINT NOT NULL
);
CREATE INDEX location_pings_unit_time ON location_pings (unit_id, device_at);
CREATE INDEX location_pings_server_at ON location_pings (server_at);

CREATE TABLE emergency_alerts (
  id              TEXT PRIMARY KEY,
  unit_id         TEXT REFERENCES units(id),
  user_id         TEXT REFERENCES users(id),
  device_id       TEXT,
  org_unit_id     TEXT NOT NULL REFERENCES org_units(id),
  lat             DOUBLE PRECISION,
  lon             DOUBLE PRECISION,
  raised_at       BIGINT NOT NULL,   -- event time (corrected device time)
  device_at       BIGINT NOT NULL,
  server_at       BIGINT NOT NULL,
  hlc             TEXT NOT NULL,
  state           TEXT NOT NULL DEFAULT 'raised' CHECK (state IN ('raised', 'acknowledged', 'resolved')),
  acknowledged_by TEXT REFERENCES users(id),
  acknowledged_at BIGINT,
  resolved_at     BIGINT,
  note            TEXT
);
CREATE INDEX emergency_alerts_state ON emergency_alerts (state, raised_at);

-- Edits the sync layer could not merge: both values, who and when, for a human.
CREATE TABLE conflicts (
  id             TEXT PRIMARY KEY,
  org_unit_id    TEXT NOT NULL REFERENCES org_units(id),
  entity         TEXT NOT NULL,
  entity_id      TEXT NOT NULL,
  field          TEXT NOT NULL,
  base_version   BIGINT,
  server_value   TEXT,   -- JSON
  server_by      TEXT,
  server_at      BIGINT,
  server_hlc     TEXT,
  client_value   TEXT,   -- JSON
  client_by      TEXT,
  client_at      BIGINT,
  client_hlc     TEXT,
  client_id      TEXT,
  client_seq     BIGINT,
  state          TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
  resolution     TEXT CHECK (resolution IN ('server', 'client', 'merged')),
  resolved_value TEXT,
  resolved_by    TEXT REFERENCES users(id),
  resolved_at    BIGINT,
  created_at     BIGINT NOT NULL
);
CREATE INDEX conflicts_state ON conflicts (state, created_at);

-- Who created, changed and viewed personal data (data-protection law asks
-- for consultation logs, not only change logs).
CREATE TABLE audit_log (
  id        {{autoid}},
  at        BIGINT NOT NULL,
  actor_id  TEXT,
  device_id TEXT,
  action    TEXT NOT NULL,
  entity    TEXT NOT NULL,
  entity_id TEXT,
  fields    TEXT,
  ip        TEXT,
  detail    TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);

-- Idempotency: one row per (client_id, seq) with the stored outcome, written
-- in the same transaction as the mutation's effects.
CREATE TABLE applied_mutations (
  client_id   TEXT NOT NULL,
  seq         BIGINT NOT NULL,
  name        TEXT NOT NULL,
  protocol    INTEGER NOT NULL,
  hlc         TEXT NOT NULL,
  device_at   BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  user_id     TEXT,
  outcome     TEXT NOT NULL CHECK (outcome IN ('applied', 'merged', 'rejected', 'conflict')),
  reason_code TEXT,
  reason      TEXT,
  result      TEXT,
  PRIMARY KEY (client_id, seq)
);

-- The change log clients pull from: a gap-free server sequence (taken from
-- counters inside the writing transaction, so commits are in seq order) and
-- the scope the change belongs to.
CREATE TABLE change_log (
  seq              BIGINT PRIMARY KEY,
  at               BIGINT NOT NULL,
  entity           TEXT NOT NULL,
  entity_id        TEXT NOT NULL,
  op               TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
  scope_path       TEXT NOT NULL,
  unit_id          TEXT,
  data             TEXT NOT NULL,   -- JSON snapshot of the entity after the change
  origin_client_id TEXT,
  origin_seq       BIGINT
);
CREATE INDEX change_log_scope ON change_log (scope_path, seq);
CREATE INDEX change_log_unit ON change_log (unit_id, seq);
