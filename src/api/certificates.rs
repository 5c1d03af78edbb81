//! Certificates: `POST /certificates` (issue), `GET /certificates/{id}` (JSON or PDF),
//! `DELETE /certificates/{id}` (revoke), `GET /certificates/{id}/verify` (public), `GET
//! /certificates` (the tenant's, newest first).
//!
//! Issuing writes the PDF to R2 first and the record to D1 second; if the record cannot be
//! written the PDF is deleted, so nothing half-issued remains. Verification trusts no flag:
//! it recomputes the content hash of the stored canonical JSON, checks the signature, and
//! hashes the PDF in R2.

use serde_json::{json, Value};
use worker::Response;

use super::background;
use super::http::{self, RequestCtx, Step};
use super::idempotency::{self, NextAction};
use super::parse::{next_cursor, page_params, parse_json};
use super::problem::ApiError;
use crate::certs::issue::{self, Issued, Issuer};
use crate::certs::signing::KeyPair;
use crate::certs::statement::statement;
use crate::edge::clock::{now_iso, now_ms};
use crate::edge::signing::Purpose;
use crate::edge::{bindings, random, state};
use crate::store::certificates::{self, Certificate, NewCertificate};
use crate::version::BASE_PATH;
use crate::version::JWKS_PATH;

/// The verification URL of a certificate.
pub(super) fn verify_url(rc: &RequestCtx, id: &str) -> String {
    format!("{}{BASE_PATH}/certificates/{id}/verify", rc.public_base())
}

pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let body: Value = parse_json(&bytes)?;
    let engine = state::active(&rc.env).await.engine();
    if rc.caller.sandbox() {
        // A mock: computed like a real one so integrators see the shape, never signed or stored.
        let s = statement(&body, &engine).map_err(ApiError::validation)?;
        return http::json(201, &super::views::sandbox_certificate(s));
    }
    let key = crate::edge::signing::current(&rc.env, Purpose::Certificate)
        .await
        .step("certificate: reading the signing key")?
        .ok_or_else(|| {
            ApiError::service_unavailable(
                "signing_unavailable",
                "Certificates cannot be signed: CERT_ED25519_KEY (`<kid>:<64 hex>`) is not configured.",
            )
        })?;
    let org_id = rc.org_id()?;
    let reservation = match idempotency::begin(rc, &rc.tenant()?.scope(), &bytes).await? {
        NextAction::Replay(stored) => return Ok(stored),
        NextAction::Proceed(r) => r,
    };
    let outcome = issue(rc, &body, engine, &key, &org_id).await;
    idempotency::settle(rc, reservation, 201, &outcome).await?;
    let v = outcome?;
    let mut resp = http::json(201, &v)?;
    http::set(
        resp.headers_mut(),
        "Location",
        &format!(
            "{BASE_PATH}/certificates/{}",
            v["id"].as_str().unwrap_or("")
        ),
    );
    Ok(resp)
}

