-- Devices an organisation holds or has processed, keyed by Blancco document id (re-syncs
-- and repeated uploads add nothing twice), and Blancco cloud pull jobs.
CREATE TABLE assets (
  org_id           TEXT NOT NULL REFERENCES organisations(id),
  document_id      TEXT NOT NULL,
  source           TEXT NOT NULL,            -- blancco_upload | blancco_pull
  manufacturer     TEXT,
  model            TEXT NOT NULL,
  serial           TEXT,
  category         TEXT NOT NULL,
  product_id       TEXT,                     -- catalogue match, if any
  ram_gb           REAL,
  storage_gb       REAL,
  erasure_standard TEXT,
  erased_at        TEXT,
  request          TEXT NOT NULL,            -- the footprint request used (JSON)
  avoided_kg_co2e  REAL NOT NULL,
  imported_at      TEXT NOT NULL,
  PRIMARY KEY (org_id, document_id)
);

CREATE TABLE integration_jobs (
  id          TEXT PRIMARY KEY,              -- bsync_<hex>
  org_id      TEXT NOT NULL REFERENCES organisations(id),
  key_id      TEXT NOT NULL,
  kind        TEXT NOT NULL,                 -- blancco_pull
  params      TEXT NOT NULL,                 -- JSON: since, filter
  status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  reason      TEXT,
  cursor      TEXT,                          -- where a retried job resumes
  pages       INTEGER NOT NULL DEFAULT 0,
  result      TEXT,                          -- JSON counters
  created_at  TEXT NOT NULL,
  finished_at TEXT
);

UPDATE meta SET value = '5' WHERE key = 'schema_version';
