//! The storage layer: one file per D1 table that handlers and jobs share, holding its row
//! type and its queries. Tenancy lives here: reads of an organisation's object go through
//! `owned`, and its updates and deletes take a [`Tenant`] too, which puts `org_id` and `mode`
//! in the SQL itself, so a row of another organisation, or of the other mode, is never even
//! loaded: a test key asking for a live object gets the same 404 as for a missing one.

pub mod assets;
pub mod certificates;
pub mod credentials;
pub mod exports;
pub mod keys;
pub mod pulls;
pub mod reports;

pub(crate) use crate::edge::d1::{execute, first, opt};

use serde::de::DeserializeOwned;
use worker::Env;

/// Whose objects a request may touch: an organisation, in one mode (`live` or `test`, from
/// its key). Made by the auth gate's caller (`RequestCtx::tenant`), never from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub org_id: String,
    pub mode: crate::keys::Mode,
}

impl Tenant {
    pub fn mode(&self) -> &'static str {
        self.mode.name()
    }

    /// The idempotency scope: keys of one mode never replay the other mode's responses.
    pub fn scope(&self) -> String {
        format!("{}:{}", self.org_id, self.mode())
    }
}

/// The row `id` of `table` (its `columns`); with a tenant, only if it is that tenant's (the
/// check is in the SQL).
pub(crate) async fn row<T: DeserializeOwned>(
    env: &Env,
    table: &str,
    columns: &str,
    id: &str,
    tenant: Option<&Tenant>,
) -> worker::Result<Option<T>> {
    match tenant {
        None => {
            let sql = format!("SELECT {columns} FROM {table} WHERE id = ?1");
            first(env, &sql, &[id.into()]).await
        }
        Some(t) => {
            let sql = format!(
                "SELECT {columns} FROM {table} WHERE id = ?1 AND org_id = ?2 AND mode = ?3"
            );
            first(
                env,
                &sql,
                &[id.into(), t.org_id.as_str().into(), t.mode().into()],
            )
            .await
        }
    }
}

/// How many jobs of `kind` the tenant has queued or running.
pub(crate) async fn open_jobs(
    env: &Env,
    tenant: &Tenant,
    kind: crate::jobs::lifecycle::Kind,
) -> worker::Result<usize> {
    #[derive(serde::Deserialize)]
    struct N {
        n: f64,
    }
    let sql = format!(
        "SELECT COUNT(*) AS n FROM {} WHERE org_id = ?1 AND mode = ?2 AND status IN ('queued', 'running')",
        kind.table()
    );
    let n: Option<N> = first(
        env,
        &sql,
        &[tenant.org_id.as_str().into(), tenant.mode().into()],
    )
    .await?;
    Ok(n.map(|n| n.n as usize).unwrap_or(0))
}
