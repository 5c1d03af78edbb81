//! Importing Blancco erasure reports into a tenant's assets: assess each report's devices
//! with the engine (`blancco::import`, pure), then store them in one transaction
//! (`store::assets`), and retire the fleet inventory's assets whose serials were erased
//! (`store::inventory::link_erasures`). Shared by uploads (`api::blancco`) and the pull job.

use serde_json::Value;
use worker::Env;

use crate::blancco::import::{assess, Import};
use crate::edge::clock::now_iso;
use crate::edge::state;
use crate::store::{assets, inventory, Tenant};

/// Assess report trees and store the devices for a tenant: the import's tally.
pub(crate) async fn import(
    env: &Env,
    tenant: &Tenant,
    source: &str,
    reports: &[Value],
) -> crate::store::Result<Import> {
    let engine = state::active(env).await.engine();
    let mut out = Import::default();
    let rows = assess(&engine, reports, &mut out);
    let now = now_iso();
    let inserted = assets::insert(env, tenant, source, &rows, &now).await?;
    // An erased device that is in the fleet inventory is retired there, and linked.
    let erasures: Vec<(&str, &str, &str)> = rows
        .iter()
        .filter_map(|a| {
            let d = &a.device;
            let date = d.erased_at.as_deref()?.get(..10)?;
            Some((d.serial.as_deref()?, date, d.document_id.as_str()))
        })
        .collect();
    inventory::link_erasures(env, tenant, &erasures, &now).await?;
    out.tally(rows, &inserted);
    Ok(out)
}
