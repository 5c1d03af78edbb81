//! The one auth gate, run by the router before any handler:
//! - no `Authorization`: the free tier, counted per client IP;
//! - `Bearer <admin token>`: the operator (plan `internal`: unlimited, still counted);
//! - `Bearer ct_live_…` / `ct_test_…`: the key's organisation, plan and mode;
//! - no `Authorization` but the console's session cookie: the person's organisation and plan,
//!   the mode the request names, the key role of their membership (`session.rs`: origin and
//!   CSRF checks, expiry);
//! - on the PACT host (`Access::Pact`): a PACT access token, checked by its signature alone;
//! - anything else, an unknown or a revoked key: 401 — never a silent fall-back to free.
//!
//! Key lookups are cached in the isolate for [`KEY_CACHE_MS`] (`key_cache`): a revoked key is
//! refused everywhere within that bound. Failed authentications, the admin token's included,
//! are counted per address and key prefix and, past their limit, answered 429 for a short,
//! growing block (`auth_failures`); a valid credential is never refused for them.

use super::access::Access;
use super::auth_failures::{count_failure, key_bucket};
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

/// The admin token, if one long enough and not the example's placeholder is configured.
fn admin_token(rc: &RequestCtx) -> Option<String> {
    bindings::setting(&rc.env, bindings::ADMIN_TOKEN).filter(|s| s.len() >= MIN_ADMIN_TOKEN_LEN)
}

/// The visible prefix of a well-formed key in `Authorization`, for counting failures by it.
fn presented_prefix(rc: &RequestCtx) -> Option<String> {
    let token = rc.bearer()?;
    parse_key(&token)?;
    Some(
        token
            .chars()
            .take(crate::keys::VISIBLE_PREFIX_LEN)
            .collect(),
    )
}

/// On a public route that reads the admin token (`/health`'s deep check): whether the request
/// carries it. A wrong bearer token that is not an API key (clients send theirs everywhere)
/// is a failed admin-token guess like anywhere else: counted, and a 429 past the limit.
pub async fn admin_on_public_route(rc: &RequestCtx) -> Result<bool, ApiError> {
    if is_admin(rc) {
        return Ok(true);
    }
    if rc.bearer().is_none_or(|t| parse_key(&t).is_some()) {
        return Ok(false);
    }
    let failure = ApiError::unauthorized("invalid_admin_token", "Not the admin token.");
    let e = count_failure(rc, failure, &[]).await;
    if e.status == 429 {
        return Err(e);
    }
    Ok(false)
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
    if access == Access::Pact {
        return pact_caller(rc).await;
    }
    if access == Access::Admin && admin_token(rc).is_none() {
        return Err(ApiError::service_unavailable(
            "admin_token_unset",
            format!(
                "Admin routes are off: ADMIN_TOKEN must be a secret of at least {MIN_ADMIN_TOKEN_LEN} characters, not the example's placeholder."
            ),
        ));
    }
    let mut caller = match identify(rc, access).await {
        Ok(c) => c,
        // A failed credential counts; an ended session does not (its cookie is cleared, and
        // a person whose session expired must not find their address blocked at sign-in).
        Err(e) if e.status == 401 && rc.header("Authorization").is_some() => {
            let prefix: Vec<String> = presented_prefix(rc)
                .map(|p| key_bucket(&p))
                .into_iter()
                .collect();
            return Err(count_failure(rc, e, &prefix).await);
        }
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
        Access::OrgAdmin if caller.org_id.is_none() => {
            return Err(ApiError::unauthorized(
                "api_key_required",
                "Managing keys needs one of the organisation's admin API keys (`Authorization: Bearer ct_live_…`) or the owner's console session.",
            ))
        }
        Access::OrgAdmin if caller.role != Some(Role::Admin) => {
            return Err(ApiError::new(
                403,
                "admin_role_required",
                "Admin key required",
                "Only the organisation's admin keys and its owner manage its keys and integrations; this is a standard key or a member.",
            ))
        }
        // Whoever holds a rolled key (perhaps the thief it was rolled against) must not take
        // over its successor: in its grace period it calls the API and manages nothing.
        Access::OrgAdmin if caller.rolled => {
            return Err(ApiError::new(
                403,
                "key_in_grace_period",
                "Rolled key",
                "This key was rolled: during its grace period it calls the API but manages no keys; use its successor.",
            ))
        }
        Access::Keyed if caller.org_id.is_none() => {
            return Err(ApiError::unauthorized(
                "api_key_required",
                "This route needs an API key: `Authorization: Bearer ct_live_…` (or `ct_test_…` for the sandbox), or a console session.",
            ))
        }
        Access::Session | Access::Owner if caller.session.is_none() => {
            return Err(ApiError::unauthorized(
                "session_required",
                "This route belongs to the console: sign in (POST /auth/login) and send the session cookie.",
            ))
        }
        Access::Owner if caller.role != Some(Role::Admin) => {
            return Err(ApiError::new(
                403,
                "owner_required",
                "Owner required",
                "Only the organisation's owner manages its members.",
            ))
        }
        // A person reading their own organisation's pages in the console (lists, statuses,
        // downloads, the inventory) is not charged to the plan, whose Free live minute is 5
        // calls; those reads have a bucket of their own per organisation and mode (60 a
        // minute, 10,000 a day), so a session cookie is no unmetered credential either. What a
        // session creates or computes is metered as a key's call.
        Access::Metered | Access::Keyed | Access::Enterprise
            if caller.session.is_some()
                && matches!(rc.req.inner().method().as_str(), "GET" | "HEAD") =>
        {
            let mut reads = caller.clone();
            reads.plan = Plan::PublicVerify;
            reads.subject = format!("console:{}", caller.subject);
            limiter::take(rc, &reads).await?;
        }
        // Managing keys is not metered against the plan (a key cap bounds it instead).
        Access::Metered | Access::Keyed | Access::Enterprise => {
            caller.metered = true;
            caller.quota = Some(limiter::take(rc, &caller).await?);
        }
        _ => {}
    }
    Ok(caller)
}

