-- An organisation's fleet inventory: one row per physical device (per mode), keyed by serial
-- (the upsert key of `POST /assets` and of imports), with the footprint computed when the row
-- was written, pinned to its methodology and factor-set versions (`footprint`, JSON of
-- `inventory::asset::Pinned`), so a reporting year never moves because the factors did.
-- Distinct from `assets`, the erasure records that Blancco imports.
CREATE TABLE inventory_assets (
  id                      TEXT PRIMARY KEY,           -- ast_<hex>
  org_id                  TEXT NOT NULL,
  mode                    TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  serial                  TEXT NOT NULL,
  asset_tag               TEXT,
  name                    TEXT,
  product_id              TEXT,
  brand                   TEXT,
  model                   TEXT,
  mpn                     TEXT,
  category                TEXT,                       -- as sent; the pinned category is in `footprint`
  purchase_date           TEXT NOT NULL,              -- YYYY-MM-DD
  retired_date            TEXT,
  end_of_life             TEXT NOT NULL CHECK (end_of_life IN ('reuse', 'recycle', 'landfill', 'unknown')),
  ownership               TEXT NOT NULL CHECK (ownership IN ('owned', 'leased')),
  lease_start             TEXT,
  lease_end               TEXT,
  country                 TEXT NOT NULL,
  yearly_kwh              REAL,
  purchase_cost           REAL,
  currency                TEXT,
  expected_lifetime_years REAL,
  footprint               TEXT NOT NULL,
  erasure_document_id     TEXT,                       -- the Blancco erasure that retired it, if any
  created_at              TEXT NOT NULL,
  updated_at              TEXT NOT NULL,
  UNIQUE (org_id, mode, serial)
);
CREATE INDEX inventory_assets_page ON inventory_assets (org_id, mode, id);

-- An organisation's accounting settings, per mode: the first month of its reporting year, the
-- capitalisation threshold that sorts purchases into Scope 3 Category 2 or 1, and its
-- market-based electricity factors (JSON: grid code → kg CO2e per kWh).
CREATE TABLE inventory_settings (
  org_id                   TEXT NOT NULL,
  mode                     TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  fiscal_year_start_month  INTEGER NOT NULL DEFAULT 1 CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
  capitalisation_threshold REAL,
  market_factors           TEXT NOT NULL DEFAULT '{}',
  updated_at               TEXT NOT NULL,
  PRIMARY KEY (org_id, mode)
);

UPDATE meta SET value = '14' WHERE key = 'schema_version';
