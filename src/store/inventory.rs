//! `inventory_assets`: an organisation's fleet, one row per device and mode, keyed by serial.
//! An upsert writes the asset with its footprint pinned by the caller
//! (`inventory::asset::pin`); it changes nothing when the asset as sent is the asset as
//! stored, so re-sending or re-importing the same fleet is free and leaves every pin alone.

use serde::Deserialize;

use super::db::{Db, Result, Stmt};
use super::{row, Owner, Tenant};
use crate::inventory::asset::{AssetInput, EndOfLife, Ownership, Pinned, FIELDS};
use crate::inventory::ghg::{
    inventory, Asset, Avoided, Excluded, Inventory, Period, Settings, View,
};
use crate::validation::{civil_date, epoch_day};

const COLUMNS: &str = "id, serial, asset_tag, name, product_id, brand, model, mpn, category, \
purchase_date, retired_date, end_of_life, ownership, lease_start, lease_end, country, yearly_kwh, \
purchase_cost, currency, expected_lifetime_years, footprint, erasure_document_id, created_at, updated_at";

/// The columns an asset as sent fills, named as its fields (the upsert's comparison: any
/// change re-pins it).
const INPUT: &[&str] = FIELDS;

/// A stored asset.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Row {
    pub id: String,
    pub serial: String,
    pub asset_tag: Option<String>,
    pub name: Option<String>,
    pub product_id: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub mpn: Option<String>,
    pub category: Option<String>,
    pub purchase_date: String,
    pub retired_date: Option<String>,
    pub end_of_life: String,
    pub ownership: String,
    pub lease_start: Option<String>,
    pub lease_end: Option<String>,
    pub country: String,
    pub yearly_kwh: Option<f64>,
    pub purchase_cost: Option<f64>,
    pub currency: Option<String>,
    pub expected_lifetime_years: Option<f64>,
    /// JSON of [`Pinned`].
    pub footprint: String,
    /// The Blancco erasure (document id) that retired it, if any.
    pub erasure_document_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Row {
    /// The row an asset would be stored as (the sandbox's fixture inventory is never stored,
    /// and is served as rows so it reads exactly like a stored one).
    pub fn of(id: &str, a: &AssetInput, pinned: &Pinned, at: &str) -> Row {
        let (ownership, lease_start, lease_end) = match a.ownership {
            Ownership::Owned => ("owned", None, None),
            Ownership::Leased { start, end } => {
                ("leased", Some(civil_date(start)), Some(civil_date(end)))
            }
        };
        Row {
            id: id.to_string(),
            serial: a.serial.clone(),
            asset_tag: a.asset_tag.clone(),
            name: a.name.clone(),
            product_id: a.product_id.clone(),
            brand: a.brand.clone(),
            model: a.model.clone(),
            mpn: a.mpn.clone(),
            category: a.category.clone(),
            purchase_date: civil_date(a.purchase_date),
            retired_date: a.retired_date.map(civil_date),
            end_of_life: a.end_of_life.name().to_string(),
            ownership: ownership.to_string(),
            lease_start,
            lease_end,
            country: a.country.clone(),
            yearly_kwh: a.yearly_kwh,
            purchase_cost: a.purchase_cost,
            currency: a.currency.clone(),
            expected_lifetime_years: a.expected_lifetime_years,
            footprint: serde_json::to_string(pinned).unwrap_or_default(),
            erasure_document_id: None,
            created_at: at.to_string(),
            updated_at: at.to_string(),
        }
    }

    pub fn pinned(&self) -> Option<Pinned> {
        serde_json::from_str(&self.footprint).ok()
    }

    /// The asset's fields as sent (what `PATCH` lays its fields over, and what a restatement
    /// pins again), without the pinned footprint.
    pub fn input_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "serial": self.serial, "asset_tag": self.asset_tag, "name": self.name,
            "product_id": self.product_id, "brand": self.brand, "model": self.model, "mpn": self.mpn,
            "category": self.category, "purchase_date": self.purchase_date,
            "retired_date": self.retired_date, "end_of_life": self.end_of_life,
            "ownership": self.ownership, "lease_start": self.lease_start, "lease_end": self.lease_end,
            "country": self.country, "yearly_kwh": self.yearly_kwh,
            "purchase_cost": self.purchase_cost, "currency": self.currency,
            "expected_lifetime_years": self.expected_lifetime_years,
        });
        if let Some(o) = v.as_object_mut() {
            o.retain(|_, v| !v.is_null());
        }
        v
    }

    /// The asset as the accounting reads it, or why it cannot be (an unreadable stored date
    /// or footprint: the inventory lists it as excluded).
    pub fn accounting(&self) -> std::result::Result<Asset, String> {
        AccountingRow(
            self.id.clone(),
            self.serial.clone(),
            self.name.clone(),
            self.country.clone(),
            self.purchase_date.clone(),
            self.retired_date.clone(),
            self.end_of_life.clone(),
            self.ownership.clone(),
            self.lease_start.clone(),
            self.lease_end.clone(),
            self.purchase_cost,
            Some(self.footprint.clone()),
        )
        .asset()
    }
}

