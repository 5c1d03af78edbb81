//! `/keys`: an organisation manages its own keys with one of its admin keys. Create (live or
//! `ct_test_`, `admin` or `standard`, on the organisation's plan), list (never the secret,
//! which is not stored), roll (a new secret; the old one valid for a grace period the caller
//! chooses, up to 7 days, as Stripe does) and revoke. A test key sees and makes test keys
//! only (the sandbox never reaches live); another organisation's key id is a 404. Every change
//! is in the audit log. The operator's `POST /admin/keys` shares the response helper.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::Response;

use super::auth;
use super::http::{self, RequestCtx, Step};
use super::idempotency::{self, NextAction, Reservation};
use super::parse::parse_json;
use super::problem::{ApiError, FieldError};
use crate::edge::clock::{iso_after, now_iso};
use crate::keys::{Mode, Role, MAX_KEY_NAME, MAX_ROLL_GRACE_S};
use crate::store::keys::{self as store, KeyView, NewKey, Revoked, Rolled};

/// The modes of keys a caller may see and make.
fn modes(rc: &RequestCtx) -> &'static [Mode] {
    match rc.caller.mode {
        Mode::Live => &[Mode::Live, Mode::Test],
        Mode::Test => &[Mode::Test],
    }
}

fn org_id(rc: &RequestCtx) -> Result<String, ApiError> {
    rc.caller
        .org_id
        .clone()
        .ok_or_else(|| ApiError::internal("an admin key without an organisation"))
}

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
fn fresh(mode: Mode) -> Result<(String, String), ApiError> {
    let seed: [u8; 20] = crate::edge::random::secure_bytes(20)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::internal("no randomness for a key"))?;
    let id = format!("key_{}", crate::edge::random::hex_id(8));
    Ok((id, crate::keys::format_key(mode, &seed)))
}

/// 409: the organisation holds its plan's number of active keys.
fn key_limit(plan: crate::limits::Plan) -> ApiError {
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

/// `POST /keys` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    mode: Option<String>,
    role: Option<String>,
    name: Option<String>,
}

/// `POST /keys/{id}/roll` body.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Roll {
    /// How long the old key stays valid beside the new one (0: refused at once). A JSON
    /// number: `86400.0` is as whole as `86400`.
    expires_in_s: Option<f64>,
}

fn check_name(name: Option<&str>, errors: &mut Vec<FieldError>) {
    if name.is_some_and(|n| n.trim().is_empty() || n.chars().count() > MAX_KEY_NAME) {
        errors.push(FieldError::new(
            "name",
            format!("1 to {MAX_KEY_NAME} characters"),
        ));
    }
}

/// `POST /keys`.
pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let scope = rc.tenant()?.scope();
    let reservation = match idempotency::begin(rc, &scope, &bytes).await? {
        NextAction::Replay(stored) => return Ok(stored),
        NextAction::Proceed(r) => r,
    };
    let outcome = create_inner(rc, &bytes).await;
    respond_created(rc, reservation, outcome).await
}

