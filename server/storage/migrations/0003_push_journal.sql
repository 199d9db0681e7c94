-- Web Push is driven from the change log (server/services/notifier.py): the
-- instance holding the lease reads new assignments and alerts after `seq`,
-- hands them to the push sender and moves `seq` on once they are delivered
-- or given up, so a restart resends what was still queued or being retried.
CREATE TABLE push_journal (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  seq         BIGINT NOT NULL,
  owner       TEXT,
  lease_until BIGINT NOT NULL DEFAULT 0
);

-- An existing installation starts at its head: nothing old is pushed.
INSERT INTO push_journal (id, seq, owner, lease_until)
  SELECT 1, COALESCE(MAX(seq), 0), NULL, 0 FROM change_log;
