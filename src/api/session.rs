//! The console's session cookie as a credential, read by the one auth gate (`auth::gate`)
//! when a request carries no `Authorization`: the cookie's token, the request's origin and
//! CSRF token checked by the pure rules of `accounts::session`, the stored session and its
//! expiry, and the mode the request names (`X-CarbonTrace-Mode`, `test` unless it says
//! `live`; live only once the email is confirmed). The caller it makes has the person's
//! organisation, plan, mode and key role (owner = admin key, member = standard key), so every
//! rule written for keys applies unchanged. Starting and ending sessions: `account.rs`.

use serde_json::{json, Value};
use worker::Response;

use super::caller::{Caller, Session};
use super::http::{self, RequestCtx, Step};
use super::problem::ApiError;
use crate::accounts::session::{
    self as rules, check_request, csrf_token, from_cookie_header, hash_token, set_cookie, Refusal,
    State, Times, CSRF_HEADER, MODE_HEADER,
};
use crate::accounts::MemberRole;
use crate::edge::clock::{iso_at_ms, now_iso, now_ms};
use crate::keys::Mode;
use crate::limits::Plan;
use crate::store::sessions;
use crate::store::sessions::SessionRow;

/// The caller behind the request's session cookie; `None` when it carries none.
pub async fn identify(rc: &RequestCtx) -> Result<Option<Caller>, ApiError> {
    let Some(cookie) = rc.header("Cookie") else {
        return Ok(None);
    };
    let Some(token) = from_cookie_header(&cookie).map(str::to_string) else {
        return Ok(None);
    };
    let method = rc.req.inner().method();
    let (origin, site, csrf) = (
        rc.header("Origin"),
        rc.header("Sec-Fetch-Site"),
        rc.header(CSRF_HEADER),
    );
    let own = own_origins(rc);
    let own: Vec<&str> = own.iter().map(String::as_str).collect();
    let request = rules::Request {
        method: &method,
        origin: origin.as_deref(),
        sec_fetch_site: site.as_deref(),
        csrf: csrf.as_deref(),
    };
    check_request(&request, &own, &token).map_err(refused)?;
    let token_hash = hash_token(&token);
    let row = sessions::find(&rc.env, &token_hash)
        .await
        .step("session: reading")?
        .ok_or_else(ended)?;
    let now = now_ms();
    let times = row.times();
    match times.state(now) {
        State::Revoked | State::Expired => return Err(ended()),
        State::Active { touch: false } => {}
        State::Active { touch: true } => {
            sessions::touch(&rc.env, &token_hash, now, times.idle_after(now))
                .await
                .step("session: extending")?;
        }
    }
    let mode = match rc.header(MODE_HEADER).as_deref().map(str::trim) {
        None | Some("") | Some("test") => Mode::Test,
        Some("live") if row.email_verified_at.is_some() => Mode::Live,
        Some("live") => return Err(unverified()),
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_mode",
                MODE_HEADER,
                format!("`{other}` is not a mode: `test` or `live`"),
            ))
        }
    };
    let role = MemberRole::parse(&row.role).unwrap_or(MemberRole::Member);
    Ok(Some(Caller {
        plan: Plan::parse(&row.plan).unwrap_or(Plan::Free),
        mode,
        key_id: None,
        org_id: Some(row.org_id.clone()),
        role: Some(role.key_role()),
        subject: crate::limits::org_subject(&row.org_id, mode),
        rolled: false,
        admin: false,
        metered: false,
        quota: None,
        session: Some(Box::new(Session {
            row,
            token,
            token_hash,
        })),
        pact_client: None,
    }))
}

/// A new session: its token (for the cookie), the token's hash, its public id and its clock.
pub fn fresh() -> Result<(String, String, String, Times), ApiError> {
    let seed: [u8; 32] = crate::edge::random::secure_bytes(32)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::internal("no randomness for a session"))?;
    let token = rules::token(&seed);
    let hash = hash_token(&token);
    let id = format!("ses_{}", crate::edge::random::hex_id(8));
    Ok((token, hash, id, Times::start(now_ms())))
}

/// Sign the caller's session out (logout).
pub async fn end(rc: &RequestCtx, s: &Session) -> Result<(), ApiError> {
    sessions::revoke(&rc.env, &s.token_hash, &now_iso())
        .await
        .step("session: signing out")?;
    Ok(())
}

/// The origins this deployment answers as its own: the request's, and `PUBLIC_BASE_URL`'s.
pub fn own_origins(rc: &RequestCtx) -> [String; 2] {
    [
        rc.url.origin().ascii_serialization(),
        url_origin(&rc.public_base()),
    ]
}

