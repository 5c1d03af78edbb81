//! `/auth/*`: console accounts and sessions. Sign up (a Free organisation, its owner, a first
//! sandbox key shown once, and a session, in one write), sign in (throttled per address, per
//! account and per pair, `auth_failures.rs`; the password checked by WebCrypto's PBKDF2),
//! sign out, who am I (with the session's CSRF token), change password (every other session
//! ends). The one-time links (email verification, invitations): `account_links.rs`; reading
//! and starting sessions: `session.rs`; the rules: `accounts`.

use serde_json::json;
use worker::Response;

use super::account_links::{derivation_failed, send_verification, taken, VERIFY_PREFIX};
use super::auth_failures::{count_failure, login_blocked, login_buckets};
use super::http::{self, RequestCtx, Step};
use super::key_issue::{audit_change, fresh as fresh_key, shown_once};
use super::parse::parse_json;
use super::problem::{ApiError, FieldError};
use super::session::{
    act_as, act_as_row, end, fresh, one_time_token, refuse_foreign_origin, session, started, view,
};
use crate::accounts::password::{decoy, Record};
use crate::accounts::session::clear_cookie;
use crate::accounts::{
    self, login as check_login, password_error, signup as check_signup, LoginBody,
    PasswordChangeBody, SignupBody, VERIFY_TTL_S,
};
use crate::edge::clock::{iso_after, now_iso};
use crate::edge::{password, random};
use crate::keys::Mode;
use crate::store::accounts::{self as store, NewSignup};
use crate::store::sessions::{self, SessionRow};

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
