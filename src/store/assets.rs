//! `assets`: devices an organisation holds or has processed, keyed by Blancco document id.

use wasm_bindgen::JsValue;
use worker::Env;

use serde_json::Value;

use super::opt;
use crate::blancco::import::{assess, Assessed, Import};
use crate::edge::bindings;
use crate::edge::clock::now_iso;
use crate::edge::state;

/// Store assessed devices in one batch (D1 runs it as a transaction: all or nothing).
/// `ON CONFLICT DO NOTHING` makes a re-sync add nothing twice; the result says, row by row,
/// whether it was new.
pub async fn insert(
    env: &Env,
    org_id: &str,
    source: &str,
    rows: &[Assessed],
    now: &str,
) -> worker::Result<Vec<bool>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let db = bindings::db(env)?;
    let num = |v: Option<f64>| v.map(Into::into).unwrap_or(JsValue::NULL);
    let mut stmts = Vec::with_capacity(rows.len());
    for a in rows {
        let d = &a.device;
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
                opt(d.manufacturer.as_deref()),
                d.model.clone().into(),
                opt(d.serial.as_deref()),
                d.category.clone().unwrap_or_else(|| "laptop".into()).into(),
                opt(a.product_id.as_deref()),
                num(d.ram_gb),
                num(d.storage_gb),
                opt(d.erasure_standard.as_deref()),
                opt(d.erased_at.as_deref()),
                a.request.to_string().into(),
                a.avoided_kg_co2e.into(),
                now.into(),
            ])?,
        );
    }
    Ok(db
        .batch(stmts)
        .await?
        .iter()
        .map(|r| r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0) > 0)
        .collect())
}

/// Assess report trees and store the devices for an organisation: the import's tally.
/// Shared by uploads and the pull job.
pub async fn import(
    env: &Env,
    org_id: &str,
    source: &str,
    reports: &[Value],
) -> worker::Result<Import> {
    let engine = state::active(env).await.engine();
    let mut out = Import::default();
    let rows = assess(&engine, reports, &mut out);
    let inserted = insert(env, org_id, source, &rows, &now_iso()).await?;
    out.tally(rows, &inserted);
    Ok(out)
}

/// How many devices an organisation's stored assets hold (its certified devices and its
/// imported ones), as a report of `source: assets` would read them.
pub async fn count(env: &Env, org_id: &str) -> worker::Result<usize> {
    #[derive(serde::Deserialize)]
    struct N {
        n: f64,
    }
    let n: Option<N> = super::first(
        env,
        "SELECT (SELECT COUNT(*) FROM certificates WHERE org_id = ?1 AND mode = 'live' AND kind = 'footprint' AND revoked_at IS NULL) \
              + (SELECT COUNT(*) FROM assets WHERE org_id = ?1 AND mode = 'live') AS n",
        &[org_id.into()],
    )
    .await?;
    Ok(n.map(|n| n.n as usize).unwrap_or(0))
}
