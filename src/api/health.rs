//! `GET /health`: liveness for anyone; with the admin token, a deep check that touches each
//! of the five bindings from inside the worker and reports each one.

use serde_json::{json, Value};

use super::auth::admin_on_public_route;
use super::http::{self, RequestCtx};
use super::problem::ApiError;
use crate::edge::rate_limiter::LimiterCall;
use crate::edge::state;
use crate::edge::{bindings, queue::Job, random};
use crate::version::{METHODOLOGY_VERSION, SERVICE_NAME, SERVICE_VERSION};

pub async fn get(rc: &mut RequestCtx) -> Result<worker::Response, ApiError> {
    let mut body = json!({
        "status": "ok",
        "service": SERVICE_NAME,
        "version": SERVICE_VERSION,
        "methodology_version": METHODOLOGY_VERSION,
        "factor_set_version": state::active(&rc.env).await.factors.version,
    });
    if admin_on_public_route(rc).await? {
        let checks = deep_checks(rc).await;
        let all_ok = checks.values().all(|c| c["ok"] == true);
        body["status"] = json!(if all_ok { "ok" } else { "degraded" });
        body["checks"] = Value::Object(checks);
        if let Some(id) = rc.query("queue_probe") {
            body["queue_probe"] = queue_probe_status(rc, &id).await;
        }
        let mut resp = http::json(if all_ok { 200 } else { 503 }, &body)?;
        http::set(resp.headers_mut(), "Cache-Control", "no-store");
        return Ok(resp);
    }
    let mut resp = http::json(200, &body)?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

async fn deep_checks(rc: &RequestCtx) -> serde_json::Map<String, Value> {
    let nonce = random::hex_id(8);
    let mut checks = serde_json::Map::new();
    checks.insert("kv".into(), report(check_kv(rc, &nonce).await));
    checks.insert("d1".into(), report(check_d1(rc).await));
    checks.insert("durable_object".into(), report(check_do(rc).await));
    checks.insert("r2".into(), report(check_r2(rc, &nonce).await));
    checks.insert("queue".into(), report(check_queue(rc, &nonce).await));
    checks
}

fn report(result: worker::Result<Value>) -> Value {
    match result {
        Ok(mut detail) => {
            detail["ok"] = json!(true);
            detail
        }
        Err(e) => json!({ "ok": false, "error": e.to_string() }),
    }
}

fn failed(what: &str) -> worker::Error {
    worker::Error::RustError(what.to_string())
}

async fn check_kv(rc: &RequestCtx, nonce: &str) -> worker::Result<Value> {
    let kv = rc.env.kv(bindings::KV)?;
    kv.put("health:probe", nonce)?
        .expiration_ttl(60)
        .execute()
        .await?;
    let read = kv.get("health:probe").text().await?;
    if read.as_deref() != Some(nonce) {
        return Err(failed("KV read did not return what was written"));
    }
    Ok(json!({ "wrote_and_read": nonce }))
}

async fn check_d1(rc: &RequestCtx) -> worker::Result<Value> {
    let version = crate::store::meta::schema_version(&rc.env)
        .await?
        .ok_or_else(|| failed("meta.schema_version missing: are the D1 migrations applied?"))?;
    Ok(json!({ "schema_version": version }))
}

async fn check_do(rc: &RequestCtx) -> worker::Result<Value> {
    let v: Result<Value, _> = super::limiter::call(rc, "health-probe", &LimiterCall::Ping)
        .await
        .map_err(|e| failed(&e.detail))?;
    let v = v.map_err(|_| failed("Durable Object ping refused"))?;
    Ok(json!({ "pings": v["pings"] }))
}

async fn check_r2(rc: &RequestCtx, nonce: &str) -> worker::Result<Value> {
    let bucket = rc.env.bucket(bindings::BUCKET)?;
    let key = format!("health/{nonce}.txt");
    bucket
        .put(&key, nonce.as_bytes().to_vec())
        .execute()
        .await?;
    let read = match bucket.get(&key).execute().await? {
        Some(obj) => match obj.body() {
            Some(body) => body.text().await?,
            None => String::new(),
        },
        None => String::new(),
    };
    bucket.delete(&key).await?;
    if read != nonce {
        return Err(failed("R2 read did not return what was written"));
    }
    Ok(json!({ "wrote_read_deleted": key }))
}

async fn check_queue(rc: &RequestCtx, nonce: &str) -> worker::Result<Value> {
    rc.env
        .queue(bindings::JOBS)?
        .send(Job::Probe {
            id: nonce.to_string(),
        })
        .await?;
    Ok(json!({ "sent_probe": nonce, "check_with": format!("?queue_probe={nonce}") }))
}

/// Whether the consumer has seen probe `id` (it writes a KV marker when it does).
async fn queue_probe_status(rc: &RequestCtx, id: &str) -> Value {
    let consumed_at = match rc.env.kv(bindings::KV) {
        Ok(kv) => kv
            .get(&bindings::queue_probe_key(id))
            .text()
            .await
            .ok()
            .flatten(),
        Err(_) => None,
    };
    json!({ "id": id, "consumed": consumed_at.is_some(), "consumed_at": consumed_at })
}
