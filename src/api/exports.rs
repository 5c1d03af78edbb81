//! GDPR bulk export: `POST /exports` (a Queue job), `GET /exports/{id}` (status, or the archive
//! with `Accept: application/zip` / `?download=1`), `DELETE /exports/{id}`, and the scheduled
//! clean-up of expired archives.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use worker::{Context, Env, Response};

use super::http::{self, RequestCtx};
use super::idempotency;
use super::problem::ApiError;
use crate::edge::audit::{append_later, now_iso, Record};
use crate::edge::queue::Job;
use crate::edge::{bindings, random};
use crate::export::{archive, Table};

/// Rows read per D1 query (keyset paging on rowid).
const PAGE: usize = 1000;

fn ttl_days(env: &Env) -> f64 {
    env.var("EXPORT_TTL_DAYS")
        .ok()
        .and_then(|v| v.to_string().parse::<f64>().ok())
        .filter(|d| *d > 0.0 && *d <= 90.0)
        .unwrap_or(7.0)
}

fn iso_in_days(days: f64) -> String {
    js_sys::Date::new(&(js_sys::Date::now() + days * 86_400_000.0).into())
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
}

pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    if rc.caller.sandbox() {
        return Err(ApiError::sandbox_not_supported("Exports"));
    }
    let bytes = rc.raw_body().await?;
    let org_id = rc.org_id()?;
    let reservation = match idempotency::begin(rc, &org_id, &bytes).await? {
        Some(Err(replay)) => return Ok(replay),
        Some(Ok(r)) => Some(r),
        None => None,
    };
    let outcome = enqueue(rc, &org_id).await;
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

async fn enqueue(rc: &RequestCtx, org_id: &str) -> Result<Value, ApiError> {
    let id = format!("exp_{}", random::hex_id(12));
    let now = now_iso();
    let expires = iso_in_days(ttl_days(&rc.env));
    let r2_key = format!("exports/{org_id}/{id}.zip");
    let db = rc.env.d1(bindings::DB).map_err(http::edge_error)?;
    db.prepare("INSERT INTO exports (id, org_id, key_id, status, created_at, expires_at, r2_key) VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6)")
        .bind(&[
            id.clone().into(),
            org_id.into(),
            rc.caller.key_id.clone().unwrap_or_default().into(),
            now.clone().into(),
            expires.clone().into(),
            r2_key.into(),
        ])
        .map_err(http::edge_error)?
        .run()
        .await
        .map_err(http::edge_error)?;
    if rc
        .env
        .queue(bindings::JOBS)
        .map_err(http::edge_error)?
        .send(Job::Export { id: id.clone() })
        .await
        .is_err()
    {
        let _ = db
            .prepare("DELETE FROM exports WHERE id = ?1")
            .bind(&[id.clone().into()])
            .map_err(http::edge_error)?
            .run()
            .await;
        return Err(ApiError::queue_unavailable());
    }
    rc.audit(org_id, "export.requested", Some(&id), json!({}));
    Ok(
        json!({ "id": id, "status": "queued", "created_at": now, "expires_at": expires,
               "status_url": format!("/api/v1/exports/{id}") }),
    )
}

#[derive(Deserialize)]
struct Row {
    id: String,
    org_id: String,
    status: String,
    reason: Option<String>,
    created_at: String,
    finished_at: Option<String>,
    expires_at: String,
    r2_key: String,
    bytes: Option<f64>,
    manifest: Option<String>,
}

async fn load(env: &Env, id: &str) -> worker::Result<Option<Row>> {
    env.d1(bindings::DB)?
        .prepare("SELECT id, org_id, status, reason, created_at, finished_at, expires_at, r2_key, bytes, manifest FROM exports WHERE id = ?1")
        .bind(&[id.into()])?
        .first(None)
        .await
}

async fn own(rc: &RequestCtx, id: &str) -> Result<Row, ApiError> {
    match load(&rc.env, id).await.map_err(http::edge_error)? {
        Some(r) if Some(&r.org_id) == rc.caller.org_id.as_ref() => Ok(r),
        _ => Err(ApiError::not_found(format!(
            "no export `{id}` for this organisation"
        ))),
    }
}

