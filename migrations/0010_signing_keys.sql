-- Every Ed25519 key that ever signed, by purpose (certificates, OData proofs): its public half
-- and the period it signed in. The private halves live only in worker secrets; this registry
-- is what `/.well-known/jwks.json` publishes and what verification looks a `kid` up in, so a
-- retired key's certificates keep verifying after a rotation.
CREATE TABLE signing_keys (
  purpose     TEXT NOT NULL CHECK (purpose IN ('certificate', 'odata-proof')),
  kid         TEXT NOT NULL,
  public_x    TEXT NOT NULL,               -- base64url Ed25519 public key (a JWK's x)
  valid_from  TEXT NOT NULL,
  retired_at  TEXT,                        -- NULL while current
  PRIMARY KEY (purpose, kid)
);

UPDATE meta SET value = '10' WHERE key = 'schema_version';
