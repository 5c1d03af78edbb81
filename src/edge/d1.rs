//! D1 helpers shared by the storage layer (`crate::store`) and the edge's own tables (the
//! audit log): run a query for its first row, run a statement for its change count, bind an
//! optional text.

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::edge::bindings;

/// The first row of `sql` with `params`, if any.
pub(crate) async fn first<T: DeserializeOwned>(
    env: &Env,
    sql: &str,
    params: &[JsValue],
) -> worker::Result<Option<T>> {
    env.d1(bindings::DB)?
        .prepare(sql)
        .bind(params)?
        .first(None)
        .await
}

/// Run a statement; the number of rows it changed.
pub(crate) async fn execute(env: &Env, sql: &str, params: &[JsValue]) -> worker::Result<usize> {
    let r = env
        .d1(bindings::DB)?
        .prepare(sql)
        .bind(params)?
        .run()
        .await?;
    Ok(r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0))
}

/// An optional text column's value.
pub(crate) fn opt(v: Option<&str>) -> JsValue {
    v.map(Into::into).unwrap_or(JsValue::NULL)
}
