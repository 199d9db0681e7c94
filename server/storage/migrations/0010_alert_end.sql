-- Who acknowledged an emergency (by name, for the officer's screen, which has no user
-- directory), and who ended it and why: an officer may end a false alarm only with a reason,
-- and dispatch sees it.
ALTER TABLE emergency_alerts ADD COLUMN acknowledged_by_name TEXT;
ALTER TABLE emergency_alerts ADD COLUMN ended_by TEXT;
ALTER TABLE emergency_alerts ADD COLUMN ended_by_name TEXT;
ALTER TABLE emergency_alerts ADD COLUMN end_reason TEXT;
