-- One-time codes for email/phone verification and password resets. Only a SHA-256 digest of each
-- code is stored; a code is single use (used_at) and expires.
CREATE TABLE verification_codes (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id     INTEGER NOT NULL REFERENCES users(id),
  kind        TEXT NOT NULL CHECK (kind IN ('email', 'phone', 'password_reset')),
  digest      TEXT NOT NULL,
  value       TEXT,                 -- the address or number being verified; NULL for resets
  expires_at  TEXT NOT NULL,
  used_at     TEXT,
  created_at  TEXT NOT NULL
);
CREATE INDEX verification_codes_user ON verification_codes (user_id, kind, id);