/// What the accounting reads of a stored asset, in [`ACCOUNTING_COLUMNS`]' order: read as one
/// JSON array per row (see [`accounting`]).
#[derive(Debug, Deserialize)]
struct AccountingRow(
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<String>,
);

/// [`AccountingRow`]'s columns, as SQLite builds the array. The footprint goes as text, parsed
/// once, here: `json(footprint)` would have SQLite parse and print every footprint again.
const ACCOUNTING_COLUMNS: &str = "id, serial, name, country, purchase_date, retired_date, \
end_of_life, ownership, lease_start, lease_end, purchase_cost, footprint";

impl AccountingRow {
    fn asset(self) -> std::result::Result<Asset, String> {
        let AccountingRow(
            id,
            serial,
            name,
            country,
            purchase_date,
            retired_date,
            end_of_life,
            ownership,
            lease_start,
            lease_end,
            purchase_cost,
            footprint,
        ) = self;
        let day = |d: &Option<String>| d.as_deref().and_then(epoch_day);
        let ownership = match (ownership.as_str(), day(&lease_start), day(&lease_end)) {
            ("leased", Some(start), Some(end)) => Ownership::Leased { start, end },
            _ => Ownership::Owned,
        };
        let pinned: Option<Pinned> = footprint.and_then(|f| serde_json::from_str(&f).ok());
        Ok(Asset {
            purchase_date: epoch_day(&purchase_date)
                .ok_or("the stored purchase date is unreadable")?,
            retired_date: day(&retired_date),
            end_of_life: EndOfLife::parse(&end_of_life).unwrap_or(EndOfLife::Unknown),
            ownership,
            purchase_cost,
            pinned: pinned
                .ok_or("the pinned footprint is unreadable: send the asset again to pin it anew")?,
            id,
            serial,
            name,
            country,
        })
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
    Unchanged,
}

/// The statement writing asset `a` (serial as key) with its footprint `pinned`: created with
/// id `new_id`, updated (and re-pinned) if any field differs, or left as it is.
pub(super) fn upsert_stmt(
    tenant: &Tenant,
    new_id: &str,
    a: &AssetInput,
    pinned: &Pinned,
    now: &str,
) -> Result<Stmt> {
    let (ownership, lease_start, lease_end) = match a.ownership {
        Ownership::Owned => ("owned", None, None),
        Ownership::Leased { start, end } => {
            ("leased", Some(civil_date(start)), Some(civil_date(end)))
        }
    };
    let changed: Vec<String> = INPUT
        .iter()
        .map(|c| format!("inventory_assets.{c} IS NOT excluded.{c}"))
        .collect();
    let updates: Vec<String> = INPUT
        .iter()
        .chain(&["footprint", "updated_at"])
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    Ok(Stmt::new(format!(
        "INSERT INTO inventory_assets (id, org_id, mode, serial, asset_tag, name, product_id, brand, model, mpn, \
         category, purchase_date, retired_date, end_of_life, ownership, lease_start, lease_end, country, \
         yearly_kwh, purchase_cost, currency, expected_lifetime_years, footprint, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
         ?21, ?22, ?23, ?24, ?24) \
         ON CONFLICT(org_id, mode, serial) DO UPDATE SET {} WHERE {}",
        updates.join(", "),
        changed.join(" OR ")
    ))
    .bind(new_id)
    .bind(tenant.org_id.as_str())
    .bind(tenant.mode())
    .bind(a.serial.as_str())
    .bind(a.asset_tag.as_deref())
    .bind(a.name.as_deref())
    .bind(a.product_id.as_deref())
    .bind(a.brand.as_deref())
    .bind(a.model.as_deref())
    .bind(a.mpn.as_deref())
    .bind(a.category.as_deref())
    .bind(civil_date(a.purchase_date))
    .bind(a.retired_date.map(civil_date))
    .bind(a.end_of_life.name())
    .bind(ownership)
    .bind(lease_start)
    .bind(lease_end)
    .bind(a.country.as_str())
    .bind(a.yearly_kwh)
    .bind(a.purchase_cost)
    .bind(a.currency.as_deref())
    .bind(a.expected_lifetime_years)
    .bind(serde_json::to_string(pinned).map_err(|e| super::Error(e.to_string()))?)
    .bind(now))
}

