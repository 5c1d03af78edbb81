-- Modes, as Stripe keeps them: every stored object belongs to `live` or `test`, and a key
-- reads only its own mode's objects (src/store: the mode is in the SQL of every read, update
-- and delete). Everything stored so far was stored by live keys.
ALTER TABLE certificates ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));
ALTER TABLE reports ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));
ALTER TABLE exports ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));
ALTER TABLE integration_jobs ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));
ALTER TABLE assets ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));

UPDATE meta SET value = '8' WHERE key = 'schema_version';
