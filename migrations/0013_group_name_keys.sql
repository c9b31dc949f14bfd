-- A SCIM group's displayName is unique per org under its comparison key
-- (`values::unicode::caseless_key`: case, compatibility forms and full case folding, so `Ärzte`,
-- `ÄRZTE` and fullwidth spellings are one name), where the NOCASE index folded ASCII letters only.
-- `displayName eq` filters compare the same key. Existing groups get SQLite's lower(), which
-- folds ASCII only, as the index it replaces did; their next write stores the full key.
ALTER TABLE groups ADD COLUMN name_key TEXT;
UPDATE groups SET name_key = lower(display_name);
CREATE UNIQUE INDEX groups_org_name_key ON groups (org_id, name_key);
DROP INDEX groups_org_display_name;
