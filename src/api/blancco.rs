//! `POST /integrations/blancco/sync`: import Blancco erasure reports (uploaded as XML or
//! JSON, or pulled from the Blancco cloud as a Queue job) and compute the avoided emissions of
//! every successfully erased device. `GET /integrations/blancco/sync/{id}`: a pull's status.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use worker::{Context, Env, Headers, Method, Request, RequestInit, Response};

use super::http::{self, RequestCtx};
use super::idempotency;
use super::problem::{ApiError, FieldError};
use super::state;
use crate::blancco::{brand, extract, json_reports, parse_xml, ErasedDevice, MAX_REPORTS};
use crate::catalog::identify::{identify, IdentifyInput};
use crate::catalog::search::SearchIndex;
use crate::catalog::Catalogue;
use crate::edge::audit::{append_later, now_iso, Record};
use crate::edge::queue::Job;
use crate::edge::{bindings, random};
use crate::lca::input::parse_device;
use crate::lca::savings::{savings, SavingsInput, Scenario};

/// Counters and per-device results of an import.
#[derive(Default)]
struct Import {
    imported: usize,
    duplicates: usize,
    skipped: Vec<Value>,
    failed: Vec<Value>,
    avoided: f64,
    devices: Vec<Value>,
}

impl Import {
    fn json(&self) -> Value {
        json!({
            "imported": self.imported, "duplicates": self.duplicates,
            "skipped": self.skipped, "failed": self.failed,
            "total_avoided_kg_co2e": (self.avoided * 100.0).round() / 100.0,
            "devices": self.devices,
            "label": "avoided emissions: not an offset, not deductible from an emissions inventory",
        })
    }

    fn add(&mut self, other: Import) {
        self.imported += other.imported;
        self.duplicates += other.duplicates;
        self.skipped.extend(other.skipped);
        self.failed.extend(other.failed);
        self.avoided += other.avoided;
        self.devices.extend(other.devices);
    }
}

/// The footprint request for an erased device: the catalogue product when identified
/// confidently, else its category with the report's specs.
fn footprint_request(d: &ErasedDevice) -> Option<(Value, Option<String>)> {
    let b = d.manufacturer.as_deref().map(brand);
    let found = identify(
        Catalogue::builtin(),
        SearchIndex::builtin(),
        &IdentifyInput {
            brand: b.clone(),
            mpn: Some(d.model.clone()),
            gtin: None,
            text: None,
        },
    );
    if found.confident() {
        if let Some((hit, _)) = &found.best {
            return Some((
                json!({ "product": { "id": hit.product.id } }),
                Some(hit.product.id.clone()),
            ));
        }
    }
    let category = d.category.as_deref()?;
    let mut specs = Map::new();
    if let Some(r) = d.ram_gb {
        specs.insert("memory_gb".into(), json!(r));
    }
    if let Some(s) = d.storage_gb {
        specs.insert("ssd_gb".into(), json!(s));
    }
    Some((
        json!({ "category": category, "product": { "brand": b, "model": d.model }, "specs": specs }),
        None,
    ))
}

