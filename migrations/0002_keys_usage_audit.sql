-- Organisations, API keys (hash only), daily usage, the hash-linked audit log, and
-- idempotency records.

CREATE TABLE organisations (
  id           TEXT PRIMARY KEY,            -- org_<hex>
  name         TEXT NOT NULL UNIQUE,        -- display name (shown by certificate verification)
  created_at   TEXT NOT NULL
);

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,            -- key_<hex>; public, used to revoke
  org_id       TEXT NOT NULL REFERENCES organisations(id),
  prefix       TEXT NOT NULL,               -- first characters of the key, to recognise it
  key_hash     TEXT NOT NULL UNIQUE,        -- SHA-256 (hex) of the whole key; the key itself is never stored
  plan         TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'business', 'enterprise', 'internal')),
  mode         TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  created_at   TEXT NOT NULL,
  revoked_at   TEXT,
  last_used_at TEXT
);
CREATE INDEX api_keys_org ON api_keys(org_id);

-- Requests counted per key (or anonymous IP) and UTC day, written by the rate limiter.
CREATE TABLE usage_daily (
  subject      TEXT NOT NULL,               -- key id, or ip:<address>
  org_id       TEXT,
  day          TEXT NOT NULL,               -- YYYY-MM-DD (UTC)
  requests     INTEGER NOT NULL,
  PRIMARY KEY (subject, day)
);

-- Append-only, hash-linked per organisation: hash = SHA-256(prev_hash || canonical entry).
CREATE TABLE audit_log (
  org_id       TEXT NOT NULL,
  seq          INTEGER NOT NULL,            -- 1, 2, 3… per organisation
  at           TEXT NOT NULL,
  actor        TEXT NOT NULL,               -- key id, or `admin`
  action       TEXT NOT NULL,               -- e.g. key.created, key.revoked
  target       TEXT,
  details      TEXT NOT NULL,               -- canonical JSON
  prev_hash    TEXT NOT NULL,
  hash         TEXT NOT NULL,
  PRIMARY KEY (org_id, seq)
);

-- A creating POST with an Idempotency-Key: the first response, replayed for repeats.
CREATE TABLE idempotency (
  scope        TEXT NOT NULL,               -- key id or `admin`
  idem_key     TEXT NOT NULL,
  method_path  TEXT NOT NULL,
  body_hash    TEXT NOT NULL,
  status       INTEGER,                     -- NULL while the first request is in flight
  response     TEXT,
  created_at   TEXT NOT NULL,
  PRIMARY KEY (scope, idem_key)
);

UPDATE meta SET value = '2' WHERE key = 'schema_version';
