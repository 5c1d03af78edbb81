//! The PACT v3 host (`/pact`, at the origin root): what an organisation's data recipients
//! call with the credentials it gave them. `POST /pact/auth/token` (OAuth2 client
//! credentials, HTTP Basic; OAuth errors), `GET /pact/.well-known/openid-configuration`,
//! `GET /pact/3/footprints` (every v3 filter; `Link: <…>; rel="next"`), `GET
//! /pact/3/footprints/{id}`, `POST /pact/3/events` (CloudEvents; 200 with an empty body).
//! The gate checks the bearer token (`auth::gate`, `Access::Pact`: signed, no database read)
//! and meters the call on the organisation's plan; errors here are PACT's
//! `{"code","message"}` (`router.rs`), not problem+json. The rules are `crate::pact`.

use base64::Engine as _;
use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::ApiError;
use crate::accounts::session::hash_token;
use crate::edge::bindings;
use crate::edge::clock::now_ms;
use crate::pact::event::{self, Kind};
use crate::pact::filter::{self, matches};
use crate::pact::token::{self, Claims, TTL_S};
use crate::secure::constant_time_eq;
use crate::store::pact as store;

/// The token key: derived from the worker's signing secret; `None` when none is configured.
pub(super) fn token_key(rc: &RequestCtx) -> Option<[u8; 32]> {
    bindings::signing_key(&rc.env).map(|s| token::key(s.as_bytes()))
}

/// The PACT base URL of this deployment.
fn base(rc: &RequestCtx) -> String {
    format!("{}/pact", rc.public_base())
}

/// An OAuth 2.0 error (RFC 6749 §5.2): what the token endpoint answers instead of a problem.
fn oauth_error(status: u16, error: &str, description: &str) -> Result<Response, ApiError> {
    let mut resp = http::json(
        status,
        &json!({ "error": error, "error_description": description }),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    if status == 401 {
        http::set(
            resp.headers_mut(),
            "WWW-Authenticate",
            "Basic realm=\"pact\"",
        );
    }
    Ok(resp)
}

/// `POST /pact/auth/token`.
pub async fn token(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let basic = rc.header("Authorization").and_then(|h| {
        let (scheme, b) = h.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        text.split_once(':')
            .map(|(u, p)| (u.to_string(), p.to_string()))
    });
    let media = rc
        .header("Content-Type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !media.starts_with("application/x-www-form-urlencoded") {
        return oauth_error(
            400,
            "invalid_request",
            "Send the grant as application/x-www-form-urlencoded.",
        );
    }
    let body = rc.raw_body_within(4096).await?;
    let grant = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned());
    let Some((client_id, secret)) = basic else {
        return oauth_error(
            401,
            "invalid_client",
            "Authenticate with HTTP Basic: the client id and secret.",
        );
    };
    if grant.as_deref() != Some("client_credentials") {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials.",
        );
    }
    let Some(key) = token_key(rc) else {
        return Err(ApiError::service_unavailable(
            "pact_unconfigured",
            "PACT tokens need CERT_SIGNING_KEY (16+ characters).",
        ));
    };
    let found = if client_id.len() <= 100 {
        store::credential(&rc.env, &client_id)
            .await
            .step("pact: reading the client")?
    } else {
        None
    };
    let ok = found.as_ref().is_some_and(|c| {
        constant_time_eq(c.secret_hash.as_bytes(), hash_token(&secret).as_bytes())
    });
    let Some(c) = found.filter(|_| ok) else {
        return oauth_error(401, "invalid_client", "Unknown client, or wrong secret.");
    };
    let claims = Claims {
        org_id: c.org_id,
        mode: c.mode,
        plan: c.plan,
        client_id,
        exp: now_ms() as i64 + TTL_S * 1000,
    };
    let mut resp = http::json(
        200,
        &json!({ "access_token": token::sign(&key, &claims), "token_type": "Bearer", "expires_in": TTL_S }),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// `GET /pact/.well-known/openid-configuration`: where the token endpoint is.
pub async fn openid_configuration(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let b = base(rc);
    http::json(
        200,
        &json!({
            "issuer": b,
            "token_endpoint": format!("{b}/auth/token"),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "response_types_supported": ["token"],
        }),
    )
}

/// `GET /pact/3/footprints`.
pub async fn list(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let pairs: Vec<(String, String)> = rc
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let q = filter::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ApiError::bad_request("invalid_parameter", "query", e))?;
    let docs = store::documents(&rc.env, &rc.tenant()?)
        .await
        .step("pact: listing")?;
    let mut matched: Vec<Value> = Vec::new();
    let mut more = false;
    let mut seen = 0usize;
    for text in &docs {
        let Ok(doc) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if !matches(&q, &doc) {
            continue;
        }
        if seen >= q.offset {
            if matched.len() == q.limit {
                more = true;
                break;
            }
            matched.push(doc);
        }
        seen += 1;
    }
    let mut resp = http::json(200, &json!({ "data": matched }))?;
    if more {
        let mut next = worker::Url::parse(&format!("{}/3/footprints", base(rc)))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        {
            let mut qp = next.query_pairs_mut();
            for (k, v) in pairs.iter().filter(|(k, _)| k != "offset" && k != "limit") {
                qp.append_pair(k, v);
            }
            qp.append_pair("limit", &q.limit.to_string());
            qp.append_pair("offset", &(q.offset + q.limit).to_string());
        }
        http::set(
            resp.headers_mut(),
            "Link",
            &format!("<{next}>; rel=\"next\""),
        );
    }
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// `GET /pact/3/footprints/{id}`.
pub async fn get(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let doc = store::document(&rc.env, &rc.tenant()?, id)
        .await
        .step("pact: reading a footprint")?
        .ok_or_else(|| ApiError::not_found("The requested footprint could not be found."))?;
    let mut resp = http::bytes(
        200,
        "application/json",
        format!("{{\"data\":{doc}}}").into_bytes(),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// `POST /pact/3/events`: validated whole (400 otherwise), audited, answered 200 with an empty
/// body. Answering a request with a fulfilment or a rejection, sent to the requester's own
/// `/3/events`, needs the requester's credentials (the client side, issue 28): until then a
/// request is recorded in the audit log only.
pub async fn events(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("malformed_event", "body", format!("not JSON: {e}")))?;
    let ev = event::parse(&v).map_err(|e| ApiError::bad_request("malformed_event", "body", e))?;
    let chain = crate::audit::chain(&rc.org_id()?, rc.caller.mode);
    let detail = match &ev.kind {
        Kind::Published { pf_ids } => json!({ "pf_ids": pf_ids }),
        Kind::RequestCreated { query, comment } => json!({
            "product_ids": query.product_id, "company_ids": query.company_id, "comment": comment }),
        Kind::RequestFulfilled {
            request_event_id,
            pfs,
        } => json!({
            "request_event_id": request_event_id, "footprints": pfs.len() }),
        Kind::RequestRejected {
            request_event_id,
            code,
            message,
        } => json!({
            "request_event_id": request_event_id, "code": code, "message": message }),
    };
    let mut detail = detail;
    detail["event_id"] = json!(ev.id);
    detail["source"] = json!(ev.source);
    rc.audit(
        &chain,
        "pact.event_received",
        Some(ev.kind.type_name()),
        detail,
    )
    .await;
    http::bytes(200, "text/plain", Vec::new())
}
