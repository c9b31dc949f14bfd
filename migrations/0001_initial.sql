-- users-edge schema. D1 is the authority for users, keys and roles; KV only caches key lookups.

CREATE TABLE orgs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid        TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);

CREATE TABLE users (
  id                        INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid                      TEXT NOT NULL UNIQUE,
  org_id                    INTEGER NOT NULL REFERENCES orgs(id),
  username                  TEXT COLLATE NOCASE,
  email                     TEXT NOT NULL COLLATE NOCASE,
  email_verified            INTEGER NOT NULL DEFAULT 0,
  phone                     TEXT,
  phone_verified            INTEGER NOT NULL DEFAULT 0,
  name                      TEXT,
  given_name                TEXT,
  family_name               TEXT,
  nick_name                 TEXT,
  preferred_language        TEXT,
  gender                    TEXT,
  role_title                TEXT,
  based_in                  TEXT,
  linkedin_profile_url      TEXT,
  picture                   TEXT,
  company                   TEXT,
  website                   TEXT,
  country                   TEXT,
  bio                       TEXT,
  timezone                  TEXT,
  admin                     INTEGER NOT NULL DEFAULT 0,
  auth0_uid                 TEXT,
  publisher_id              INTEGER,
  agency_id                 INTEGER,
  network_id                INTEGER,
  advertiser_id             INTEGER,
  payment_date              TEXT,
  company_type              TEXT,
  publisher_type            TEXT,
  role_alias                TEXT,
  from_api                  INTEGER NOT NULL DEFAULT 0,
  attributes                TEXT NOT NULL DEFAULT '{}',
  password_hash             TEXT,
  password_change_required  INTEGER NOT NULL DEFAULT 0,
  deactivated               INTEGER NOT NULL DEFAULT 0,
  consented_at              TEXT,
  consent_method            TEXT CHECK (consent_method IN ('opt-in', 'text-ref')),
  version                   INTEGER NOT NULL DEFAULT 1,
  -- random tag of the last write; lets the audit insert in the same batch find exactly that write
  last_write                TEXT,
  created_at                TEXT NOT NULL,
  updated_at                TEXT NOT NULL
);

-- Unique per org, case-insensitive (the columns are NOCASE). These are the arbiters of races.
CREATE UNIQUE INDEX users_org_email ON users (org_id, email);
CREATE UNIQUE INDEX users_org_username ON users (org_id, username);

CREATE TABLE api_keys (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  digest      TEXT NOT NULL UNIQUE,          -- SHA-256 of the whole key, hex; the key itself is never stored
  prefix      TEXT NOT NULL,                 -- readable start of the key, for people to tell keys apart
  user_id     INTEGER NOT NULL REFERENCES users(id),
  org_id      INTEGER NOT NULL REFERENCES orgs(id),
  role        TEXT NOT NULL CHECK (role IN ('admin', 'user')),
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE user_events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id       INTEGER NOT NULL REFERENCES users(id),
  org_id        INTEGER NOT NULL,
  actor_key_id  INTEGER,                     -- NULL when the operator acted
  action        TEXT NOT NULL,               -- create | update
  dialect       TEXT NOT NULL,
  fields        TEXT NOT NULL,               -- JSON array of canonical field names, never values
  version       INTEGER NOT NULL,
  at            TEXT NOT NULL
);
CREATE INDEX user_events_user ON user_events (user_id, id);
