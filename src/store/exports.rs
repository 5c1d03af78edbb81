//! `exports`: GDPR export jobs (archive in R2 at `r2_key` until `expires_at`), and the pages
//! of an organisation's rows that an export archives.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::db::{Db, Result, Stmt};
use super::{row, Owner, Tenant};
use crate::job::JobColumns;

#[derive(Debug, Deserialize)]
pub struct Export {
    #[serde(flatten)]
    pub job: JobColumns,
    pub org_id: String,
    pub expires_at: String,
    pub r2_key: String,
    pub bytes: Option<f64>,
    pub manifest: Option<String>,
}

const COLUMNS: &str =
    "id, org_id, status, reason, created_at, finished_at, expires_at, r2_key, bytes, manifest, attempts";

/// An export by id, for its own job (any organisation).
pub async fn find(db: &impl Db, id: &str) -> Result<Option<Export>> {
    row(db, "exports", COLUMNS, id, Owner::Any).await
}

/// Whether export `id` is still `running` (a long build checks, so a deleted export stops).
pub async fn is_running(db: &impl Db, id: &str) -> Result<bool> {
    let n: Option<super::db::Count> = db
        .first(
            Stmt::new("SELECT COUNT(*) AS n FROM exports WHERE id = ?1 AND status = 'running'")
                .bind(id),
        )
        .await?;
    Ok(n.is_some_and(|c| c.n > 0.0))
}

pub async fn owned(db: &impl Db, tenant: &Tenant, id: &str) -> Result<Option<Export>> {
    row(db, "exports", COLUMNS, id, Owner::Tenant(tenant)).await
}

/// Mark an export deleted whatever it was doing (a runner still building it finds its
/// `done` refused and removes what it wrote). Returns whether it changed.
pub async fn mark_deleted(db: &impl Db, tenant: &Tenant, id: &str, now: &str) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new(
                "UPDATE exports SET status = 'deleted', lease_until = NULL, finished_at = COALESCE(finished_at, ?3) \
                 WHERE id = ?1 AND org_id = ?2 AND mode = ?4 AND status != 'deleted'",
            )
            .bind(id)
            .bind(tenant.org_id.as_str())
            .bind(now)
            .bind(tenant.mode()),
        )
        .await?
        > 0)
}

/// An archive past its expiry.
#[derive(Debug, Deserialize)]
pub struct Due {
    pub id: String,
    pub r2_key: String,
}

/// Archives past their expiry at `now` (at most `limit`), every organisation's (the cron).
pub async fn due_for_expiry(db: &impl Db, now: &str, limit: usize) -> Result<Vec<Due>> {
    db.all(
        Stmt::new(
            "SELECT id, r2_key FROM exports WHERE status = 'done' AND expires_at <= ?1 LIMIT ?2",
        )
        .bind(now)
        .bind(limit),
    )
    .await
}

pub async fn mark_expired(db: &impl Db, id: &str) -> Result<usize> {
    db.run(
        Stmt::new("UPDATE exports SET status = 'expired' WHERE id = ?1 AND status = 'done'")
            .bind(id),
    )
    .await
}

/// An archive being written: its multipart upload, the parts uploaded, and where it stands.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Progress {
    pub upload_id: String,
    pub parts: Vec<(u16, String)>,
    pub checkpoint: crate::export::Checkpoint,
}

pub async fn progress(db: &impl Db, id: &str) -> Result<Option<Progress>> {
    #[derive(Deserialize)]
    struct P {
        progress: Option<String>,
    }
    let p: Option<P> = db
        .first(Stmt::new("SELECT progress FROM exports WHERE id = ?1").bind(id))
        .await?;
    Ok(p.and_then(|p| p.progress)
        .and_then(|p| serde_json::from_str(&p).ok()))
}

/// Record where a running export stands (only while it is still running).
pub async fn save_progress(db: &impl Db, id: &str, p: &Progress) -> Result<usize> {
    let json = serde_json::to_string(p).map_err(|e| super::Error(format!("progress: {e}")))?;
    db.run(
        Stmt::new("UPDATE exports SET progress = ?2 WHERE id = ?1 AND status = 'running'")
            .bind(id)
            .bind(json),
    )
    .await
}

/// A table of the archive: which columns (never key hashes), and which rows are the
/// organisation's (`owner`, a predicate on `?1`, the organisation's id).
pub struct Source {
    pub table: &'static str,
    columns: &'static str,
    owner: &'static str,
    pub note: Option<&'static str>,
}

