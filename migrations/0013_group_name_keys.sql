-- A SCIM group's displayName is unique per org under its comparison key
-- (`values::unicode::caseless_key`: case, compatibility forms and full case folding, so `Ärzte`,
-- `ÄRZTE` and fullwidth spellings are one name), where the NOCASE index folded ASCII letters only.
-- `displayName eq` filters compare the same key. A name in printable ASCII has its key here
-- (SQLite's lower() is that key for it); any other waits for the Cron sweep, which computes it
-- (src/store/groups.rs, `key_legacy_names`; a partial index finds them) and, for a name that is
-- another existing group's under the new rule (kept apart by the old one), marks it as that
-- group's twin rather than refusing either. Until then both compare their names as before.
ALTER TABLE groups ADD COLUMN name_key TEXT;
UPDATE groups SET name_key = CASE WHEN display_name GLOB '*[^ -~]*' THEN NULL ELSE lower(display_name) END;
CREATE UNIQUE INDEX groups_org_name_key ON groups (org_id, name_key);
CREATE INDEX groups_unkeyed ON groups (id) WHERE name_key IS NULL;
DROP INDEX groups_org_display_name;
