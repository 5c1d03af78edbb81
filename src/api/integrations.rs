//! `PUT /integrations/blancco`, `GET /integrations/blancco`, `DELETE /integrations/blancco`:
//! the organisation's own Blancco cloud credentials. The key is sealed at rest
//! (`edge::credentials`); it is never shown again, only its last four characters. Live keys
//! only: a pull imports into live assets. Setting and removing them takes an admin key (the
//! route table's `OrgAdmin`); any key of the organisation reads whether they are set.

use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::parse::parse_json;
use super::problem::ApiError;
use crate::blancco::pull::credentials;
use crate::store::credentials as stored;

const PROVIDER: &str = "blancco";

fn live_only(rc: &RequestCtx) -> Result<(), ApiError> {
    if rc.caller.sandbox() {
        return Err(ApiError::sandbox_not_supported("Integration credentials"));
    }
    Ok(())
}

pub async fn put(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    live_only(rc)?;
    let bytes = rc.body_bytes().await?;
    let body: Value = parse_json(&bytes)?;
    let local = crate::edge::bindings::allow_loopback_integrations(&rc.env);
    let (url, key) = credentials(&body, local).map_err(ApiError::validation)?;
    let tenant = rc.tenant()?;
    if crate::edge::bindings::credential_keys(&rc.env)
        .map(|k| k.is_empty())
        .unwrap_or(true)
    {
        return Err(ApiError::service_unavailable(
            "credentials_unavailable",
            "Credentials cannot be stored: CREDENTIALS_KEY (64 hex characters) is not configured.",
        ));
    }
    crate::edge::credentials::put(&rc.env, &tenant.org_id, PROVIDER, &url, &key)
        .await
        .step("blancco credentials: sealing and storing them")?;
    rc.audit(
        &tenant.org_id,
        "blancco.credentials_set",
        None,
        json!({ "api_url": url }),
    )
    .await;
    get(rc).await
}

pub async fn get(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    live_only(rc)?;
    let row = stored::get(&rc.env, &rc.org_id()?, PROVIDER)
        .await
        .step("blancco credentials: reading them")?;
    let mut resp = http::json(
        200,
        &match row {
            Some(r) => json!({ "provider": PROVIDER, "configured": true, "api_url": r.api_url,
                               "api_key_last4": r.last4, "updated_at": r.updated_at }),
            None => json!({ "provider": PROVIDER, "configured": false }),
        },
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

pub async fn delete(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    live_only(rc)?;
    let tenant = rc.tenant()?;
    let removed = stored::delete(&rc.env, &tenant.org_id, PROVIDER)
        .await
        .step("blancco credentials: deleting them")?;
    if removed {
        rc.audit(
            &tenant.org_id,
            "blancco.credentials_removed",
            None,
            json!({}),
        )
        .await;
    }
    http::json(
        200,
        &json!({ "provider": PROVIDER, "configured": false, "removed": removed }),
    )
}
