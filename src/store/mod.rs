//! The storage layer: one file per D1 table that handlers and jobs share, holding its row
//! type and its queries. Reads of an organisation's object go through `owned`, which names
//! `org_id` in the SQL itself, so a row of another organisation is never even loaded.

pub mod assets;
pub mod certificates;
pub mod exports;
pub mod pulls;
pub mod reports;

pub(crate) use crate::edge::d1::{execute, first, opt};

use serde::de::DeserializeOwned;
use worker::Env;

/// The row `id` of `table` (its `columns`), or with `org_id`, only if that organisation owns
/// it: the ownership check is in the SQL, so another organisation's row is never loaded.
pub(crate) async fn row<T: DeserializeOwned>(
    env: &Env,
    table: &str,
    columns: &str,
    id: &str,
    org_id: Option<&str>,
) -> worker::Result<Option<T>> {
    match org_id {
        None => {
            let sql = format!("SELECT {columns} FROM {table} WHERE id = ?1");
            first(env, &sql, &[id.into()]).await
        }
        Some(org) => {
            let sql = format!("SELECT {columns} FROM {table} WHERE id = ?1 AND org_id = ?2");
            first(env, &sql, &[id.into(), org.into()]).await
        }
    }
}