pub async fn get(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = own(rc, id).await?;
    let download = rc.query("download").as_deref() == Some("1")
        || rc
            .header("Accept")
            .is_some_and(|a| a.contains("application/zip"));
    if download {
        match row.status.as_str() {
            "done" => {}
            "expired" | "deleted" => {
                return Err(ApiError::new(
                    410,
                    "export_gone",
                    "Export gone",
                    format!("This export was {}; start a new one.", row.status),
                ))
            }
            s => {
                return Err(ApiError::new(
                    409,
                    "export_not_ready",
                    "Export not ready",
                    format!("The export is {s}; poll until it is done."),
                ))
            }
        }
        let obj = rc
            .env
            .bucket(bindings::BUCKET)
            .map_err(http::edge_error)?
            .get(&row.r2_key)
            .execute()
            .await
            .map_err(http::edge_error)?
            .ok_or_else(|| {
                ApiError::new(
                    410,
                    "export_gone",
                    "Export gone",
                    "The archive is no longer stored.",
                )
            })?;
        let stream = obj
            .body()
            .ok_or_else(|| ApiError::internal("empty archive"))?
            .stream()
            .map_err(http::edge_error)?;
        let mut resp = Response::from_stream(stream).map_err(http::edge_error)?;
        http::set(resp.headers_mut(), "Content-Type", "application/zip");
        http::set(
            resp.headers_mut(),
            "Content-Disposition",
            &format!("attachment; filename=\"carbontrace-export-{}.zip\"", row.id),
        );
        return Ok(resp);
    }
    let manifest: Value = row
        .manifest
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or(Value::Null);
    let counts: Map<String, Value> = manifest["files"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|e| Some((e["table"].as_str()?.to_string(), e["rows"].clone())))
                .collect()
        })
        .unwrap_or_default();
    let mut resp = http::json(
        200,
        &json!({ "id": row.id, "status": row.status, "reason": row.reason, "created_at": row.created_at,
                 "finished_at": row.finished_at, "expires_at": row.expires_at, "bytes": row.bytes, "counts": counts,
                 "download_url": (row.status == "done").then(|| format!("/api/v1/exports/{}?download=1", row.id)),
                 "manifest": manifest }),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

pub async fn delete(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = own(rc, id).await?;
    rc.env
        .bucket(bindings::BUCKET)
        .map_err(http::edge_error)?
        .delete(&row.r2_key)
        .await
        .map_err(http::edge_error)?;
    let db = rc.env.d1(bindings::DB).map_err(http::edge_error)?;
    db.prepare("UPDATE exports SET status = 'deleted' WHERE id = ?1")
        .bind(&[id.into()])
        .map_err(http::edge_error)?
        .run()
        .await
        .map_err(http::edge_error)?;
    http::json(200, &json!({ "id": id, "status": "deleted" }))
}

/// Read every row of a table for the organisation, a page at a time (keyset on rowid).
async fn dump(
    env: &Env,
    table: &'static str,
    columns: &str,
    filter: &str,
    org_id: &str,
) -> worker::Result<Table> {
    let db = env.d1(bindings::DB)?;
    let mut out = Table::new(table);
    let mut after = 0f64;
    loop {
        let sql = format!("SELECT rowid AS _rowid, {columns} FROM {table} WHERE {filter} = ?1 AND rowid > ?2 ORDER BY rowid LIMIT {PAGE}");
        let rows: Vec<Map<String, Value>> = db
            .prepare(sql)
            .bind(&[org_id.into(), after.into()])?
            .all()
            .await?
            .results()?;
        let n = rows.len();
        for mut r in rows {
            after = r.remove("_rowid").and_then(|v| v.as_f64()).unwrap_or(after);
            out.push(&Value::Object(r));
        }
        if n < PAGE {
            return Ok(out);
        }
    }
}

/// The export job. A done export is left alone; a retried one is rebuilt whole under the
/// same R2 key, so a duplicated or retried message never produces two archives or half of one.
pub async fn run(env: &Env, ctx: &Context, id: &str) -> worker::Result<()> {
    let Some(row) = load(env, id).await? else {
        return Ok(());
    };
    if row.status != "queued" && row.status != "running" {
        return Ok(());
    }
    let db = env.d1(bindings::DB)?;
    db.prepare("UPDATE exports SET status = 'running' WHERE id = ?1")
        .bind(&[id.into()])?
        .run()
        .await?;
    let started = js_sys::Date::now();
    let built = build(env, &row).await;
    let (archive, manifest) = match built {
        Ok(x) => x,
        Err(e) => {
            db.prepare(
                "UPDATE exports SET status = 'failed', reason = ?2, finished_at = ?3 WHERE id = ?1",
            )
            .bind(&[id.into(), e.to_string().into(), now_iso().into()])?
            .run()
            .await?;
            return Ok(());
        }
    };
    let bytes = archive.len();
    if let Err(e) = env
        .bucket(bindings::BUCKET)?
        .put(&row.r2_key, archive)
        .execute()
        .await
    {
        db.prepare(
            "UPDATE exports SET status = 'failed', reason = ?2, finished_at = ?3 WHERE id = ?1",
        )
        .bind(&[
            id.into(),
            format!("could not store the archive: {e}").into(),
            now_iso().into(),
        ])?
        .run()
        .await?;
        return Ok(());
    }
    let mut manifest = manifest;
    manifest["build_ms"] = json!(js_sys::Date::now() - started);
    db.prepare("UPDATE exports SET status = 'done', reason = NULL, finished_at = ?2, bytes = ?3, manifest = ?4 WHERE id = ?1")
        .bind(&[id.into(), now_iso().into(), (bytes as f64).into(), manifest.to_string().into()])?
        .run()
        .await?;
    append_later(
        ctx,
        env,
        Record {
            org_id: row.org_id.clone(),
            at: now_iso(),
            actor: "system".into(),
            action: "export.completed".into(),
            target: Some(id.into()),
            details: json!({ "bytes": bytes }),
        },
    );
    Ok(())
}

async fn build(env: &Env, row: &Row) -> worker::Result<(Vec<u8>, Value)> {
    let org_id = row.org_id.as_str();
    let org: Value = env
        .d1(bindings::DB)?
        .prepare("SELECT id, name, created_at FROM organisations WHERE id = ?1")
        .bind(&[org_id.into()])?
        .first(None)
        .await?
        .unwrap_or(Value::Null);
    let mut tables = vec![
        // Keys' metadata only: never the hash.
        dump(env, "api_keys", "id, org_id, prefix, plan, mode, created_at, revoked_at, last_used_at", "org_id", org_id).await?,
        dump(env, "usage_daily", "subject, org_id, day, requests", "org_id", org_id).await?,
        dump(
            env,
            "certificates",
            "id, org_id, key_id, kind, issued_at, canonical, content_hash, signature, signing_key_id, factor_set_version, \
             total_kg_co2e, pdf_key, pdf_hash, pdf_bytes, revoked_at",
            "org_id",
            org_id,
        )
        .await?,
        dump(env, "reports", "id, org_id, key_id, type, title, period, source, status, reason, created_at, started_at, finished_at, pdf_key, pdf_bytes, summary", "org_id", org_id).await?,
        dump(env, "assets", "*", "org_id", org_id).await?,
        dump(env, "integration_jobs", "*", "org_id", org_id).await?,
        dump(env, "exports", "id, org_id, key_id, status, reason, created_at, finished_at, expires_at, r2_key, bytes", "org_id", org_id).await?,
        dump(env, "idempotency", "scope, idem_key, method_path, body_hash, status, response, created_at", "scope", org_id).await?,
        dump(env, "audit_log", "*", "org_id", org_id).await?,
    ];
    let mut calculations = Table::new("calculations");
    calculations.note = Some("single footprint calculations are not stored; certificates, reports and assets hold what was kept");
    tables.insert(2, calculations);
    // Certificate PDFs, as issued.
    let bucket = env.bucket(bindings::BUCKET)?;
    let mut pdfs = Vec::new();
    for line in tables
        .iter()
        .find(|t| t.name == "certificates")
        .map(|t| t.ndjson.split(|b| *b == b'\n'))
        .into_iter()
        .flatten()
    {
        let Ok(c) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        let (Some(key), Some(id)) = (c["pdf_key"].as_str(), c["id"].as_str()) else {
            continue;
        };
        if let Some(obj) = bucket.get(key).execute().await? {
            if let Some(body) = obj.body() {
                pdfs.push((format!("certificates/{id}.pdf"), body.bytes().await?));
            }
        }
    }
    Ok(archive(&org, tables, &now_iso(), pdfs))
}

/// Cron: delete archives past their expiry and mark them expired.
pub async fn expire(env: &Env) -> worker::Result<usize> {
    #[derive(Deserialize)]
    struct Due {
        id: String,
        r2_key: String,
    }
    let db = env.d1(bindings::DB)?;
    let due: Vec<Due> = db
        .prepare(
            "SELECT id, r2_key FROM exports WHERE status = 'done' AND expires_at <= ?1 LIMIT 500",
        )
        .bind(&[now_iso().into()])?
        .all()
        .await?
        .results()?;
    let bucket = env.bucket(bindings::BUCKET)?;
    for d in &due {
        bucket.delete(&d.r2_key).await?;
        db.prepare("UPDATE exports SET status = 'expired' WHERE id = ?1")
            .bind(&[d.id.clone().into()])?
            .run()
            .await?;
    }
    Ok(due.len())
}