/// Write asset `a` (serial as key) with its footprint `pinned`, in one statement: created with
/// id `new_id`, updated (and re-pinned) if any field differs, or left as it is.
pub async fn upsert(
    db: &impl Db,
    tenant: &Tenant,
    new_id: &str,
    a: &AssetInput,
    pinned: &Pinned,
    now: &str,
) -> Result<(Upserted, String)> {
    #[derive(Deserialize)]
    struct Written {
        id: String,
        created_at: String,
        updated_at: String,
    }
    let mut stmt = upsert_stmt(tenant, new_id, a, pinned, now)?;
    stmt.sql = format!("{} RETURNING id, created_at, updated_at", stmt.sql).into();
    let written: Option<Written> = db.first(stmt).await?;
    Ok(match written {
        None => {
            let id = by_serial(db, tenant, &a.serial)
                .await?
                .map(|r| r.id)
                .unwrap_or_default();
            (Upserted::Unchanged, id)
        }
        Some(w) if w.id == new_id && w.created_at == w.updated_at => (Upserted::Created, w.id),
        Some(w) => (Upserted::Updated, w.id),
    })
}

/// Write many assets as one transaction (an import: all or nothing), each as [`upsert`] does.
pub async fn upsert_all(
    db: &impl Db,
    tenant: &Tenant,
    assets: &[(String, AssetInput, Pinned)],
    now: &str,
) -> Result<()> {
    let stmts = assets
        .iter()
        .map(|(id, a, p)| upsert_stmt(tenant, id, a, p, now))
        .collect::<Result<Vec<_>>>()?;
    if !stmts.is_empty() {
        db.batch(stmts).await?;
    }
    Ok(())
}

/// The tenant's assets with these serials (read in chunks within D1's bound parameters).
pub async fn by_serials(db: &impl Db, tenant: &Tenant, serials: &[&str]) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for chunk in serials.chunks(90) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("?{}", i + 3)).collect();
        let mut stmt = Stmt::new(format!(
            "SELECT {COLUMNS} FROM inventory_assets WHERE org_id = ?1 AND mode = ?2 AND serial IN ({})",
            marks.join(", ")
        ))
        .bind(tenant.org_id.as_str())
        .bind(tenant.mode());
        for s in chunk {
            stmt = stmt.bind(*s);
        }
        out.extend(db.all::<Row>(stmt).await?);
    }
    Ok(out)
}

/// The tenant's assets with these serials as they were sent (what an import compares with).
pub async fn inputs_by_serial(
    db: &impl Db,
    tenant: &Tenant,
    serials: &[&str],
    factors: &crate::factors::FactorSet,
) -> Result<std::collections::HashMap<String, AssetInput>> {
    Ok(by_serials(db, tenant, serials)
        .await?
        .into_iter()
        .filter_map(|r| {
            let input = crate::inventory::asset::parse(&r.input_json(), factors).ok()?;
            Some((r.serial, input))
        })
        .collect())
}

/// The tenant's asset `id`.
pub async fn get(db: &impl Db, tenant: &Tenant, id: &str) -> Result<Option<Row>> {
    row(db, "inventory_assets", COLUMNS, id, Owner::Tenant(tenant)).await
}

/// The tenant's asset with this serial.
pub async fn by_serial(db: &impl Db, tenant: &Tenant, serial: &str) -> Result<Option<Row>> {
    db.first(
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM inventory_assets WHERE org_id = ?1 AND mode = ?2 AND serial = ?3"
        ))
        .bind(tenant.org_id.as_str())
        .bind(tenant.mode())
        .bind(serial),
    )
    .await
}

/// What a listing may narrow to.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub category: Option<&'a str>,
    /// `Some(true)`: retired only; `Some(false)`: in service only.
    pub retired: Option<bool>,
    pub purchased_from: Option<&'a str>,
    pub purchased_to: Option<&'a str>,
    /// Matched against serial, asset tag, name, brand and model.
    pub q: Option<&'a str>,
}

