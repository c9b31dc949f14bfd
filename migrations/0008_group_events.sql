-- Group changes are events too: SCIM's group create, replace, patch and delete write
-- `group.created` / `group.updated` / `group.deleted` in the same batch, like every user change,
-- and reach the feed. An event's subject is now a user (user_id) or a group (group_uuid: the
-- group's id, kept after the group is gone). SQLite cannot drop NOT NULL from a column, so the
-- table is rebuilt (https://www.sqlite.org/lang_altertable.html#otheralter), ids and seqs kept;
-- deliveries reference events by id, so foreign keys are checked at commit, once the new table
-- carries the old name.
PRAGMA defer_foreign_keys = true;

CREATE TABLE user_events_new (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id       INTEGER REFERENCES users(id),  -- the user the event is about; NULL for a group's
  org_id        INTEGER NOT NULL,
  actor_key_id  INTEGER,                       -- NULL when the operator acted
  action        TEXT NOT NULL,
  dialect       TEXT NOT NULL,
  fields        TEXT NOT NULL,                 -- JSON array of canonical field names, never values
  version       INTEGER NOT NULL,
  at            TEXT NOT NULL,
  detail        TEXT,
  event_id      TEXT,
  seq           INTEGER,
  type          TEXT,
  actor_user_id INTEGER,
  data          TEXT,                          -- the user (or group) then, in JSON (no secret)
  enqueued_at   TEXT,
  group_uuid    TEXT,                          -- the group the event is about; NULL for a user's
  CHECK ((user_id IS NULL) <> (group_uuid IS NULL))
);

INSERT INTO user_events_new
  (id, user_id, org_id, actor_key_id, action, dialect, fields, version, at, detail, event_id, seq, type,
   actor_user_id, data, enqueued_at)
SELECT id, user_id, org_id, actor_key_id, action, dialect, fields, version, at, detail, event_id, seq, type,
       actor_user_id, data, enqueued_at
FROM user_events;

DROP TABLE user_events;
ALTER TABLE user_events_new RENAME TO user_events;

CREATE INDEX user_events_user ON user_events (user_id, id);
CREATE UNIQUE INDEX user_events_org_seq ON user_events (org_id, seq);
CREATE UNIQUE INDEX user_events_event_id ON user_events (event_id);
CREATE INDEX user_events_pending ON user_events (id) WHERE enqueued_at IS NULL;
CREATE INDEX user_events_group ON user_events (group_uuid, id) WHERE group_uuid IS NOT NULL;
