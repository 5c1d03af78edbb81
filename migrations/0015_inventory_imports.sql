-- Fleet-inventory imports of more than 1,000 rows, run as jobs (src/jobs/asset_import.rs): the
-- file's asset bodies wait in R2 (`r2_key`, one JSON body per line) cut into chunks of 1,000
-- (`bounds`: the byte offset of each chunk, then the end, JSON). `progress` (JSON) is where a
-- retried job resumes (phase, next chunk, counts, the listed row errors) and, once done, the
-- import's result in the shape a synchronous import answers with.
CREATE TABLE inventory_imports (
  id          TEXT PRIMARY KEY,                 -- imp_<hex>
  org_id      TEXT NOT NULL,
  key_id      TEXT NOT NULL,
  mode        TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  reason      TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0,
  lease_until TEXT,
  started_at  TEXT,
  format      TEXT NOT NULL,
  dry_run     INTEGER NOT NULL DEFAULT 0,
  rows        INTEGER NOT NULL,
  r2_key      TEXT NOT NULL,
  bounds      TEXT NOT NULL,
  progress    TEXT,
  created_at  TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX inventory_imports_pending ON inventory_imports(status, lease_until);
CREATE INDEX inventory_imports_open ON inventory_imports(org_id, mode, status);

UPDATE meta SET value = '15' WHERE key = 'schema_version';
