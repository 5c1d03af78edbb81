//! `POST /assets/import?format=auto|carbontrace|snipeit|intune|g4it&dry_run=true`: up to
//! 1,000 rows of CSV (`text/csv`) or JSON in one call. Each row is read (`inventory::import`),
//! validated and pinned; rows are sorted into created, updated and unchanged against what is
//! stored; the rows that change anything are metered against the organisation's day (a file
//! that would exceed it is refused whole, 429 naming what remains); then every valid row is
//! written in one transaction, and invalid rows are listed with their row and field.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::limiter;
use super::problem::{ApiError, FieldError};
use crate::edge::clock::now_iso;
use crate::edge::{random, state};
use crate::inventory::asset::{parse, pin};
use crate::inventory::import::{read, Format, RowError};
use crate::store::inventory as store;

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
    let dry_run = match rc.query("dry_run").as_deref() {
        None | Some("false") => false,
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
        rc.raw_body().await?
    } else {
        rc.body_bytes().await?
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("invalid_encoding", "body", "the file is not UTF-8"))?;
    let (format, bodies) = read(&text, csv, format).map_err(|e| ApiError::validation(vec![e]))?;

    let tenant = rc.tenant()?;
    let engine = state::active(&rc.env).await.engine();
    let mut errors: Vec<RowError> = Vec::new();
    let mut valid = Vec::new();
    let mut seen = HashSet::new();
    for (i, body) in bodies.iter().enumerate() {
        let row = i + 1;
        let input = match parse(body, engine.factors) {
            Ok(a) => a,
            Err(es) => {
                errors.extend(es.into_iter().map(|e| RowError::of(row, e)));
                continue;
            }
        };
        if !seen.insert(input.serial.clone()) {
            errors.push(RowError::of(
                row,
                FieldError::new("serial", "repeats an earlier row's serial"),
            ));
            continue;
        }
        match pin(&engine, &input) {
            Ok(p) => valid.push((row, input, p)),
            Err(es) => errors.extend(es.into_iter().map(|e| RowError::of(row, e))),
        }
    }
    // Against what is stored: new serials are created, changed ones updated, the rest free.
    let serials: Vec<&str> = valid.iter().map(|(_, a, _)| a.serial.as_str()).collect();
    let stored: HashMap<String, store::Row> = store::by_serials(&rc.env, &tenant, &serials)
        .await
        .step("assets import: reading the stored assets")?
        .into_iter()
        .map(|r| (r.serial.clone(), r))
        .collect();
    let (mut created, mut updated, mut unchanged) = (0usize, 0usize, 0usize);
    let mut writes = Vec::new();
    for (_, input, pinned) in valid {
        match stored.get(&input.serial) {
            None => created += 1,
            Some(r) if parse(&r.input_json(), engine.factors).ok().as_ref() == Some(&input) => {
                unchanged += 1;
                continue;
            }
            Some(_) => updated += 1,
        }
        writes.push((format!("ast_{}", random::hex_id(12)), input, pinned));
    }
    let result = json!({
        "format": format.name(), "dry_run": dry_run, "rows": bodies.len(),
        "created": created, "updated": updated, "unchanged": unchanged, "errors": errors,
    });
    if dry_run || writes.is_empty() {
        return http::json(200, &result);
    }
    // The rows that change something count against the day, refused whole past it.
    limiter::admit(rc, writes.len() as u64, None).await?;
    store::upsert_all(&rc.env, &tenant, &writes, &now_iso())
        .await
        .step("assets import: writing the assets")?;
    let chain = crate::audit::chain(&tenant.org_id, tenant.mode);
    rc.audit(
        &chain,
        "assets.imported",
        None,
        json!({ "format": format.name(), "created": created, "updated": updated,
                "unchanged": unchanged, "errors": errors.len() }),
    )
    .await;
    http::json(200, &result as &Value)
}
