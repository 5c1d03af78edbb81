//! `/members`: the people of an organisation. Everyone signed in sees the list; the owner
//! invites (a one-time link, valid [`INVITE_TTL_S`], shown once and stored as its SHA-256),
//! withdraws an invitation, and removes a member (their sessions end at once).

use serde_json::json;
use worker::Response;

use super::account_links::INVITE_PREFIX;
use super::http::{self, RequestCtx, Step};
use super::parse::parse_json;
use super::problem::ApiError;
use super::session::one_time_token;
use crate::accounts::{email_error, normalise_email, InviteBody, INVITE_TTL_S};
use crate::edge::clock::{iso_after, now_iso};
use crate::edge::{mail, random};
use crate::store::accounts::{self as store, NewInvite, MAX_OPEN_INVITES};

fn user_id(rc: &RequestCtx) -> Result<String, ApiError> {
    rc.caller
        .session
        .as_ref()
        .map(|s| s.row.user_id.clone())
        .ok_or_else(|| ApiError::internal("a members route without a session"))
}

/// `GET /members`: the members, and the open invitations.
pub async fn list(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let org_id = rc.org_id()?;
    let members = store::members(&rc.env, &org_id)
        .await
        .step("members: listing")?;
    let invites = store::invites(&rc.env, &org_id, &now_iso())
        .await
        .step("members: listing invitations")?;
    let mut resp = http::json(200, &json!({ "data": members, "invites": invites }))?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// `POST /members/invites`: a link for `email` to join as a member.
pub async fn invite(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let body: InviteBody = parse_json(&bytes)?;
    let email = normalise_email(body.email.as_deref().unwrap_or_default());
    if let Some(e) = email_error("email", &email) {
        return Err(ApiError::validation(vec![e]));
    }
    // Whether the email has an account is not told here (that would let any owner probe
    // addresses): accepting fails for it instead.
    let org_id = rc.org_id()?;
    // Each invitation is a mail to an address the owner chooses: bounded per organisation.
    let mut sender = rc.caller.clone();
    sender.plan = crate::limits::Plan::AuthFailures;
    sender.subject = format!("invites:{org_id}");
    super::limiter::take(rc, &sender).await?;
    let (token, hash) = one_time_token(INVITE_PREFIX)?;
    let id = format!("inv_{}", random::hex_id(8));
    let (now, expires_at) = (now_iso(), iso_after(INVITE_TTL_S as f64));
    let stored = store::invite(
        &rc.env,
        &NewInvite {
            id: &id,
            org_id: &org_id,
            email: &email,
            token_hash: &hash,
            created_by: &user_id(rc)?,
            now: &now,
            expires_at: &expires_at,
        },
    )
    .await
    .step("invite: storing")?;
    if !stored {
        return Err(ApiError::new(
            409,
            "invite_limit_reached",
            "Too many open invitations",
            format!("An organisation holds at most {MAX_OPEN_INVITES} open invitations; withdraw one first."),
        ));
    }
    let url = format!("{}/console/#/join?token={token}", rc.public_base());
    let text = format!(
        "You are invited to join {} on CarbonTrace: {url}\nThe link is valid for {} days and works once.",
        rc.caller.session.as_ref().map_or("an organisation", |s| s.row.org_name.as_str()),
        INVITE_TTL_S / 86_400
    );
    if let Err(e) = mail::send(&rc.env, &email, "Your invitation to CarbonTrace", &text).await {
        // The owner has the link in the answer too, to pass on another way.
        worker::console_error!("{}: invitation mail to {email} failed: {e}", rc.request_id);
    }
    rc.audit(
        &org_id,
        "member.invited",
        Some(&id),
        json!({ "email": email }),
    )
    .await;
    let mut resp = http::json(
        201,
        &json!({ "id": id, "email": email, "role": "member", "created_at": now,
                 "expires_at": expires_at, "invite_url": url }),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// `DELETE /members/invites/{id}`.
pub async fn revoke_invite(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let org_id = rc.org_id()?;
    if !store::revoke_invite(&rc.env, &org_id, id, &now_iso())
        .await
        .step("invite: withdrawing")?
    {
        return Err(ApiError::not_found(format!("no open invitation `{id}`")));
    }
    rc.audit(&org_id, "member.invite_withdrawn", Some(id), json!({}))
        .await;
    http::json(200, &json!({ "id": id, "withdrawn": true }))
}

/// `DELETE /members/{user_id}`: a member (never the owner) leaves the organisation.
pub async fn remove(rc: &mut RequestCtx, member: &str) -> Result<Response, ApiError> {
    let org_id = rc.org_id()?;
    if !store::remove_member(&rc.env, &org_id, member)
        .await
        .step("members: removing")?
    {
        return Err(ApiError::not_found(format!(
            "no member `{member}` (the owner cannot be removed)"
        )));
    }
    rc.audit(&org_id, "member.removed", Some(member), json!({}))
        .await;
    http::json(200, &json!({ "user_id": member, "removed": true }))
}
