//! `POST /reports` (a background job, see `jobs::report`) and `GET /reports/{id}` (status,
//! summary, the PDF when done).

use serde_json::{json, Value};
use worker::Response;

use super::background;
use super::http::{self, RequestCtx, Step};
use super::idempotency::{self, NextAction};
use super::limiter;
use super::parse::{next_cursor, page_params, parse_json};
use super::problem::ApiError;
use super::views::{stored_json, Accepted, JobStatus, PdfLink, ReportDetail};
use crate::edge::{bindings, random};
use crate::job::Kind;
use crate::jobs;
use crate::lca::report_request::{parse, NewReport, StoredFleet, MAX_DEVICES};
use crate::store::{assets, reports};
use crate::version::BASE_PATH;

pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    if rc.caller.sandbox() {
        return Err(ApiError::sandbox_not_supported("Reports"));
    }
    let bytes = rc.body_bytes().await?;
    let body: Value = parse_json(&bytes)?;
    let factors = crate::edge::state::active(&rc.env).await.factors;
    let req = parse(&body, factors).map_err(ApiError::validation)?;
    let org_id = rc.org_id()?;
    let reservation = match idempotency::begin(rc, &rc.tenant()?.scope(), &bytes).await? {
        NextAction::Replay(stored) => return Ok(stored),
        NextAction::Proceed(r) => r,
    };
    let outcome = async {
        // A report costs what it computes: one request per device, as a batch does.
        // (An inventory costs what `GET /inventory` does: one request.)
        let devices = match req.source {
            "assets" => assets::count(&rc.env, &rc.tenant()?)
                .await
                .step("report: counting the stored assets")?
                .min(MAX_DEVICES),
            "inventory" => 1,
            _ => req.devices.len(),
        };
        limiter::admit(rc, devices.max(1) as u64, Some(Kind::Report)).await?;
        enqueue(rc, &org_id, req).await
    }
    .await;
    idempotency::settle(rc, reservation, 202, &outcome).await?;
    background::accepted(outcome?)
}

async fn enqueue(rc: &RequestCtx, org_id: &str, req: NewReport) -> Result<Value, ApiError> {
    let id = format!("rep_{}", random::hex_id(12));
    let request_key = format!("reports/{org_id}/{id}/request.json");
    let devices = req.devices.len();
    // What the job reads back: the parsed fleet, or the inventory's year and view.
    let payload = match req.inventory {
        Some(inventory) => serde_json::to_vec(&inventory),
        None => serde_json::to_vec(&StoredFleet {
            devices: req.devices,
        }),
    }
    .map_err(|e| ApiError::internal(format!("report: serialising the request: {e}")))?;
    bindings::put_object(&rc.env, &request_key, payload, "application/json")
        .await
        .step("report: storing the request in R2")?;
    let spec = jobs::Spec::Report {
        report_type: req.kind.clone(),
        title: req.title.clone(),
        period: req.period.clone(),
        source: req.source.to_string(),
        request_key: request_key.clone(),
    };
    let now = match rc.enqueue(&id, spec).await {
        Ok(created_at) => created_at,
        Err(e) => {
            bindings::delete_object(&rc.env, &request_key).await;
            return Err(e);
        }
    };
    rc.audit(
        org_id,
        "report.requested",
        Some(&id),
        json!({ "type": req.kind, "source": req.source, "devices": devices }),
    )
    .await;
    Ok(Accepted::new(
        &id,
        &now,
        "reports",
        json!({ "type": req.kind, "title": req.title }),
    )
    .value())
}

pub async fn get(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = reports::owned(&rc.env, &rc.tenant()?, id)
        .await
        .step("report: reading the row")?
        .ok_or_else(|| ApiError::not_found(format!("no report `{id}` for this organisation")))?;
    if rc.wants("pdf", "application/pdf")? {
        let Some(key) = row.pdf_key.as_deref().filter(|_| row.job.status == "done") else {
            return Err(ApiError::new(
                409,
                "report_not_ready",
                "Report not ready",
                format!(
                    "The report is {}; poll {BASE_PATH}/reports/{id} until it is done.",
                    row.job.status
                ),
            ));
        };
        let name = format!("carbontrace-{}-{}.pdf", row.kind, row.job.id);
        return background::download(rc, key, "application/pdf", &name)
            .await?
            .ok_or_else(|| ApiError::internal("the report's PDF is missing from storage"));
    }
    let mut resp = http::json(200, &status(&row))?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// A report's status, as `GET /reports/{id}` answers and `GET /reports` lists it.
fn status(row: &reports::Report) -> Value {
    let id = &row.job.id;
    serde_json::to_value(JobStatus::of(
        &row.job,
        ReportDetail {
            kind: &row.kind,
            title: &row.title,
            period: row.period.as_deref(),
            source: &row.source,
            started_at: row.started_at.as_deref(),
            summary: stored_json(row.summary.as_deref()),
            pdf: row.pdf_key.as_ref().map(|_| PdfLink {
                bytes: row.pdf_bytes,
                url: format!("{BASE_PATH}/reports/{id}?format=pdf"),
            }),
        },
    ))
    .unwrap_or_default()
}

/// `GET /reports`: the tenant's reports, newest first (`limit`, `cursor`).
pub async fn list(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let (after, limit) = page_params(rc.query("limit"), rc.query("cursor"))?;
    let mut rows = reports::list(&rc.env, &rc.tenant()?, after.as_ref(), limit + 1)
        .await
        .step("reports: listing")?;
    let next = next_cursor(&mut rows, limit, |r| {
        (r.job.created_at.as_str(), r.job.id.as_str())
    });
    let data: Vec<Value> = rows.iter().map(status).collect();
    let mut resp = http::json(200, &json!({ "data": data, "next_cursor": next }))?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}
