//! GDPR bulk export: `POST /exports` (a background job, see `jobs::export`), `GET
//! /exports/{id}` (status, or the archive with `Accept: application/zip` / `?download=1`) and
//! `DELETE /exports/{id}`.

use serde_json::{json, Value};
use worker::{Env, Response};

use super::background;
use super::http::{self, RequestCtx, Step};
use super::idempotency::{self, NextAction};
use super::limiter;
use super::problem::ApiError;
use super::views::{stored_json, Accepted, ExportDetail, JobStatus};
use crate::edge::clock::{iso_after, now_iso};
use crate::edge::{bindings, random};
use crate::job::Kind;
use crate::jobs;
use crate::store::exports::{self, Export};
use crate::version::BASE_PATH;

fn ttl_days(env: &Env) -> f64 {
    env.var("EXPORT_TTL_DAYS")
        .ok()
        .and_then(|v| v.to_string().parse::<f64>().ok())
        .filter(|d| *d > 0.0 && *d <= 90.0)
        .unwrap_or(7.0)
}

pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    if rc.caller.sandbox() {
        return Err(ApiError::sandbox_not_supported("Exports"));
    }
    let bytes = rc.raw_body().await?;
    let org_id = rc.org_id()?;
    let reservation = match idempotency::begin(rc, &rc.tenant()?.scope(), &bytes).await? {
        NextAction::Replay(stored) => return Ok(stored),
        NextAction::Proceed(r) => r,
    };
    let outcome = async {
        limiter::admit(rc, 1, Some(Kind::Export)).await?;
        enqueue(rc, &org_id).await
    }
    .await;
    idempotency::settle(rc, reservation, 202, &outcome).await?;
    background::accepted(outcome?)
}

async fn enqueue(rc: &RequestCtx, org_id: &str) -> Result<Value, ApiError> {
    let id = format!("exp_{}", random::hex_id(12));
    let expires = iso_after(ttl_days(&rc.env) * 86_400.0);
    let spec = jobs::Spec::Export {
        expires_at: expires.clone(),
        r2_key: format!("exports/{org_id}/{id}.zip"),
    };
    let now = rc.enqueue(&id, spec).await?;
    rc.audit(org_id, "export.requested", Some(&id), json!({}))
        .await;
    Ok(Accepted::new(&id, &now, "exports", json!({ "expires_at": expires })).value())
}

async fn own(rc: &RequestCtx, id: &str) -> Result<Export, ApiError> {
    exports::owned(&rc.env, &rc.tenant()?, id)
        .await
        .step("export: reading the row")?
        .ok_or_else(|| ApiError::not_found(format!("no export `{id}` for this organisation")))
}

pub async fn get(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = own(rc, id).await?;
    if rc.wants("download", "application/zip")? {
        let gone = |why: String| ApiError::new(410, "export_gone", "Export gone", why);
        match row.job.status.as_str() {
            "done" => {}
            "expired" | "deleted" => {
                return Err(gone(format!(
                    "This export was {}; start a new one.",
                    row.job.status
                )))
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
        let name = format!("carbontrace-export-{}.zip", row.job.id);
        return background::download(rc, &row.r2_key, "application/zip", &name)
            .await?
            .ok_or_else(|| gone("The archive is no longer stored.".into()));
    }
    let manifest = stored_json(row.manifest.as_deref());
    let mut resp = http::json(
        200,
        &JobStatus::of(
            &row.job,
            ExportDetail {
                expires_at: &row.expires_at,
                bytes: row.bytes,
                counts: ExportDetail::counts(&manifest),
                download_url: (row.job.status == "done")
                    .then(|| format!("{BASE_PATH}/exports/{}?download=1", row.job.id)),
                manifest,
            },
        ),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// Delete an export: marked `deleted` first (so a build still running cannot bring it back:
/// its `done` is refused and it removes what it wrote), then its archive removed.
pub async fn delete(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = own(rc, id).await?;
    let deleted = exports::mark_deleted(&rc.env, &rc.tenant()?, id, &now_iso())
        .await
        .step("export: marking it deleted")?;
    bindings::delete_object(&rc.env, &row.r2_key).await;
    if deleted {
        rc.audit(&rc.org_id()?, "export.deleted", Some(id), json!({}))
            .await;
    }
    http::json(200, &json!({ "id": id, "status": "deleted" }))
}
