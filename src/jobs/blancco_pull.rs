//! The Blancco cloud pull job: page by page through `POST {api_url}/report/export` (the
//! organisation's own account, `store::credentials`) following `X-BLANCCO-CURSOR`, importing each
//! page's erased devices (`jobs::import`) and
//! saving the cursor and running totals after each page, so a retried or recovered job
//! resumes where it stopped. 429, 5xx and network errors are transient; 401/403 and other
//! answers are permanent.

use serde_json::{json, Value};
use worker::{Env, Headers, Method, Request, RequestInit};

use super::import::import;
use super::runner::{BackgroundJob, Claimed, Done, Outcome};
use crate::blancco::import::accumulate;
use crate::blancco::json_reports;
use crate::blancco::pull::{page_request, PullParams};
use crate::edge::credentials;
use crate::job::{JobError, Kind};
use crate::store::pulls;

/// Most pages one run reads (10 reports a page); a longer pull is finished by its retry.
const MAX_PAGES_PER_RUN: usize = 1000;

pub struct BlanccoPullJob;

impl BackgroundJob for BlanccoPullJob {
    const KIND: Kind = Kind::BlanccoPull;

    async fn run(env: &Env, job: &Claimed) -> Result<Done, JobError> {
        let row = pulls::find(env, &job.id)
            .await
            .map_err(|e| JobError::transient("reading the pull row", e))?
            .ok_or_else(|| JobError::Permanent("the pull row is gone".into()))?;
        // The parameters the handler validated: deserialised, not validated again.
        let params: PullParams = serde_json::from_str(&row.params).map_err(|e| {
            JobError::Permanent(format!("the stored pull parameters are unreadable: {e}"))
        })?;
        // The organisation's own account: its credentials, opened only here.
        let Some((base, key)) = credentials::open_for(env, &job.org_id, "blancco")
            .await
            .map_err(|e| {
                JobError::Permanent(format!("the Blancco credentials cannot be used: {e}"))
            })?
        else {
            return Err(JobError::Permanent(
                "the organisation's Blancco credentials were removed".into(),
            ));
        };
        let mut totals: Value = row
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or(json!({}));
        let mut cursor = row.cursor.clone();
        let mut pages = row.pages as u64;
        for _ in 0..MAX_PAGES_PER_RUN {
            match fetch_page(&base, &key, &params, cursor.as_deref()).await {
                Page::Empty => break, // 204: nothing (more) to pull
                Page::Failed(e) => return Err(e),
                Page::Reports(reports, next) => {
                    let out = import(env, &job.tenant(), "blancco_pull", &reports)
                        .await
                        .map_err(|e| JobError::transient("storing a page of devices", e))?;
                    accumulate(&mut totals, &out.json());
                    pages += 1;
                    cursor = next;
                    pulls::save_cursor(env, &job.id, cursor.as_deref(), pages, &totals.to_string())
                        .await
                        .map_err(|e| JobError::transient("saving the cursor", e))?;
                    if cursor.is_none() {
                        break;
                    }
                }
            }
        }
        Ok(Done {
            details: json!({ "source": "pull", "pages": pages, "imported": totals["imported"], "duplicates": totals["duplicates"] }),
            outcome: Outcome::BlanccoPull {
                pages,
                result: totals.to_string(),
            },
        })
    }
}

/// Outcome of one page request to Blancco.
enum Page {
    Reports(Vec<Value>, Option<String>),
    Empty,
    Failed(JobError),
}

async fn fetch_page(base: &str, key: &str, params: &PullParams, cursor: Option<&str>) -> Page {
    let body = page_request(params, cursor);
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json");
    let _ = headers.set("X-BLANCCO-API-KEY", key);
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.to_string().into()));
    let url = format!("{}/report/export", base.trim_end_matches('/'));
    let req = match Request::new_with_init(&url, &init) {
        Ok(r) => r,
        Err(e) => return Page::Failed(JobError::Permanent(format!("bad Blancco API URL: {e}"))),
    };
    let mut resp = match worker::Fetch::Request(req).send().await {
        Ok(r) => r,
        Err(e) => return Page::Failed(JobError::Transient(format!("Blancco unreachable: {e}"))),
    };
    match resp.status_code() {
        204 => Page::Empty,
        200 => {
            let next = resp
                .headers()
                .get("X-BLANCCO-CURSOR")
                .ok()
                .flatten()
                .filter(|c| !c.is_empty());
            match resp.json::<Value>().await {
                Ok(v) => Page::Reports(json_reports(&v), next),
                Err(e) => Page::Failed(JobError::Permanent(format!(
                    "Blancco sent an unreadable page: {e}"
                ))),
            }
        }
        401 | 403 => Page::Failed(JobError::Permanent(
            "Blancco rejected the API key (PUT /integrations/blancco to change it)".into(),
        )),
        429 => Page::Failed(JobError::Transient(
            "Blancco rate-limited the pull (429)".into(),
        )),
        s if s >= 500 => Page::Failed(JobError::Transient(format!("Blancco answered {s}"))),
        s => Page::Failed(JobError::Permanent(format!("Blancco answered {s}"))),
    }
}
