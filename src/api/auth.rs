//! The one auth gate, run by the router before any handler:
//! - no `Authorization`: the free tier, counted per client IP;
//! - `Bearer <admin token>`: the operator (plan `internal`: unlimited, still counted);
//! - `Bearer ct_live_…` / `ct_test_…`: the key's organisation, plan and mode;
//! - anything else, an unknown or a revoked key: 401 — never a silent fall-back to free.
//!
//! Key lookups are cached in the isolate for [`KEY_CACHE_MS`] (`key_cache`): a revoked key is
//! refused everywhere within that bound. Failed authentications are counted and, past their
//! limit, turned away before any lookup (`auth_failures`).

use super::access::Access;
use super::auth_failures::{blocked, count_failure};
pub use super::caller::Caller;
use super::http::RequestCtx;
use super::key_cache::lookup;
pub use super::key_cache::{forget_key, KEY_CACHE_MS};
use super::limiter;
use super::problem::ApiError;
use crate::client::MIN_ADMIN_TOKEN_LEN;
use crate::edge::bindings;
use crate::keys::{hash_key, parse_key, Mode, Role};
use crate::limits::Plan;
use crate::secure::constant_time_eq;

/// The admin token, if one long enough is configured.
fn admin_token(rc: &RequestCtx) -> Option<String> {
    rc.env
        .secret(bindings::ADMIN_TOKEN)
        .map(|s| s.to_string())
        .ok()
        .filter(|s| s.len() >= MIN_ADMIN_TOKEN_LEN)
}

/// Whether the request carries the admin token.
pub fn is_admin(rc: &RequestCtx) -> bool {
    match (rc.bearer(), admin_token(rc)) {
        (Some(token), Some(secret)) => constant_time_eq(token.as_bytes(), secret.as_bytes()),
        _ => false,
    }
}

/// Identify the caller of a route with this access, and meter the call where it is metered.
pub async fn gate(rc: &mut RequestCtx, access: Access) -> Result<Caller, ApiError> {
    if access == Access::Public {
        return Ok(Caller::anonymous("-"));
    }
    if access == Access::PublicMetered {
        let bucket = rc.client_bucket();
        let mut caller = Caller::anonymous(&bucket);
        caller.plan = Plan::PublicVerify;
        caller.subject = format!("verify:{bucket}");
        caller.metered = true;
        caller.quota = Some(limiter::take(rc, &caller).await?);
        return Ok(caller);
    }
    if access == Access::Admin && admin_token(rc).is_none() {
        return Err(ApiError::service_unavailable(
            "admin_token_unset",
            format!(
                "Admin routes are off: ADMIN_TOKEN must be a secret of at least {MIN_ADMIN_TOKEN_LEN} characters."
            ),
        ));
    }
    let mut caller = match identify(rc).await {
        Ok(c) => c,
        Err(e) if e.status == 401 => return Err(count_failure(rc, e).await),
        Err(e) => return Err(e),
    };
    match access {
        Access::Admin if !caller.admin => {
            return Err(ApiError::unauthorized(
                "admin_token_required",
                "This route needs the admin token as a Bearer token.",
            ))
        }
        Access::Enterprise if caller.key_id.is_none() => {
            let mut e = ApiError::unauthorized(
                "api_key_required",
                "The OData feed needs an Enterprise API key: Basic auth with the key as password, or Bearer.",
            );
            e.headers = vec![("WWW-Authenticate", "Basic realm=\"odata\", Bearer realm=\"carbontrace\"".into())];
            return Err(e);
        }
        Access::Enterprise if !matches!(caller.plan, Plan::Enterprise | Plan::Internal) => {
            return Err(ApiError::new(
                403,
                "plan_required",
                "Enterprise plan required",
                format!("The OData feed is part of the Enterprise plan; this key is on {}.", caller.plan.name()),
            )
            .with_extension("required_plan", "enterprise".into()));
        }
        Access::OrgAdmin if caller.key_id.is_none() => {
            return Err(ApiError::unauthorized(
                "api_key_required",
                "Managing keys needs one of the organisation's admin API keys: `Authorization: Bearer ct_live_…`.",
            ))
        }
        Access::OrgAdmin if caller.role != Some(Role::Admin) => {
            return Err(ApiError::new(
                403,
                "admin_role_required",
                "Admin key required",
                "Only the organisation's admin keys manage its keys; this key is a standard key.",
            ))
        }
        Access::Keyed if caller.key_id.is_none() => {
            return Err(ApiError::unauthorized(
                "api_key_required",
                "This route needs an API key: `Authorization: Bearer ct_live_…` (or `ct_test_…` for the sandbox).",
            ))
        }
        Access::Metered | Access::Keyed | Access::Enterprise | Access::OrgAdmin => {
            caller.metered = true;
            caller.quota = Some(limiter::take(rc, &caller).await?);
        }
        _ => {}
    }
    Ok(caller)
}

async fn identify(rc: &RequestCtx) -> Result<Caller, ApiError> {
    let Some(header) = rc.header("Authorization") else {
        return Ok(Caller::anonymous(&rc.client_bucket()));
    };
    if let Some(e) = blocked(rc) {
        return Err(e);
    }
    if is_admin(rc) {
        return Ok(Caller {
            plan: Plan::Internal,
            mode: Mode::Live,
            key_id: None,
            org_id: None,
            role: None,
            subject: "admin".into(),
            admin: true,
            metered: false,
            quota: None,
        });
    }
    let basic = header
        .split_once(' ')
        .filter(|(s, _)| s.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b)| {
            use base64::Engine as _;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()?;
            let text = String::from_utf8(raw).ok()?;
            text.split_once(':').map(|(_, pass)| pass.to_string())
        });
    let Some(token) = rc.bearer().or(basic) else {
        return Err(ApiError::unauthorized(
            "malformed_authorization",
            format!(
                "Send `Authorization: Bearer <API key>`, not `{}`.",
                header.split(' ').next().unwrap_or("")
            ),
        ));
    };
    if parse_key(&token).is_none() {
        return Err(ApiError::unauthorized(
            "malformed_api_key",
            "This is not a CarbonTrace API key (`ct_live_…` or `ct_test_…` followed by 40 hex characters).",
        ));
    }
    let Some(row) = lookup(rc, &hash_key(&token)).await? else {
        return Err(ApiError::unauthorized(
            "invalid_api_key",
            "Unknown API key.",
        ));
    };
    if row.revoked_at.is_some() {
        return Err(ApiError::unauthorized(
            "revoked_api_key",
            "This API key has been revoked.",
        ));
    }
    // A rolled key's grace period is checked on every request, cached row or not.
    if row
        .expires_at
        .as_deref()
        .is_some_and(|at| at <= crate::edge::clock::now_iso().as_str())
    {
        return Err(ApiError::unauthorized(
            "expired_api_key",
            "This API key was rolled and its grace period is over: use its successor.",
        ));
    }
    Ok(Caller {
        plan: Plan::parse(&row.plan).unwrap_or(Plan::Free),
        mode: Mode::parse(&row.mode).unwrap_or(Mode::Live),
        key_id: Some(row.id.clone()),
        org_id: Some(row.org_id),
        role: Role::parse(&row.role),
        subject: row.id,
        admin: false,
        metered: false,
        quota: None,
    })
}
