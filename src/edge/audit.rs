//! Appending to an organisation's hash-linked audit log in D1 (`crate::audit` holds the
//! hashing and verification). Every append goes through one Durable Object per organisation,
//! [`AuditSequencer`], which holds the chain's tail and writes one entry at a time: appends
//! never race on `seq`, need no retries, and one tenant's audit traffic queues on its own
//! object. Callers await [`append`] before they answer; if the sequencer or D1 fails, the
//! entry goes to the jobs queue, which retries it (then its dead-letter consumer, once more).

use std::panic::AssertUnwindSafe;

use futures_util::lock::Mutex;
use worker::{durable_object, DurableObject, Env, Method, Request, RequestInit, Response, State};

use super::bindings;
use super::clock::now_iso;
use super::queue::Job;
pub use crate::audit::Record;
use crate::audit::{next_entry, Anchor, Entry};
use crate::store;

/// Append now, through the organisation's sequencer (see [`AuditSequencer`]): the one place
/// that assigns `seq`, so concurrent appends queue instead of racing. Err when the sequencer
/// or D1 fails.
pub async fn append_now(env: &Env, r: &Record) -> worker::Result<Entry> {
    let stub = env
        .durable_object(bindings::AUDIT_SEQUENCER)?
        .get_by_name(&r.org_id)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(serde_json::to_string(r)?.into()));
    let req = Request::new_with_init("https://audit-sequencer/append", &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    if resp.status_code() != 200 {
        let why = resp.text().await.unwrap_or_default();
        return Err(worker::Error::RustError(format!(
            "audit sequencer answered {}: {why}",
            resp.status_code()
        )));
    }
    resp.json().await
}

/// Append before answering; if D1 keeps refusing, put the entry on the jobs queue, which
/// retries it (and its dead-letter consumer once more), so a recorded action is not lost.
/// Err only when neither D1 nor the queue would take it.
pub async fn append(env: &Env, r: Record) -> worker::Result<()> {
    match append_now(env, &r).await {
        Ok(_) => Ok(()),
        Err(e) => {
            worker::console_error!("audit append for {} failed, queueing it: {e}", r.org_id);
            super::queue::send(env, Job::Audit(r)).await
        }
    }
}

/// One per organisation (named by its id): assigns `seq` and writes entries one at a time.
/// A Durable Object interleaves requests at every await, so the tail sits behind an async
/// mutex held across the read-build-insert; the tail is cached between appends and reread
/// from D1 after any failure, so a write that went elsewhere can never fork the chain.
#[durable_object]
pub struct AuditSequencer {
    env: Env,
    tail: AssertUnwindSafe<Mutex<Option<(i64, String)>>>,
}

impl DurableObject for AuditSequencer {
    fn new(_state: State, env: Env) -> Self {
        Self {
            env,
            tail: AssertUnwindSafe(Mutex::new(None)),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let r: Record = req.json().await?;
        let db = &self.env;
        let mut cached = self.tail.lock().await;
        let mut last_err = None;
        // A cached tail can only be stale if an entry was written around the sequencer; one
        // reread from D1 settles it.
        for _ in 0..2 {
            let t = match cached.clone() {
                Some(t) => Some(t),
                None => store::audit::tail(db, &r.org_id).await?,
            };
            let e = next_entry(
                t.as_ref().map(|(s, h)| (*s, h.as_str())),
                &r.org_id,
                &r.at,
                &r.actor,
                &r.action,
                r.target.as_deref(),
                &r.details,
            );
            match store::audit::insert(db, &e).await {
                Ok(()) => {
                    *cached = Some((e.seq, e.hash.clone()));
                    return Response::from_json(&e);
                }
                Err(err) => {
                    *cached = None;
                    last_err = Some(err);
                }
            }
        }
        let why = last_err.map(|e| e.to_string()).unwrap_or_default();
        Response::error(format!("audit append failed: {why}"), 503)
    }
}

/// Where an organisation's latest anchor is kept in R2.
pub fn anchor_key(org_id: &str) -> String {
    format!("audit/anchors/{org_id}.json")
}

/// The organisation's latest anchor, if one was written.
pub async fn read_anchor(env: &Env, org_id: &str) -> worker::Result<Option<Anchor>> {
    let Some(obj) = env
        .bucket(bindings::BUCKET)?
        .get(anchor_key(org_id))
        .execute()
        .await?
    else {
        return Ok(None);
    };
    let Some(body) = obj.body() else {
        return Ok(None);
    };
    Ok(serde_json::from_slice(&body.bytes().await?).ok())
}

/// Cron: anchor the head of every chain that moved since its last anchor, signed, in R2. A
/// chain that no longer holds its last anchor was rewritten in D1: it is reported loudly and
/// its anchor is kept as the evidence. Returns (anchored, broken).
pub async fn anchor_heads(env: &Env) -> worker::Result<(usize, usize)> {
    let Some(key) = bindings::signing_key(env) else {
        worker::console_error!("audit anchors skipped: no CERT_SIGNING_KEY");
        return Ok((0, 0));
    };
    let heads = store::audit::heads(env).await?;
    let bucket = env.bucket(bindings::BUCKET)?;
    let (mut anchored, mut broken) = (0, 0);
    for head in heads {
        if let Some(prev) = read_anchor(env, &head.org_id).await? {
            if prev.seq == head.seq && prev.hash == head.hash {
                continue;
            }
            let held = store::audit::at(env, &head.org_id, prev.seq).await?;
            if let Err(b) = prev.check(held.as_ref()) {
                worker::console_error!("AUDIT CHAIN OF {} REWRITTEN: {}", head.org_id, b.reason);
                broken += 1;
                continue;
            }
        }
        let anchor = Anchor::new(
            key.as_bytes(),
            &head.org_id,
            head.seq,
            &head.hash,
            &now_iso(),
        );
        bucket
            .put(anchor_key(&head.org_id), serde_json::to_vec(&anchor)?)
            .execute()
            .await?;
        anchored += 1;
    }
    Ok((anchored, broken))
}
