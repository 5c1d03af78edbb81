-- GDPR export jobs. The archive lives in R2 at r2_key until expires_at; the scheduled
-- handler (cron) deletes expired archives and marks them expired.
CREATE TABLE exports (
  id           TEXT PRIMARY KEY,              -- exp_<hex>
  org_id       TEXT NOT NULL REFERENCES organisations(id),
  key_id       TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'expired', 'deleted')),
  reason       TEXT,
  created_at   TEXT NOT NULL,
  finished_at  TEXT,
  expires_at   TEXT NOT NULL,
  r2_key       TEXT NOT NULL,
  bytes        INTEGER,
  manifest     TEXT                           -- JSON
);
CREATE INDEX exports_expiry ON exports(status, expires_at);

UPDATE meta SET value = '6' WHERE key = 'schema_version';