/// Whether a request that starts a session (sign-up, sign-in, joining) comes from another
/// origin: the same rule as a session's reads (`check_request`), so no page elsewhere can
/// sign a visitor in to an account of its choosing (login CSRF).
pub fn from_another_origin(rc: &RequestCtx) -> bool {
    let (origin, site) = (rc.header("Origin"), rc.header("Sec-Fetch-Site"));
    let own = own_origins(rc);
    let own: Vec<&str> = own.iter().map(String::as_str).collect();
    let read = rules::Request {
        method: "GET",
        origin: origin.as_deref(),
        sec_fetch_site: site.as_deref(),
        csrf: None,
    };
    check_request(&read, &own, "").is_err()
}

/// The origin of a base URL (`https://host[:port]`), as `Origin` carries it.
fn url_origin(base: &str) -> String {
    worker::Url::parse(base)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

fn refused(r: Refusal) -> ApiError {
    let (code, detail) = match r {
        Refusal::CrossOrigin => (
            "cross_origin_session",
            "A session cookie never authenticates a request from another origin; call the API with an API key instead.",
        ),
        Refusal::MissingOrigin => (
            "origin_required",
            "A state-changing request from a session must carry a same-origin `Origin` header.",
        ),
        Refusal::Csrf => (
            "csrf_token_invalid",
            "A state-changing request from a session must carry the session's CSRF token in `X-CSRF-Token` (from GET /auth/me).",
        ),
    };
    ApiError::new(403, code, "Forbidden", detail)
}

/// 401 for a session that is unknown, signed out or expired; the browser drops the cookie.
fn ended() -> ApiError {
    ApiError::unauthorized(
        "session_expired",
        "This session has ended (signed out, expired, or the password changed): sign in again.",
    )
    .with_header("Set-Cookie", rules::clear_cookie())
}

fn unverified() -> ApiError {
    ApiError::new(
        403,
        "email_unverified",
        "Email not confirmed",
        "Live mode opens once the account's email is confirmed (the verification link, or the operator); the sandbox works meanwhile.",
    )
}

/// The public `/auth` routes (sign up, sign in, join) start sessions, so a page of another
/// origin must not drive them (login CSRF: the victim signed in to the attacker's account). A
/// browser always sends `Origin` on these POSTs; API clients send none and are served.
pub(super) fn refuse_foreign_origin(rc: &RequestCtx) -> Result<(), ApiError> {
    if from_another_origin(rc) {
        return Err(ApiError::new(
            403,
            "cross_origin_session",
            "Forbidden",
            "Sessions start from this origin's own pages only.",
        ));
    }
    Ok(())
}

/// A one-time token (`prefix` + 64 hex) and its hash.
pub(super) fn one_time_token(prefix: &str) -> Result<(String, String), ApiError> {
    let bytes =
        crate::edge::random::secure_bytes(32).map_err(|_| ApiError::internal("no randomness"))?;
    let token = format!(
        "{prefix}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let hash = hash_token(&token);
    Ok((token, hash))
}

/// The session as the console reads it (`Session` in the OpenAPI document).
pub(super) fn view(row: &SessionRow, token: &str) -> Value {
    let verified = row.email_verified_at.is_some();
    json!({
        "user": { "id": row.user_id, "email": row.email, "email_verified": verified,
                  "created_at": row.user_created_at },
        "organisation": { "id": row.org_id, "name": row.org_name, "plan": row.plan },
        "role": row.role,
        "modes": if verified { vec!["test", "live"] } else { vec!["test"] },
        "csrf_token": csrf_token(token),
        "expires_at": iso_at_ms(row.expires_ms),
        "idle_expires_at": iso_at_ms(row.idle_until_ms),
    })
}

/// From here on the request acts as the person whose session (`token`, `hash`) was just
/// stored: the audit names them, and [`started`] answers with the session.
pub(super) async fn act_as(
    rc: &mut RequestCtx,
    token: String,
    hash: String,
) -> Result<(), ApiError> {
    let row = sessions::find(&rc.env, &hash)
        .await
        .step("session: reading back")?
        .ok_or_else(|| ApiError::internal("a session just stored is missing"))?;
    act_as_row(rc, row, token, hash);
    Ok(())
}

/// [`act_as`] with the session's row in hand (a sign-up knows every field of it: no read
/// back that could fail after the write and lose the key shown only once).
pub(super) fn act_as_row(rc: &mut RequestCtx, row: SessionRow, token: String, hash: String) {
    rc.caller.org_id = Some(row.org_id.clone());
    rc.caller.session = Some(Box::new(Session {
        row,
        token,
        token_hash: hash,
    }));
}

/// `status` with the request's session (plus `extra`), setting its cookie.
pub(super) fn started(rc: &RequestCtx, status: u16, extra: Value) -> Result<Response, ApiError> {
    let s = session(rc)?;
    let mut body = view(&s.row, &s.token);
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    let mut resp = http::json(status, &body)?;
    http::set(resp.headers_mut(), "Set-Cookie", &set_cookie(&s.token));
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// The signed-in session (the gate guarantees one on `Access::Session` routes).
pub(super) fn session(rc: &RequestCtx) -> Result<&Session, ApiError> {
    rc.caller
        .session
        .as_deref()
        .ok_or_else(|| ApiError::internal("a session route without a session"))
}