impl Filter<'_> {
    /// Whether `r` passes the filter, as [`page`]'s SQL decides it (the sandbox filters its
    /// fixture rows with it; a native test holds the two together).
    pub fn matches(&self, r: &Row) -> bool {
        let category = r.pinned().map(|p| p.category);
        let q = self.q.map(str::to_lowercase);
        let has =
            |field: Option<&str>, q: &str| field.unwrap_or("").to_ascii_lowercase().contains(q);
        self.category.is_none_or(|c| category.as_deref() == Some(c))
            && self.retired.is_none_or(|x| x == r.retired_date.is_some())
            && self
                .purchased_from
                .is_none_or(|d| r.purchase_date.as_str() >= d)
            && self
                .purchased_to
                .is_none_or(|d| r.purchase_date.as_str() <= d)
            && q.as_deref().is_none_or(|q| {
                [
                    Some(r.serial.as_str()),
                    r.asset_tag.as_deref(),
                    r.name.as_deref(),
                    r.brand.as_deref(),
                    r.model.as_deref(),
                ]
                .into_iter()
                .any(|f| has(f, q))
            })
    }
}

/// A page of the tenant's assets after id `after` (ids order the pages), at most `limit`
/// (one more is read: it tells that another page follows).
pub async fn page(
    db: &impl Db,
    tenant: &Tenant,
    f: &Filter<'_>,
    after: &str,
    limit: usize,
) -> Result<Vec<Row>> {
    // instr, not LIKE: the database bounds a LIKE pattern at 50 bytes, and `q` may be 200.
    let q = f.q.map(str::to_lowercase);
    db.all(
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM inventory_assets WHERE org_id = ?1 AND mode = ?2 AND id > ?3 \
             AND (?4 IS NULL OR json_extract(footprint, '$.category') = ?4) \
             AND (?5 IS NULL OR (?5 = 1) = (retired_date IS NOT NULL)) \
             AND (?6 IS NULL OR purchase_date >= ?6) AND (?7 IS NULL OR purchase_date <= ?7) \
             AND (?8 IS NULL OR instr(lower(serial), ?8) OR instr(lower(coalesce(asset_tag, '')), ?8) \
                  OR instr(lower(coalesce(name, '')), ?8) OR instr(lower(coalesce(brand, '')), ?8) \
                  OR instr(lower(coalesce(model, '')), ?8)) \
             ORDER BY id LIMIT ?9"
        ))
        .bind(tenant.org_id.as_str())
        .bind(tenant.mode())
        .bind(after)
        .bind(f.category)
        .bind(f.retired)
        .bind(f.purchased_from)
        .bind(f.purchased_to)
        .bind(q)
        .bind(limit + 1),
    )
    .await
}

/// Every asset of the tenant as the accounting reads it, and those it cannot read (with the
/// reason). Each page of rows crosses from the database as one JSON text SQLite builds
/// (`json_group_array`), not as an object per row and column: that crossing, not the
/// accounting, was the cost of an inventory (10,000 assets: 270 ms of CPU before, see the
/// README's figures). Pages of 1,000 keep each text well under D1's 2 MB value limit.
pub async fn accounting(db: &impl Db, tenant: &Tenant) -> Result<(Vec<Asset>, Vec<Excluded>)> {
    const PAGE: usize = 1_000;
    #[derive(Deserialize)]
    struct Page {
        rows: String,
    }
    let (mut out, mut excluded) = (Vec::new(), Vec::new());
    let mut after = String::new();
    loop {
        let page: Option<Page> = db
            .first(
                Stmt::new(format!(
                    "SELECT json_group_array(json_array({ACCOUNTING_COLUMNS})) AS rows FROM \
                     (SELECT * FROM inventory_assets WHERE org_id = ?1 AND mode = ?2 AND id > ?3 \
                      ORDER BY id LIMIT ?4)"
                ))
                .bind(tenant.org_id.as_str())
                .bind(tenant.mode())
                .bind(after.as_str())
                .bind(PAGE),
            )
            .await?;
        let rows: Vec<AccountingRow> = match page {
            Some(p) => serde_json::from_str(&p.rows)
                .map_err(|e| super::Error(format!("inventory accounting page: {e}")))?,
            None => Vec::new(),
        };
        let n = rows.len();
        for r in rows {
            if r.0 > after {
                after = r.0.clone();
            }
            let id = r.0.clone();
            match r.asset() {
                Ok(a) => out.push(a),
                Err(reason) => excluded.push(Excluded { id, reason }),
            }
        }
        if n < PAGE {
            excluded.sort_by(|a, b| a.id.cmp(&b.id));
            return Ok((out, excluded));
        }
    }
}

