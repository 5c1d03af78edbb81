//! The lifecycle columns of every job table (`reports`, `exports`, `integration_jobs`), one
//! typed API for all three kinds (see `crate::job` for the state machine). Each statement
//! names the state it expects, so two runners, a delete and the sweep can never overwrite
//! each other; the open-job cap is part of the insert itself, so no burst of requests gets
//! past it. Table names come from [`Kind::table`] only.

use serde::Deserialize;

use super::db::{Count, Db, Param, Result, Stmt};
use super::Tenant;
use crate::job::Kind;

/// What is particular to each kind's new row.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    Report {
        report_type: String,
        title: String,
        period: Option<String>,
        source: String,
        /// Where the typed request waits in R2.
        request_key: String,
    },
    Export {
        expires_at: String,
        r2_key: String,
    },
    BlanccoPull {
        /// The pull's parameters, validated and serialised (`blancco::pull::PullParams`).
        params: String,
    },
    AssetImport {
        format: String,
        dry_run: bool,
        rows: usize,
        /// Where the staged rows wait in R2 (one JSON body per line).
        r2_key: String,
        /// The chunks' byte offsets in that object, as a JSON array.
        bounds: String,
    },
}

impl Spec {
    pub fn kind(&self) -> Kind {
        match self {
            Spec::Report { .. } => Kind::Report,
            Spec::Export { .. } => Kind::Export,
            Spec::BlanccoPull { .. } => Kind::BlanccoPull,
            Spec::AssetImport { .. } => Kind::AssetImport,
        }
    }

