//! Making a key, shared by the organisation's `POST /keys` and `POST /keys/{id}/roll` and the
//! operator's `POST /admin/keys`: a fresh secret from the runtime's randomness (shown once,
//! never stored), the stored row within the plan's key cap (409 past it), the answer that
//! shows the secret once (and hides it from an idempotent replay), and the audit entry in the
//! key's own mode's chain.

use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::idempotency::{self, Reservation};
use super::problem::ApiError;
use crate::edge::clock::now_iso;
use crate::keys::Mode;
use crate::store::keys::{self as store, KeyView, NewKey};

/// Make a key: a fresh secret from the runtime's randomness (shown once, never stored) and its
/// stored row. Shared with the operator's `POST /admin/keys`.
pub(super) async fn mint(rc: &RequestCtx, k: &NewKey<'_>) -> Result<(String, KeyView), ApiError> {
    let (id, secret) = fresh(k.mode)?;
    let cap = k.plan.max_active_keys();
    let view = store::insert(&rc.env, k, &id, &secret, &now_iso(), cap)
        .await
        .step("keys: storing a key")?
        .ok_or_else(|| key_limit(k.plan))?;
    Ok((secret, view))
}

/// A new key's id and secret, from the runtime's randomness.
pub(super) fn fresh(mode: Mode) -> Result<(String, String), ApiError> {
    let seed: [u8; 20] = crate::edge::random::secure_bytes(20)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::internal("no randomness for a key"))?;
    let id = format!("key_{}", crate::edge::random::hex_id(8));
    Ok((id, crate::keys::format_key(mode, &seed)))
}

/// 409: the organisation holds its plan's number of active keys.
pub(super) fn key_limit(plan: crate::limits::Plan) -> ApiError {
    let cap = plan.max_active_keys();
    ApiError::new(
        409,
        "key_limit_reached",
        "Key limit reached",
        format!(
            "The {} plan allows {cap} active keys per organisation (live and test together); revoke one first.",
            plan.name()
        ),
    )
    .with_extension("limit", json!("active_keys"))
    .with_extension("max_active_keys", json!(cap))
}

/// A created key as answered: the stored view, the secret (this once) and `extra` fields.
pub(super) fn shown_once(secret: &str, view: &KeyView, extra: Value) -> Value {
    let mut body = serde_json::to_value(view).unwrap_or_default();
    body["key"] = json!(secret);
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    body
}

pub(super) async fn audit_change(rc: &RequestCtx, action: &str, key: &KeyView, detail: Value) {
    // The acting key is the entry's actor.
    let mut d =
        json!({ "prefix": key.prefix, "mode": key.mode, "role": key.role, "plan": key.plan });
    if let (Some(o), Value::Object(extra)) = (d.as_object_mut(), detail) {
        o.extend(extra);
    }
    // A test key's changes go to the organisation's test chain, never the live one.
    let mode = Mode::parse(&key.mode).unwrap_or(Mode::Live);
    let chain = crate::audit::chain(&key.org_id, mode);
    rc.audit(&chain, action, Some(&key.id), d).await;
}

/// 201 with a new key; under an Idempotency-Key the stored replay hides the secret (it is
/// never stored, so it cannot be shown twice).
pub(super) async fn respond_created(
    rc: &RequestCtx,
    reservation: Option<Reservation>,
    outcome: Result<Value, ApiError>,
) -> Result<Response, ApiError> {
    if let Some(r) = reservation {
        let (status, stored) = match &outcome {
            Ok(body) => {
                let mut redacted = body.clone();
                redacted["key"] = Value::Null;
                redacted["replayed_key_hidden"] = json!(true);
                (201, redacted.to_string())
            }
            Err(e) => (e.status, e.body(&rc.request_id).to_string()),
        };
        idempotency::finish(rc, r, status, &stored).await?;
    }
    http::json(201, &outcome?)
}
