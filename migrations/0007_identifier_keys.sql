-- Emails and usernames are compared on a canonical key (values::Email / values::Username:
-- IDNA, NFKC and case folding; PRECIS UsernameCaseMapped), while the columns keep exactly what
-- the client sent. One canonical form, one unique index per org among live users.
ALTER TABLE users ADD COLUMN email_key TEXT;
ALTER TABLE users ADD COLUMN username_key TEXT;
-- Rows from before: their keys are computed again by the next write to them; ASCII lower case
-- is the key of every address and name the earlier rules let in that has no non-ASCII letter.
UPDATE users SET email_key = lower(email), username_key = lower(username) WHERE deleted_at IS NULL;
DROP INDEX users_org_email;
DROP INDEX users_org_username;
CREATE UNIQUE INDEX users_org_email_key ON users (org_id, email_key) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_org_username_key ON users (org_id, username_key) WHERE deleted_at IS NULL;
-- Lookups by what was sent (listings, SCIM filters) stay indexed.
CREATE INDEX users_org_email ON users (org_id, email);
CREATE INDEX users_org_username ON users (org_id, username);
