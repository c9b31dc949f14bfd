-- The user lifecycle: deletion leaves a tombstone (ids kept for the audit trail, personal data
-- erased); email and username are unique among live users only, so a deleted user's are free.
-- external_id is the identifier a provisioning client (SCIM) keeps for a user.

ALTER TABLE users ADD COLUMN deleted_at TEXT;
ALTER TABLE users ADD COLUMN external_id TEXT;

DROP INDEX users_org_email;
DROP INDEX users_org_username;
CREATE UNIQUE INDEX users_org_email ON users (org_id, email) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_org_username ON users (org_id, username) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_org_external_id ON users (org_id, external_id) WHERE deleted_at IS NULL;
-- Listings walk an org's users in id order (keyset pagination).
CREATE INDEX users_org_id ON users (org_id, id);
