//! The Blancco cloud pull job: page by page through `POST {api_url}/report/export` (the
//! organisation's own account, `store::credentials`) following `X-BLANCCO-CURSOR`, importing each
//! page's erased devices (`jobs::import`) and
//! saving the cursor and running totals after each page, so a retried or recovered job
//! resumes where it stopped. 429, 5xx and network errors are transient; 401/403 and other
//! answers are permanent.
//!
//! Each page is metered before it is imported: one request per report against the
//! organisation's day (the plan's quota, as a batch's devices are). At the quota, or at
//! `MAX_REPORTS_PER_PULL`, the pull stops cleanly: `done`, with `stopped` saying why in its
//! result and in the audit entry the runner writes. A page holding more than `PAGE_SIZE`
//! reports is refused (permanent), never imported in part.

use serde_json::{json, Value};
use worker::{Env, Headers, Method, Request, RequestInit};

use super::import::import;
use super::runner::{BackgroundJob, Claimed, Done, Outcome};
use crate::blancco::import::accumulate;
use crate::blancco::json_reports;
use crate::blancco::pull::{page_request, PullParams, MAX_REPORTS_PER_PULL, PAGE_SIZE};
use crate::edge::credentials;
use crate::edge::rate_limiter::{self, LimiterCall};
use crate::job::{JobError, Kind};
use crate::limits::{org_subject, Quota, Refusal};
use crate::store::{orgs, pulls};

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
        let tenant = job.tenant();
        let plan = orgs::plan(env, &job.org_id)
            .await
            .map_err(|e| JobError::transient("reading the organisation's plan", e))?;
        let subject = org_subject(&job.org_id, tenant.mode);
        for _ in 0..MAX_PAGES_PER_RUN {
            let seen = totals["reports"].as_u64().unwrap_or(0) as usize;
            if seen >= MAX_REPORTS_PER_PULL {
                totals["stopped"] = json!(format!(
                    "the pull's limit of {MAX_REPORTS_PER_PULL} reports; start another from a later `since`"
                ));
                break;
            }
            match fetch_page(&base, &key, &params, cursor.as_deref()).await {
                Page::Empty => break, // 204: nothing (more) to pull
                Page::Failed(e) => return Err(e),
                Page::Reports(reports, _) if reports.len() > PAGE_SIZE => {
                    return Err(JobError::Permanent(format!(
                        "Blancco answered {} reports for a page of {PAGE_SIZE}: refused, nothing of it imported",
                        reports.len()
                    )))
                }
                Page::Reports(reports, next) => {
                    let charge = LimiterCall::Charge {
                        plan,
                        units: reports.len() as u64,
                        subject: subject.clone(),
                        org_id: Some(job.org_id.clone()),
                    };
                    let metered: Result<Quota, Refusal> = rate_limiter::call(env, &subject, &charge)
                        .await
                        .map_err(|e| JobError::transient("metering a page", e))?;
                    if let Err(r) = metered {
                        totals["stopped"] = json!(format!(
                            "the {} plan's daily quota: {} reports were left today; the rest waits for a new pull",
                            plan.name(),
                            r.quota.day_remaining().unwrap_or(0)
                        ));
                        break;
                    }
                    totals["reports"] = json!(seen + reports.len());
                    let out = import(env, &tenant, "blancco_pull", &reports)
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
            details: json!({ "source": "pull", "pages": pages, "reports": totals["reports"], "imported": totals["imported"],
                             "duplicates": totals["duplicates"], "stopped": totals["stopped"] }),
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
