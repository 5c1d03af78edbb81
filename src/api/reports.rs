//! `POST /reports` (a Queue job) and `GET /reports/{id}` (status, summary, the PDF when done).
//! The job itself runs in the queue consumer: [`run`].

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Response};

use super::http::{self, RequestCtx};
use super::idempotency;
use super::problem::{parse_json, ApiError, FieldError};
use crate::edge::audit::{append_later, now_iso, Record};
use crate::edge::queue::Job;
use crate::edge::{bindings, random};
use crate::lca::fleet::analyse;
use crate::pdf::report::{render, ReportMeta};
use crate::version::METHODOLOGY_VERSION;

pub const MAX_DEVICES: usize = 10_000;

struct NewReport {
    kind: String,
    title: String,
    period: Option<String>,
    source: &'static str,
    devices: Vec<Value>,
}

fn parse(body: &Value) -> Result<NewReport, ApiError> {
    let Value::Object(o) = body else {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )]));
    };
    let mut errors = Vec::new();
    for k in o.keys() {
        if !["type", "title", "devices", "source", "period"].contains(&k.as_str()) {
            errors.push(FieldError::new(
                k.clone(),
                "unknown field; expected type, title, devices or source, period",
            ));
        }
    }
    let kind = match o.get("type").and_then(Value::as_str) {
        Some(t @ ("sustainability" | "hotspot")) => t.to_string(),
        _ => {
            errors.push(FieldError::new(
                "type",
                "required: sustainability or hotspot",
            ));
            String::new()
        }
    };
    let title = match o.get("title") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 120 => {
            Some(s.trim().to_string())
        }
        Some(_) => {
            errors.push(FieldError::new(
                "title",
                "must be a string of 1 to 120 characters",
            ));
            None
        }
    };
    let period = match o.get("period") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 60 => {
            Some(s.trim().to_string())
        }
        Some(_) => {
            errors.push(FieldError::new(
                "period",
                "must be a string of 1 to 60 characters (e.g. 2026 or 2026-Q1)",
            ));
            None
        }
    };
    let (source, devices) = match (o.get("devices"), o.get("source")) {
        (Some(Value::Array(d)), None) if !d.is_empty() && d.len() <= MAX_DEVICES => {
            ("devices", d.clone())
        }
        (Some(Value::Array(d)), None) => {
            errors.push(FieldError::new(
                "devices",
                format!("must hold 1 to {MAX_DEVICES} devices (got {})", d.len()),
            ));
            ("devices", Vec::new())
        }
        (Some(_), None) => {
            errors.push(FieldError::new(
                "devices",
                "must be an array of footprint requests",
            ));
            ("devices", Vec::new())
        }
        (None, Some(Value::String(s))) if s == "assets" => ("assets", Vec::new()),
        (None, Some(_)) => {
            errors.push(FieldError::new(
                "source",
                "must be `assets` (the organisation's stored assets)",
            ));
            ("assets", Vec::new())
        }
        _ => {
            errors.push(FieldError::new(
                "devices",
                "give either `devices` (footprint requests) or `source: \"assets\"`",
            ));
            ("devices", Vec::new())
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let default_title = if kind == "hotspot" {
        "Fleet hotspot analysis"
    } else {
        "Fleet sustainability report"
    };
    Ok(NewReport {
        title: title.unwrap_or_else(|| default_title.into()),
        kind,
        period,
        source,
        devices,
    })
}

pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    if rc.caller.sandbox() {
        return Err(ApiError::sandbox_not_supported("Reports"));
    }
    let bytes = rc.body_bytes().await?;
    let body: Value = parse_json(&bytes)?;
    let req = parse(&body)?;
    let org_id = rc.org_id()?;
    let reservation = match idempotency::begin(rc, &org_id, &bytes).await? {
        Some(Err(replay)) => return Ok(replay),
        Some(Ok(r)) => Some(r),
        None => None,
    };
    let outcome = enqueue(rc, &org_id, req).await;
    idempotency::settle(rc, reservation, 202, &outcome).await?;
    let v = outcome?;
    let mut resp = http::json(202, &v)?;
    http::set(
        resp.headers_mut(),
        "Location",
        v["status_url"].as_str().unwrap_or(""),
    );
    Ok(resp)
}

