-- Each organisation's own credentials for an integration (today: the Blancco cloud API).
-- The API key is sealed with AES-256-GCM under a key-encryption key held in a worker secret
-- (CREDENTIALS_KEY, id CREDENTIALS_KEY_ID), bound to its organisation by the associated data;
-- only its last four characters are kept in clear, to recognise it.
CREATE TABLE integration_credentials (
  org_id      TEXT NOT NULL REFERENCES organisations(id),
  provider    TEXT NOT NULL CHECK (provider IN ('blancco')),
  api_url     TEXT NOT NULL,
  kek_id      TEXT NOT NULL,
  nonce       TEXT NOT NULL,
  ciphertext  TEXT NOT NULL,
  last4       TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (org_id, provider)
);

UPDATE meta SET value = '9' WHERE key = 'schema_version';
