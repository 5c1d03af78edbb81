//! `integration_jobs`: Blancco cloud pulls (resumable at `cursor`, counters in `result`).

use serde::Deserialize;
use worker::Env;

use super::{row, Tenant};
use crate::jobs::lifecycle::JobColumns;

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

pub async fn find(env: &Env, id: &str) -> worker::Result<Option<Pull>> {
    row(env, "integration_jobs", COLUMNS, id, None).await
}

pub async fn owned(env: &Env, tenant: &Tenant, id: &str) -> worker::Result<Option<Pull>> {
    row(env, "integration_jobs", COLUMNS, id, Some(tenant)).await
}
