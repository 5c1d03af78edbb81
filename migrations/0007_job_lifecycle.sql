-- One job lifecycle for reports, exports and Blancco pulls (src/jobs): every job row counts
-- its attempts and carries a deadline. `lease_until`, while queued or running, is the time by
-- which the row must have moved on (a runner's lease, or when its message should have
-- arrived); the hourly sweep re-sends or fails rows past it.
ALTER TABLE reports ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN lease_until TEXT;
CREATE INDEX reports_pending ON reports(status, lease_until);

ALTER TABLE exports ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE exports ADD COLUMN lease_until TEXT;
ALTER TABLE exports ADD COLUMN started_at TEXT;
-- Where an interrupted archive resumes (JSON: multipart upload id, parts, checkpoint).
ALTER TABLE exports ADD COLUMN progress TEXT;
CREATE INDEX exports_pending ON exports(status, lease_until);

ALTER TABLE integration_jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE integration_jobs ADD COLUMN lease_until TEXT;
ALTER TABLE integration_jobs ADD COLUMN started_at TEXT;
CREATE INDEX integration_jobs_pending ON integration_jobs(status, lease_until);

UPDATE meta SET value = '7' WHERE key = 'schema_version';
