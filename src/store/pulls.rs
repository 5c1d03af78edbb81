//! `integration_jobs`: Blancco cloud pulls (resumable at `cursor`, counters in `result`).

use serde::Deserialize;

use super::db::{Db, Result, Stmt};
use super::{row, Owner, Tenant};
use crate::job::JobColumns;

#[derive(Debug, Deserialize)]
pub struct Pull {
    #[serde(flatten)]
    pub job: JobColumns,
    pub params: String,
    pub cursor: Option<String>,
    pub pages: f64,
    pub result: Option<String>,
}

const COLUMNS: &str =
    "id, params, status, reason, cursor, pages, result, created_at, finished_at, attempts";

/// A pull by id, for its own job (any organisation).
pub async fn find(db: &impl Db, id: &str) -> Result<Option<Pull>> {
    row(db, "integration_jobs", COLUMNS, id, Owner::Any).await
}

pub async fn owned(db: &impl Db, tenant: &Tenant, id: &str) -> Result<Option<Pull>> {
    row(db, "integration_jobs", COLUMNS, id, Owner::Tenant(tenant)).await
}

/// Where a running pull stands after a page: the cursor to resume at, pages read, totals.
pub async fn save_cursor(
    db: &impl Db,
    id: &str,
    cursor: Option<&str>,
    pages: u64,
    result: &str,
) -> Result<usize> {
    db.run(
        Stmt::new(
            "UPDATE integration_jobs SET cursor = ?2, pages = ?3, result = ?4 \
             WHERE id = ?1 AND status = 'running'",
        )
        .bind(id)
        .bind(cursor)
        .bind(pages as i64)
        .bind(result),
    )
    .await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::jobs::tests::enqueue;
    use crate::store::jobs::Spec;
    use crate::store::testdb::{a_live, a_test, b_live, block_on, two_orgs};

    #[test]
    fn a_pull_is_seen_by_its_tenant_and_saves_its_cursor_only_while_running() {
        let db = two_orgs();
        let spec = Spec::BlanccoPull {
            params: "{}".into(),
        };
        assert!(enqueue(&db, &a_live(), "p1", spec, 1));
        assert!(block_on(owned(&db, &a_test(), "p1")).unwrap().is_none());
        assert!(block_on(owned(&db, &b_live(), "p1")).unwrap().is_none());
        assert_eq!(
            block_on(save_cursor(&db, "p1", Some("c1"), 1, "{}")).unwrap(),
            0
        );
        db.exec("UPDATE integration_jobs SET status = 'running'");
        assert_eq!(
            block_on(save_cursor(&db, "p1", Some("c2"), 2, "{\"imported\":3}")).unwrap(),
            1
        );
        let p = block_on(owned(&db, &a_live(), "p1")).unwrap().unwrap();
        assert_eq!((p.cursor.as_deref(), p.pages), (Some("c2"), 2.0));
    }
}
