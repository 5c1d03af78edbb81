-- A plan is a contract with the organisation, not with one of its keys: every key of an
-- organisation (per mode) shares its limits. The organisation's plan is the best plan any of
-- its keys was issued on; `api_keys.plan` stays as the plan a key was issued under (history)
-- and is no longer read for limits.
ALTER TABLE organisations ADD COLUMN plan TEXT NOT NULL DEFAULT 'free'
  CHECK (plan IN ('free', 'pro', 'business', 'enterprise', 'internal'));

UPDATE organisations SET plan = (
  SELECT k.plan FROM api_keys k WHERE k.org_id = organisations.id
  ORDER BY CASE k.plan WHEN 'internal' THEN 5 WHEN 'enterprise' THEN 4 WHEN 'business' THEN 3
                       WHEN 'pro' THEN 2 ELSE 1 END DESC
  LIMIT 1
) WHERE EXISTS (SELECT 1 FROM api_keys k WHERE k.org_id = organisations.id);

UPDATE meta SET value = '12' WHERE key = 'schema_version';
