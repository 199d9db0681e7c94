-- Device clocks (docs/sync-protocol.md, "Device clocks").
-- Portable SQL for SQLite and PostgreSQL.

-- When the kept offset sample (clock_offset_ms) was taken, in server time. A
-- sample is server_now - device_now of a push: the true offset plus the push's
-- delay, so the lowest recent one is kept (sync.merge.estimate_offset).
-- NULL (rows from before): the next sample replaces it.
ALTER TABLE devices ADD COLUMN clock_offset_at BIGINT;

-- The device's highest seq that got an event time, and the latest event time
-- its mutations got: a later mutation of the device is never given an earlier
-- time (sync.merge.DeviceOrder). Written in the push's transaction.
ALTER TABLE devices ADD COLUMN last_event_seq BIGINT;
ALTER TABLE devices ADD COLUMN last_event_at BIGINT
