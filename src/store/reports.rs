//! `reports`: fleet report jobs (request in R2 at `request_key`, PDF at `pdf_key`).

use serde::Deserialize;

use super::db::{Db, Result};
use super::{newest_first, row, After, Owner, Tenant};
use crate::job::JobColumns;

#[derive(Debug, Deserialize)]
pub struct Report {
    #[serde(flatten)]
    pub job: JobColumns,
    pub org_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub period: Option<String>,
    pub source: String,
    pub started_at: Option<String>,
    pub request_key: String,
    pub pdf_key: Option<String>,
    pub pdf_bytes: Option<f64>,
    pub summary: Option<String>,
}

const COLUMNS: &str = "id, org_id, type, title, period, source, status, reason, created_at, \
started_at, finished_at, request_key, pdf_key, pdf_bytes, summary, attempts";

/// A report by id, for its own job (any organisation).
pub async fn find(db: &impl Db, id: &str) -> Result<Option<Report>> {
    row(db, "reports", COLUMNS, id, Owner::Any).await
}

/// The tenant's reports, newest first, `limit` after `after`.
pub async fn list(
    db: &impl Db,
    tenant: &Tenant,
    after: Option<&After>,
    limit: usize,
) -> Result<Vec<Report>> {
    newest_first(db, "reports", COLUMNS, "created_at", tenant, after, limit).await
}

pub async fn owned(db: &impl Db, tenant: &Tenant, id: &str) -> Result<Option<Report>> {
    row(db, "reports", COLUMNS, id, Owner::Tenant(tenant)).await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::jobs::tests::enqueue;
    use crate::store::jobs::Spec;
    use crate::store::testdb::{a_live, a_test, b_live, block_on, two_orgs};

    #[test]
    fn a_report_is_seen_only_by_its_tenant() {
        let db = two_orgs();
        let spec = Spec::Report {
            report_type: "hotspot".into(),
            title: "Q1".into(),
            period: Some("2026-Q1".into()),
            source: "devices".into(),
            request_key: "reports/org_a/r1/request.json".into(),
        };
        assert!(enqueue(&db, &a_live(), "r1", spec, 1));
        let r = block_on(owned(&db, &a_live(), "r1")).unwrap().unwrap();
        assert_eq!(
            (r.kind.as_str(), r.period.as_deref(), r.job.status.as_str()),
            ("hotspot", Some("2026-Q1"), "queued")
        );
        assert!(block_on(owned(&db, &a_test(), "r1")).unwrap().is_none());
        assert!(block_on(owned(&db, &b_live(), "r1")).unwrap().is_none());
        assert!(block_on(find(&db, "r1")).unwrap().is_some());
        // Listed newest first, within the tenant.
        let spec2 = Spec::Report {
            report_type: "sustainability".into(),
            title: "Q2".into(),
            period: None,
            source: "devices".into(),
            request_key: "reports/org_a/r2/request.json".into(),
        };
        assert!(enqueue(&db, &a_live(), "r2", spec2, 2));
        let listed = block_on(list(&db, &a_live(), None, 10)).unwrap();
        let mut ids: Vec<&str> = listed.iter().map(|r| r.job.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["r1", "r2"]);
        assert!(block_on(list(&db, &a_test(), None, 10)).unwrap().is_empty());
        assert!(block_on(list(&db, &b_live(), None, 10)).unwrap().is_empty());
        assert_eq!(block_on(list(&db, &a_live(), None, 1)).unwrap().len(), 1);
    }
}