async fn enqueue(rc: &RequestCtx, org_id: &str, req: NewReport) -> Result<Value, ApiError> {
    let id = format!("rep_{}", random::hex_id(12));
    let now = now_iso();
    let request_key = format!("reports/{org_id}/{id}/request.json");
    let bucket = rc.env.bucket(bindings::BUCKET).map_err(http::edge_error)?;
    let payload = json!({ "devices": req.devices }).to_string();
    bucket
        .put(&request_key, payload.into_bytes())
        .execute()
        .await
        .map_err(http::edge_error)?;
    let db = rc.env.d1(bindings::DB).map_err(http::edge_error)?;
    let insert = db
        .prepare(
            "INSERT INTO reports (id, org_id, key_id, type, title, period, source, status, created_at, request_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?9)",
        )
        .bind(&[
            id.clone().into(),
            org_id.into(),
            rc.caller.key_id.clone().unwrap_or_default().into(),
            req.kind.clone().into(),
            req.title.clone().into(),
            req.period.clone().map(Into::into).unwrap_or(wasm_bindgen::JsValue::NULL),
            req.source.into(),
            now.clone().into(),
            request_key.clone().into(),
        ])
        .map_err(http::edge_error)?;
    if let Err(e) = insert.run().await {
        let _ = bucket.delete(&request_key).await;
        return Err(http::edge_error(e));
    }
    let sent = rc
        .env
        .queue(bindings::JOBS)
        .map_err(http::edge_error)?
        .send(Job::Report { id: id.clone() })
        .await;
    if let Err(e) = sent {
        let _ = db
            .prepare("DELETE FROM reports WHERE id = ?1")
            .bind(&[id.clone().into()])
            .map_err(http::edge_error)?
            .run()
            .await;
        let _ = bucket.delete(&request_key).await;
        worker::console_error!("report {id}: queue send failed: {e}");
        return Err(ApiError::queue_unavailable());
    }
    rc.audit(
        org_id,
        "report.requested",
        Some(&id),
        json!({ "type": req.kind, "source": req.source, "devices": req.devices.len() }),
    );
    Ok(json!({
        "id": id, "status": "queued", "type": req.kind, "title": req.title, "created_at": now,
        "status_url": format!("/api/v1/reports/{id}"),
    }))
}

#[derive(Deserialize)]
struct Row {
    id: String,
    org_id: String,
    #[serde(rename = "type")]
    kind: String,
    title: String,
    period: Option<String>,
    source: String,
    status: String,
    reason: Option<String>,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    request_key: String,
    pdf_key: Option<String>,
    pdf_bytes: Option<f64>,
    summary: Option<String>,
}

const COLUMNS: &str =
    "id, org_id, type, title, period, source, status, reason, created_at, started_at, \
finished_at, request_key, pdf_key, pdf_bytes, summary";

async fn load(env: &Env, id: &str) -> worker::Result<Option<Row>> {
    env.d1(bindings::DB)?
        .prepare(format!("SELECT {COLUMNS} FROM reports WHERE id = ?1"))
        .bind(&[id.into()])?
        .first(None)
        .await
}