async fn issue(
    rc: &RequestCtx,
    body: &Value,
    engine: crate::lca::Engine<'_>,
    key: &KeyPair,
    org_id: &str,
) -> Result<Value, ApiError> {
    let s = statement(body, &engine).map_err(ApiError::validation)?;
    let id = format!("cert_{}", random::hex_id(12));
    let issued_at = now_iso();
    let org = crate::store::orgs::name(&rc.env, org_id)
        .await
        .step("certificate: reading the organisation")?;
    let jwks_url = format!("{}{JWKS_PATH}", rc.public_base());
    let url = verify_url(rc, &id);
    let started = now_ms();
    let Issued {
        doc,
        canonical: canon,
        content_hash,
        signature,
        pdf,
        pdf_hash,
    } = issue::issue(
        &s,
        &Issuer {
            certificate_id: &id,
            issued_at: &issued_at,
            org_id,
            org_name: &org,
            factor_set_version: &engine.factors.version,
            jwks_url: &jwks_url,
            verification_url: &url,
        },
        key,
    );
    let render_ms = now_ms() - started;
    let pdf_key = format!("certificates/{org_id}/{id}.pdf");
    let pdf_len = pdf.len();
    let total = s.total_kg();

    bindings::put_object(&rc.env, &pdf_key, pdf, "application/pdf")
        .await
        .step("certificate: storing the PDF in R2")?;
    let actor = rc.caller.actor();
    let inserted = certificates::insert(
        &rc.env,
        &NewCertificate {
            id: &id,
            org_id,
            key_id: &actor,
            kind: s.kind,
            issued_at: &issued_at,
            canonical: &canon,
            content_hash: &content_hash,
            signature: &signature,
            signing_key_id: &key.kid,
            factor_set_version: &engine.factors.version,
            total_kg_co2e: total,
            pdf_key: &pdf_key,
            pdf_hash: &pdf_hash,
            pdf_bytes: pdf_len,
            mode: rc.caller.mode.name(),
        },
    )
    .await;
    if let Err(e) = inserted {
        // Nothing half-issued: take the PDF back out.
        bindings::delete_object(&rc.env, &pdf_key).await;
        return Err(http::edge_error("certificate: writing the record", e));
    }
    rc.audit(
        org_id,
        "certificate.issued",
        Some(&id),
        json!({ "kind": s.kind, "content_hash": content_hash, "total_kg_co2e": total }),
    )
    .await;
    Ok(json!({
        "id": id, "kind": s.kind, "issued_at": issued_at,
        "content_hash": content_hash,
        "signature": { "alg": "EdDSA", "kid": key.kid, "value": signature },
        "signing_key_id": key.kid, "jwks_url": jwks_url,
        "verification_url": url, "pdf_url": format!("{BASE_PATH}/certificates/{id}?format=pdf"),
        "pdf": { "bytes": pdf_len, "sha256": pdf_hash, "render_ms": render_ms },
        "certificate": doc,
    }))
}

/// The caller's own certificate, in its key's mode; anything else is a 404 (whether it
/// exists is not told).
async fn own(rc: &RequestCtx, id: &str) -> Result<Certificate, ApiError> {
    certificates::owned(&rc.env, &rc.tenant()?, id)
        .await
        .step("certificate: reading the record")?
        .ok_or_else(|| ApiError::not_found(format!("no certificate `{id}` for this organisation")))
}

pub async fn get(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = own(rc, id).await?;
    if rc.wants("pdf", "application/pdf")? {
        let name = format!("carbontrace-certificate-{}.pdf", row.id);
        let mut resp = background::download(rc, &row.pdf_key, "application/pdf", &name)
            .await?
            .ok_or_else(|| ApiError::internal("the certificate's PDF is missing from storage"))?;
        http::set(resp.headers_mut(), "Cache-Control", "private, max-age=3600");
        return Ok(resp);
    }
    http::json(
        200,
        &super::views::certificate(&row, &verify_url(rc, &row.id)),
    )
}

pub async fn revoke(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = own(rc, id).await?;
    if let Some(at) = row.revoked_at {
        return http::json(
            200,
            &json!({ "id": id, "revoked_at": at, "already_revoked": true }),
        );
    }
    let now = now_iso();
    if !certificates::revoke(&rc.env, &rc.tenant()?, id, &now)
        .await
        .step("certificate: revoking it")?
    {
        // Revoked by a concurrent call meanwhile: answer as for a repeat.
        return http::json(200, &json!({ "id": id, "already_revoked": true }));
    }
    rc.audit(&row.org_id, "certificate.revoked", Some(id), json!({}))
        .await;
    http::json(200, &json!({ "id": id, "revoked_at": now }))
}

/// `GET /certificates`: the tenant's certificates, newest first (`limit`, `cursor`), each with
/// its PDF and its public verification URL.
pub async fn list(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let (after, limit) = page_params(rc.query("limit"), rc.query("cursor"))?;
    let mut rows = certificates::list(&rc.env, &rc.tenant()?, after.as_ref(), limit + 1)
        .await
        .step("certificates: listing")?;
    let next = next_cursor(&mut rows, limit, |c| (c.issued_at.as_str(), c.id.as_str()));
    let data: Vec<Value> = rows
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            v["verification_url"] = verify_url(rc, &c.id).into();
            v["pdf_url"] = format!("{BASE_PATH}/certificates/{}?format=pdf", c.id).into();
            v
        })
        .collect();
    let mut resp = http::json(200, &json!({ "data": data, "next_cursor": next }))?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}