/// Import report trees for an organisation: one statement per asset, `ON CONFLICT DO
/// NOTHING` so a re-sync adds nothing twice. A report that cannot be read or computed is
/// listed as failed and nothing of it is stored.
async fn import(
    env: &Env,
    org_id: &str,
    source: &str,
    reports: &[Value],
    store: bool,
) -> Result<Import, ApiError> {
    let engine = state::active(env).await.engine();
    let mut out = Import::default();
    let mut rows: Vec<(ErasedDevice, Value, Option<String>, f64, usize)> = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        let d = match extract(r) {
            Ok(d) => d,
            Err(reason) => {
                out.failed.push(json!({ "index": i, "document_id": r["blancco_data"]["description"]["document_id"], "reason": reason }));
                continue;
            }
        };
        if !d.erased() {
            out.skipped.push(json!({ "index": i, "document_id": d.document_id,
                "reason": format!("erasure not successful ({}): not reusable", d.erasure_states.join(", ")) }));
            continue;
        }
        let Some((request, product_id)) = footprint_request(&d) else {
            out.failed.push(json!({ "index": i, "document_id": d.document_id,
                "reason": format!("unknown chassis type {:?} and no catalogue match for {}", d.chassis_type, d.model) }));
            continue;
        };
        let computed = parse_device(&request, "", engine.factors).and_then(|input| {
            engine.footprint(&input).map(|f| {
                let grid = f.grid_kg_per_kwh();
                savings(
                    &SavingsInput {
                        device: input,
                        scenario: Scenario::Reuse,
                        extra_years: None,
                        displacement_rate: None,
                    },
                    f,
                    grid,
                )
            })
        });
        match computed {
            Ok(s) => rows.push((d, request, product_id, s.avoided_kg_co2e, i)),
            Err(e) => out.failed.push(json!({ "index": i, "document_id": d.document_id,
                "reason": e.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ") })),
        }
    }
    let now = now_iso();
    let inserted: Vec<bool> = if store && !rows.is_empty() {
        let db = env.d1(bindings::DB).map_err(http::edge_error)?;
        let mut stmts = Vec::with_capacity(rows.len());
        for (d, request, product_id, avoided, _) in &rows {
            let opt = |v: &Option<String>| {
                v.clone()
                    .map(Into::into)
                    .unwrap_or(wasm_bindgen::JsValue::NULL)
            };
            let optf = |v: Option<f64>| v.map(Into::into).unwrap_or(wasm_bindgen::JsValue::NULL);
            stmts.push(
                db.prepare(
                    "INSERT INTO assets (org_id, document_id, source, manufacturer, model, serial, category, product_id, ram_gb, \
                     storage_gb, erasure_standard, erased_at, request, avoided_kg_co2e, imported_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT(org_id, document_id) DO NOTHING",
                )
                .bind(&[
                    org_id.into(),
                    d.document_id.clone().into(),
                    source.into(),
                    opt(&d.manufacturer),
                    d.model.clone().into(),
                    opt(&d.serial),
                    d.category.clone().unwrap_or_else(|| "laptop".into()).into(),
                    opt(product_id),
                    optf(d.ram_gb),
                    optf(d.storage_gb),
                    opt(&d.erasure_standard),
                    opt(&d.erased_at),
                    request.to_string().into(),
                    (*avoided).into(),
                    now.clone().into(),
                ])
                .map_err(http::edge_error)?,
            );
        }
        // One batch: D1 runs it as a transaction, so an upload is stored whole or not at all.
        let results = db.batch(stmts).await.map_err(http::edge_error)?;
        results
            .iter()
            .map(|r| r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0) > 0)
            .collect()
    } else {
        vec![true; rows.len()]
    };
    for ((d, _, product_id, avoided, i), new) in rows.into_iter().zip(inserted) {
        if new {
            out.imported += 1;
            out.avoided += avoided;
        } else {
            out.duplicates += 1;
        }
        out.devices.push(json!({
            "index": i, "document_id": d.document_id, "status": if new { "imported" } else { "duplicate" },
            "manufacturer": d.manufacturer, "model": d.model, "serial": d.serial, "category": d.category,
            "product_id": product_id, "ram_gb": d.ram_gb, "storage_gb": d.storage_gb,
            "erasure_standard": d.erasure_standard, "erased_at": d.erased_at,
            "avoided_kg_co2e": avoided,
        }));
    }
    Ok(out)
}

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
            parse_xml(&text).map_err(|e| ApiError::bad_request("malformed_xml", "body", e))?,
            None,
        )
    } else {
        let v: Value = super::problem::parse_json(&bytes)?;
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
        let out = import(&rc.env, &org_id, "blancco_upload", &reports, false).await?;
        let mut v = out.json();
        v["_sandbox"] = json!(true);
        v["note"] = json!("sandbox: computed from the reports, nothing stored");
        return http::json(200, &v);
    }
    let reservation = match idempotency::begin(rc, &org_id, &bytes).await? {
        Some(Err(replay)) => return Ok(replay),
        Some(Ok(r)) => Some(r),
        None => None,
    };
    let outcome = match pull {
        Some(p) => start_pull(rc, &org_id, &p).await.map(|v| (202, v)),
        None => upload(rc, &org_id, &reports).await.map(|v| (200, v)),
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
    let out = import(&rc.env, org_id, "blancco_upload", reports, true).await?;
    rc.audit(org_id, "blancco.synced", None, json!({ "source": "upload", "reports": reports.len(), "imported": out.imported,
                             "duplicates": out.duplicates, "skipped": out.skipped.len(), "failed": out.failed.len() }));
    Ok(out.json())
}

