//! The storage layer: every SQL statement of the worker, one file per table or aggregate,
//! each exposing typed functions over [`Db`] (D1 on the edge, SQLite in native tests: see
//! [`db`]). Nothing outside this folder writes SQL.
//!
//! Tenancy lives here: every function that reads or writes an organisation's rows takes a
//! [`Tenant`] (or, for the operator's and the jobs' own reads, says in its name that it does
//! not), which puts `org_id` and `mode` in the SQL itself, so a row of another organisation,
//! or of the other mode, is never even loaded: a test key asking for a live object gets the
//! same 404 as for a missing one. Time comes in as a parameter (`now`): the store has no clock.
//!
//! | file | table(s) |
//! |---|---|
//! | `keys` | `api_keys` |
//! | `orgs` | `organisations` |
//! | `usage` | `usage_daily` |
//! | `audit` | `audit_log` |
//! | `idempotency` | `idempotency` |
//! | `jobs` | the lifecycle columns of every job table (enqueue, claim, settle, sweep) |
//! | `reports`, `exports`, `pulls` | each job kind's own columns |
//! | `certificates` | `certificates` |
//! | `assets` | `assets` (Blancco erasure records) |
//! | `inventory` | `inventory_assets` (the fleet inventory) |
//! | `credentials` | `integration_credentials` |
//! | `signing_keys` | `signing_keys` |
//! | `accounts` | `users`, `memberships`, `invites` (the console's people) |
//! | `sessions` | `sessions` (console sign-ins) |
//! | `pact` | `pact_clients`, `pact_profiles`, `pact_footprints` (PACT v3) |
//! | `meta` | `meta` |

pub mod accounts;
pub mod assets;
pub mod audit;
pub mod certificates;
pub mod credentials;
pub mod db;
pub mod exports;
pub mod idempotency;
pub mod imports;
pub mod inventory;
pub mod jobs;
pub mod keys;
pub mod meta;
pub mod odata;
pub mod orgs;
pub mod pact;
pub mod pulls;
pub mod reports;
pub mod sessions;
pub mod signing_keys;
#[cfg(all(test, not(target_arch = "wasm32")))]
pub mod sqlite;
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod testdb;
pub mod usage;

use serde::de::DeserializeOwned;

pub use db::{Db, Error, Param, Result, Stmt};

/// Whose objects a request may touch: an organisation, in one mode (`live` or `test`, from
/// its key). Made by the auth gate's caller, never from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub org_id: String,
    pub mode: crate::keys::Mode,
}

impl Tenant {
    pub fn new(org_id: &str, mode: crate::keys::Mode) -> Tenant {
        Tenant {
            org_id: org_id.to_string(),
            mode,
        }
    }

    pub fn mode(&self) -> &'static str {
        self.mode.name()
    }

    /// The idempotency scope: keys of one mode never replay the other mode's responses.
    pub fn scope(&self) -> String {
        format!("{}:{}", self.org_id, self.mode())
    }
}

/// Who may see a row: a tenant (its organisation and mode, in the SQL), or anyone (public
/// verification, the jobs' own reads by id, the operator).
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Tenant(&'a Tenant),
    Any,
}

/// The one owned-row lookup: row `id` of `table` (its `columns`), only if `owner` may see it.
/// Handlers turn `None` into their 404, the same for a missing row and another tenant's.
pub(crate) async fn row<T: DeserializeOwned>(
    db: &impl Db,
    table: &str,
    columns: &str,
    id: &str,
    owner: Owner<'_>,
) -> Result<Option<T>> {
    match owner {
        Owner::Any => {
            db.first(Stmt::new(format!("SELECT {columns} FROM {table} WHERE id = ?1")).bind(id))
                .await
        }
        Owner::Tenant(t) => {
            db.first(
                Stmt::new(format!(
                    "SELECT {columns} FROM {table} WHERE id = ?1 AND org_id = ?2 AND mode = ?3"
                ))
                .bind(id)
                .bind(t.org_id.as_str())
                .bind(t.mode()),
            )
            .await
        }
    }
}

/// Where a newest-first page starts: after the row with this time and id (the last row of the
/// previous page). As a cursor it travels as `<time>|<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub time: String,
    pub id: String,
}

impl After {
    pub fn cursor(time: &str, id: &str) -> String {
        format!("{time}|{id}")
    }

    /// A cursor as sent (`None`: not one of ours).
    pub fn parse(cursor: &str) -> Option<After> {
        let (time, id) = cursor.split_once('|')?;
        (cursor.len() <= 200 && !time.is_empty() && !id.is_empty()).then(|| After {
            time: time.into(),
            id: id.into(),
        })
    }
}

/// The one newest-first listing: up to `limit` of a tenant's rows of `table` (its `columns`),
/// by `time_col` then id, descending, after `after`. `table`, `columns` and `time_col` are
/// ours, never a caller's.
pub(crate) async fn newest_first<T: DeserializeOwned>(
    db: &impl Db,
    table: &str,
    columns: &str,
    time_col: &str,
    tenant: &Tenant,
    after: Option<&After>,
    limit: usize,
) -> Result<Vec<T>> {
    db.all(
        Stmt::new(format!(
            "SELECT {columns} FROM {table} WHERE org_id = ?1 AND mode = ?2 \
             AND (?3 IS NULL OR {time_col} < ?3 OR ({time_col} = ?3 AND id < ?4)) \
             ORDER BY {time_col} DESC, id DESC LIMIT ?5"
        ))
        .bind(tenant.org_id.as_str())
        .bind(tenant.mode())
        .bind(after.map(|a| a.time.as_str()))
        .bind(after.map(|a| a.id.as_str()))
        .bind(limit),
    )
    .await
}
