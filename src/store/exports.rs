//! `exports`: GDPR export jobs (archive in R2 at `r2_key` until `expires_at`).

use serde::Deserialize;
use worker::Env;

use super::{execute, first, row, Tenant};
use crate::edge::clock::now_iso;
use crate::jobs::lifecycle::JobColumns;

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

pub async fn find(env: &Env, id: &str) -> worker::Result<Option<Export>> {
    row(env, "exports", COLUMNS, id, None).await
}

pub async fn owned(env: &Env, tenant: &Tenant, id: &str) -> worker::Result<Option<Export>> {
    row(env, "exports", COLUMNS, id, Some(tenant)).await
}

/// Mark an export deleted whatever it was doing (a runner still building it finds its
/// `done` refused and removes what it wrote). Returns whether it changed.
pub async fn mark_deleted(env: &Env, tenant: &Tenant, id: &str) -> worker::Result<bool> {
    Ok(execute(
        env,
        "UPDATE exports SET status = 'deleted', lease_until = NULL, finished_at = COALESCE(finished_at, ?3) \
         WHERE id = ?1 AND org_id = ?2 AND mode = ?4 AND status != 'deleted'",
        &[id.into(), tenant.org_id.as_str().into(), now_iso().into(), tenant.mode().into()],
    )
    .await?
        > 0)
}

/// Archives past their expiry (at most `limit`).
#[derive(Deserialize)]
pub struct Due {
    pub id: String,
    pub r2_key: String,
}

pub async fn due_for_expiry(env: &Env, limit: usize) -> worker::Result<Vec<Due>> {
    crate::edge::bindings::db(env)?
        .prepare(format!(
            "SELECT id, r2_key FROM exports WHERE status = 'done' AND expires_at <= ?1 LIMIT {limit}"
        ))
        .bind(&[now_iso().into()])?
        .all()
        .await?
        .results()
}

pub async fn mark_expired(env: &Env, id: &str) -> worker::Result<usize> {
    execute(
        env,
        "UPDATE exports SET status = 'expired' WHERE id = ?1 AND status = 'done'",
        &[id.into()],
    )
    .await
}

/// An archive being written: its multipart upload, the parts uploaded, and where it stands.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct Progress {
    pub upload_id: String,
    pub parts: Vec<(u16, String)>,
    pub checkpoint: crate::export::Checkpoint,
}

pub async fn progress(env: &Env, id: &str) -> worker::Result<Option<Progress>> {
    #[derive(Deserialize)]
    struct P {
        progress: Option<String>,
    }
    let p: Option<P> = first(
        env,
        "SELECT progress FROM exports WHERE id = ?1",
        &[id.into()],
    )
    .await?;
    Ok(p.and_then(|p| p.progress)
        .and_then(|p| serde_json::from_str(&p).ok()))
}

/// Record where a running export stands (only while it is still running).
pub async fn save_progress(env: &Env, id: &str, p: &Progress) -> worker::Result<usize> {
    execute(
        env,
        "UPDATE exports SET progress = ?2 WHERE id = ?1 AND status = 'running'",
        &[id.into(), serde_json::to_string(p)?.into()],
    )
    .await
}
