//! `POST /reports` (a background job, see `jobs::report`) and `GET /reports/{id}` (status,
//! summary, the PDF when done).

use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::idempotency::{self, NextAction};
use super::limiter;
use super::problem::{parse_json, ApiError};
use super::views::{stored_json, Accepted, JobStatus, PdfLink, ReportDetail};
use crate::edge::clock::now_iso;
use crate::edge::{bindings, random};
use crate::jobs::{self, lifecycle::Kind};
use crate::lca::report_request::{parse, NewReport, MAX_DEVICES};
use crate::store::{assets, reports};

pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    if rc.caller.sandbox() {
        return Err(ApiError::sandbox_not_supported("Reports"));
    }
    let bytes = rc.body_bytes().await?;
    let body: Value = parse_json(&bytes)?;
    let req = parse(&body).map_err(ApiError::validation)?;
    let org_id = rc.org_id()?;
    let reservation = match idempotency::begin(rc, &rc.tenant()?.scope(), &bytes).await? {
        NextAction::Replay(stored) => return Ok(stored),
        NextAction::Proceed(r) => r,
    };
    let outcome = async {
        // A report costs what it computes: one request per device, as a batch does.
        let devices = match req.source {
            "assets" => assets::count(&rc.env, &org_id)
                .await
                .step("report: counting the stored assets")?
                .min(MAX_DEVICES),
            _ => req.devices.len(),
        };
        limiter::admit(rc, devices.max(1) as u64, Some(Kind::Report)).await?;
        enqueue(rc, &org_id, req).await
    }
    .await;
    idempotency::settle(rc, reservation, 202, &outcome).await?;
    http::accepted(outcome?)
}

async fn enqueue(rc: &RequestCtx, org_id: &str, req: NewReport) -> Result<Value, ApiError> {
    let id = format!("rep_{}", random::hex_id(12));
    let now = now_iso();
    let request_key = format!("reports/{org_id}/{id}/request.json");
    let bucket = rc
        .env
        .bucket(bindings::BUCKET)
        .step("enqueue: opening R2")?;
    let payload = json!({ "devices": req.devices }).to_string();
    bucket
        .put(&request_key, payload.into_bytes())
        .execute()
        .await
        .step("report: storing the request in R2")?;
    let insert = bindings::db(&rc.env)
        .and_then(|db| {
            db.prepare(
                "INSERT INTO reports (id, org_id, key_id, type, title, period, source, status, created_at, request_key, lease_until, mode) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?9, ?10, ?11)",
            )
            .bind(&[
                id.clone().into(),
                org_id.into(),
                rc.caller.key_id.clone().unwrap_or_default().into(),
                req.kind.clone().into(),
                req.title.clone().into(),
                crate::store::opt(req.period.as_deref()),
                req.source.into(),
                now.clone().into(),
                request_key.clone().into(),
                jobs::queued_deadline().into(),
                rc.caller.mode.name().into(),
            ])
        })
        .step("report: binding the job row")?;
    if let Err(e) = jobs::enqueue(&rc.env, Kind::Report, &id, insert).await {
        let _ = bucket.delete(&request_key).await;
        return Err(http::enqueue_error(e));
    }
    rc.audit(
        org_id,
        "report.requested",
        Some(&id),
        json!({ "type": req.kind, "source": req.source, "devices": req.devices.len() }),
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
                    "The report is {}; poll /api/v1/reports/{id} until it is done.",
                    row.job.status
                ),
            ));
        };
        let name = format!("carbontrace-{}-{}.pdf", row.kind, row.job.id);
        return http::download(rc, key, "application/pdf", &name)
            .await?
            .ok_or_else(|| ApiError::internal("the report's PDF is missing from storage"));
    }
    let mut resp = http::json(
        200,
        &JobStatus::of(
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
                    url: format!("/api/v1/reports/{id}?format=pdf"),
                }),
            },
        ),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}
