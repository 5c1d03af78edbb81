-- Signed CO2e certificates. `canonical` is exactly what was hashed and signed; the PDF lives
-- in R2 under `pdf_key` and `pdf_hash` is its SHA-256, so verification recomputes both.
CREATE TABLE certificates (
  id                 TEXT PRIMARY KEY,        -- cert_<hex>
  org_id             TEXT NOT NULL REFERENCES organisations(id),
  key_id             TEXT NOT NULL,
  kind               TEXT NOT NULL CHECK (kind IN ('footprint', 'savings')),
  issued_at          TEXT NOT NULL,
  canonical          TEXT NOT NULL,
  content_hash       TEXT NOT NULL,
  signature          TEXT NOT NULL,
  signing_key_id     TEXT NOT NULL,
  factor_set_version TEXT NOT NULL,
  total_kg_co2e      REAL NOT NULL,
  pdf_key            TEXT NOT NULL,
  pdf_hash           TEXT NOT NULL,
  pdf_bytes          INTEGER NOT NULL,
  revoked_at         TEXT
);
CREATE INDEX certificates_org ON certificates(org_id, issued_at);

UPDATE meta SET value = '3' WHERE key = 'schema_version';