async fn start_pull(rc: &RequestCtx, org_id: &str, p: &Value) -> Result<Value, ApiError> {
    let mut errors = Vec::new();
    let since = p["since"].as_str().unwrap_or("");
    let valid_since = since.len() >= 10
        && since.as_bytes()[4] == b'-'
        && since.as_bytes()[7] == b'-'
        && js_sys::Date::parse(since).is_finite();
    if !valid_since {
        errors.push(FieldError::new(
            "since",
            "must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z",
        ));
    }
    if !(p["filter"].is_null() || p["filter"].is_object()) {
        errors.push(FieldError::new(
            "filter",
            "must be an object (Blancco export filter)",
        ));
    }
    for k in p
        .as_object()
        .map(|o| o.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if k != "since" && k != "filter" {
            errors.push(FieldError::new(
                k,
                "unknown field; a pull takes since and filter",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if bindings::setting(&rc.env, "BLANCCO_API_URL").is_none()
        || bindings::setting(&rc.env, "BLANCCO_API_KEY").is_none()
    {
        return Err(ApiError::service_unavailable(
            "blancco_not_configured",
            "Pulling needs BLANCCO_API_URL and BLANCCO_API_KEY; upload reports instead, or configure them.",
        ));
    }
    let id = format!("bsync_{}", random::hex_id(12));
    let now = now_iso();
    let db = rc.env.d1(bindings::DB).map_err(http::edge_error)?;
    db.prepare(
        "INSERT INTO integration_jobs (id, org_id, key_id, kind, params, status, created_at) VALUES (?1, ?2, ?3, 'blancco_pull', ?4, 'queued', ?5)",
    )
    .bind(&[
        id.clone().into(),
        org_id.into(),
        rc.caller.key_id.clone().unwrap_or_default().into(),
        json!({ "since": since, "filter": p["filter"] }).to_string().into(),
        now.clone().into(),
    ])
    .map_err(http::edge_error)?
    .run()
    .await
    .map_err(http::edge_error)?;
    let queued = rc
        .env
        .queue(bindings::JOBS)
        .map_err(http::edge_error)?
        .send(Job::BlanccoPull { id: id.clone() })
        .await;
    if queued.is_err() {
        let _ = db
            .prepare("DELETE FROM integration_jobs WHERE id = ?1")
            .bind(&[id.clone().into()])
            .map_err(http::edge_error)?
            .run()
            .await;
        return Err(ApiError::queue_unavailable());
    }
    Ok(
        json!({ "id": id, "status": "queued", "since": since, "created_at": now,
               "status_url": format!("/api/v1/integrations/blancco/sync/{id}") }),
    )
}

#[derive(Deserialize)]
struct JobRow {
    id: String,
    org_id: String,
    params: String,
    status: String,
    reason: Option<String>,
    cursor: Option<String>,
    pages: f64,
    result: Option<String>,
    created_at: String,
    finished_at: Option<String>,
}

async fn load_job(env: &Env, id: &str) -> worker::Result<Option<JobRow>> {
    env.d1(bindings::DB)?
        .prepare("SELECT id, org_id, params, status, reason, cursor, pages, result, created_at, finished_at FROM integration_jobs WHERE id = ?1")
        .bind(&[id.into()])?
        .first(None)
        .await
}

pub async fn job_status(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = match load_job(&rc.env, id).await.map_err(http::edge_error)? {
        Some(r) if Some(&r.org_id) == rc.caller.org_id.as_ref() => r,
        _ => {
            return Err(ApiError::not_found(format!(
                "no Blancco sync job `{id}` for this organisation"
            )))
        }
    };
    let result: Value = row
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or(Value::Null);
    let params: Value = serde_json::from_str(&row.params).unwrap_or(Value::Null);
    http::json(
        200,
        &json!({ "id": row.id, "status": row.status, "reason": row.reason, "pages": row.pages as u64,
                 "since": params["since"], "created_at": row.created_at, "finished_at": row.finished_at, "result": result }),
    )
}

/// Outcome of one page request to Blancco.
enum Page {
    Reports(Vec<Value>, Option<String>),
    Empty,
    Fatal(String),
    Retry(String),
}

async fn fetch_page(base: &str, key: &str, params: &Value, cursor: Option<&str>) -> Page {
    let mut filter = params["filter"].as_object().cloned().unwrap_or_default();
    filter.insert("date".into(), json!({ "gte": params["since"] }));
    let mut body = json!({ "filter": filter, "format": "JSON", "container": "NONE", "size": 10 });
    if let Some(c) = cursor {
        body["cursor"] = json!(c);
    }
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
        Err(e) => return Page::Fatal(format!("bad BLANCCO_API_URL: {e}")),
    };
    let mut resp = match worker::Fetch::Request(req).send().await {
        Ok(r) => r,
        Err(e) => return Page::Retry(format!("Blancco unreachable: {e}")),
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
                Err(e) => Page::Fatal(format!("Blancco sent an unreadable page: {e}")),
            }
        }
        401 | 403 => Page::Fatal("Blancco rejected the API key (BLANCCO_API_KEY)".into()),
        429 => Page::Retry("Blancco rate-limited the pull (429)".into()),
        s if s >= 500 => Page::Retry(format!("Blancco answered {s}")),
        s => Page::Fatal(format!("Blancco answered {s}")),
    }
}

/// The pull job: page by page, saving the cursor after each page so a retried message
/// resumes where it stopped; transient errors retry through the queue, the rest fail the job.
pub async fn run_pull(env: &Env, ctx: &Context, id: &str) -> worker::Result<()> {
    let Some(job) = load_job(env, id).await? else {
        return Ok(());
    };
    if job.status == "done" || job.status == "failed" {
        return Ok(());
    }
    let db = env.d1(bindings::DB)?;
    let update = |status: &str,
                  reason: Option<String>,
                  cursor: Option<String>,
                  pages: u64,
                  result: &Value,
                  finished: bool| {
        db.prepare(
            "UPDATE integration_jobs SET status = ?2, reason = ?3, cursor = ?4, pages = ?5, result = ?6, \
             finished_at = CASE WHEN ?7 THEN ?8 ELSE finished_at END WHERE id = ?1",
        )
        .bind(&[
            id.into(),
            status.into(),
            reason.map(Into::into).unwrap_or(wasm_bindgen::JsValue::NULL),
            cursor.map(Into::into).unwrap_or(wasm_bindgen::JsValue::NULL),
            (pages as f64).into(),
            result.to_string().into(),
            finished.into(),
            now_iso().into(),
        ])
    };
    let params: Value = serde_json::from_str(&job.params).unwrap_or(Value::Null);
    let (Some(base), Some(key)) = (
        bindings::setting(env, "BLANCCO_API_URL"),
        bindings::setting(env, "BLANCCO_API_KEY"),
    ) else {
        update(
            "failed",
            Some("Blancco is not configured".into()),
            None,
            0,
            &Value::Null,
            true,
        )?
        .run()
        .await?;
        return Ok(());
    };
    let mut totals: Value = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or(json!({}));
    let mut cursor = job.cursor.clone();
    let mut pages = job.pages as u64;
    for _ in 0..1000 {
        match fetch_page(&base, &key, &params, cursor.as_deref()).await {
            Page::Empty => break, // 204: nothing (more) to pull
            Page::Reports(reports, next) => {
                let out = import(env, &job.org_id, "blancco_pull", &reports, true)
                    .await
                    .map_err(|e| worker::Error::RustError(e.detail))?;
                let mut acc = Import::default();
                acc.add(out);
                let page = acc.json();
                for k in ["imported", "duplicates"] {
                    totals[k] =
                        json!(totals[k].as_u64().unwrap_or(0) + page[k].as_u64().unwrap_or(0));
                }
                for k in ["skipped", "failed"] {
                    let mut list = totals[k].as_array().cloned().unwrap_or_default();
                    list.extend(page[k].as_array().cloned().unwrap_or_default());
                    totals[k] = json!(list);
                }
                totals["total_avoided_kg_co2e"] = json!(
                    ((totals["total_avoided_kg_co2e"].as_f64().unwrap_or(0.0)
                        + page["total_avoided_kg_co2e"].as_f64().unwrap_or(0.0))
                        * 100.0)
                        .round()
                        / 100.0
                );
                pages += 1;
                cursor = next;
                update("running", None, cursor.clone(), pages, &totals, false)?
                    .run()
                    .await?;
                if cursor.is_none() {
                    break;
                }
            }
            Page::Retry(why) => {
                update(
                    "running",
                    Some(why.clone()),
                    cursor.clone(),
                    pages,
                    &totals,
                    false,
                )?
                .run()
                .await?;
                return Err(worker::Error::RustError(why)); // the queue retries; the cursor is saved
            }
            Page::Fatal(why) => {
                update("failed", Some(why), cursor, pages, &totals, true)?
                    .run()
                    .await?;
                return Ok(());
            }
        }
    }
    update("done", None, None, pages, &totals, true)?
        .run()
        .await?;
    append_later(
        ctx,
        env,
        Record {
            org_id: job.org_id.clone(),
            at: now_iso(),
            actor: "system".into(),
            action: "blancco.synced".into(),
            target: Some(id.into()),
            details: json!({ "source": "pull", "pages": pages, "imported": totals["imported"], "duplicates": totals["duplicates"] }),
        },
    );
    Ok(())
}
