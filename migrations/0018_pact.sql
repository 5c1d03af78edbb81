-- PACT v3 (src/pact): the credentials an organisation gives its data recipients, who it is in
-- PACT, and the ProductFootprints it publishes. Per organisation and mode, like every other
-- tenant object: a test key publishes test footprints, seen only through test credentials.

CREATE TABLE pact_clients (
  id           TEXT PRIMARY KEY,              -- pc_<hex>: the OAuth2 client_id
  org_id       TEXT NOT NULL REFERENCES organisations(id),
  mode         TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  name         TEXT,
  secret_hash  TEXT NOT NULL,                 -- SHA-256 of the client secret (shown once)
  created_at   TEXT NOT NULL,
  revoked_at   TEXT
);
CREATE INDEX pact_clients_org ON pact_clients(org_id, mode);

CREATE TABLE pact_profiles (
  org_id       TEXT NOT NULL REFERENCES organisations(id),
  mode         TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  company_name TEXT NOT NULL,
  company_ids  TEXT NOT NULL,                 -- JSON array of URNs
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (org_id, mode)
);

-- `document` is the ProductFootprint as served; `status` mirrors its `status` for the SQL.
-- One Active version per product (its product ids, `product_key`); a re-publication
-- deprecates the one before in the same transaction.
CREATE TABLE pact_footprints (
  id           TEXT PRIMARY KEY,              -- UUID
  org_id       TEXT NOT NULL REFERENCES organisations(id),
  mode         TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  product_key  TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('Active', 'Deprecated')),
  created_at   TEXT NOT NULL,
  basis        TEXT NOT NULL,                 -- the certificate id, or `footprint`
  document     TEXT NOT NULL
);
CREATE INDEX pact_footprints_list ON pact_footprints(org_id, mode, created_at, id);
CREATE UNIQUE INDEX pact_footprints_active ON pact_footprints(org_id, mode, product_key)
  WHERE status = 'Active';

UPDATE meta SET value = '18' WHERE key = 'schema_version';
