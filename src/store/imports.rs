//! `inventory_imports`: asset files of more than 1,000 rows, imported as jobs
//! (`jobs::asset_import`). A row holds where the file's staged chunks are in R2 and the
//! import's `progress` (`inventory::ingest::Progress`, JSON); a chunk's assets and the progress
//! after it are written in one transaction, so a retried job counts nothing twice.

use serde::Deserialize;

use super::db::{Db, Result, Stmt};
use super::inventory::upsert_stmt;
use super::{row, Owner, Tenant};
use crate::inventory::asset::{AssetInput, Pinned};
use crate::job::JobColumns;

#[derive(Debug, Deserialize)]
pub struct Import {
    #[serde(flatten)]
    pub job: JobColumns,
    pub format: String,
    pub dry_run: f64,
    pub rows: f64,
    pub r2_key: String,
    pub bounds: String,
    pub progress: Option<String>,
}

impl Import {
    pub fn dry_run(&self) -> bool {
        self.dry_run != 0.0
    }

    /// The chunks' byte offsets in the staged file (then its end).
    pub fn bounds(&self) -> Vec<usize> {
        serde_json::from_str(&self.bounds).unwrap_or_default()
    }
}

const COLUMNS: &str = "id, status, reason, attempts, created_at, finished_at, format, dry_run, \
                       rows, r2_key, bounds, progress";

/// An import by id, for its own job (any organisation).
pub async fn find(db: &impl Db, id: &str) -> Result<Option<Import>> {
    row(db, "inventory_imports", COLUMNS, id, Owner::Any).await
}

pub async fn owned(db: &impl Db, tenant: &Tenant, id: &str) -> Result<Option<Import>> {
    row(db, "inventory_imports", COLUMNS, id, Owner::Tenant(tenant)).await
}

fn progress_stmt(id: &str, progress: &str) -> Stmt {
    Stmt::new("UPDATE inventory_imports SET progress = ?2 WHERE id = ?1 AND status = 'running'")
        .bind(id)
        .bind(progress)
}

/// Record a running import's progress; `false` when it is no longer running.
pub async fn save_progress(db: &impl Db, id: &str, progress: &str) -> Result<bool> {
    Ok(db.run(progress_stmt(id, progress)).await? > 0)
}

/// Write one chunk's assets and the progress after it, in one transaction.
pub async fn write_chunk(
    db: &impl Db,
    tenant: &Tenant,
    assets: &[(String, AssetInput, Pinned)],
    now: &str,
    id: &str,
    progress: &str,
) -> Result<()> {
    let mut stmts = assets
        .iter()
        .map(|(new_id, a, p)| upsert_stmt(tenant, new_id, a, p, now))
        .collect::<Result<Vec<_>>>()?;
    stmts.push(progress_stmt(id, progress));
    db.batch(stmts).await?;
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::inventory::asset::{parse, pin};
    use crate::lca::Engine;
    use crate::store::inventory::by_serials;
    use crate::store::jobs::tests::enqueue;
    use crate::store::jobs::Spec;
    use crate::store::testdb::{a_live, a_test, b_live, block_on, two_orgs};
    use serde_json::json;

    #[test]
    fn an_import_is_its_tenants_and_writes_a_chunk_with_its_progress() {
        let db = two_orgs();
        let spec = Spec::AssetImport {
            format: "g4it".into(),
            dry_run: false,
            rows: 1500,
            r2_key: "imports/i1.ndjson".into(),
            bounds: "[0,100,150]".into(),
        };
        assert!(enqueue(&db, &a_live(), "i1", spec, 1));
        assert!(block_on(owned(&db, &a_test(), "i1")).unwrap().is_none());
        assert!(block_on(owned(&db, &b_live(), "i1")).unwrap().is_none());
        let i = block_on(owned(&db, &a_live(), "i1")).unwrap().unwrap();
        assert_eq!(
            (i.bounds(), i.rows, i.dry_run()),
            (vec![0, 100, 150], 1500.0, false)
        );
        assert!(!block_on(save_progress(&db, "i1", "{\"chunk\":1}")).unwrap());
        db.exec("UPDATE inventory_imports SET status = 'running'");
        assert!(block_on(save_progress(&db, "i1", "{\"chunk\":1}")).unwrap());
        let engine = Engine::builtin();
        let a = parse(
            &json!({"serial": "S1", "category": "laptop", "purchase_date": "2024-01-01"}),
            engine.factors,
        )
        .unwrap();
        let p = pin(&engine, &a).unwrap();
        block_on(write_chunk(
            &db,
            &a_live(),
            &[("ast_1".into(), a, p)],
            "2026-12-02T00:00:00Z",
            "i1",
            "{\"chunk\":2}",
        ))
        .unwrap();
        let i = block_on(find(&db, "i1")).unwrap().unwrap();
        assert_eq!(i.progress.as_deref(), Some("{\"chunk\":2}"));
        assert_eq!(
            block_on(by_serials(&db, &a_live(), &["S1"])).unwrap().len(),
            1
        );
        assert!(block_on(by_serials(&db, &a_test(), &["S1"]))
            .unwrap()
            .is_empty());
    }
}