/// A reporting year of the tenant's inventory, with what it was computed from.
pub struct Year {
    pub inventory: Inventory,
    pub period: Period,
    pub settings: Settings,
}

/// The tenant's inventory of reporting year `year` in `view`: its settings, its assets'
/// pinned figures (`inventory::ghg::inventory`), the assets it had to leave out, and the
/// emissions avoided by the erasures of the period beside it. What `GET /inventory` answers
/// and the `ghg_inventory` report prints.
pub async fn year(db: &impl Db, tenant: &Tenant, year: i64, view: View) -> Result<Year> {
    let settings = settings(db, tenant).await?;
    let period = Period::year(year, settings.fiscal_year_start_month);
    let (assets, excluded) = accounting(db, tenant).await?;
    let mut inventory = inventory(&assets, &period, view, &settings);
    inventory.assets.excluded = excluded;
    let (kg, erasures) = super::assets::avoided(
        db,
        tenant,
        &civil_date(period.start),
        &civil_date(period.end),
    )
    .await?;
    inventory.avoided_emissions = Avoided::new(kg, erasures);
    Ok(Year {
        inventory,
        period,
        settings,
    })
}

/// Every asset of the tenant, read page by page (a restatement pins each again).
pub async fn all(db: &impl Db, tenant: &Tenant) -> Result<Vec<Row>> {
    const PAGE: usize = 5_000;
    let mut out: Vec<Row> = Vec::new();
    loop {
        let after = out.last().map(|r| r.id.clone()).unwrap_or_default();
        let mut rows = page(db, tenant, &Filter::default(), &after, PAGE).await?;
        let more = rows.len() > PAGE;
        rows.truncate(PAGE);
        out.extend(rows);
        if !more {
            return Ok(out);
        }
    }
}

/// Link erasures to the tenant's assets by serial: each matching asset records the erasure's
/// document id and, if it had none, a retirement on the erasure's date (`YYYY-MM-DD`) with
/// `reuse` as its end of life when it had none. One transaction; returns how many were linked.
pub async fn link_erasures(
    db: &impl Db,
    tenant: &Tenant,
    erasures: &[(&str, &str, &str)],
    now: &str,
) -> Result<usize> {
    if erasures.is_empty() {
        return Ok(0);
    }
    let stmts = erasures
        .iter()
        .map(|(serial, date, document_id)| {
            Stmt::new(
                "UPDATE inventory_assets SET erasure_document_id = ?4, \
                 retired_date = COALESCE(retired_date, ?5), \
                 end_of_life = CASE WHEN retired_date IS NULL AND end_of_life = 'unknown' THEN 'reuse' ELSE end_of_life END, \
                 updated_at = ?6 \
                 WHERE org_id = ?1 AND mode = ?2 AND serial = ?3 AND erasure_document_id IS NOT ?4 \
                 AND purchase_date <= ?5",
            )
            .bind(tenant.org_id.as_str())
            .bind(tenant.mode())
            .bind(*serial)
            .bind(*document_id)
            .bind(*date)
            .bind(now)
        })
        .collect();
    Ok(db.batch(stmts).await?.into_iter().sum())
}

/// The tenant's accounting settings (the defaults when none are stored).
pub async fn settings(db: &impl Db, tenant: &Tenant) -> Result<Settings> {
    #[derive(Deserialize)]
    struct Stored {
        fiscal_year_start_month: i64,
        capitalisation_threshold: Option<f64>,
        market_factors: String,
    }
    let s: Option<Stored> = db
        .first(
            Stmt::new(
                "SELECT fiscal_year_start_month, capitalisation_threshold, market_factors \
                 FROM inventory_settings WHERE org_id = ?1 AND mode = ?2",
            )
            .bind(tenant.org_id.as_str())
            .bind(tenant.mode()),
        )
        .await?;
    Ok(match s {
        None => Settings {
            fiscal_year_start_month: 1,
            ..Settings::default()
        },
        Some(s) => Settings {
            fiscal_year_start_month: s.fiscal_year_start_month.clamp(1, 12) as u32,
            capitalisation_threshold: s.capitalisation_threshold,
            market_factors: serde_json::from_str(&s.market_factors).unwrap_or_default(),
        },
    })
}