impl Source {
    /// Sources with no stored rows (only a note in the archive).
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

/// What a GDPR export archives, in order: every table holding the organisation's data.
pub const SOURCES: [Source; 13] = [
    Source { table: "api_keys", columns: "id, org_id, name, prefix, plan, mode, role, created_at, revoked_at, expires_at, last_used_at", owner: "org_id = ?1", note: Some("key metadata only: the keys' hashes are not exported") },
    Source { table: "usage_daily", columns: "subject, org_id, day, requests", owner: "org_id = ?1", note: None },
    Source { table: "calculations", columns: "", owner: "", note: Some("single footprint calculations are not stored; certificates, reports and assets hold what was kept") },
    Source { table: "certificates", columns: "id, org_id, key_id, kind, mode, issued_at, canonical, content_hash, signature, signing_key_id, factor_set_version, total_kg_co2e, pdf_key, pdf_hash, pdf_bytes, revoked_at", owner: "org_id = ?1", note: None },
    Source { table: "reports", columns: "id, org_id, key_id, mode, type, title, period, source, status, reason, created_at, started_at, finished_at, pdf_key, pdf_bytes, summary", owner: "org_id = ?1", note: None },
    Source { table: "assets", columns: "*", owner: "org_id = ?1", note: None },
    Source { table: "integration_jobs", columns: "id, org_id, key_id, mode, kind, params, status, reason, cursor, pages, result, created_at, finished_at", owner: "org_id = ?1", note: None },
    Source { table: "exports", columns: "id, org_id, key_id, mode, status, reason, created_at, finished_at, expires_at, r2_key, bytes", owner: "org_id = ?1", note: None },
    Source { table: "idempotency", columns: "scope, idem_key, method_path, body_hash, status, response, created_at", owner: "scope IN (?1 || ':live', ?1 || ':test')", note: None },
    Source { table: "inventory_assets", columns: "*", owner: "org_id = ?1", note: None },
    Source { table: "inventory_settings", columns: "*", owner: "org_id = ?1", note: None },
    Source { table: "inventory_imports", columns: "id, org_id, key_id, mode, status, reason, format, dry_run, rows, progress, created_at, finished_at", owner: "org_id = ?1", note: Some("the imports' results; the staged files are removed when each import ends") },
    Source { table: "audit_log", columns: "*", owner: "org_id IN (?1, ?1 || ':test')", note: Some("the live chain and the test chain (`<org_id>:test`)") },
];

/// Rows read per query when archiving (keyset paging on rowid).
pub const PAGE: usize = 1000;

/// The organisation's rows of `source` after `after_rowid`, at most [`PAGE`], each with its
/// `rowid` (to ask for the next page) and its columns.
pub async fn source_page(
    db: &impl Db,
    source: &Source,
    org_id: &str,
    after_rowid: i64,
) -> Result<Vec<(i64, Map<String, Value>)>> {
    if source.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Map<String, Value>> = db
        .all(
            Stmt::new(format!(
                "SELECT rowid AS _rowid, {} FROM {} WHERE {} AND rowid > ?2 ORDER BY rowid LIMIT {PAGE}",
                source.columns, source.table, source.owner
            ))
            .bind(org_id)
            .bind(after_rowid),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|mut r| {
            let id = r.remove("_rowid").and_then(|v| v.as_f64()).unwrap_or(0.0) as i64;
            (id, r)
        })
        .collect())
}

/// A certificate PDF to archive.
#[derive(Debug, Deserialize)]
pub struct Pdf {
    pub id: String,
    pub pdf_key: String,
    pub rowid: i64,
}