async fn create_inner(rc: &RequestCtx, bytes: &[u8]) -> Result<Value, ApiError> {
    let req: Create = if bytes.is_empty() {
        Create {
            mode: None,
            role: None,
            name: None,
        }
    } else {
        parse_json(bytes)?
    };
    let mut errors = Vec::new();
    let mode = match req.mode.as_deref() {
        None => Some(rc.caller.mode),
        Some(m) => Mode::parse(m),
    };
    match mode {
        None => errors.push(FieldError::new("mode", "one of: live, test")),
        Some(m) if !modes(rc).contains(&m) => {
            errors.push(FieldError::new("mode", "a test key creates test keys only"))
        }
        _ => {}
    }
    let role = Role::parse(req.role.as_deref().unwrap_or("standard"));
    if role.is_none() {
        errors.push(FieldError::new("role", "one of: admin, standard"));
    }
    check_name(req.name.as_deref(), &mut errors);
    let (Some(mode), Some(role), true) = (mode, role, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let org_id = org_id(rc)?;
    let (secret, view) = mint(
        rc,
        &NewKey {
            org_id: &org_id,
            name: req.name.as_deref().map(str::trim),
            plan: rc.caller.plan,
            mode,
            role,
        },
    )
    .await?;
    audit_change(rc, "key.created", &view, json!({})).await;
    Ok(shown_once(&secret, &view, json!({})))
}

/// `GET /keys`: the organisation's keys (of the caller's modes), newest first.
pub async fn list(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let keys = store::list(&rc.env, &org_id(rc)?, modes(rc))
        .await
        .step("keys: listing")?;
    let mut resp = http::json(200, &json!({ "data": keys }))?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

async fn owned(rc: &RequestCtx, id: &str) -> Result<KeyView, ApiError> {
    store::get(&rc.env, &org_id(rc)?, modes(rc), id)
        .await
        .step("keys: reading a key")?
        .ok_or_else(|| ApiError::not_found(format!("no API key `{id}`")))
}

/// `DELETE /keys/{id}`: revoke now (refused everywhere within `auth::KEY_CACHE_MS`), in one
/// conditional statement. A rolled key is 409: it ends with its grace period.
pub async fn revoke(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let key = owned(rc, id).await?;
    let now = now_iso();
    let outcome = store::revoke(&rc.env, &org_id(rc)?, id, &now)
        .await
        .step("keys: revoking")?;
    auth::forget_key(id);
    let revoked = match outcome {
        Revoked::Now => true,
        Revoked::Already => false,
        Revoked::Rolled => return Err(already_rolled(&key)),
    };
    if revoked {
        audit_change(rc, "key.revoked", &key, json!({})).await;
    }
    http::json(
        200,
        &json!({
            "id": id,
            "revoked_at": if revoked { Some(now) } else { key.revoked_at },
            "already_revoked": !revoked,
            "effective_within_s": auth::KEY_CACHE_MS / 1000.0,
        }),
    )
}

/// 409 for a key that was rolled (or is no longer active).
fn already_rolled(key: &KeyView) -> ApiError {
    let detail = match (&key.revoked_at, &key.expires_at) {
        (Some(_), _) => format!("`{}` is revoked: create a new key instead.", key.id),
        (None, Some(at)) => format!(
            "`{}` was rolled and ends at {at}; its successor holds its powers (roll or revoke the successor instead).",
            key.id
        ),
        (None, None) => format!("`{}` changed meanwhile; read it again.", key.id),
    };
    ApiError::new(409, "key_not_active", "Key already rolled", detail)
}

/// `POST /keys/{id}/roll`: a successor with the same name, mode, role and plan, and the old
/// key's end of validity.
pub async fn roll(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let scope = rc.tenant()?.scope();
    let reservation = match idempotency::begin(rc, &scope, &bytes).await? {
        NextAction::Replay(stored) => return Ok(stored),
        NextAction::Proceed(r) => r,
    };
    let outcome = roll_inner(rc, id, &bytes).await;
    respond_created(rc, reservation, outcome).await
}

async fn roll_inner(rc: &RequestCtx, id: &str, bytes: &[u8]) -> Result<Value, ApiError> {
    let req: Roll = if bytes.is_empty() {
        Roll::default()
    } else {
        parse_json(bytes)?
    };
    let grace = req.expires_in_s.unwrap_or(0.0);
    if !(0.0..=MAX_ROLL_GRACE_S as f64).contains(&grace) || grace.fract() != 0.0 {
        return Err(ApiError::validation(vec![FieldError::new(
            "expires_in_s",
            format!("a whole number of seconds from 0 to {MAX_ROLL_GRACE_S} (7 days)"),
        )]));
    }
    let old = owned(rc, id).await?;
    let (Some(mode), Some(role)) = (Mode::parse(&old.mode), Role::parse(&old.role)) else {
        return Err(ApiError::internal(
            "a stored key with an unknown mode or role",
        ));
    };
    let new = NewKey {
        org_id: &old.org_id,
        name: old.name.as_deref(),
        plan: rc.caller.plan,
        mode,
        role,
    };
    let (new_id, secret) = fresh(mode)?;
    let expires_at = iso_after(grace);
    let view = match store::roll(
        &rc.env,
        id,
        &new,
        &new_id,
        &secret,
        &now_iso(),
        &expires_at,
        new.plan.max_active_keys(),
    )
    .await
    .step("keys: rolling")?
    {
        Rolled::Done(view) => *view,
        Rolled::NotActive => return Err(already_rolled(&old)),
        Rolled::CapReached => return Err(key_limit(new.plan)),
    };
    auth::forget_key(id);
    let rolled = json!({ "id": id, "expires_at": expires_at });
    audit_change(rc, "key.rolled", &view, json!({ "rolled": &rolled })).await;
    Ok(shown_once(&secret, &view, json!({ "rolled": rolled })))
}

/// A created key as answered: the stored view, the secret (this once) and `extra` fields.
fn shown_once(secret: &str, view: &KeyView, extra: Value) -> Value {
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
