//! `inventory_assets`: an organisation's fleet, one row per device and mode, keyed by serial.
//! An upsert writes the asset with its footprint pinned by the caller
//! (`inventory::asset::pin`); it changes nothing when the asset as sent is the asset as
//! stored, so re-sending or re-importing the same fleet is free and leaves every pin alone.

use serde::Deserialize;

use super::db::{Db, Result, Stmt};
use super::{row, Owner, Tenant};
use crate::inventory::asset::{AssetInput, EndOfLife, Ownership, Pinned};
use crate::inventory::ghg::Asset;
use crate::validation::{civil_date, epoch_day};

const COLUMNS: &str = "id, serial, asset_tag, name, product_id, brand, model, mpn, category, \
purchase_date, retired_date, end_of_life, ownership, lease_start, lease_end, country, yearly_kwh, \
purchase_cost, currency, expected_lifetime_years, footprint, created_at, updated_at";

/// The columns an asset as sent fills (the upsert's comparison: any change re-pins it).
const INPUT: [&str; 19] = [
    "asset_tag",
    "name",
    "product_id",
    "brand",
    "model",
    "mpn",
    "category",
    "purchase_date",
    "retired_date",
    "end_of_life",
    "ownership",
    "lease_start",
    "lease_end",
    "country",
    "yearly_kwh",
    "purchase_cost",
    "currency",
    "expected_lifetime_years",
    "serial",
];

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
    pub created_at: String,
    pub updated_at: String,
}

impl Row {
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

    /// The asset as the accounting reads it (`None` for a row it cannot read).
    pub fn accounting(&self) -> Option<Asset> {
        let day = |d: &Option<String>| d.as_deref().and_then(epoch_day);
        let ownership = match (
            self.ownership.as_str(),
            day(&self.lease_start),
            day(&self.lease_end),
        ) {
            ("leased", Some(start), Some(end)) => Ownership::Leased { start, end },
            _ => Ownership::Owned,
        };
        Some(Asset {
            id: self.id.clone(),
            serial: self.serial.clone(),
            name: self.name.clone(),
            country: self.country.clone(),
            purchase_date: epoch_day(&self.purchase_date)?,
            retired_date: day(&self.retired_date),
            end_of_life: EndOfLife::parse(&self.end_of_life).unwrap_or(EndOfLife::Unknown),
            ownership,
            purchase_cost: self.purchase_cost,
            pinned: self.pinned()?,
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
    #[derive(Deserialize)]
    struct Written {
        id: String,
        created_at: String,
        updated_at: String,
    }
    let written: Option<Written> = db
        .first(
            Stmt::new(format!(
                "INSERT INTO inventory_assets (id, org_id, mode, serial, asset_tag, name, product_id, brand, model, mpn, \
                 category, purchase_date, retired_date, end_of_life, ownership, lease_start, lease_end, country, \
                 yearly_kwh, purchase_cost, currency, expected_lifetime_years, footprint, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
                 ?21, ?22, ?23, ?24, ?24) \
                 ON CONFLICT(org_id, mode, serial) DO UPDATE SET {} WHERE {} \
                 RETURNING id, created_at, updated_at",
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
            .bind(now),
        )
        .await?;
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

/// A page of the tenant's assets after id `after` (ids order the pages), at most `limit`
/// (one more is read: it tells that another page follows).
pub async fn page(
    db: &impl Db,
    tenant: &Tenant,
    f: &Filter<'_>,
    after: &str,
    limit: usize,
) -> Result<Vec<Row>> {
    let like = f.q.map(|q| {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    db.all(
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM inventory_assets WHERE org_id = ?1 AND mode = ?2 AND id > ?3 \
             AND (?4 IS NULL OR json_extract(footprint, '$.category') = ?4) \
             AND (?5 IS NULL OR (?5 = 1) = (retired_date IS NOT NULL)) \
             AND (?6 IS NULL OR purchase_date >= ?6) AND (?7 IS NULL OR purchase_date <= ?7) \
             AND (?8 IS NULL OR serial LIKE ?8 ESCAPE '\\' OR asset_tag LIKE ?8 ESCAPE '\\' \
                  OR name LIKE ?8 ESCAPE '\\' OR brand LIKE ?8 ESCAPE '\\' OR model LIKE ?8 ESCAPE '\\') \
             ORDER BY id LIMIT ?9"
        ))
        .bind(tenant.org_id.as_str())
        .bind(tenant.mode())
        .bind(after)
        .bind(f.category)
        .bind(f.retired)
        .bind(f.purchased_from)
        .bind(f.purchased_to)
        .bind(like)
        .bind(limit + 1),
    )
    .await
}

/// Every asset of the tenant, for a reporting year's accounting, read page by page.
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
        assert!(
            !block_on(delete(&db, &b_live(), "ast_0")).unwrap(),
            "another organisation's"
        );
        assert!(block_on(delete(&db, &a_live(), "ast_0")).unwrap());
        assert_eq!(block_on(all(&db, &a_live())).unwrap().len(), 4);
    }
}
