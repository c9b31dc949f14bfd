-- API keys worth trusting: a name, scopes (NULL = every API), an expiry, who issued them, when
-- they were last used (approximate), and which key a rotation replaced.
ALTER TABLE api_keys ADD COLUMN name TEXT;
ALTER TABLE api_keys ADD COLUMN scopes TEXT;            -- JSON array of scope names, sorted; NULL = every API
ALTER TABLE api_keys ADD COLUMN expires_at TEXT;        -- RFC 3339 UTC with milliseconds; NULL = never
ALTER TABLE api_keys ADD COLUMN created_by TEXT;        -- the issuing key's id, or 'operator'
ALTER TABLE api_keys ADD COLUMN last_used_at TEXT;      -- written at most once a minute per key
ALTER TABLE api_keys ADD COLUMN rotated_from INTEGER REFERENCES api_keys(id);
CREATE INDEX api_keys_org ON api_keys (org_id, id);

-- Key events (created, rotated, revoked, expiring) in the owner's history name the key and the
-- issuer here, never the key.
ALTER TABLE user_events ADD COLUMN detail TEXT;
