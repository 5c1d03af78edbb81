-- Console accounts (src/accounts): people who sign in with an email and a password, each the
-- owner or a member of one organisation; their sessions; invitations. Secrets are stored only
-- as SHA-256 (session tokens, invitation and verification tokens) or as a PBKDF2 record
-- (passwords, `pbkdf2-sha256$<iterations>$<salt>$<hash>`, parameters beside the hash).

CREATE TABLE users (
  id                  TEXT PRIMARY KEY,       -- usr_<hex>
  email               TEXT NOT NULL UNIQUE,   -- trimmed, lower-cased
  password            TEXT NOT NULL,
  email_verified_at   TEXT,                   -- NULL: sandbox keys only
  verify_token_hash   TEXT UNIQUE,            -- the pending verification link's token
  verify_expires_at   TEXT,
  created_at          TEXT NOT NULL,
  password_changed_at TEXT NOT NULL
);

-- One organisation per person.
CREATE TABLE memberships (
  user_id      TEXT PRIMARY KEY REFERENCES users(id),
  org_id       TEXT NOT NULL REFERENCES organisations(id),
  role         TEXT NOT NULL CHECK (role IN ('owner', 'member')),
  created_at   TEXT NOT NULL
);
CREATE INDEX memberships_org ON memberships(org_id);

CREATE TABLE invites (
  id           TEXT PRIMARY KEY,              -- inv_<hex>
  org_id       TEXT NOT NULL REFERENCES organisations(id),
  email        TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('member')),
  token_hash   TEXT NOT NULL UNIQUE,
  created_by   TEXT NOT NULL,                 -- the inviting user's id
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  accepted_at  TEXT,
  revoked_at   TEXT
);
CREATE INDEX invites_org ON invites(org_id);

-- Times in ms since the epoch: the expiry rules (src/accounts/session.rs) compare numbers.
CREATE TABLE sessions (
  token_hash    TEXT PRIMARY KEY,             -- SHA-256 of the cookie's token
  id            TEXT NOT NULL UNIQUE,         -- ses_<hex>, public (audit, listings)
  user_id       TEXT NOT NULL REFERENCES users(id),
  created_at    TEXT NOT NULL,
  last_seen_ms  INTEGER NOT NULL,
  idle_until_ms INTEGER NOT NULL,
  expires_ms    INTEGER NOT NULL,
  revoked_at    TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

UPDATE meta SET value = '17' WHERE key = 'schema_version';
