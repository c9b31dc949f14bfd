-- SCIM 2.0 (RFC 7643/7644) at /scim/v2.
-- users.scim: the user's SCIM attributes that have no canonical column (name.formatted, emails and
-- phoneNumbers as lists, addresses, the Enterprise User extension, …), as one JSON object; the
-- canonical columns stay the authority for what they hold (docs/scim.md, "Mapping").
ALTER TABLE users ADD COLUMN scim TEXT NOT NULL DEFAULT '{}';
-- Filters on displayName (users) compare case-insensitively; userName and externalId already have
-- their per-org unique indexes (0003).
CREATE INDEX users_org_name ON users (org_id, name COLLATE NOCASE) WHERE deleted_at IS NULL;

-- Groups of an org's users. displayName is unique per org, case-insensitively, so that a client
-- that looks a group up by name finds one.
CREATE TABLE groups (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid          TEXT NOT NULL UNIQUE,
  org_id        INTEGER NOT NULL REFERENCES orgs(id),
  display_name  TEXT NOT NULL COLLATE NOCASE,
  external_id   TEXT,
  version       INTEGER NOT NULL DEFAULT 1,
  -- random tag of the last write: the membership statements of the same batch key on it
  last_write    TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX groups_org_display_name ON groups (org_id, display_name);
CREATE INDEX groups_org_external_id ON groups (org_id, external_id);
CREATE INDEX groups_org_id ON groups (org_id, id);

-- Members are users of the group's org; a deleted user (tombstone) is no member of anything
-- (every read joins on live users).
CREATE TABLE group_members (
  group_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  user_id   INTEGER NOT NULL REFERENCES users(id),
  display   TEXT,                     -- the name the client shows the member by, if it sent one
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (user_id, group_id);
