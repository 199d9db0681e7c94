-- A device id is public (it is the sync client_id and the HLC node, so desks see it in
-- change data). What proves an installation is the secret the server gave it at its
-- first sign-in: only its SHA-256 is stored. Every later sign-in with that device id
-- must present it, so a colleague who read the id cannot sign in "as" that phone and
-- read or overwrite its idempotency keys.
ALTER TABLE devices ADD COLUMN secret_hash TEXT;
