-- Fleet report jobs. The request (up to 10,000 devices) is kept in R2 at request_key, the
-- PDF at pdf_key; this row carries the status and the summary figures.
CREATE TABLE reports (
  id            TEXT PRIMARY KEY,             -- rep_<hex>
  org_id        TEXT NOT NULL REFERENCES organisations(id),
  key_id        TEXT NOT NULL,
  type          TEXT NOT NULL CHECK (type IN ('sustainability', 'hotspot')),
  title         TEXT NOT NULL,
  period        TEXT,
  source        TEXT NOT NULL CHECK (source IN ('devices', 'assets')),
  status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  reason        TEXT,
  created_at    TEXT NOT NULL,
  started_at    TEXT,
  finished_at   TEXT,
  request_key   TEXT NOT NULL,
  pdf_key       TEXT,
  pdf_bytes     INTEGER,
  summary       TEXT                          -- JSON
);
CREATE INDEX reports_org ON reports(org_id, created_at);

UPDATE meta SET value = '4' WHERE key = 'schema_version';
