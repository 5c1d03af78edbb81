//! Appending to an organisation's hash-linked audit log in D1 (`crate::audit` holds the
//! hashing and verification). Appends race on the next `seq`: the primary key (org_id, seq)
//! makes the loser fail, and it retries on the new tail. Callers run this after the response
//! (`waitUntil`); if D1 keeps failing the entry goes to the jobs queue, which retries it, so
//! an entry is never lost.

use serde_json::Value;
use worker::{D1Database, Env};

use super::bindings;
use super::queue::Job;
use crate::audit::{next_entry, Entry};

const ATTEMPTS: usize = 5;

/// What to record.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub org_id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub details: Value,
}

pub fn now_iso() -> String {
    js_sys::Date::new_0()
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
}

async fn tail(db: &D1Database, org_id: &str) -> worker::Result<Option<(i64, String)>> {
    #[derive(serde::Deserialize)]
    struct Tail {
        seq: i64,
        hash: String,
    }
    let t: Option<Tail> = db
        .prepare("SELECT seq, hash FROM audit_log WHERE org_id = ?1 ORDER BY seq DESC LIMIT 1")
        .bind(&[org_id.into()])?
        .first(None)
        .await?;
    Ok(t.map(|t| (t.seq, t.hash)))
}

/// Append now, retrying on a lost race. Err only when D1 itself keeps failing.
pub async fn append_now(env: &Env, r: &Record) -> worker::Result<Entry> {
    let db = env.d1(bindings::DB)?;
    let mut last_err = None;
    for _ in 0..ATTEMPTS {
        let t = tail(&db, &r.org_id).await?;
        let e = next_entry(
            t.as_ref().map(|(s, h)| (*s, h.as_str())),
            &r.org_id,
            &r.at,
            &r.actor,
            &r.action,
            r.target.as_deref(),
            &r.details,
        );
        let insert = db
            .prepare(
                "INSERT INTO audit_log (org_id, seq, at, actor, action, target, details, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .bind(&[
                e.org_id.clone().into(),
                (e.seq as f64).into(),
                e.at.clone().into(),
                e.actor.clone().into(),
                e.action.clone().into(),
                e.target.clone().map(Into::into).unwrap_or(wasm_bindgen::JsValue::NULL),
                e.details.clone().into(),
                e.prev_hash.clone().into(),
                e.hash.clone().into(),
            ])?;
        match insert.run().await {
            Ok(_) => return Ok(e),
            Err(err) => last_err = Some(err), // most likely a concurrent append took this seq
        }
    }
    Err(last_err.unwrap_or_else(|| worker::Error::RustError("audit append failed".into())))
}

/// Append after the response; fall back to the queue so the entry is never lost.
pub fn append_later(ctx: &worker::Context, env: &Env, r: Record) {
    let env = env.clone();
    ctx.wait_until(async move {
        if let Err(e) = append_now(&env, &r).await {
            worker::console_error!("audit append failed, queueing it: {e}");
            match env.queue(bindings::JOBS) {
                Ok(q) => {
                    if let Err(e) = q.send(Job::Audit(r)).await {
                        worker::console_error!("audit entry could not be queued either: {e}");
                    }
                }
                Err(e) => worker::console_error!("no jobs queue for the audit fallback: {e}"),
            }
        }
    });
}

/// Every entry of an organisation, in order.
pub async fn chain(env: &Env, org_id: &str) -> worker::Result<Vec<Entry>> {
    let db = env.d1(bindings::DB)?;
    db.prepare(
        "SELECT org_id, seq, at, actor, action, target, details, prev_hash, hash FROM audit_log \
         WHERE org_id = ?1 ORDER BY seq",
    )
    .bind(&[org_id.into()])?
    .all()
    .await?
    .results()
}
