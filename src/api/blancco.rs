//! `POST /integrations/blancco/sync`: import Blancco erasure reports, uploaded as XML or
//! JSON (computed and stored here), or pulled from the Blancco cloud (a background job, see
//! `jobs::blancco_pull`). `GET /integrations/blancco/sync/{id}`: a pull's status.

use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::idempotency::{self, NextAction};
use super::limiter;
use super::problem::{ApiError, FieldError};
use super::views::{stored_json, Accepted, JobStatus, PullDetail};
use crate::blancco::import::{assess, Import};
use crate::blancco::{json_reports, parse_xml, XmlError, MAX_REPORTS};
use crate::edge::{random, state};
use crate::job::Kind;
use crate::jobs;
use crate::store::pulls;

fn media(rc: &RequestCtx) -> String {
    rc.header("Content-Type")
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

pub async fn sync(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let media = media(rc);
    let xml = media.ends_with("/xml") || media.ends_with("+xml");
    if !(xml || media.is_empty() || media == "application/json" || media.ends_with("+json")) {
        return Err(ApiError::unsupported_media_type(&media));
    }
    let bytes = rc.raw_body().await?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| ApiError::bad_request("invalid_encoding", "body", "the body must be UTF-8"))?;
    let (reports, pull): (Vec<Value>, Option<Value>) = if xml {
        (
            parse_xml(&text).map_err(|e| match e {
                XmlError::Limit { what, limit } => ApiError::limit_exceeded("body", what, limit),
                XmlError::Malformed(m) => ApiError::bad_request("malformed_xml", "body", m),
            })?,
            None,
        )
    } else {
        let v: Value = super::parse::parse_json(&bytes)?;
        if v.get("since").is_some() {
            (Vec::new(), Some(v))
        } else {
            (json_reports(&v), None)
        }
    };
    if reports.len() > MAX_REPORTS {
        let mut e = ApiError::new(
            413,
            "too_many_reports",
            "Too many reports",
            format!("at most {MAX_REPORTS} reports per upload"),
        );
        e.errors.push(FieldError::new("reports", e.detail.clone()));
        return Err(e);
    }
    let org_id = rc.org_id()?;
    if rc.caller.sandbox() {
        // Computed all the same: each report counts, against the test key's own quota.
        limiter::admit(rc, reports.len().max(1) as u64, None).await?;
        let engine = state::active(&rc.env).await.engine();
        let mut out = Import::default();
        let rows = assess(&engine, &reports, &mut out);
        let all_new = vec![true; rows.len()];
        out.tally(rows, &all_new);
        let mut v = super::sandbox::mark(out.json());
        v["note"] = json!("sandbox: computed from the reports, nothing stored");
        return http::json(200, &v);
    }
    let reservation = match idempotency::begin(rc, &rc.tenant()?.scope(), &bytes).await? {
        NextAction::Replay(stored) => return Ok(stored),
        NextAction::Proceed(r) => r,
    };
    let outcome = match pull {
        Some(p) => match limiter::admit(rc, 1, Some(Kind::BlanccoPull)).await {
            Ok(()) => start_pull(rc, &org_id, &p).await.map(|v| (202, v)),
            Err(e) => Err(e),
        },
        // Each report of an upload counts, as each device of a batch does.
        None => match limiter::admit(rc, reports.len().max(1) as u64, None).await {
            Ok(()) => upload(rc, &org_id, &reports).await.map(|v| (200, v)),
            Err(e) => Err(e),
        },
    };
    let status = outcome.as_ref().map(|(s, _)| *s).unwrap_or(200);
    let outcome = outcome.map(|(_, v)| v);
    idempotency::settle(rc, reservation, status, &outcome).await?;
    http::json(status, &outcome?)
}

async fn upload(rc: &RequestCtx, org_id: &str, reports: &[Value]) -> Result<Value, ApiError> {
    if reports.is_empty() {
        return Err(ApiError::validation(vec![FieldError::new(
            "reports",
            "no report in the upload",
        )]));
    }
    let out = jobs::import(&rc.env, &rc.tenant()?, "blancco_upload", reports)
        .await
        .step("blancco upload: storing the devices")?;
    rc.audit(org_id, "blancco.synced", None, json!({ "source": "upload", "reports": reports.len(), "imported": out.imported,
                             "duplicates": out.duplicates, "skipped": out.skipped.len(), "failed": out.failed.len() }))
        .await;
    Ok(out.json())
}

async fn start_pull(rc: &RequestCtx, org_id: &str, p: &Value) -> Result<Value, ApiError> {
    let params = crate::blancco::pull::params(p).map_err(ApiError::validation)?;
    // A pull uses the organisation's own Blancco account, never a shared one.
    let configured = crate::store::credentials::get(&rc.env, org_id, "blancco")
        .await
        .step("blancco pull: reading the credentials")?
        .is_some();
    if !configured {
        return Err(ApiError::new(
            409,
            "blancco_not_configured",
            "Blancco not configured",
            format!("Set your organisation's Blancco API URL and key first (PUT {}/integrations/blancco), or upload reports instead.", crate::version::BASE_PATH),
        ));
    }
    let id = format!("bsync_{}", random::hex_id(12));
    let since = params.since.clone();
    let params = serde_json::to_string(&params).map_err(|e| {
        ApiError::internal(format!("blancco pull: serialising the parameters: {e}"))
    })?;
    let now = rc.enqueue(&id, jobs::Spec::BlanccoPull { params }).await?;
    rc.audit(
        org_id,
        "blancco.pull_requested",
        Some(&id),
        json!({ "since": since }),
    )
    .await;
    Ok(Accepted::new(
        &id,
        &now,
        "integrations/blancco/sync",
        json!({ "since": since }),
    )
    .value())
}

pub async fn job_status(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = pulls::owned(&rc.env, &rc.tenant()?, id)
        .await
        .step("blancco pull: reading the row")?
        .ok_or_else(|| {
            ApiError::not_found(format!("no Blancco sync job `{id}` for this organisation"))
        })?;
    let params = stored_json(Some(&row.params));
    http::json(
        200,
        &JobStatus::of(
            &row.job,
            PullDetail {
                pages: row.pages as u64,
                since: params["since"].clone(),
                result: stored_json(row.result.as_deref()),
            },
        ),
    )
}