    fn columns(&self) -> (&'static str, Vec<Param>) {
        match self {
            Spec::Report {
                report_type,
                title,
                period,
                source,
                request_key,
            } => (
                "type, title, period, source, request_key",
                vec![
                    report_type.into(),
                    title.into(),
                    period.clone().into(),
                    source.into(),
                    request_key.into(),
                ],
            ),
            Spec::Export { expires_at, r2_key } => {
                ("expires_at, r2_key", vec![expires_at.into(), r2_key.into()])
            }
            Spec::BlanccoPull { params } => {
                ("kind, params", vec!["blancco_pull".into(), params.into()])
            }
            Spec::AssetImport {
                format,
                dry_run,
                rows,
                r2_key,
                bounds,
            } => (
                "format, dry_run, rows, r2_key, bounds",
                vec![
                    format.into(),
                    Param::Int(*dry_run as i64),
                    (*rows).into(),
                    r2_key.into(),
                    bounds.into(),
                ],
            ),
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub id: &'a str,
    pub tenant: &'a Tenant,
    /// The key that asked for it (empty for a session or the system).
    pub key_id: &'a str,
    pub created_at: &'a str,
    /// When its message should have arrived by (`crate::job::QUEUED_DEADLINE_SECONDS`).
    pub lease_until: &'a str,
    /// The tenant's plan's cap on open jobs of this kind.
    pub max_open: usize,
    pub spec: Spec,
}

/// Insert the job's `queued` row if the tenant has fewer than `max_open` jobs of its kind
/// queued or running: one statement, so concurrent requests cannot both pass the cap.
/// `false` when the cap is reached (nothing written).
pub async fn insert(db: &impl Db, j: &NewJob<'_>) -> Result<bool> {
    let kind = j.spec.kind();
    let (columns, values) = j.spec.columns();
    let first_extra = 7;
    let placeholders: Vec<String> = (0..values.len())
        .map(|i| format!("?{}", first_extra + i))
        .collect();
    let cap = first_extra + values.len();
    let table = kind.table();
    let mut s = Stmt::new(format!(
        "INSERT INTO {table} (id, org_id, key_id, status, created_at, lease_until, mode, {columns}) \
         SELECT ?1, ?2, ?3, 'queued', ?4, ?5, ?6, {} \
         WHERE (SELECT COUNT(*) FROM {table} WHERE org_id = ?2 AND mode = ?6 \
                AND status IN ('queued', 'running')) < ?{cap}",
        placeholders.join(", ")
    ))
    .bind(j.id)
    .bind(j.tenant.org_id.as_str())
    .bind(j.key_id)
    .bind(j.created_at)
    .bind(j.lease_until)
    .bind(j.tenant.mode());
    s.params.extend(values);
    Ok(db.run(s.bind(j.max_open)).await? > 0)
}

/// How many jobs of `kind` the tenant has queued or running.
pub async fn open_count(db: &impl Db, tenant: &Tenant, kind: Kind) -> Result<usize> {
    let n: Option<Count> = db
        .first(
            Stmt::new(format!(
                "SELECT COUNT(*) AS n FROM {} WHERE org_id = ?1 AND mode = ?2 AND status IN ('queued', 'running')",
                kind.table()
            ))
            .bind(tenant.org_id.as_str())
            .bind(tenant.mode()),
        )
        .await?;
    Ok(Count::of(n))
}

/// Remove a job whose message could not be sent (it never ran).
pub async fn delete_unsent(db: &impl Db, kind: Kind, id: &str) -> Result<usize> {
    db.run(
        Stmt::new(format!(
            "DELETE FROM {} WHERE id = ?1 AND status = 'queued' AND attempts = 0",
            kind.table()
        ))
        .bind(id),
    )
    .await
}

/// A job row a runner holds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Claimed {
    pub id: String,
    pub org_id: String,
    pub mode: String,
    pub attempts: u32,
}

impl Claimed {
    /// Whose job it is. The table's CHECK allows only `live` and `test`; anything else would
    /// be read as test, which never touches live data.
    pub fn tenant(&self) -> Tenant {
        Tenant::new(
            &self.org_id,
            crate::keys::Mode::parse(&self.mode).unwrap_or(crate::keys::Mode::Test),
        )
    }
}

/// Claim job `id`: `queued`, or `running` past its lease, becomes `running` with one more
/// attempt and a lease until `lease_until`. `None`: missing, terminal, or held by a live runner.
pub async fn claim(
    db: &impl Db,
    kind: Kind,
    id: &str,
    now: &str,
    lease_until: &str,
) -> Result<Option<Claimed>> {
    db.first(
        Stmt::new(format!(
            "UPDATE {} SET status = 'running', attempts = attempts + 1, \
             started_at = COALESCE(started_at, ?2), lease_until = ?3 \
             WHERE id = ?1 AND (status = 'queued' OR (status = 'running' AND lease_until < ?2)) \
             RETURNING id, org_id, mode, attempts",
            kind.table()
        ))
        .bind(id)
        .bind(now)
        .bind(lease_until),
    )
    .await
}

/// What a finished job stores in its row, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Report {
        pdf_key: String,
        pdf_bytes: usize,
        summary: String,
    },
    Export {
        bytes: usize,
        manifest: String,
    },
    BlanccoPull {
        pages: u64,
        result: String,
    },
    AssetImport {
        result: String,
    },
}

impl Outcome {
    pub fn kind(&self) -> Kind {
        match self {
            Outcome::Report { .. } => Kind::Report,
            Outcome::Export { .. } => Kind::Export,
            Outcome::BlanccoPull { .. } => Kind::BlanccoPull,
            Outcome::AssetImport { .. } => Kind::AssetImport,
        }
    }

    fn assignments(&self) -> (&'static str, Vec<Param>) {
        match self {
            Outcome::Report {
                pdf_key,
                pdf_bytes,
                summary,
            } => (
                "pdf_key = ?3, pdf_bytes = ?4, summary = ?5",
                vec![pdf_key.into(), (*pdf_bytes).into(), summary.into()],
            ),
            Outcome::Export { bytes, manifest } => (
                "bytes = ?3, manifest = ?4, progress = NULL",
                vec![(*bytes).into(), manifest.into()],
            ),
            Outcome::BlanccoPull { pages, result } => (
                "cursor = NULL, pages = ?3, result = ?4",
                vec![Param::Int(*pages as i64), result.into()],
            ),
            Outcome::AssetImport { result } => ("progress = ?3", vec![result.into()]),
        }
    }
}

