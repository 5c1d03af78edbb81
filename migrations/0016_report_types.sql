-- A report may be a `ghg_inventory` (a reporting year of the fleet inventory, its request in
-- R2 naming the year and view; `source` = 'inventory'). SQLite cannot change a CHECK in place:
-- the table is rebuilt with the same columns, rows and indexes.
CREATE TABLE reports_new (
  id            TEXT PRIMARY KEY,             -- rep_<hex>
  org_id        TEXT NOT NULL REFERENCES organisations(id),
  key_id        TEXT NOT NULL,
  type          TEXT NOT NULL CHECK (type IN ('sustainability', 'hotspot', 'ghg_inventory')),
  title         TEXT NOT NULL,
  period        TEXT,
  source        TEXT NOT NULL CHECK (source IN ('devices', 'assets', 'inventory')),
  status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  reason        TEXT,
  created_at    TEXT NOT NULL,
  started_at    TEXT,
  finished_at   TEXT,
  request_key   TEXT NOT NULL,
  pdf_key       TEXT,
  pdf_bytes     INTEGER,
  summary       TEXT,                         -- JSON
  attempts      INTEGER NOT NULL DEFAULT 0,
  lease_until   TEXT,
  mode          TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'))
);
INSERT INTO reports_new (id, org_id, key_id, type, title, period, source, status, reason, created_at,
  started_at, finished_at, request_key, pdf_key, pdf_bytes, summary, attempts, lease_until, mode)
SELECT id, org_id, key_id, type, title, period, source, status, reason, created_at,
  started_at, finished_at, request_key, pdf_key, pdf_bytes, summary, attempts, lease_until, mode
FROM reports;
DROP TABLE reports;
ALTER TABLE reports_new RENAME TO reports;
CREATE INDEX reports_org ON reports(org_id, created_at);
CREATE INDEX reports_pending ON reports(status, lease_until);

UPDATE meta SET value = '16' WHERE key = 'schema_version';
