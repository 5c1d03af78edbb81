//! The one-time links of the console: an email's verification (`POST /auth/verify-email`,
//! confirming only the account signed in; the operator's `POST /admin/users/{email}/verify`)
//! and an invitation's acceptance (`POST /auth/accept-invite`: the member's account and
//! session). Tokens are `ctver_`/`ctinv_` and 64 hex characters, stored as their SHA-256;
//! mail goes through `edge::mail`. Sign-up and sign-in (`account.rs`) share its two refusals
//! (a failed derivation, a taken email or name) and the verification mail.

use serde_json::json;
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::parse::parse_json;
use super::problem::{ApiError, FieldError};
use super::session::{act_as, fresh, one_time_token, refuse_foreign_origin, session, started};
use crate::accounts::session::hash_token;
use crate::accounts::{self, password_error, token_error, TokenBody, VERIFY_TTL_S};
use crate::edge::clock::{iso_after, now_iso};
use crate::edge::{mail, password, random};
use crate::store::accounts as store;

pub(super) const VERIFY_PREFIX: &str = "ctver_";
pub(super) const INVITE_PREFIX: &str = "ctinv_";

/// Mail the verification link (local mode has no mail: `edge::mail` logs it). A failure to
/// send is logged, not the sign-up's failure: the operator can still confirm the address.
pub(super) async fn send_verification(rc: &RequestCtx, email: &str, token: &str) {
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

/// A key derivation that failed in the runtime (a 500: the cause goes to the log).
pub(super) fn derivation_failed(e: String) -> ApiError {
    http::edge_error("password: deriving", e)
}

/// 409 for an email or organisation name that has an account (`field` says which).
pub(super) fn taken(email: bool) -> ApiError {
    let (field, detail) = if email {
        ("email", "An account with this email exists: sign in, or ask its organisation's owner for an invitation.")
    } else {
        ("organisation", "An organisation of this name exists: choose another name, or ask its owner for an invitation.")
    };
    ApiError::new(409, "already_exists", "Already exists", detail)
        .with_extension("field", field.into())
}
