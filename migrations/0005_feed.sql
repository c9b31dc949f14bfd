-- The change feed. user_events is the outbox: every committed change's row is written in the
-- same batch as the change; rows with a `type` are feed events, numbered per org by `seq`.
ALTER TABLE user_events ADD COLUMN event_id TEXT;       -- the event's id (webhook-id), stable across retries
ALTER TABLE user_events ADD COLUMN seq INTEGER;         -- strictly increasing per org
ALTER TABLE user_events ADD COLUMN type TEXT;           -- feed type (user.updated, …); NULL = audit only
ALTER TABLE user_events ADD COLUMN actor_user_id INTEGER;
ALTER TABLE user_events ADD COLUMN data TEXT;           -- the user then, as a users row in JSON (no secret)
ALTER TABLE user_events ADD COLUMN enqueued_at TEXT;    -- handed to the delivery queue; NULL = the sweep's job
-- Rows from before the feed: numbered by id (increasing per org too), delivered to nobody.
UPDATE user_events SET seq = id, event_id = 'legacy-' || id, enqueued_at = at;
CREATE UNIQUE INDEX user_events_org_seq ON user_events (org_id, seq);
CREATE UNIQUE INDEX user_events_event_id ON user_events (event_id);
CREATE INDEX user_events_pending ON user_events (id) WHERE enqueued_at IS NULL;

CREATE TABLE webhooks (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid         TEXT NOT NULL UNIQUE,
  org_id       INTEGER NOT NULL REFERENCES orgs(id),
  url          TEXT NOT NULL,
  event_types  TEXT,                  -- JSON array of types; NULL = every type
  secret       TEXT NOT NULL,         -- whsec_…: signs deliveries; shown once, never listed
  after_seq    INTEGER NOT NULL,      -- deliver events after this seq (what existed at subscription)
  created_at   TEXT NOT NULL,
  created_by   TEXT NOT NULL,
  deleted_at   TEXT
);
CREATE INDEX webhooks_org ON webhooks (org_id) WHERE deleted_at IS NULL;

CREATE TABLE deliveries (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook_id       INTEGER NOT NULL REFERENCES webhooks(id),
  event_row        INTEGER NOT NULL REFERENCES user_events(id),
  status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT,
  last_status      INTEGER,           -- the receiver's HTTP status; NULL for a timeout or network error
  last_error       TEXT,
  created_at       TEXT NOT NULL,
  delivered_at     TEXT,
  UNIQUE (webhook_id, event_row)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
