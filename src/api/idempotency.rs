//! `Idempotency-Key` for POSTs that create things. The first request reserves the key (a row
//! with no response yet); when it finishes its status and body are stored, and a repeat with
//! the same body gets them back (`Idempotent-Replayed: true`). The same key with another body
//! is a 422; a repeat while the first is still running is a 409. Requests the API refuses
//! as invalid (4xx), and failures on our side (5xx), release the key, so the client can fix
//! the body, or simply retry, with the same key.
//!
//! Keys have an end: a reservation whose request never finished (its isolate died, or its
//! response could not be stored) is free again after [`LOCK_SECONDS`], and a stored response
//! is replayed for [`KEEP_SECONDS`] (24 hours), after which the key can be used afresh. The
//! hourly cron deletes rows past that.

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::{ApiError, FieldError};
use crate::edge::bindings;
use crate::edge::clock::{iso_after, now_iso};

const MAX_KEY_LEN: usize = 255;
/// How long an unfinished reservation blocks its key.
pub const LOCK_SECONDS: f64 = 60.0;
/// How long a finished request's response is replayed.
pub const KEEP_SECONDS: f64 = 86_400.0;

/// A reserved key, to finish with the response.
pub struct Reservation {
    scope: String,
    key: String,
}

#[derive(Deserialize)]
struct Stored {
    method_path: String,
    body_hash: String,
    status: Option<u16>,
    response: Option<String>,
}

fn body_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a handler does after [`begin`].
pub enum NextAction {
    /// Do the work, then [`settle`] the reservation (none when no key was sent).
    Proceed(Option<Reservation>),
    /// The key's stored response: answer with it, do nothing.
    Replay(Response),
}

/// Reserve the request's Idempotency-Key, or answer with the stored response.
pub async fn begin(rc: &RequestCtx, scope: &str, body: &[u8]) -> Result<NextAction, ApiError> {
    let Some(key) = rc.header("Idempotency-Key") else {
        return Ok(NextAction::Proceed(None));
    };
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key",
            format!(
                "must be 1 to {MAX_KEY_LEN} visible ASCII characters (a V4 UUID is a good choice)"
            ),
        ));
    }
    let method_path = format!("{} {}", rc.req.method().as_ref(), rc.url.path());
    let hash = body_hash(body);
    let db = rc.env.d1(bindings::DB).step("begin: opening D1")?;
    // Take the key if it is new, or if what holds it has lapsed: a reservation older than the
    // lock time, or a response older than the replay window.
    let inserted = db
        .prepare(
            "INSERT INTO idempotency (scope, idem_key, method_path, body_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT(scope, idem_key) DO UPDATE SET method_path = excluded.method_path, \
               body_hash = excluded.body_hash, status = NULL, response = NULL, created_at = excluded.created_at \
             WHERE (idempotency.status IS NULL AND idempotency.created_at < ?6) OR idempotency.created_at < ?7",
        )
        .bind(&[
            scope.into(),
            key.clone().into(),
            method_path.clone().into(),
            hash.clone().into(),
            now_iso().into(),
            iso_after(-LOCK_SECONDS).into(),
            iso_after(-KEEP_SECONDS).into(),
        ])
        .step("begin: iso_after")?
        .run()
        .await
        .step("begin: running a D1 statement")?
        .meta()
        .step("begin: reading D1 metadata")?
        .and_then(|m| m.changes)
        .unwrap_or(0)
        > 0;
    if inserted {
        return Ok(NextAction::Proceed(Some(Reservation {
            scope: scope.to_string(),
            key,
        })));
    }
    let stored: Option<Stored> = db
        .prepare("SELECT method_path, body_hash, status, response FROM idempotency WHERE scope = ?1 AND idem_key = ?2")
        .bind(&[scope.into(), key.clone().into()])
        .step("begin: binding a D1 query")?
        .first(None)
        .await
        .step("begin: reading a D1 row")?;
    let Some(stored) = stored else {
        return Err(ApiError::new(
            409,
            "idempotency_conflict",
            "Conflict",
            "Retry the request.",
        ));
    };
    if stored.body_hash != hash || stored.method_path != method_path {
        let mut e = ApiError::new(
            422,
            "idempotency_key_reused",
            "Idempotency-Key reused",
            "This Idempotency-Key was used with another request body or endpoint; use a new key.",
        );
        e.errors
            .push(FieldError::new("Idempotency-Key", e.detail.clone()));
        return Err(e);
    }
    match (stored.status, stored.response) {
        (Some(status), Some(body)) => {
            let mut resp =
                http::bytes(status, "application/json; charset=utf-8", body.into_bytes())?;
            http::set(resp.headers_mut(), "Idempotent-Replayed", "true");
            Ok(NextAction::Replay(resp))
        }
        _ => Err(ApiError::new(
            409,
            "idempotency_in_progress",
            "Request in progress",
            format!(
                "A request with this Idempotency-Key is still being processed; retry shortly \
                 (a request that never finished frees its key after {LOCK_SECONDS} s)."
            ),
        )
        .with_header("Retry-After", "5")),
    }
}

/// Store the response of a reserved request, or release the key when the request was refused
/// (4xx) or failed on our side (5xx: a retry should run again, not replay the failure).
pub async fn finish(
    rc: &RequestCtx,
    r: Reservation,
    status: u16,
    body: &str,
) -> Result<(), ApiError> {
    let db = rc.env.d1(bindings::DB).step("finish: opening D1")?;
    let stmt = if status >= 400 {
        db.prepare("DELETE FROM idempotency WHERE scope = ?1 AND idem_key = ?2")
            .bind(&[r.scope.into(), r.key.into()])
    } else {
        db.prepare(
            "UPDATE idempotency SET status = ?3, response = ?4 WHERE scope = ?1 AND idem_key = ?2",
        )
        .bind(&[
            r.scope.into(),
            r.key.into(),
            (status as f64).into(),
            body.into(),
        ])
    };
    stmt.step("idempotency: storing the response")?
        .run()
        .await
        .step("finish: running a D1 statement")?;
    Ok(())
}

/// Settle a reservation (if any) with a handler's outcome: its JSON and `status` on success,
/// its problem otherwise (a 4xx releases the key).
pub async fn settle(
    rc: &RequestCtx,
    reservation: Option<Reservation>,
    status: u16,
    outcome: &Result<Value, ApiError>,
) -> Result<(), ApiError> {
    let Some(r) = reservation else { return Ok(()) };
    let (status, stored) = match outcome {
        Ok(v) => (status, v.to_string()),
        Err(e) => (e.status, e.body(&rc.request_id).to_string()),
    };
    finish(rc, r, status, &stored).await
}

/// Cron: forget keys past the replay window.
pub async fn forget_expired(env: &worker::Env) -> worker::Result<usize> {
    crate::store::execute(
        env,
        "DELETE FROM idempotency WHERE created_at < ?1",
        &[iso_after(-KEEP_SECONDS).into()],
    )
    .await
}