/// The organisation's certificate PDFs after `after_rowid`, at most [`PAGE`].
pub async fn pdf_page(db: &impl Db, org_id: &str, after_rowid: i64) -> Result<Vec<Pdf>> {
    db.all(
        Stmt::new(format!(
            "SELECT id, pdf_key, rowid FROM certificates WHERE org_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT {PAGE}"
        ))
        .bind(org_id)
        .bind(after_rowid),
    )
    .await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::jobs::tests::enqueue as enqueue_job;
    use crate::store::jobs::Spec;
    use crate::store::testdb::{a_live, a_test, b_live, block_on, two_orgs, Sqlite};

    const T0: &str = "2026-01-01T00:00:00.000Z";

    fn enqueue(db: &Sqlite, t: &Tenant, id: &str, expires_at: &str) {
        let spec = Spec::Export {
            expires_at: expires_at.into(),
            r2_key: format!("exports/{id}.zip"),
        };
        assert!(enqueue_job(db, t, id, spec, 10));
    }

    #[test]
    fn an_export_is_seen_and_deleted_only_by_its_tenant() {
        let db = two_orgs();
        enqueue(&db, &a_live(), "e1", "2026-02-01T00:00:00.000Z");
        assert!(block_on(owned(&db, &a_live(), "e1")).unwrap().is_some());
        assert!(block_on(owned(&db, &a_test(), "e1")).unwrap().is_none());
        assert!(block_on(owned(&db, &b_live(), "e1")).unwrap().is_none());
        assert_eq!(block_on(find(&db, "e1")).unwrap().unwrap().org_id, "org_a");
        assert!(!block_on(mark_deleted(&db, &b_live(), "e1", T0)).unwrap());
        assert!(!block_on(mark_deleted(&db, &a_test(), "e1", T0)).unwrap());
        assert!(block_on(mark_deleted(&db, &a_live(), "e1", T0)).unwrap());
        assert!(
            !block_on(mark_deleted(&db, &a_live(), "e1", T0)).unwrap(),
            "once"
        );
        assert_eq!(
            block_on(find(&db, "e1")).unwrap().unwrap().job.status,
            "deleted"
        );
    }

    #[test]
    fn expiry_takes_done_archives_past_their_date() {
        let db = two_orgs();
        enqueue(&db, &a_live(), "e1", "2026-01-02T00:00:00.000Z");
        enqueue(&db, &b_live(), "e2", "2026-03-01T00:00:00.000Z");
        db.exec("UPDATE exports SET status = 'done'");
        let due = block_on(due_for_expiry(&db, "2026-02-01T00:00:00.000Z", 10)).unwrap();
        assert_eq!(
            due.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
            ["e1"]
        );
        assert_eq!(block_on(mark_expired(&db, "e1")).unwrap(), 1);
        assert_eq!(block_on(mark_expired(&db, "e1")).unwrap(), 0);
    }

    #[test]
    fn progress_is_saved_only_while_running() {
        let db = two_orgs();
        enqueue(&db, &a_live(), "e1", T0);
        let p = Progress {
            upload_id: "u1".into(),
            parts: vec![(1, "etag".into())],
            checkpoint: Default::default(),
        };
        assert_eq!(block_on(save_progress(&db, "e1", &p)).unwrap(), 0, "queued");
        assert!(!block_on(is_running(&db, "e1")).unwrap());
        db.exec("UPDATE exports SET status = 'running'");
        assert!(block_on(is_running(&db, "e1")).unwrap());
        assert_eq!(block_on(save_progress(&db, "e1", &p)).unwrap(), 1);
        assert_eq!(block_on(progress(&db, "e1")).unwrap(), Some(p));
        db.exec("UPDATE exports SET status = 'deleted'");
        assert!(
            !block_on(is_running(&db, "e1")).unwrap(),
            "a deleted export stops"
        );
    }

    #[test]
    fn an_archive_holds_only_the_organisations_rows_page_by_page() {
        let db = two_orgs();
        for (i, org) in ["org_a", "org_b", "org_a"].iter().enumerate() {
            db.exec(&format!(
                "INSERT INTO usage_daily (subject, org_id, day, requests) VALUES ('k{i}', '{org}', '2026-01-01', {i})"
            ));
        }
        db.exec("INSERT INTO idempotency (scope, idem_key, method_path, body_hash, created_at) VALUES \
                 ('org_a:test', 'k', 'POST /x', 'h', 'now'), ('org_b:live', 'k', 'POST /x', 'h', 'now')");
        let usage = SOURCES.iter().find(|s| s.table == "usage_daily").unwrap();
        let rows = block_on(source_page(&db, usage, "org_a", 0)).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|(_, r)| r["org_id"] == "org_a"));
        let after = rows[0].0;
        assert_eq!(
            block_on(source_page(&db, usage, "org_a", after))
                .unwrap()
                .len(),
            1
        );
        let idem = SOURCES.iter().find(|s| s.table == "idempotency").unwrap();
        let rows = block_on(source_page(&db, idem, "org_a", 0)).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].1["scope"], "org_a:test");
        // Every source's columns exist (the statement runs), and no key hash is exported.
        for s in &SOURCES {
            block_on(source_page(&db, s, "org_a", 0)).unwrap();
            assert!(!s.columns.contains("key_hash"));
        }
        assert!(block_on(pdf_page(&db, "org_a", 0)).unwrap().is_empty());
    }
}
