//! `integration_jobs`: Blancco cloud pulls (resumable at `cursor`, counters in `result`).

use serde::Deserialize;
use worker::Env;

use super::first;

#[derive(Debug, Deserialize)]
pub struct Pull {
    pub id: String,
    pub params: String,
    pub status: String,
    pub reason: Option<String>,
    pub cursor: Option<String>,
    pub pages: f64,
    pub result: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub attempts: f64,
}

const COLUMNS: &str =
    "id, params, status, reason, cursor, pages, result, created_at, finished_at, attempts";

pub async fn find(env: &Env, id: &str) -> worker::Result<Option<Pull>> {
    first(
        env,
        &format!("SELECT {COLUMNS} FROM integration_jobs WHERE id = ?1"),
        &[id.into()],
    )
    .await
}

pub async fn owned(env: &Env, org_id: &str, id: &str) -> worker::Result<Option<Pull>> {
    first(
        env,
        &format!("SELECT {COLUMNS} FROM integration_jobs WHERE id = ?1 AND org_id = ?2"),
        &[id.into(), org_id.into()],
    )
    .await
}
