//! Admin routes (admin token; the router's gate checks it): an organisation's keys and plan,
//! and audit verification (factor sets: `factor_sets.rs`; signing keys: `signing_keys.rs`).

use serde_json::json;
use worker::Response;

use super::auth;
use super::http::{self, RequestCtx, Step};
use super::idempotency::{self, NextAction};
use super::key_issue;
use super::parse::parse_json;
use super::problem::{ApiError, FieldError};
use crate::audit::{Break, Verifier};
use crate::edge::audit::read_anchor;
use crate::edge::clock::now_iso;
use crate::edge::{bindings, random};
use crate::keys::{Mode, Role};
use crate::limits::Plan;
use crate::store;
use crate::store::audit::{page as chain_page, CHAIN_PAGE};

/// `POST /admin/keys` body.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    org: String,
    plan: String,
    #[serde(default = "live")]
    mode: String,
    #[serde(default = "admin")]
    role: String,
}

fn admin() -> String {
    "admin".into()
}

fn live() -> String {
    "live".into()
}

/// `POST /admin/keys`: create an organisation's key (and the organisation, by name, if new),
/// and set the organisation's plan (every key of it shares the plan's limits);
/// `role` defaults to `admin` (the organisation's first key manages the others through
/// `/keys`). The key is in this response only; D1 keeps its SHA-256. Honours Idempotency-Key:
/// a replay returns the same ids with `key: null` (the key is never stored).
pub async fn create_key(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let reservation = match idempotency::begin(rc, "admin", &bytes).await? {
        NextAction::Replay(stored) => return Ok(stored),
        NextAction::Proceed(r) => r,
    };
    let outcome = create_key_inner(rc, &bytes).await;
    key_issue::respond_created(rc, reservation, outcome).await
}

async fn create_key_inner(rc: &RequestCtx, bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    let req: NewKey = parse_json(bytes)?;
    let mut errors = Vec::new();
    let org = req.org.trim().to_string();
    if org.is_empty() || org.chars().count() > 200 {
        errors.push(FieldError::new("org", "must be 1 to 200 characters"));
    }
    let plan = Plan::parse(&req.plan);
    if plan.is_none() {
        errors.push(FieldError::new(
            "plan",
            "one of: free, pro, business, enterprise, internal",
        ));
    }
    let mode = Mode::parse(&req.mode);
    if mode.is_none() {
        errors.push(FieldError::new("mode", "one of: live, test"));
    }
    let role = Role::parse(&req.role);
    if role.is_none() {
        errors.push(FieldError::new("role", "one of: admin, standard"));
    }
    let (Some(plan), Some(mode), Some(role), true) = (plan, mode, role, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let org_id = organisation(rc, &org, plan).await?;
    let (key, view) = key_issue::mint(
        rc,
        &store::keys::NewKey {
            org_id: &org_id,
            name: None,
            plan,
            mode,
            role,
        },
    )
    .await?;
    key_issue::audit_change(rc, "key.created", &view, json!({})).await;
    let mut body = serde_json::to_value(&view).unwrap_or_default();
    body["key"] = json!(key);
    body["org"] = json!(org);
    Ok(body)
}

/// The organisation named `name` on `plan`, created if new: its id.
async fn organisation(rc: &RequestCtx, name: &str, plan: Plan) -> Result<String, ApiError> {
    let new_id = format!("org_{}", random::hex_id(8));
    store::orgs::ensure(&rc.env, name, plan, &new_id, &now_iso())
        .await
        .step("create key: the organisation")
}

/// `DELETE /admin/keys/{id}`: revoke a key. Refused everywhere within `auth::KEY_CACHE_MS`.
pub async fn revoke_key(rc: &mut RequestCtx, key_id: &str) -> Result<Response, ApiError> {
    let Some(key) = store::keys::by_id_any_org(&rc.env, key_id)
        .await
        .step("revoke_key: reading the key")?
    else {
        return Err(ApiError::not_found(format!("no API key `{key_id}`")));
    };
    if let Some(at) = key.revoked_at {
        return http::json(
            200,
            &json!({ "id": key_id, "revoked_at": at, "already_revoked": true }),
        );
    }
    let now = now_iso();
    store::keys::revoke_any(&rc.env, key_id, &now)
        .await
        .step("revoke_key: revoking")?;
    auth::forget_key(key_id);
    key_issue::audit_change(rc, "key.revoked", &key, json!({})).await;
    http::json(
        200,
        &json!({ "id": key_id, "revoked_at": now, "effective_within_s": auth::KEY_CACHE_MS / 1000.0 }),
    )
}

/// `GET /admin/orgs/{org_id}/audit/verify`: re-walk the organisation's chain.
pub async fn verify_audit(rc: &mut RequestCtx, org_id: &str) -> Result<Response, ApiError> {
    // Page through the chain: memory stays bounded however long it grows.
    let mut v = Verifier::default();
    let broken = |v: &Verifier, b: Break| {
        http::json(
            200,
            &json!({ "org_id": org_id, "entries": v.checked(), "valid": false, "break": b }),
        )
    };
    loop {
        let page = chain_page(&rc.env, org_id, v.checked() as i64)
            .await
            .step("audit verify: reading a page of the chain")?;
        for e in &page {
            if let Err(b) = v.push(e) {
                return broken(&v, b);
            }
        }
        if page.len() < CHAIN_PAGE {
            break;
        }
    }
    // Then against the last anchor kept outside D1: a rewrite of D1 alone shows here.
    let anchor = read_anchor(&rc.env, org_id)
        .await
        .step("audit verify: reading the anchor")?;
    if let Some(a) = &anchor {
        let key = bindings::signing_key(&rc.env).unwrap_or_default();
        if !a.signed_by(key.as_bytes()) {
            let reason = "the anchor's signature does not hold".to_string();
            return broken(&v, Break { seq: a.seq, reason });
        }
        let held = crate::store::audit::at(&rc.env, org_id, a.seq)
            .await
            .step("audit verify: reading the anchored entry")?;
        if let Err(b) = a.check(held.as_ref()) {
            return broken(&v, b);
        }
    }
    http::json(
        200,
        &json!({ "org_id": org_id, "entries": v.checked(), "valid": true, "head": v.head(),
                 "anchor": anchor.map(|a| json!({ "seq": a.seq, "at": a.at, "hash": a.hash })) }),
    )
}
