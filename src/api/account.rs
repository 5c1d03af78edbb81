//! `/auth/*`: console accounts and sessions. Sign up (a Free organisation, its owner, a first
//! sandbox key shown once, and a session, in one write), sign in (throttled per address, per
//! account and per pair, `auth_failures.rs`; the password checked by WebCrypto's PBKDF2),
//! sign out, who am I (with the session's CSRF token), change password (every other session
//! ends), confirm the email by its link, accept an invitation. Reading the session on other
//! routes is `session.rs`; the rules are `accounts`.

use serde_json::{json, Value};
use worker::Response;

use super::auth_failures::{count_failure, login_blocked, login_buckets};
use super::caller::Session;
use super::http::{self, RequestCtx, Step};
use super::key_issue::{audit_change, fresh as fresh_key, shown_once};
use super::parse::parse_json;
use super::problem::{ApiError, FieldError};
use super::session::{end, fresh};
use crate::accounts::password::{decoy, Record};
use crate::accounts::session::{clear_cookie, csrf_token, hash_token, set_cookie};
use crate::accounts::{
    self, login as check_login, password_error, signup as check_signup, token_error, LoginBody,
    PasswordChangeBody, SignupBody, TokenBody, VERIFY_TTL_S,
};
use crate::edge::clock::{iso_after, iso_at_ms, now_iso};
use crate::edge::{mail, password, random};
use crate::keys::Mode;
use crate::store::accounts::{self as store, NewSignup};
use crate::store::sessions::{self, SessionRow};

const VERIFY_PREFIX: &str = "ctver_";
pub(super) const INVITE_PREFIX: &str = "ctinv_";

