-- Location pings get the same corrected time as status events: the phone's clock plus its
-- offset to the server. Replay, "last position" and retention read event_at, so a phone whose
-- clock is a year off no longer has its track vanish from the replay of the day it drove.
ALTER TABLE location_pings ADD COLUMN event_at BIGINT;
UPDATE location_pings SET event_at = device_at WHERE event_at IS NULL;
CREATE INDEX location_pings_unit_event ON location_pings (unit_id, event_at);
