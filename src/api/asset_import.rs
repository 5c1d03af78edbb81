//! `POST /assets/import?format=auto|carbontrace|snipeit|intune|g4it&dry_run=true`: an asset
//! list as CSV (`text/csv`) or JSON, up to 100,000 assets and 20 MiB. The file is read
//! (`inventory::import`) and its rows validated, deduplicated, pinned and sorted against what
//! is stored (`inventory::ingest`).
//!
//! Up to 1,000 assets are answered at once: the rows that change anything are metered against
//! the organisation's day (a file that would exceed it is refused whole, 429 naming what
//! remains), every valid row is written in one transaction, invalid rows are listed with their
//! row and field. A larger file is staged in R2 a chunk at a time and answered 202 with a job
//! (`jobs::asset_import`, the same rules), polled at `GET /assets/import/{id}`.
//! `Idempotency-Key` replays either answer. A test key's import is a dry run against the
//! sandbox's fixed inventory: validated and answered, nothing stored.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use worker::Response;

use super::background;
use super::http::{self, RequestCtx, Step};
use super::idempotency::{self, NextAction};
use super::limiter;
use super::problem::{ApiError, FieldError};
use super::sandbox;
use super::views::{Accepted, JobStatus};
use crate::edge::clock::now_iso;
use crate::edge::{bindings, random, state};
use crate::inventory::asset::AssetInput;
use crate::inventory::import::{read, Assets, Format, Staged, MAX_JOB_BYTES, MAX_JOB_ROWS};
use crate::inventory::ingest::{changes, validate, Progress};
use crate::jobs::Spec;
use crate::store::{imports, inventory as store};

pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let format = match rc.query("format") {
        None => None,
        Some(f) => Format::parse(&f).ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "format",
                "one of: auto, carbontrace, snipeit, intune, g4it",
            )])
        })?,
    };
    // A test key's import is always a dry run, against the sandbox's fixed inventory.
    let dry_run = match rc.query("dry_run").as_deref() {
        None | Some("false") => rc.caller.sandbox(),
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "dry_run",
                "true or false",
            )]))
        }
    };
    let csv = rc
        .header("Content-Type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/csv"));
    let bytes = if csv {
        rc.raw_body_within(MAX_JOB_BYTES).await?
    } else {
        rc.body_bytes_within(MAX_JOB_BYTES).await?
    };
    let reservation = match idempotency::begin(rc, &rc.tenant()?.scope(), &bytes).await? {
        NextAction::Replay(stored) => return Ok(stored),
        NextAction::Proceed(r) => r,
    };
    let outcome = import(rc, bytes, csv, format, dry_run)
        .await
        .map(|(status, v)| match rc.caller.sandbox() {
            true => (status, sandbox::mark(v)),
            false => (status, v),
        });
    let status = outcome.as_ref().map_or(200, |(s, _)| *s);
    let outcome = outcome.map(|(_, v)| v);
    idempotency::settle(rc, reservation, status, &outcome).await?;
    match status {
        202 => background::accepted(outcome?),
        _ => http::json(200, &outcome?),
    }
}

/// Read the file, then import it now (up to 1,000 assets: 200) or as a job (202).
async fn import(
    rc: &mut RequestCtx,
    bytes: Vec<u8>,
    csv: bool,
    format: Option<Format>,
    dry_run: bool,
) -> Result<(u16, Value), ApiError> {
    let text = String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("invalid_encoding", "body", "the file is not UTF-8"))?;
    let (format, assets) =
        read(&text, csv, format, MAX_JOB_ROWS).map_err(|e| ApiError::validation(vec![e]))?;
    drop(text);
    match assets {
        Assets::Inline(bodies) => Ok((200, now(rc, format, dry_run, &bodies).await?)),
        Assets::Staged(staged) => Ok((202, stage(rc, format, dry_run, staged).await?)),
    }
}

