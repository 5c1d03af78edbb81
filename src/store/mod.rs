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
//! | `meta` | `meta` |

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
pub mod pulls;
pub mod reports;
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