/// Whether a route reads the session cookie: the organisation's routes the console calls. The
/// routes anyone may call without a key (footprints, products) ignore it, so a signed-in
/// person trying them from the docs page is the anonymous caller they would be elsewhere.
fn reads_session(access: Access) -> bool {
    matches!(
        access,
        Access::Identified | Access::Keyed | Access::OrgAdmin | Access::Session | Access::Owner
    )
}

async fn identify(rc: &RequestCtx, access: Access) -> Result<Caller, ApiError> {
    let Some(header) = rc.header("Authorization") else {
        let person = if reads_session(access) {
            super::session::identify(rc).await?
        } else {
            None
        };
        return Ok(person.unwrap_or_else(|| Caller::anonymous(&rc.client_bucket())));
    };
    if is_admin(rc) {
        return Ok(Caller {
            plan: Plan::Internal,
            mode: Mode::Live,
            key_id: None,
            org_id: None,
            role: None,
            subject: "admin".into(),
            rolled: false,
            admin: true,
            metered: false,
            quota: None,
            session: None,
            pact_client: None,
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
    let mode = Mode::parse(&row.mode).unwrap_or(Mode::Live);
    Ok(Caller {
        plan: Plan::parse(&row.plan).unwrap_or(Plan::Free),
        mode,
        key_id: Some(row.id.clone()),
        subject: crate::limits::org_subject(&row.org_id, mode),
        org_id: Some(row.org_id),
        role: Role::parse(&row.role),
        rolled: row.expires_at.is_some(),
        admin: false,
        metered: false,
        quota: None,
        session: None,
        pact_client: None,
    })
}

/// The caller behind a PACT access token: its organisation, mode and plan, from the token's
/// own signed claims (no database read), metered like a key's call. A missing, forged or
/// expired token is a 401 (PACT's `TokenExpired` for the last, `http::pact_error`).
async fn pact_caller(rc: &RequestCtx) -> Result<Caller, ApiError> {
    use crate::pact::token::{verify, Refusal};
    let key = super::pact_host::token_key(rc).ok_or_else(|| {
        ApiError::service_unavailable(
            "pact_unconfigured",
            "PACT tokens need CERT_SIGNING_KEY (16+ characters).",
        )
    })?;
    let token = rc.bearer().unwrap_or_default();
    let claims =
        verify(&key, &token, crate::edge::clock::now_ms() as i64).map_err(|r| match r {
            Refusal::Expired => ApiError::unauthorized(
                "pact_token_expired",
                "The access token has expired: ask POST /pact/auth/token for a new one.",
            ),
            Refusal::Invalid => ApiError::unauthorized(
                "pact_token_invalid",
                "Send `Authorization: Bearer <access token>` from POST /pact/auth/token.",
            ),
        })?;
    let mode = Mode::parse(&claims.mode).unwrap_or(Mode::Test);
    let mut caller = Caller::anonymous("-");
    caller.plan = Plan::parse(&claims.plan).unwrap_or(Plan::Free);
    caller.mode = mode;
    caller.org_id = Some(claims.org_id.clone());
    caller.subject = crate::limits::org_subject(&claims.org_id, mode);
    caller.pact_client = Some(claims.client_id);
    caller.metered = true;
    caller.quota = Some(limiter::take(rc, &caller).await?);
    Ok(caller)
}
