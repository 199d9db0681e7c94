-- A tamper-evident audit trail (sync/audit.py, server/audit.py).
-- Portable SQL for SQLite (3.35+) and PostgreSQL.

-- Every audit row gets a gap-free position in one chain per database and the
-- hash that links it to the row before: hash = SHA-256(prev_hash, the row).
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- Rows written before this migration are numbered in id order here; their
-- hashes are computed by the first audit write after it (SQL has no portable
-- SHA-256), which chains them from the genesis hash.
UPDATE audit_log SET seq = r.rn
  FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM audit_log) AS r
  WHERE r.id = audit_log.id;

CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain's state, one row. Appending updates it first, so its row lock
-- serialises audit writers until they commit (like counters.change_seq).
-- seq/head_hash: the last row; head_hash NULL: older rows still to be sealed.
-- anchor_seq/anchor_hash: rows up to anchor_seq were deleted by retention and
-- anchor_hash is the hash of row anchor_seq, where verification starts
-- (0 and the genesis hash until the first pruning).
CREATE TABLE audit_chain (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  seq         BIGINT NOT NULL,
  head_hash   TEXT,
  anchor_seq  BIGINT NOT NULL,
  anchor_hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, seq, head_hash, anchor_seq, anchor_hash)
  SELECT 1, COUNT(*),
         CASE WHEN COUNT(*) = 0 THEN '0000000000000000000000000000000000000000000000000000000000000000' END,
         0, '0000000000000000000000000000000000000000000000000000000000000000'
  FROM audit_log
