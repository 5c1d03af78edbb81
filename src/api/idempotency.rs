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

use serde_json::Value;
use sha2::{Digest, Sha256};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::{ApiError, FieldError};
use crate::edge::clock::{iso_after, now_iso};
use crate::store::idempotency::{self as rows, Reserve};

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
    let (now, lock_before, keep_before) = (
        now_iso(),
        iso_after(-LOCK_SECONDS),
        iso_after(-KEEP_SECONDS),
    );
    let reserved = rows::reserve(
        &rc.env,
        &Reserve {
            scope,
            key: &key,
            method_path: &method_path,
            body_hash: &hash,
            now: &now,
            lock_before: &lock_before,
            keep_before: &keep_before,
        },
    )
    .await
    .step("idempotency: reserving the key")?;
    if reserved {
        return Ok(NextAction::Proceed(Some(Reservation {
            scope: scope.to_string(),
            key,
        })));
    }
    let stored = rows::get(&rc.env, scope, &key)
        .await
        .step("idempotency: reading the key")?;
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
    if status >= 400 {
        rows::release(&rc.env, &r.scope, &r.key).await
    } else {
        rows::store_response(&rc.env, &r.scope, &r.key, status, body).await
    }
    .step("idempotency: storing the response")?;
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
    Ok(rows::forget_before(env, &iso_after(-KEEP_SECONDS)).await?)
}
