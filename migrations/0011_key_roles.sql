-- Self-service keys: an organisation's `admin` keys create, list, roll and revoke its keys
-- (POST/GET/DELETE /api/v1/keys); `standard` keys call the API. Keys issued by the operator
-- before this migration were each organisation's only keys: they are its admin keys.
-- `expires_at`: the end of a rolled key's grace period (refused from then on, like a revoked
-- key). `name`: the caller's label for the key.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE api_keys ADD COLUMN expires_at TEXT;
ALTER TABLE api_keys ADD COLUMN name TEXT;

UPDATE meta SET value = '11' WHERE key = 'schema_version';
