//! `reports`: fleet report jobs (request in R2 at `request_key`, PDF at `pdf_key`).

use serde::Deserialize;
use worker::Env;

use super::{row, Tenant};
use crate::jobs::lifecycle::JobColumns;

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

pub async fn find(env: &Env, id: &str) -> worker::Result<Option<Report>> {
    row(env, "reports", COLUMNS, id, None).await
}

pub async fn owned(env: &Env, tenant: &Tenant, id: &str) -> worker::Result<Option<Report>> {
    row(env, "reports", COLUMNS, id, Some(tenant)).await
}