/// Store the tenant's accounting settings.
pub async fn set_settings(db: &impl Db, tenant: &Tenant, s: &Settings, now: &str) -> Result<()> {
    db.run(
        Stmt::new(
            "INSERT INTO inventory_settings (org_id, mode, fiscal_year_start_month, capitalisation_threshold, \
             market_factors, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT(org_id, mode) DO UPDATE SET fiscal_year_start_month = excluded.fiscal_year_start_month, \
             capitalisation_threshold = excluded.capitalisation_threshold, \
             market_factors = excluded.market_factors, updated_at = excluded.updated_at",
        )
        .bind(tenant.org_id.as_str())
        .bind(tenant.mode())
        .bind(s.fiscal_year_start_month)
        .bind(s.capitalisation_threshold)
        .bind(serde_json::to_string(&s.market_factors).map_err(|e| super::Error(e.to_string()))?)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// Delete the tenant's asset `id`; `false` if it is not theirs (or gone).
pub async fn delete(db: &impl Db, tenant: &Tenant, id: &str) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new("DELETE FROM inventory_assets WHERE id = ?1 AND org_id = ?2 AND mode = ?3")
                .bind(id)
                .bind(tenant.org_id.as_str())
                .bind(tenant.mode()),
        )
        .await?
        > 0)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::inventory::asset::{parse, pin};
    use crate::lca::Engine;
    use crate::store::testdb::{a_live, a_test, b_live, block_on, two_orgs};
    use serde_json::json;

    fn write(
        db: &crate::store::sqlite::Sqlite,
        t: &Tenant,
        id: &str,
        body: serde_json::Value,
    ) -> (Upserted, String) {
        let engine = Engine::builtin();
        let a = parse(&body, engine.factors).unwrap();
        let p = pin(&engine, &a).unwrap();
        block_on(upsert(db, t, id, &a, &p, "2026-12-02T00:00:00.000Z")).unwrap()
    }

    fn laptop(serial: &str) -> serde_json::Value {
        json!({"serial": serial, "category": "laptop", "purchase_date": "2025-01-15", "country": "FR"})
    }

    #[test]
    fn an_upsert_creates_updates_or_changes_nothing() {
        let db = two_orgs();
        assert_eq!(
            write(&db, &a_live(), "ast_1", laptop("S1")),
            (Upserted::Created, "ast_1".into())
        );
        assert_eq!(
            write(&db, &a_live(), "ast_2", laptop("S1")),
            (Upserted::Unchanged, "ast_1".into())
        );
        let mut moved = laptop("S1");
        moved["retired_date"] = json!("2026-01-01");
        assert_eq!(
            write(&db, &a_live(), "ast_3", moved),
            (Upserted::Updated, "ast_1".into())
        );
        let r = block_on(get(&db, &a_live(), "ast_1")).unwrap().unwrap();
        assert_eq!(r.retired_date.as_deref(), Some("2026-01-01"));
        let back = parse(&r.input_json(), Engine::builtin().factors).unwrap();
        assert_eq!(
            back.retired_date,
            epoch_day("2026-01-01"),
            "the stored fields read back"
        );
        let acc = r.accounting().unwrap();
        assert_eq!(acc.retired_date, epoch_day("2026-01-01"));
        assert_eq!(acc.pinned.category, "laptop");
        // The same serial in another mode or organisation is another asset.
        assert_eq!(
            write(&db, &a_test(), "ast_4", laptop("S1")).0,
            Upserted::Created
        );
        assert_eq!(
            write(&db, &b_live(), "ast_5", laptop("S1")).0,
            Upserted::Created
        );
        assert!(block_on(get(&db, &a_test(), "ast_1")).unwrap().is_none());
        assert!(block_on(get(&db, &b_live(), "ast_1")).unwrap().is_none());
    }

    #[test]
    fn the_in_memory_filter_decides_as_the_sql_does_and_rows_read_back_as_built() {
        let db = two_orgs();
        let fixture = crate::inventory::sandbox::assets();
        let at = crate::inventory::sandbox::WRITTEN_AT;
        block_on(upsert_all(&db, &a_live(), fixture, at)).unwrap();
        let stored = block_on(all(&db, &a_live())).unwrap();
        let built: Vec<Row> = fixture
            .iter()
            .map(|(id, a, p)| Row::of(id, a, p, at))
            .collect();
        assert_eq!(stored, built, "Row::of is the row the upsert stores");
        let filters = [
            Filter::default(),
            Filter {
                category: Some("laptop"),
                ..Default::default()
            },
            Filter {
                retired: Some(true),
                ..Default::default()
            },
            Filter {
                retired: Some(false),
                purchased_from: Some("2024-01-01"),
                ..Default::default()
            },
            Filter {
                purchased_to: Some("2023-12-01"),
                ..Default::default()
            },
            Filter {
                q: Some("LEASED"),
                ..Default::default()
            },
            Filter {
                q: Some("sbx-dt"),
                category: Some("desktop"),
                ..Default::default()
            },
            Filter {
                q: Some("slate"),
                ..Default::default()
            },
        ];
        for f in &filters {
            let sql: Vec<String> = block_on(page(&db, &a_live(), f, "", 100))
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect();
            let mem: Vec<String> = built
                .iter()
                .filter(|r| f.matches(r))
                .map(|r| r.id.clone())
                .collect();
            assert_eq!(sql, mem, "{f:?}");
            assert!(!sql.is_empty(), "{f:?} selects something");
        }
    }

    #[test]
    fn the_accounting_reads_every_asset_across_its_pages() {
        let db = two_orgs();
        let (_, a, p) = &crate::inventory::sandbox::assets()[0];
        let many: Vec<(String, AssetInput, Pinned)> = (0..2_100)
            .map(|i| {
                let mut a = a.clone();
                a.serial = format!("S-{i:05}");
                (format!("ast_{i:05}"), a, p.clone())
            })
            .collect();
        block_on(upsert_all(&db, &a_live(), &many, "2026-01-01T00:00:00Z")).unwrap();
        let (read, excluded) = block_on(accounting(&db, &a_live())).unwrap();
        assert_eq!((read.len(), excluded.len()), (2_100, 0));
        let ids: std::collections::BTreeSet<_> = read.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids.len(), 2_100, "each once");
        assert_eq!(read[0].pinned, *p, "the footprint reads back as pinned");
        assert!(block_on(accounting(&db, &b_live())).unwrap().0.is_empty());
    }

    #[test]
    fn pages_filter_and_stay_within_their_tenant() {
        let db = two_orgs();
        for i in 0..5 {
            let mut body = laptop(&format!("SER-{i}"));
            if i == 4 {
                body["category"] = json!("monitor");
                body["retired_date"] = json!("2026-01-01");
            }
            write(&db, &a_live(), &format!("ast_{i}"), body);
        }
        write(&db, &b_live(), "ast_x", laptop("SER-X"));
        let ids = |f: &Filter, after: &str, limit: usize| -> Vec<String> {
            block_on(page(&db, &a_live(), f, after, limit))
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect()
        };
        assert_eq!(
            ids(&Filter::default(), "", 2),
            ["ast_0", "ast_1", "ast_2"],
            "one more than the page"
        );
        assert_eq!(ids(&Filter::default(), "ast_2", 10), ["ast_3", "ast_4"]);
        assert_eq!(
            ids(
                &Filter {
                    category: Some("monitor"),
                    ..Default::default()
                },
                "",
                10
            ),
            ["ast_4"]
        );
        assert_eq!(
            ids(
                &Filter {
                    retired: Some(false),
                    ..Default::default()
                },
                "",
                10
            )
            .len(),
            4
        );
        assert_eq!(
            ids(
                &Filter {
                    q: Some("ser-3"),
                    ..Default::default()
                },
                "",
                10
            ),
            ["ast_3"]
        );
        assert_eq!(
            ids(
                &Filter {
                    q: Some("%"),
                    ..Default::default()
                },
                "",
                10
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            ids(
                &Filter {
                    purchased_from: Some("2025-02-01"),
                    ..Default::default()
                },
                "",
                10
            )
            .len(),
            0
        );
        assert_eq!(block_on(all(&db, &a_live())).unwrap().len(), 5);
        assert_eq!(block_on(accounting(&db, &a_live())).unwrap().0.len(), 5);
        db.exec("UPDATE inventory_assets SET footprint = 'x' WHERE id = 'ast_1'");
        let (read, excluded) = block_on(accounting(&db, &a_live())).unwrap();
        assert_eq!((read.len(), excluded.len()), (4, 1));
        assert_eq!(excluded[0].id, "ast_1");
        assert!(excluded[0].reason.contains("footprint"));
        let y = block_on(year(&db, &a_live(), 2025, View::Ghg)).unwrap();
        assert_eq!(
            y.inventory.assets.excluded, excluded,
            "an inventory names what it left out"
        );
        assert!(
            !block_on(delete(&db, &b_live(), "ast_0")).unwrap(),
            "another organisation's"
        );
        assert!(block_on(delete(&db, &a_live(), "ast_0")).unwrap());
        assert_eq!(block_on(all(&db, &a_live())).unwrap().len(), 4);
    }

    #[test]
    fn an_erasure_retires_the_asset_with_its_serial_once() {
        let db = two_orgs();
        write(&db, &a_live(), "ast_1", laptop("SER-1"));
        let mut retired = laptop("SER-2");
        retired["retired_date"] = json!("2025-06-01");
        retired["end_of_life"] = json!("recycle");
        write(&db, &a_live(), "ast_2", retired);
        let e = [
            ("SER-1", "2026-03-02", "doc-1"),
            ("SER-2", "2026-03-02", "doc-2"),
            ("NOPE", "2026-03-02", "doc-3"),
        ];
        assert_eq!(block_on(link_erasures(&db, &a_live(), &e, "t")).unwrap(), 2);
        assert_eq!(
            block_on(link_erasures(&db, &a_live(), &e, "t")).unwrap(),
            0,
            "once"
        );
        assert_eq!(
            block_on(link_erasures(&db, &b_live(), &e, "t")).unwrap(),
            0,
            "another organisation"
        );
        let r1 = block_on(get(&db, &a_live(), "ast_1")).unwrap().unwrap();
        assert_eq!(
            (r1.retired_date.as_deref(), r1.end_of_life.as_str()),
            (Some("2026-03-02"), "reuse")
        );
        let r2 = block_on(get(&db, &a_live(), "ast_2")).unwrap().unwrap();
        assert_eq!(
            (r2.retired_date.as_deref(), r2.end_of_life.as_str()),
            (Some("2025-06-01"), "recycle"),
            "kept"
        );
    }

    #[test]
    fn settings_default_and_are_kept_per_tenant() {
        let db = two_orgs();
        assert_eq!(
            block_on(settings(&db, &a_live()))
                .unwrap()
                .fiscal_year_start_month,
            1
        );
        let s = Settings {
            fiscal_year_start_month: 4,
            capitalisation_threshold: Some(1000.0),
            market_factors: [("FR".to_string(), 0.02)].into(),
        };
        block_on(set_settings(&db, &a_live(), &s, "t")).unwrap();
        assert_eq!(block_on(settings(&db, &a_live())).unwrap(), s);
        assert_eq!(
            block_on(settings(&db, &a_test()))
                .unwrap()
                .fiscal_year_start_month,
            1
        );
        assert_eq!(
            block_on(settings(&db, &b_live()))
                .unwrap()
                .capitalisation_threshold,
            None
        );
    }

    #[test]
    fn an_import_writes_all_or_nothing_and_reads_back_by_serial() {
        let db = two_orgs();
        let engine = Engine::builtin();
        let items: Vec<(String, AssetInput, Pinned)> = (0..150)
            .map(|i| {
                let a = parse(&laptop(&format!("IMP-{i}")), engine.factors).unwrap();
                let p = pin(&engine, &a).unwrap();
                (format!("ast_i{i:03}"), a, p)
            })
            .collect();
        block_on(upsert_all(
            &db,
            &a_live(),
            &items,
            "2026-12-02T00:00:00.000Z",
        ))
        .unwrap();
        let serials: Vec<&str> = items.iter().map(|(_, a, _)| a.serial.as_str()).collect();
        assert_eq!(
            block_on(by_serials(&db, &a_live(), &serials))
                .unwrap()
                .len(),
            150,
            "two chunks"
        );
        assert!(block_on(by_serials(&db, &b_live(), &serials))
            .unwrap()
            .is_empty());
        // A batch that fails part-way (two new assets under one id) writes nothing.
        let mut bad = items[..2].to_vec();
        for (i, item) in bad.iter_mut().enumerate() {
            item.0 = "ast_dup".into();
            item.1.serial = format!("IMP-NEW-{i}");
        }
        assert!(block_on(upsert_all(&db, &a_test(), &bad, "t")).is_err());
        assert!(
            block_on(by_serials(&db, &a_test(), &["IMP-NEW-0", "IMP-NEW-1"]))
                .unwrap()
                .is_empty()
        );
    }
}
