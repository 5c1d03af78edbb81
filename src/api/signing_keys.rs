//! `POST /admin/signing-keys/{kid}/distrust` (admin token): distrust a signing key (a leaked
//! seed). Its certificates then verify as invalid with the reason, and it leaves the JWK Set
//! that offline verifiers read. Audited in the operator's own chain (`admin`).

use serde::Deserialize;
use serde_json::json;
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::{ApiError, FieldError};
use crate::edge::clock::now_iso;
use crate::store::signing_keys;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Distrust {
    /// `certificate` (default) or `odata-proof`.
    purpose: Option<String>,
    reason: String,
}

pub async fn distrust(rc: &mut RequestCtx, kid: &str) -> Result<Response, ApiError> {
    let req: Distrust = rc.json_body().await?;
    let purpose = req.purpose.as_deref().unwrap_or("certificate");
    let mut errors = Vec::new();
    if !matches!(purpose, "certificate" | "odata-proof") {
        errors.push(FieldError::new(
            "purpose",
            "one of: certificate, odata-proof",
        ));
    }
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        errors.push(FieldError::new("reason", "1 to 500 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let at = now_iso();
    let changed = signing_keys::distrust(&rc.env, purpose, kid, &at, reason)
        .await
        .step("signing keys: distrusting one")?;
    let key = signing_keys::all(&rc.env)
        .await
        .step("signing keys: reading them")?
        .into_iter()
        .find(|k| k.kid == kid && k.purpose == purpose)
        .ok_or_else(|| ApiError::not_found(format!("no {purpose} signing key `{kid}`")))?;
    if changed {
        rc.audit(
            crate::audit::OPERATOR_CHAIN,
            "signing_key.distrusted",
            Some(kid),
            json!({ "purpose": purpose, "reason": reason }),
        )
        .await;
    }
    http::json(
        200,
        &json!({
            "kid": key.kid, "purpose": key.purpose, "valid_from": key.valid_from,
            "retired_at": key.retired_at, "distrusted_at": key.distrusted_at,
            "distrust_reason": key.distrust_reason, "already_distrusted": !changed,
        }),
    )
}
