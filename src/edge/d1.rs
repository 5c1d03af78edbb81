//! D1 behind the store's [`Db`] interface. The worker's environment is its database: every
//! store function takes `&impl Db`, and handlers and jobs pass their `Env`, whose `DB`
//! binding runs the statement. Nothing here writes SQL; it only binds and runs what
//! `crate::store` wrote.

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

use crate::edge::bindings;
use crate::store::db::{Db, Error, Param, Result, Stmt};

fn js(p: &Param) -> JsValue {
    match p {
        Param::Null => JsValue::NULL,
        // D1 takes JS numbers; integers up to 2^53 are exact.
        Param::Int(n) => JsValue::from_f64(*n as f64),
        Param::Real(x) => JsValue::from_f64(*x),
        Param::Text(t) => JsValue::from_str(t),
    }
}

fn prepare(env: &Env, s: &Stmt) -> Result<D1PreparedStatement> {
    let params: Vec<JsValue> = s.params.iter().map(js).collect();
    env.d1(bindings::DB)
        .map_err(|e| Error(format!("D1 binding: {e}")))?
        .prepare(&*s.sql)
        .bind(&params)
        .map_err(|e| Error::about(&s.sql, e))
}

fn changes(r: &worker::D1Result) -> usize {
    r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0)
}

impl Db for Env {
    async fn first<T: DeserializeOwned>(&self, s: Stmt) -> Result<Option<T>> {
        prepare(self, &s)?
            .first(None)
            .await
            .map_err(|e| Error::about(&s.sql, e))
    }

    async fn all<T: DeserializeOwned>(&self, s: Stmt) -> Result<Vec<T>> {
        prepare(self, &s)?
            .all()
            .await
            .and_then(|r| r.results())
            .map_err(|e| Error::about(&s.sql, e))
    }

    async fn run(&self, s: Stmt) -> Result<usize> {
        prepare(self, &s)?
            .run()
            .await
            .map(|r| changes(&r))
            .map_err(|e| Error::about(&s.sql, e))
    }

    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<usize>> {
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        let prepared = stmts
            .iter()
            .map(|s| prepare(self, s))
            .collect::<Result<Vec<_>>>()?;
        let db = self
            .d1(bindings::DB)
            .map_err(|e| Error(format!("D1 binding: {e}")))?;
        db.batch(prepared)
            .await
            .map(|rs| rs.iter().map(changes).collect())
            .map_err(|e| Error::about(&stmts[0].sql, e))
    }
}

/// A store failure where the edge speaks `worker::Error` (queue handlers, Durable Objects).
impl From<Error> for worker::Error {
    fn from(e: Error) -> Self {
        worker::Error::RustError(e.0)
    }
}
