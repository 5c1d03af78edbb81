//! `/keys`: an organisation manages its own keys with one of its admin keys. Create (live or
//! `ct_test_`, `admin` or `standard`, on the organisation's plan), list (never the secret,
//! which is not stored), roll (a new secret; the old one valid for a grace period the caller
//! chooses, up to 7 days, as Stripe does) and revoke. A test key sees and makes test keys
//! only (the sandbox never reaches live); another organisation's key id is a 404. Every change
//! is in the audit log. Making a key (secret, cap, answer, audit): `key_issue.rs`.

use serde_json::{json, Value};
use worker::Response;

use super::auth;
use super::http::{self, RequestCtx, Step};
use super::idempotency::{self, NextAction};
use super::key_issue::{audit_change, fresh, key_limit, mint, respond_created, shown_once};
use super::parse::parse_json;
use super::problem::ApiError;
use crate::edge::clock::{iso_after, now_iso};
use crate::keys::{create_request, roll_grace, CreateBody, Mode, Role, RollBody};
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
    let body: CreateBody = if bytes.is_empty() {
        CreateBody::default()
    } else {
        parse_json(bytes)?
    };
    let req = create_request(body, rc.caller.mode).map_err(ApiError::validation)?;
    let org_id = org_id(rc)?;
    let (secret, view) = mint(
        rc,
        &NewKey {
            org_id: &org_id,
            name: req.name.as_deref(),
            plan: rc.caller.plan,
            mode: req.mode,
            role: req.role,
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
    let body: RollBody = if bytes.is_empty() {
        RollBody::default()
    } else {
        parse_json(bytes)?
    };
    let grace = roll_grace(&body).map_err(|e| ApiError::validation(vec![e]))?;
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
