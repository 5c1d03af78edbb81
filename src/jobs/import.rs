//! Importing Blancco erasure reports into a tenant's assets: assess each report's devices
//! with the engine (`blancco::import`, pure), then store them in one transaction
//! (`store::assets`). Shared by uploads (`api::blancco`) and the pull job.

use serde_json::Value;
use worker::Env;

use crate::blancco::import::{assess, Import};
use crate::edge::clock::now_iso;
use crate::edge::state;
use crate::store::{assets, Tenant};

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
    let inserted = assets::insert(env, tenant, source, &rows, &now_iso()).await?;
    out.tally(rows, &inserted);
    Ok(out)
}