/// `running` → `done` with the outcome's columns. `false`: the row left `running` meanwhile
/// (deleted, or taken over by the sweep), and the caller discards what it made.
pub async fn settle_done(db: &impl Db, id: &str, now: &str, outcome: &Outcome) -> Result<bool> {
    let (set, values) = outcome.assignments();
    let mut s = Stmt::new(format!(
        "UPDATE {} SET status = 'done', reason = NULL, finished_at = ?2, lease_until = NULL, {set} \
         WHERE id = ?1 AND status = 'running'",
        outcome.kind().table()
    ))
    .bind(id)
    .bind(now);
    s.params.extend(values);
    Ok(db.run(s).await? > 0)
}

/// `running` → `failed` with `reason`; `false` when it was no longer running.
pub async fn settle_failed(
    db: &impl Db,
    kind: Kind,
    id: &str,
    reason: &str,
    now: &str,
) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new(format!(
                "UPDATE {} SET status = 'failed', reason = ?2, finished_at = ?3, lease_until = NULL \
                 WHERE id = ?1 AND status = 'running'",
                kind.table()
            ))
            .bind(id)
            .bind(reason)
            .bind(now),
        )
        .await?
        > 0)
}

/// `running` → `queued` after a transient failure, due again by `lease_until`; `false` when
/// it was no longer running (deleted meanwhile).
pub async fn back_off(
    db: &impl Db,
    kind: Kind,
    id: &str,
    reason: &str,
    lease_until: &str,
) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new(format!(
                "UPDATE {} SET status = 'queued', reason = ?2, lease_until = ?3 \
                 WHERE id = ?1 AND status = 'running'",
                kind.table()
            ))
            .bind(id)
            .bind(format!("retrying: {reason}"))
            .bind(lease_until),
        )
        .await?
        > 0)
}

/// A job that has not settled: what the dead-letter consumer and the sweep decide on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Pending {
    pub id: String,
    pub org_id: String,
    pub mode: String,
    pub attempts: u32,
    pub reason: Option<String>,
}

/// Job `id` if it is still `queued` or `running`.
pub async fn pending(db: &impl Db, kind: Kind, id: &str) -> Result<Option<Pending>> {
    db.first(
        Stmt::new(format!(
            "SELECT id, org_id, mode, attempts, reason FROM {} WHERE id = ?1 AND status IN ('queued', 'running')",
            kind.table()
        ))
        .bind(id),
    )
    .await
}

/// Jobs of `kind` whose deadline passed while `queued` or `running` (at most `limit`).
pub async fn overdue(db: &impl Db, kind: Kind, now: &str, limit: usize) -> Result<Vec<Pending>> {
    db.all(
        Stmt::new(format!(
            "SELECT id, org_id, mode, attempts, reason FROM {} WHERE status IN ('queued', 'running') \
             AND (lease_until IS NULL OR lease_until < ?1) LIMIT ?2",
            kind.table()
        ))
        .bind(now)
        .bind(limit),
    )
    .await
}

/// `queued`/`running` → `failed` (retries exhausted); `false` when it had settled meanwhile.
pub async fn give_up(db: &impl Db, kind: Kind, id: &str, reason: &str, now: &str) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new(format!(
                "UPDATE {} SET status = 'failed', reason = ?2, finished_at = ?3, lease_until = NULL \
                 WHERE id = ?1 AND status IN ('queued', 'running')",
                kind.table()
            ))
            .bind(id)
            .bind(reason)
            .bind(now),
        )
        .await?
        > 0)
}