pub async fn get(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = match load(&rc.env, id).await.map_err(http::edge_error)? {
        Some(r) if Some(&r.org_id) == rc.caller.org_id.as_ref() => r,
        _ => {
            return Err(ApiError::not_found(format!(
                "no report `{id}` for this organisation"
            )))
        }
    };
    let wants_pdf = rc.query("format").as_deref() == Some("pdf")
        || rc
            .header("Accept")
            .is_some_and(|a| a.contains("application/pdf"));
    if wants_pdf {
        let Some(key) = row.pdf_key.as_deref().filter(|_| row.status == "done") else {
            return Err(ApiError::new(
                409,
                "report_not_ready",
                "Report not ready",
                format!(
                    "The report is {}; poll /api/v1/reports/{id} until it is done.",
                    row.status
                ),
            ));
        };
        let obj = rc
            .env
            .bucket(bindings::BUCKET)
            .map_err(http::edge_error)?
            .get(key)
            .execute()
            .await
            .map_err(http::edge_error)?
            .ok_or_else(|| ApiError::internal("the report's PDF is missing from storage"))?;
        let stream = obj
            .body()
            .ok_or_else(|| ApiError::internal("empty PDF"))?
            .stream()
            .map_err(http::edge_error)?;
        let mut resp = Response::from_stream(stream).map_err(http::edge_error)?;
        http::set(resp.headers_mut(), "Content-Type", "application/pdf");
        http::set(
            resp.headers_mut(),
            "Content-Disposition",
            &format!(
                "attachment; filename=\"carbontrace-{}-{}.pdf\"",
                row.kind, row.id
            ),
        );
        return Ok(resp);
    }
    let summary: Value = row
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    let mut resp = http::json(
        200,
        &json!({
            "id": row.id, "type": row.kind, "title": row.title, "period": row.period, "source": row.source,
            "status": row.status, "reason": row.reason, "created_at": row.created_at,
            "started_at": row.started_at, "finished_at": row.finished_at, "summary": summary,
            "pdf": row.pdf_key.as_ref().map(|_| json!({ "bytes": row.pdf_bytes, "url": format!("/api/v1/reports/{id}?format=pdf") })),
        }),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

async fn set_status(env: &Env, id: &str, status: &str, reason: Option<&str>) -> worker::Result<()> {
    let now = now_iso();
    let sql = match status {
        "running" => "UPDATE reports SET status = ?2, reason = ?3, started_at = ?4 WHERE id = ?1",
        _ => "UPDATE reports SET status = ?2, reason = ?3, finished_at = ?4 WHERE id = ?1",
    };
    env.d1(bindings::DB)?
        .prepare(sql)
        .bind(&[
            id.into(),
            status.into(),
            reason
                .map(Into::into)
                .unwrap_or(wasm_bindgen::JsValue::NULL),
            now.into(),
        ])?
        .run()
        .await?;
    Ok(())
}

/// The organisation's stored assets as footprint requests: its certified devices and the
/// devices imported from Blancco erasure reports.
async fn asset_devices(env: &Env, org_id: &str) -> worker::Result<Vec<Value>> {
    #[derive(Deserialize)]
    struct C {
        canonical: String,
    }
    let rows: Vec<C> = env
        .d1(bindings::DB)?
        .prepare("SELECT canonical FROM certificates WHERE org_id = ?1 AND kind = 'footprint' AND revoked_at IS NULL ORDER BY issued_at LIMIT 10000")
        .bind(&[org_id.into()])?
        .all()
        .await?
        .results()?;
    let mut devices: Vec<Value> = rows
        .into_iter()
        .filter_map(|c| serde_json::from_str::<Value>(&c.canonical).ok())
        .map(|doc| doc["request"].clone())
        .collect();
    #[derive(Deserialize)]
    struct A {
        request: String,
    }
    let assets: Vec<A> = env
        .d1(bindings::DB)?
        .prepare("SELECT request FROM assets WHERE org_id = ?1 ORDER BY imported_at LIMIT 10000")
        .bind(&[org_id.into()])?
        .all()
        .await?
        .results()?;
    devices.extend(
        assets
            .into_iter()
            .filter_map(|a| serde_json::from_str(&a.request).ok()),
    );
    devices.truncate(MAX_DEVICES);
    Ok(devices)
}

/// The queue job: compute, render, store, record. Deterministic failures end as `failed`
/// with the reason (acknowledged, not retried); a report already done is left alone, so a
/// duplicated message produces nothing twice.
pub async fn run(env: &Env, ctx: &worker::Context, id: &str) -> worker::Result<()> {
    let Some(row) = load(env, id).await? else {
        worker::console_error!("report {id}: no such report");
        return Ok(());
    };
    if row.status == "done" || row.status == "failed" {
        return Ok(());
    }
    set_status(env, id, "running", None).await?;
    match build(env, &row).await {
        Ok((pdf_key, bytes, summary)) => {
            env.d1(bindings::DB)?
                .prepare(
                    "UPDATE reports SET status = 'done', reason = NULL, finished_at = ?2, pdf_key = ?3, pdf_bytes = ?4, summary = ?5 WHERE id = ?1",
                )
                .bind(&[id.into(), now_iso().into(), pdf_key.into(), (bytes as f64).into(), summary.to_string().into()])?
                .run()
                .await?;
            append_later(
                ctx,
                env,
                Record {
                    org_id: row.org_id.clone(),
                    at: now_iso(),
                    actor: "system".into(),
                    action: "report.completed".into(),
                    target: Some(id.into()),
                    details: json!({ "total_kg_co2e": summary["total_kg_co2e"], "pdf_bytes": bytes }),
                },
            );
        }
        Err(reason) => {
            worker::console_error!("report {id} failed: {reason}");
            set_status(env, id, "failed", Some(&reason)).await?;
        }
    }
    Ok(())
}

async fn build(env: &Env, row: &Row) -> Result<(String, usize, Value), String> {
    let started = js_sys::Date::now();
    let devices: Vec<Value> = if row.source == "assets" {
        asset_devices(env, &row.org_id)
            .await
            .map_err(|e| format!("could not read the stored assets: {e}"))?
    } else {
        let bucket = env.bucket(bindings::BUCKET).map_err(|e| e.to_string())?;
        let obj = bucket
            .get(&row.request_key)
            .execute()
            .await
            .map_err(|e| format!("could not read the request: {e}"))?
            .ok_or("the request is missing from storage")?;
        let text = obj
            .body()
            .ok_or("empty request")?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        v["devices"].as_array().cloned().unwrap_or_default()
    };
    if devices.is_empty() {
        return Err("the fleet is empty (no devices, or no stored assets)".into());
    }
    let engine = super::state::active(env).await.engine();
    let fleet = analyse(&engine, &devices);
    if fleet.devices.is_empty() {
        return Err(format!(
            "no device could be computed; first problem: {}",
            fleet.skipped.first().map(|s| s.1.as_str()).unwrap_or("-")
        ));
    }
    let org: Option<Value> = env
        .d1(bindings::DB)
        .map_err(|e| e.to_string())?
        .prepare("SELECT name FROM organisations WHERE id = ?1")
        .bind(&[row.org_id.clone().into()])
        .map_err(|e| e.to_string())?
        .first(None)
        .await
        .map_err(|e| e.to_string())?;
    let org = org
        .and_then(|o| o["name"].as_str().map(str::to_string))
        .unwrap_or_else(|| row.org_id.clone());
    let computed_ms = js_sys::Date::now() - started;
    let generated_at = now_iso();
    let pdf = render(
        &ReportMeta {
            id: &row.id,
            kind: &row.kind,
            title: &row.title,
            org: &org,
            generated_at: &generated_at,
            period: row.period.as_deref(),
            methodology_version: METHODOLOGY_VERSION,
        },
        &fleet,
    );
    let total_ms = js_sys::Date::now() - started;
    let key = format!("reports/{}/{}.pdf", row.org_id, row.id);
    let bytes = pdf.len();
    env.bucket(bindings::BUCKET)
        .map_err(|e| e.to_string())?
        .put(&key, pdf)
        .http_metadata(worker::HttpMetadata {
            content_type: Some("application/pdf".into()),
            ..Default::default()
        })
        .execute()
        .await
        .map_err(|e| format!("could not store the PDF: {e}"))?;
    let (stage, share) = fleet.dominant_stage();
    let summary = json!({
        "devices": fleet.devices.len(), "skipped": fleet.skipped.len(),
        "skipped_devices": fleet.skipped.iter().take(100).map(|(i, why)| json!({"index": i, "reason": why})).collect::<Vec<_>>(),
        "total_kg_co2e": fleet.total_kg, "range_kg_co2e": [fleet.low_kg, fleet.high_kg],
        "stages": fleet.stages, "dominant_stage": { "stage": stage, "share": share },
        "by_category": fleet.by_category.iter().map(|(c, n, kg)| json!({"category": c, "devices": n, "kg_co2e": kg})).collect::<Vec<_>>(),
        "by_country": fleet.by_country.iter().map(|(c, n, kg)| json!({"country": c, "devices": n, "kg_co2e": kg})).collect::<Vec<_>>(),
        "levers": fleet.levers, "published_pcf_share": fleet.published_share,
        "factor_set_version": fleet.factor_set_version,
        "timing_ms": { "compute": computed_ms, "total": total_ms },
    });
    Ok((key, bytes, summary))
}
