//! `assets`: devices an organisation holds or has processed, keyed by Blancco document id.

use serde::Deserialize;

use super::db::{Count, Db, Result, Stmt};
use super::Tenant;
use crate::blancco::import::Assessed;

/// Store assessed devices in one batch (one transaction: all or nothing). `ON CONFLICT DO
/// NOTHING` makes a re-sync add nothing twice; the result says, row by row, whether it was new.
pub async fn insert(
    db: &impl Db,
    tenant: &Tenant,
    source: &str,
    rows: &[Assessed],
    now: &str,
) -> Result<Vec<bool>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let stmts = rows
        .iter()
        .map(|a| {
            let d = &a.device;
            Stmt::new(
                "INSERT INTO assets (org_id, document_id, source, manufacturer, model, serial, category, product_id, ram_gb, \
                 storage_gb, erasure_standard, erased_at, request, avoided_kg_co2e, imported_at, mode) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
                 ON CONFLICT(org_id, document_id) DO NOTHING",
            )
            .bind(tenant.org_id.as_str())
            .bind(d.document_id.as_str())
            .bind(source)
            .bind(d.manufacturer.as_deref())
            .bind(d.model.as_str())
            .bind(d.serial.as_deref())
            .bind(d.category.as_deref().unwrap_or("laptop"))
            .bind(a.product_id.as_deref())
            .bind(d.ram_gb)
            .bind(d.storage_gb)
            .bind(d.erasure_standard.as_deref())
            .bind(d.erased_at.as_deref())
            .bind(a.request.to_string())
            .bind(a.avoided_kg_co2e)
            .bind(now)
            .bind(tenant.mode())
        })
        .collect();
    Ok(db.batch(stmts).await?.into_iter().map(|n| n > 0).collect())
}

/// How many devices the tenant's stored assets hold (its certified devices and its imported
/// ones), as a report of `source: assets` would read them.
pub async fn count(db: &impl Db, tenant: &Tenant) -> Result<usize> {
    let n: Option<Count> = db
        .first(
            Stmt::new(
                "SELECT (SELECT COUNT(*) FROM certificates WHERE org_id = ?1 AND mode = ?2 AND kind = 'footprint' AND revoked_at IS NULL) \
                      + (SELECT COUNT(*) FROM assets WHERE org_id = ?1 AND mode = ?2) AS n",
            )
            .bind(tenant.org_id.as_str())
            .bind(tenant.mode()),
        )
        .await?;
    Ok(Count::of(n))
}

/// Emissions avoided by the tenant's devices erased from `from` to `to` (dates, `to`
/// excluded), and how many: the inventory reports them beside a period's figures.
pub async fn avoided(db: &impl Db, tenant: &Tenant, from: &str, to: &str) -> Result<(f64, usize)> {
    #[derive(serde::Deserialize)]
    struct Sum {
        kg: f64,
        n: f64,
    }
    let s: Option<Sum> = db
        .first(
            Stmt::new(
                "SELECT COALESCE(SUM(avoided_kg_co2e), 0.0) AS kg, COUNT(*) AS n FROM assets \
                 WHERE org_id = ?1 AND mode = ?2 AND erased_at >= ?3 AND erased_at < ?4",
            )
            .bind(tenant.org_id.as_str())
            .bind(tenant.mode())
            .bind(from)
            .bind(to),
        )
        .await?;
    Ok(s.map_or((0.0, 0), |s| (s.kg, s.n as usize)))
}

/// The footprint requests of the tenant's imported devices (JSON text), oldest first, at
/// most `limit`.
pub async fn requests(db: &impl Db, tenant: &Tenant, limit: usize) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct A {
        request: String,
    }
    let rows: Vec<A> = db
        .all(
            Stmt::new(
                "SELECT request FROM assets WHERE org_id = ?1 AND mode = ?2 ORDER BY imported_at LIMIT ?3",
            )
            .bind(tenant.org_id.as_str())
            .bind(tenant.mode())
            .bind(limit),
        )
        .await?;
    Ok(rows.into_iter().map(|a| a.request).collect())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::blancco::report::ErasedDevice;
    use crate::store::certificates::tests::issue;
    use crate::store::testdb::{a_live, a_test, b_live, block_on, two_orgs};

    fn assessed(doc: &str) -> Assessed {
        Assessed {
            device: ErasedDevice {
                document_id: doc.into(),
                model: "Latitude 5420".into(),
                manufacturer: Some("Dell".into()),
                ..Default::default()
            },
            request: serde_json::json!({ "category": "laptop" }),
            product_id: None,
            avoided_kg_co2e: 120.0,
            index: 0,
        }
    }

    #[test]
    fn a_resync_adds_nothing_twice_and_each_tenant_counts_its_own() {
        let db = two_orgs();
        let rows = [assessed("d1"), assessed("d2")];
        let new = block_on(insert(&db, &a_live(), "blancco_upload", &rows, "t1")).unwrap();
        assert_eq!(new, [true, true]);
        let again = block_on(insert(
            &db,
            &a_live(),
            "blancco_pull",
            &[assessed("d2"), assessed("d3")],
            "t2",
        ))
        .unwrap();
        assert_eq!(again, [false, true]);
        block_on(insert(&db, &b_live(), "blancco_upload", &rows, "t1")).unwrap();
        issue(&db, &a_live(), "c1", "footprint");
        assert_eq!(
            block_on(count(&db, &a_live())).unwrap(),
            4,
            "3 assets + 1 certificate"
        );
        assert_eq!(block_on(count(&db, &b_live())).unwrap(), 2);
        assert_eq!(block_on(count(&db, &a_test())).unwrap(), 0);
        assert_eq!(block_on(requests(&db, &a_live(), 2)).unwrap().len(), 2);
        assert_eq!(block_on(requests(&db, &a_test(), 10)).unwrap().len(), 0);
    }

    #[test]
    fn avoided_emissions_count_the_erasures_of_the_period_only() {
        let db = two_orgs();
        let erased = |doc: &str, at: &str| {
            let mut a = assessed(doc);
            a.device.erased_at = Some(at.into());
            a
        };
        let rows = [
            erased("d1", "2025-03-01T10:00:00Z"),
            erased("d2", "2025-12-31T23:00:00Z"),
            erased("d3", "2026-01-01T00:00:00Z"),
            assessed("d4"),
        ];
        block_on(insert(&db, &a_live(), "blancco_upload", &rows, "t1")).unwrap();
        block_on(insert(&db, &b_live(), "blancco_upload", &rows, "t1")).unwrap();
        assert_eq!(
            block_on(avoided(&db, &a_live(), "2025-01-01", "2026-01-01")).unwrap(),
            (240.0, 2)
        );
        assert_eq!(
            block_on(avoided(&db, &a_test(), "2025-01-01", "2026-01-01")).unwrap(),
            (0.0, 0)
        );
    }
}
