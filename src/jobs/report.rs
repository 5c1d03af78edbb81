//! The report job: read the fleet (the request stored in R2, or the organisation's stored
//! assets), compute it, render the PDF, store it in R2; the runner records the summary. A
//! `ghg_inventory` report reads a reporting year of the fleet inventory instead.
//! Re-running writes the same PDF key, so a retried or recovered job never leaves two.

use serde_json::{json, Value};
use worker::Env;

use super::runner::{BackgroundJob, Claimed, Done, Outcome};
use crate::edge::clock::{now_iso, now_ms};
use crate::edge::{bindings, state};
use crate::job::{JobError, Kind};
use crate::lca::fleet::{analyse, parse_fleet, FleetDevice};
use crate::lca::report_request::{InventoryRequest, StoredFleet, MAX_DEVICES};
use crate::pdf::report::{render, ReportMeta};
use crate::store::reports::{self, Report};
use crate::store::{assets, certificates, inventory, orgs, Tenant};
use crate::version::METHODOLOGY_VERSION;

pub struct ReportJob;

impl BackgroundJob for ReportJob {
    const KIND: Kind = Kind::Report;

    async fn run(env: &Env, job: &Claimed) -> Result<Done, JobError> {
        let row = reports::find(env, &job.id)
            .await
            .map_err(|e| JobError::transient("reading the report row", e))?
            .ok_or_else(|| JobError::Permanent("the report row is gone".into()))?;
        let (pdf_key, bytes, summary) = build(env, &job.tenant(), &row).await?;
        Ok(Done {
            details: json!({ "total_kg_co2e": summary["total_kg_co2e"], "pdf_bytes": bytes }),
            outcome: Outcome::Report {
                pdf_key,
                pdf_bytes: bytes,
                summary: summary.to_string(),
            },
        })
    }
}

/// The tenant's stored assets as footprint requests: its certified devices and the devices
/// imported from Blancco erasure reports (stored documents, parsed here).
async fn asset_devices(env: &Env, tenant: &Tenant) -> crate::store::Result<Vec<Value>> {
    let mut devices: Vec<Value> = certificates::certified_requests(env, tenant, MAX_DEVICES)
        .await?
        .iter()
        .filter_map(|c| serde_json::from_str::<Value>(c).ok())
        .map(|doc| doc["request"].clone())
        .collect();
    let imported = assets::requests(env, tenant, MAX_DEVICES).await?;
    devices.extend(imported.iter().filter_map(|a| serde_json::from_str(a).ok()));
    devices.truncate(MAX_DEVICES);
    Ok(devices)
}

/// The request the handler stored in R2 (a parsed fleet, or an inventory's year and view).
async fn stored_request(env: &Env, row: &Report) -> Result<Vec<u8>, JobError> {
    let obj = env
        .bucket(bindings::BUCKET)
        .map_err(|e| JobError::transient("opening R2", e))?
        .get(&row.request_key)
        .execute()
        .await
        .map_err(|e| JobError::transient("reading the request from R2", e))?
        .ok_or_else(|| JobError::Permanent("the request is missing from storage".into()))?;
    match obj.body() {
        Some(body) => body
            .bytes()
            .await
            .map_err(|e| JobError::transient("reading the request body", e)),
        None => Ok(Vec::new()),
    }
}

/// Render a report's PDF (with its organisation's name and the methodology version) and store
/// it at the report's fixed key (a retried job overwrites, never leaves two): key and size.
async fn publish(
    env: &Env,
    row: &Report,
    render: impl FnOnce(&ReportMeta) -> Vec<u8>,
) -> Result<(String, usize), JobError> {
    let org = orgs::name(env, &row.org_id)
        .await
        .map_err(|e| JobError::transient("reading the organisation", e))?;
    let generated_at = now_iso();
    let pdf = render(&ReportMeta {
        id: &row.job.id,
        kind: &row.kind,
        title: &row.title,
        org: &org,
        generated_at: &generated_at,
        period: row.period.as_deref(),
        methodology_version: METHODOLOGY_VERSION,
    });
    let key = format!("reports/{}/{}.pdf", row.org_id, row.job.id);
    let bytes = pdf.len();
    bindings::put_object(env, &key, pdf, "application/pdf")
        .await
        .map_err(|e| JobError::transient("storing the PDF in R2", e))?;
    Ok((key, bytes))
}

/// A `ghg_inventory` report: the reporting year of the organisation's fleet inventory, as
/// `GET /inventory` answers it, rendered; its summary is the inventory's figures.
async fn build_inventory(
    env: &Env,
    tenant: &Tenant,
    row: &Report,
) -> Result<(String, usize, Value), JobError> {
    let started = now_ms();
    let req: InventoryRequest = serde_json::from_slice(&stored_request(env, row).await?)
        .map_err(|e| JobError::Permanent(format!("the stored request is unreadable: {e}")))?;
    let year = inventory::year(env, tenant, req.year, req.view)
        .await
        .map_err(|e| JobError::transient("reading the inventory", e))?;
    let (key, bytes) = publish(env, row, |meta| {
        crate::pdf::inventory::render(meta, &year.inventory)
    })
    .await?;
    let mut summary = serde_json::to_value(&year.inventory)
        .map_err(|e| JobError::Permanent(format!("the inventory: {e}")))?;
    summary["total_kg_co2e"] = json!(year.inventory.total.value);
    summary["timing_ms"] = json!({ "total": now_ms() - started });
    Ok((key, bytes, summary))
}

async fn build(
    env: &Env,
    tenant: &Tenant,
    row: &Report,
) -> Result<(String, usize, Value), JobError> {
    let started = now_ms();
    if row.source == "inventory" {
        return build_inventory(env, tenant, row).await;
    }
    let engine = state::active(env).await.engine();
    let devices: Vec<FleetDevice> = if row.source == "assets" {
        let stored = asset_devices(env, tenant)
            .await
            .map_err(|e| JobError::transient("reading the stored assets", e))?;
        parse_fleet(&stored, engine.factors)
    } else {
        let bytes = stored_request(env, row).await?;
        serde_json::from_slice::<StoredFleet>(&bytes)
            .map_err(|e| JobError::Permanent(format!("the stored fleet is unreadable: {e}")))?
            .devices
    };
    if devices.is_empty() {
        return Err(JobError::Permanent(
            "the fleet is empty (no devices, or no stored assets)".into(),
        ));
    }
    let fleet = analyse(&engine, &devices);
    if fleet.devices.is_empty() {
        return Err(JobError::Permanent(format!(
            "no device could be computed; first problem: {}",
            fleet.skipped.first().map(|s| s.1.as_str()).unwrap_or("-")
        )));
    }
    let computed_ms = now_ms() - started;
    let (key, bytes) = publish(env, row, |meta| render(meta, &fleet)).await?;
    let total_ms = now_ms() - started;
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
