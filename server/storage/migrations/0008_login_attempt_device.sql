-- Which installation tried to sign in: failures are throttled per source (address, or the
-- proven device), so guessing at a dispatcher's username from elsewhere cannot lock the
-- dispatcher's own console out during an emergency.
ALTER TABLE login_attempts ADD COLUMN device_id TEXT;
CREATE INDEX login_attempts_user_ip_at ON login_attempts (username, ip, at);