/// Up to 1,000 assets, imported in this request.
async fn now(
    rc: &mut RequestCtx,
    format: Format,
    dry_run: bool,
    bodies: &[Value],
) -> Result<Value, ApiError> {
    let tenant = rc.tenant()?;
    let engine = state::active(&rc.env).await.engine();
    let (valid, errors) = validate(&engine, bodies, 1, &mut HashSet::new());
    let serials: Vec<&str> = valid.iter().map(|(_, a, _)| a.serial.as_str()).collect();
    let stored: HashMap<String, AssetInput> = if rc.caller.sandbox() {
        crate::inventory::sandbox::by_serial(&serials)
    } else {
        store::inputs_by_serial(&rc.env, &tenant, &serials, engine.factors)
            .await
            .step("assets import: reading the stored assets")?
    };
    let (writes, counts) = changes(valid, &stored);
    let result = json!({
        "format": format.name(), "dry_run": dry_run, "rows": bodies.len(),
        "created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged,
        "errors": errors, "errors_total": errors.len(), "notes": format.notes(),
    });
    if dry_run || writes.is_empty() {
        return Ok(result);
    }
    // The rows that change something count against the day, refused whole past it.
    limiter::admit(rc, writes.len() as u64, None).await?;
    let writes: Vec<_> = writes
        .into_iter()
        .map(|(a, p)| (format!("ast_{}", random::hex_id(12)), a, p))
        .collect();
    store::upsert_all(&rc.env, &tenant, &writes, &now_iso())
        .await
        .step("assets import: writing the assets")?;
    rc.audit(
        &crate::audit::chain(&tenant.org_id, tenant.mode),
        "assets.imported",
        None,
        json!({ "format": format.name(), "created": counts.created, "updated": counts.updated,
                "unchanged": counts.unchanged, "errors": errors.len() }),
    )
    .await;
    Ok(result)
}

/// More than 1,000 assets: staged in R2 (one JSON body per line) and imported by a job.
async fn stage(
    rc: &RequestCtx,
    format: Format,
    dry_run: bool,
    staged: Staged,
) -> Result<Value, ApiError> {
    let tenant = rc.tenant()?;
    let id = format!("imp_{}", random::hex_id(12));
    let key = format!("imports/{}/{}/{id}.ndjson", tenant.org_id, tenant.mode());
    let rows = staged.rows;
    let bounds = serde_json::to_string(&staged.bounds)
        .map_err(|e| ApiError::internal(format!("assets import: the chunks' offsets: {e}")))?;
    bindings::put_object(
        &rc.env,
        &key,
        staged.ndjson.into_bytes(),
        "application/x-ndjson",
    )
    .await
    .step("assets import: staging the file in R2")?;
    let spec = Spec::AssetImport {
        format: format.name().into(),
        dry_run,
        rows,
        r2_key: key.clone(),
        bounds,
    };
    let created_at = match rc.enqueue(&id, spec).await {
        Ok(created_at) => created_at,
        Err(e) => {
            bindings::delete_object(&rc.env, &key).await;
            return Err(e);
        }
    };
    rc.audit(
        &crate::audit::chain(&tenant.org_id, tenant.mode),
        "assets.import_requested",
        Some(&id),
        json!({ "format": format.name(), "dry_run": dry_run, "rows": rows }),
    )
    .await;
    let extra = json!({ "format": format.name(), "dry_run": dry_run, "rows": rows });
    Ok(Accepted::new(&id, &created_at, "assets/import", extra).value())
}

/// `GET /assets/import/{id}`: a staged import's status; once done, its result in the shape a
/// synchronous import answers with.
pub async fn status(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = imports::owned(&rc.env, &rc.tenant()?, id)
        .await
        .step("assets import: reading the job")?
        .ok_or_else(|| {
            ApiError::not_found(format!("no asset import `{id}` for this organisation"))
        })?;
    let progress = Progress::of(row.progress.as_deref());
    let mut detail = progress.result(&row.format, row.dry_run(), row.rows as usize);
    if let Value::Object(d) = &mut detail {
        if row.job.status != "done" {
            // Until it is done, counts are partial: what the check found so far, or wrote.
            d.insert("phase".into(), json!(progress.phase));
            d.insert("chunks_done".into(), json!(progress.chunk));
            d.insert("chunks".into(), json!(row.bounds().len().saturating_sub(1)));
        }
    }
    let body = serde_json::to_value(JobStatus::of(&row.job, detail))
        .map_err(|e| ApiError::internal(format!("assets import: the status: {e}")))?;
    match rc.caller.sandbox() {
        true => http::json(200, &sandbox::mark(body)),
        false => http::json(200, &body),
    }
}
