-- A signing key vouches only for what it signed while it was current (`valid_from` to
-- `retired_at`, plus a rotation grace in code), and an operator can distrust one (a leaked
-- seed): its certificates then verify as invalid with the reason, and it leaves the JWK Set.
ALTER TABLE signing_keys ADD COLUMN distrusted_at TEXT;
ALTER TABLE signing_keys ADD COLUMN distrust_reason TEXT;

UPDATE meta SET value = '13' WHERE key = 'schema_version';
