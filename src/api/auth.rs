//! The one auth gate. Today: anonymous callers are the free tier; the admin token (a secret)
//! is the `internal` plan; any other bearer token is refused (401), never silently downgraded.
//! API keys and their plans arrive with the keys issue and plug in here.

use super::http::RequestCtx;
use super::problem::ApiError;
use crate::edge::bindings;
use crate::limits::Plan;
use crate::secure::constant_time_eq;

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub plan: Plan,
    pub admin: bool,
}

/// Whether the request carries the admin token.
pub fn is_admin(rc: &RequestCtx) -> bool {
    let (Some(token), Ok(secret)) = (rc.bearer(), rc.env.secret(bindings::ADMIN_TOKEN)) else {
        return false;
    };
    let secret = secret.to_string();
    !secret.is_empty() && constant_time_eq(token.as_bytes(), secret.as_bytes())
}

/// Identify the caller of a metered route.
pub fn caller(rc: &RequestCtx) -> Result<Caller, ApiError> {
    if rc.header("Authorization").is_none() {
        return Ok(Caller {
            plan: Plan::Free,
            admin: false,
        });
    }
    if is_admin(rc) {
        return Ok(Caller {
            plan: Plan::Internal,
            admin: true,
        });
    }
    Err(ApiError::unauthorized(
        "invalid_api_key",
        "The Authorization header does not carry a valid API key (`Bearer ct_live_…` or `Bearer ct_test_…`).",
    ))
}

/// Require the admin token.
pub fn require_admin(rc: &RequestCtx) -> Result<(), ApiError> {
    if is_admin(rc) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "admin_token_required",
            "This route needs the admin token as a Bearer token.",
        ))
    }
}