/// An overdue job back to `queued`, due by `lease_until` (the sweep re-sends its message);
/// `false` when it moved on meanwhile.
pub async fn requeue_overdue(
    db: &impl Db,
    kind: Kind,
    id: &str,
    now: &str,
    lease_until: &str,
) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new(format!(
                "UPDATE {} SET status = 'queued', lease_until = ?3, \
                 reason = COALESCE(reason, 'recovered by the sweep') \
                 WHERE id = ?1 AND status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < ?2)",
                kind.table()
            ))
            .bind(id)
            .bind(now)
            .bind(lease_until),
        )
        .await?
        > 0)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod tests {
    use super::*;
    use crate::store::testdb::{a_live, a_test, b_live, block_on, two_orgs, Sqlite};

    /// Enqueue job `id` for `t` (created 2026-01-01, due an hour later) within `cap`:
    /// whether it was inserted.
    pub(crate) fn enqueue(db: &Sqlite, t: &Tenant, id: &str, spec: Spec, cap: usize) -> bool {
        block_on(insert(
            db,
            &NewJob {
                id,
                tenant: t,
                key_id: "key_1",
                created_at: "2026-01-01T00:00:00.000Z",
                lease_until: "2026-01-01T01:00:00.000Z",
                max_open: cap,
                spec,
            },
        ))
        .expect("insert")
    }

    const T0: &str = "2026-01-01T00:00:00.000Z";
    const T1: &str = "2026-01-01T01:00:00.000Z";
    const T2: &str = "2026-01-01T02:00:00.000Z";

    fn export(id: &str) -> Spec {
        Spec::Export {
            expires_at: T2.into(),
            r2_key: format!("exports/{id}.zip"),
        }
    }

    fn status(db: &Sqlite, kind: Kind, id: &str) -> String {
        #[derive(Deserialize)]
        struct S {
            status: String,
        }
        let s: Option<S> = block_on(db.first(
            Stmt::new(format!("SELECT status FROM {} WHERE id = ?1", kind.table())).bind(id),
        ))
        .unwrap();
        s.map(|s| s.status).unwrap_or_else(|| "missing".into())
    }

    #[test]
    fn the_cap_is_part_of_the_insert_per_tenant_and_mode() {
        let db = two_orgs();
        let (a, at, b) = (a_live(), a_test(), b_live());
        assert!(enqueue(&db, &a, "e1", export("e1"), 2));
        assert!(enqueue(&db, &a, "e2", export("e2"), 2));
        assert!(!enqueue(&db, &a, "e3", export("e3"), 2), "third of cap 2");
        assert_eq!(status(&db, Kind::Export, "e3"), "missing");
        // Other modes and organisations have their own count.
        assert!(enqueue(&db, &at, "e4", export("e4"), 2));
        assert!(enqueue(&db, &b, "e5", export("e5"), 2));
        assert_eq!(block_on(open_count(&db, &a, Kind::Export)).unwrap(), 2);
        assert_eq!(block_on(open_count(&db, &at, Kind::Export)).unwrap(), 1);
        // Other kinds too.
        let pull = Spec::BlanccoPull {
            params: "{}".into(),
        };
        assert!(enqueue(&db, &a, "p1", pull, 1));
        // A settled job frees its place.
        assert!(block_on(give_up(&db, Kind::Export, "e1", "x", T1)).unwrap());
        assert!(enqueue(&db, &a, "e6", export("e6"), 2));
    }

    #[test]
    fn every_kind_inserts_its_own_columns() {
        let db = two_orgs();
        let a = a_live();
        let report = Spec::Report {
            report_type: "sustainability".into(),
            title: "Fleet".into(),
            period: None,
            source: "devices".into(),
            request_key: "reports/r1.json".into(),
        };
        assert!(enqueue(&db, &a, "r1", report, 2));
        assert!(enqueue(&db, &a, "x1", export("x1"), 2));
        assert!(enqueue(
            &db,
            &a,
            "p1",
            Spec::BlanccoPull {
                params: "{\"since\":\"2026-01-01\"}".into()
            },
            2
        ));
        for (kind, id) in [
            (Kind::Report, "r1"),
            (Kind::Export, "x1"),
            (Kind::BlanccoPull, "p1"),
        ] {
            assert_eq!(status(&db, kind, id), "queued");
        }
    }

    #[test]
    fn claim_settle_and_the_states_each_statement_expects() {
        let db = two_orgs();
        let a = a_live();
        assert!(enqueue(&db, &a, "e1", export("e1"), 5));
        let c = block_on(claim(&db, Kind::Export, "e1", T0, T1))
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.org_id.as_str(), c.mode.as_str(), c.attempts),
            ("org_a", "live", 1)
        );
        // Held by a live runner: a duplicate message claims nothing.
        assert!(block_on(claim(&db, Kind::Export, "e1", T0, T1))
            .unwrap()
            .is_none());
        // Past its lease it can be taken over.
        let c2 = block_on(claim(
            &db,
            Kind::Export,
            "e1",
            T2,
            "2026-01-01T03:00:00.000Z",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(c2.attempts, 2);
        let out = Outcome::Export {
            bytes: 10,
            manifest: "{}".into(),
        };
        assert!(block_on(settle_done(&db, "e1", T2, &out)).unwrap());
        assert_eq!(status(&db, Kind::Export, "e1"), "done");
        // Done is terminal for every settling statement.
        assert!(!block_on(settle_done(&db, "e1", T2, &out)).unwrap());
        assert!(!block_on(settle_failed(&db, Kind::Export, "e1", "x", T2)).unwrap());
        assert!(!block_on(back_off(&db, Kind::Export, "e1", "x", T2)).unwrap());
        assert!(!block_on(give_up(&db, Kind::Export, "e1", "x", T2)).unwrap());
        assert!(block_on(pending(&db, Kind::Export, "e1"))
            .unwrap()
            .is_none());
        assert!(block_on(claim(&db, Kind::Export, "e1", T2, T2))
            .unwrap()
            .is_none());
    }

    #[test]
    fn back_off_requeues_and_the_sweep_finds_what_is_overdue() {
        let db = two_orgs();
        let a = a_live();
        assert!(enqueue(&db, &a, "r1", export("r1"), 5));
        block_on(claim(&db, Kind::Export, "r1", T0, T1))
            .unwrap()
            .unwrap();
        assert!(block_on(back_off(&db, Kind::Export, "r1", "R2 hiccup", T1)).unwrap());
        let p = block_on(pending(&db, Kind::Export, "r1")).unwrap().unwrap();
        assert_eq!(p.reason.as_deref(), Some("retrying: R2 hiccup"));
        assert!(block_on(overdue(&db, Kind::Export, T0, 10))
            .unwrap()
            .is_empty());
        let due = block_on(overdue(&db, Kind::Export, T2, 10)).unwrap();
        assert_eq!(due.len(), 1);
        assert!(block_on(requeue_overdue(
            &db,
            Kind::Export,
            "r1",
            T2,
            "2026-01-01T05:00:00.000Z"
        ))
        .unwrap());
        // Not overdue any more: a second sweep leaves it.
        assert!(!block_on(requeue_overdue(&db, Kind::Export, "r1", T2, T2)).unwrap());
        assert!(block_on(give_up(&db, Kind::Export, "r1", "gave up", T2)).unwrap());
        assert_eq!(status(&db, Kind::Export, "r1"), "failed");
    }

    #[test]
    fn an_unsent_job_is_removed_but_a_started_one_is_not() {
        let db = two_orgs();
        let a = a_live();
        assert!(enqueue(&db, &a, "e1", export("e1"), 5));
        assert!(enqueue(&db, &a, "e2", export("e2"), 5));
        block_on(claim(&db, Kind::Export, "e2", T0, T1)).unwrap();
        assert_eq!(block_on(delete_unsent(&db, Kind::Export, "e1")).unwrap(), 1);
        assert_eq!(block_on(delete_unsent(&db, Kind::Export, "e2")).unwrap(), 0);
    }
}