/// The public `/auth` routes (sign up, sign in, join) start sessions, so a page of another
/// origin must not drive them (login CSRF: the victim signed in to the attacker's account). A
/// browser always sends `Origin` on these POSTs; API clients send none and are served.
fn refuse_foreign_origin(rc: &RequestCtx) -> Result<(), ApiError> {
    if super::session::from_another_origin(rc) {
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
    let bytes = random::secure_bytes(32).map_err(|_| ApiError::internal("no randomness"))?;
    let token = format!(
        "{prefix}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let hash = hash_token(&token);
    Ok((token, hash))
}

/// The session as the console reads it (`Session` in the OpenAPI document).
fn view(row: &SessionRow, token: &str) -> Value {
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
async fn act_as(rc: &mut RequestCtx, token: String, hash: String) -> Result<(), ApiError> {
    let row = sessions::find(&rc.env, &hash)
        .await
        .step("session: reading back")?
        .ok_or_else(|| ApiError::internal("a session just stored is missing"))?;
    act_as_row(rc, row, token, hash);
    Ok(())
}

/// [`act_as`] with the session's row in hand (a sign-up knows every field of it: no read
/// back that could fail after the write and lose the key shown only once).
fn act_as_row(rc: &mut RequestCtx, row: SessionRow, token: String, hash: String) {
    rc.caller.org_id = Some(row.org_id.clone());
    rc.caller.session = Some(Box::new(Session {
        row,
        token,
        token_hash: hash,
    }));
}

/// `status` with the request's session (plus `extra`), setting its cookie.
fn started(rc: &RequestCtx, status: u16, extra: Value) -> Result<Response, ApiError> {
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

/// Mail the verification link (local mode has no mail: `edge::mail` logs it). A failure to
/// send is logged, not the sign-up's failure: the operator can still confirm the address.
async fn send_verification(rc: &RequestCtx, email: &str, token: &str) {
    let url = format!("{}/console/#/verify?token={token}", rc.public_base());
    let text = format!(
        "Confirm {email} for CarbonTrace (live mode opens once you do): {url}\nThe link is valid for {} days. If you did not sign up, ignore this message.", VERIFY_TTL_S / 86_400
    );
    if let Err(e) = mail::send(&rc.env, email, "Confirm your CarbonTrace email", &text).await {
        worker::console_error!(
            "{}: verification mail to {email} failed: {e}",
            rc.request_id
        );
    }
}

fn derivation_failed(e: String) -> ApiError {
    http::edge_error("password: deriving", e)
}

/// `POST /auth/signup`.
pub async fn signup(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    refuse_foreign_origin(rc)?;
    let bytes = rc.body_bytes().await?;
    let s = check_signup(parse_json::<SignupBody>(&bytes)?).map_err(ApiError::validation)?;
    let (email_taken, org_taken) = store::taken(&rc.env, &s.email, &s.organisation)
        .await
        .step("signup: checking the email and name")?;
    if email_taken || org_taken {
        return Err(taken(email_taken));
    }
    let record = password::new_record(&s.password)
        .await
        .map_err(derivation_failed)?;
    let (verify_token, verify_hash) = one_time_token(VERIFY_PREFIX)?;
    let (key_id, secret) = fresh_key(Mode::Test)?;
    let (token, session_hash, session_id, times) = fresh()?;
    let org_id = format!("org_{}", random::hex_id(8));
    let user_id = format!("usr_{}", random::hex_id(8));
    let now = now_iso();
    let key = store::sign_up(
        &rc.env,
        &NewSignup {
            org_id: &org_id,
            org_name: &s.organisation,
            user_id: &user_id,
            email: &s.email,
            password: &record.format(),
            verify_token_hash: &verify_hash,
            verify_expires_at: &iso_after(VERIFY_TTL_S as f64),
            now: &now,
            key_id: &key_id,
            key_secret: &secret,
            session_id: &session_id,
            session_hash: &session_hash,
            session: times,
        },
    )
    .await
    .map_err(|e| {
        if e.0.contains("UNIQUE") {
            taken(e.0.contains("users.email"))
        } else {
            http::edge_error("signup: writing", e)
        }
    })?;
    send_verification(rc, &s.email, &verify_token).await;
    let row = SessionRow {
        id: session_id,
        user_id: user_id.clone(),
        email: s.email.clone(),
        email_verified_at: None,
        user_created_at: now.clone(),
        org_id: org_id.clone(),
        org_name: s.organisation.clone(),
        plan: crate::limits::Plan::Free.name().into(),
        role: "owner".into(),
        last_seen_ms: times.last_seen_ms,
        idle_until_ms: times.idle_until_ms,
        expires_ms: times.expires_ms,
        revoked_at: None,
    };
    act_as_row(rc, row, token, session_hash);
    rc.audit(
        &org_id,
        "account.signed_up",
        Some(&user_id),
        json!({ "email": s.email }),
    )
    .await;
    audit_change(rc, "key.created", &key, json!({ "via": "signup" })).await;
    started(
        rc,
        201,
        json!({ "key": shown_once(&secret, &key, json!({})) }),
    )
}

fn taken(email: bool) -> ApiError {
    let (field, detail) = if email {
        ("email", "An account with this email exists: sign in, or ask its organisation's owner for an invitation.")
    } else {
        ("organisation", "An organisation of this name exists: choose another name, or ask its owner for an invitation.")
    };
    ApiError::new(409, "already_exists", "Already exists", detail)
        .with_extension("field", field.into())
}

/// `POST /auth/login`.
pub async fn login(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    refuse_foreign_origin(rc)?;
    let bytes = rc.body_bytes().await?;
    let (email, pass) =
        check_login(parse_json::<LoginBody>(&bytes)?).map_err(ApiError::validation)?;
    if let Some(e) = login_blocked(rc, &email) {
        return Err(e);
    }
    let account = store::by_email(&rc.env, &email)
        .await
        .step("login: reading the account")?;
    // An unknown email costs the same derivation as a known one.
    let record = account
        .as_ref()
        .and_then(|a| Record::parse(&a.password))
        .unwrap_or_else(decoy);
    let ok = password::matches(&pass, &record)
        .await
        .map_err(derivation_failed)?;
    let Some(account) = account.filter(|_| ok) else {
        let failure = ApiError::unauthorized("invalid_credentials", "Wrong email or password.");
        return Err(count_failure(rc, failure, &login_buckets(rc, &email)).await);
    };
    if record.needs_rehash() {
        let new = password::new_record(&pass)
            .await
            .map_err(derivation_failed)?;
        store::set_password(&rc.env, &account.user_id, &new.format(), &now_iso(), None)
            .await
            .step("login: raising the password's cost")?;
    }
    let (token, hash, id, times) = fresh()?;
    sessions::insert(&rc.env, &id, &hash, &account.user_id, &now_iso(), &times)
        .await
        .step("login: storing the session")?;
    act_as(rc, token, hash).await?;
    rc.audit(&account.org_id, "account.signed_in", Some(&id), json!({}))
        .await;
    started(rc, 200, json!({}))
}

/// The signed-in session (the gate guarantees one on `Access::Session` routes).
fn session(rc: &RequestCtx) -> Result<&super::caller::Session, ApiError> {
    rc.caller
        .session
        .as_deref()
        .ok_or_else(|| ApiError::internal("a session route without a session"))
}

/// `GET /auth/me`.
pub async fn me(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let s = session(rc)?;
    let mut resp = http::json(200, &view(&s.row, &s.token))?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// `POST /auth/logout`: the session ends now, and the browser drops the cookie.
pub async fn logout(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let s = session(rc)?.clone();
    end(rc, &s).await?;
    rc.audit(
        &s.row.org_id,
        "account.signed_out",
        Some(&s.row.id),
        json!({}),
    )
    .await;
    let mut resp = http::bytes(204, "text/plain", Vec::new())?;
    http::set(resp.headers_mut(), "Set-Cookie", &clear_cookie());
    Ok(resp)
}

/// `POST /auth/password`: the current password proves the person; every session of theirs
/// ends and a new one starts, in one write.
pub async fn change_password(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let body: PasswordChangeBody = parse_json(&bytes)?;
    let s = session(rc)?.clone();
    let new = body.new_password.unwrap_or_default();
    if let Some(e) = password_error("new_password", &new, &s.row.email) {
        return Err(ApiError::validation(vec![e]));
    }
    let account = store::by_user(&rc.env, &s.row.user_id)
        .await
        .step("password: reading the account")?
        .ok_or_else(|| ApiError::internal("a session without its account"))?;
    let current = body.current_password.unwrap_or_default();
    if current.is_empty() || current.chars().count() > accounts::MAX_PASSWORD {
        return Err(ApiError::validation(vec![FieldError::new(
            "current_password",
            "the account's current password",
        )]));
    }
    // A stolen session must not become a way to guess the password: the sign-in throttle
    // applies before any derivation.
    if let Some(e) = login_blocked(rc, &account.email) {
        return Err(e);
    }
    let record = Record::parse(&account.password).unwrap_or_else(decoy);
    let ok = password::matches(&current, &record)
        .await
        .map_err(derivation_failed)?;
    if !ok {
        let failure = ApiError::new(
            403,
            "invalid_credentials",
            "Wrong password",
            "The current password is wrong.",
        )
        .with_extension("field", "current_password".into());
        return Err(count_failure(rc, failure, &login_buckets(rc, &account.email)).await);
    }
    let new_record = password::new_record(&new)
        .await
        .map_err(derivation_failed)?;
    let (token, hash, id, times) = fresh()?;
    let now = now_iso();
    let stmt = sessions::insert_stmt(&id, &hash, &account.user_id, &now, &times);
    store::set_password(
        &rc.env,
        &account.user_id,
        &new_record.format(),
        &now,
        Some(stmt),
    )
    .await
    .step("password: writing")?;
    act_as(rc, token, hash).await?;
    rc.audit(
        &account.org_id,
        "account.password_changed",
        Some(&account.user_id),
        json!({}),
    )
    .await;
    started(rc, 200, json!({}))
}

fn token_of(body: &TokenBody, prefix: &str) -> Result<String, ApiError> {
    let token = body.token.clone().unwrap_or_default();
    match token_error("token", &token, prefix) {
        Some(e) => Err(ApiError::validation(vec![e])),
        None => Ok(token),
    }
}

/// `POST /auth/verify-email`: the link's token confirms the address of the person signed in
/// (live mode opens). A link opened by someone else, or while signed in as someone else,
/// confirms nothing: whoever signed up with another person's address cannot have that person
/// confirm it by clicking.
pub async fn verify_email(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let body: TokenBody = parse_json(&bytes)?;
    if body.password.is_some() {
        return Err(ApiError::validation(vec![FieldError::new(
            "password",
            "unknown field; expected: token",
        )]));
    }
    let token = token_of(&body, VERIFY_PREFIX)?;
    let me = session(rc)?.row.user_id.clone();
    let (user_id, org_id) = store::verify_by_token(&rc.env, &hash_token(&token), &me, &now_iso())
        .await
        .step("verify: writing")?
        .ok_or_else(|| {
            ApiError::not_found("This verification link is unknown, used, expired, or another account's: open it signed in as the account it was sent to.")
        })?;
    rc.audit(
        &org_id,
        "account.email_verified",
        Some(&user_id),
        json!({ "by": "link" }),
    )
    .await;
    http::json(200, &json!({ "email_verified": true }))
}

/// `POST /auth/accept-invite`: the invitation's token and a password make the member's account
/// and sign them in. Their email is confirmed as anyone's is (the inviter held the link too).
pub async fn accept_invite(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    refuse_foreign_origin(rc)?;
    let bytes = rc.body_bytes().await?;
    let body: TokenBody = parse_json(&bytes)?;
    let token = token_of(&body, INVITE_PREFIX)?;
    let now = now_iso();
    let invite = store::open_invite(&rc.env, &hash_token(&token), &now)
        .await
        .step("invite: reading")?
        .ok_or_else(|| {
            ApiError::not_found("This invitation is unknown, used, withdrawn or expired.")
        })?;
    let pass = body.password.unwrap_or_default();
    if let Some(e) = password_error("password", &pass, &invite.email) {
        return Err(ApiError::validation(vec![e]));
    }
    let record = password::new_record(&pass)
        .await
        .map_err(derivation_failed)?;
    let user_id = format!("usr_{}", random::hex_id(8));
    let (session_token, hash, id, times) = fresh()?;
    let (verify_token, verify_hash) = one_time_token(VERIFY_PREFIX)?;
    let verify_until = iso_after(VERIFY_TTL_S as f64);
    let accepted = store::accept(
        &rc.env,
        &invite,
        &user_id,
        &record.format(),
        &now,
        (&verify_hash, &verify_until),
        &id,
        &hash,
        &times,
    )
    .await
    .map_err(|e| {
        if e.0.contains("UNIQUE") {
            taken(true)
        } else {
            http::edge_error("invite: accepting", e)
        }
    })?;
    if !accepted {
        return Err(ApiError::not_found(
            "This invitation was used or withdrawn meanwhile.",
        ));
    }
    send_verification(rc, &invite.email, &verify_token).await;
    act_as(rc, session_token, hash).await?;
    rc.audit(
        &invite.org_id,
        "member.joined",
        Some(&user_id),
        json!({ "invite": invite.id, "email": invite.email }),
    )
    .await;
    started(rc, 201, json!({}))
}

/// `POST /admin/users/{email}/verify`: the operator confirms an address (live mode opens).
pub async fn admin_verify(rc: &mut RequestCtx, email: &str) -> Result<Response, ApiError> {
    let email = accounts::normalise_email(email);
    let (user_id, org_id) = store::verify_by_operator(&rc.env, &email, &now_iso())
        .await
        .step("verify: writing")?
        .ok_or_else(|| ApiError::not_found(format!("no account for `{email}`")))?;
    rc.audit(
        &org_id,
        "account.email_verified",
        Some(&user_id),
        json!({ "by": "operator" }),
    )
    .await;
    http::json(
        200,
        &json!({ "user_id": user_id, "email": email, "email_verified": true }),
    )
}
