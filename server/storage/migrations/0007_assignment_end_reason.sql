-- Why an assignment ended early, as the dispatcher typed it (reassign, cancel):
-- shown in the incident timeline and to the crew it was taken from.
ALTER TABLE assignments ADD COLUMN end_reason TEXT;
