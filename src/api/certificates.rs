//! Certificates: `POST /certificates` (issue), `GET /certificates/{id}` (JSON or PDF),
//! `DELETE /certificates/{id}` (revoke), `GET /certificates/{id}/verify` (public).
//!
//! Issuing writes the PDF to R2 first and the record to D1 second; if the record cannot be
//! written the PDF is deleted, so nothing half-issued remains. Verification trusts no flag:
//! it recomputes the content hash of the stored canonical JSON, checks the signature, and
//! hashes the PDF in R2.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use worker::Response;

use super::http::{self, RequestCtx};
use super::idempotency;
use super::problem::{parse_json, ApiError, FieldError};
use crate::certs::{canonical, sha256_hex, sign, verify_signature, SCHEMA};
use crate::edge::clock::now_iso;
use crate::edge::state;
use crate::edge::{bindings, random};
use crate::lca::input::parse_device;
use crate::lca::savings::{parse_savings, savings};
use crate::version::METHODOLOGY_VERSION;

const SIGNING_KEY_ID: &str = "CERT_SIGNING_KEY_ID";

struct Signer {
    key: Vec<u8>,
    id: String,
}

fn signer(rc: &RequestCtx) -> Result<Signer, ApiError> {
    let key = bindings::signing_key(&rc.env).ok_or_else(|| {
        ApiError::service_unavailable(
            "signing_unavailable",
            "Certificates cannot be signed: CERT_SIGNING_KEY (16+ characters) is not configured.",
        )
    })?;
    let id = rc
        .env
        .secret(SIGNING_KEY_ID)
        .map(|s| s.to_string())
        .or_else(|_| rc.env.var(SIGNING_KEY_ID).map(|v| v.to_string()))
        .unwrap_or_else(|_| "default".into());
    Ok(Signer {
        key: key.into_bytes(),
        id,
    })
}

fn base_url(rc: &RequestCtx) -> String {
    rc.env
        .var("PUBLIC_BASE_URL")
        .map(|v| v.to_string())
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| rc.url.origin().ascii_serialization())
}

fn verify_url(rc: &RequestCtx, id: &str) -> String {
    format!("{}/api/v1/certificates/{id}/verify", base_url(rc))
}

/// Asset identifiers a certificate may carry.
const ASSET_FIELDS: [&str; 3] = ["serial", "asset_tag", "owner_reference"];

/// The request, validated: kind, the request JSON as given, the result, the asset.
fn build_result(
    body: &Value,
    factors_engine: crate::lca::Engine,
) -> Result<(&'static str, Value, Value, Value), ApiError> {
    let Value::Object(o) = body else {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )]));
    };
    let mut errors = Vec::new();
    for k in o.keys() {
        if !["footprint", "savings", "asset"].contains(&k.as_str()) {
            errors.push(FieldError::new(
                k.clone(),
                "unknown field; expected footprint or savings, and asset",
            ));
        }
    }
    let mut asset = Map::new();
    match o.get("asset") {
        None | Some(Value::Null) => {}
        Some(Value::Object(a)) => {
            for (k, v) in a {
                match v {
                    _ if !ASSET_FIELDS.contains(&k.as_str()) => errors.push(FieldError::new(
                        format!("asset.{k}"),
                        format!(
                            "unknown field; expected one of: {}",
                            ASSET_FIELDS.join(", ")
                        ),
                    )),
                    Value::String(s) if !s.trim().is_empty() && s.len() <= 200 => {
                        asset.insert(k.clone(), Value::String(s.trim().into()));
                    }
                    _ => errors.push(FieldError::new(
                        format!("asset.{k}"),
                        "must be a string of 1 to 200 characters",
                    )),
                }
            }
        }
        Some(_) => errors.push(FieldError::new("asset", "must be an object")),
    }
    let (kind, request) = match (o.get("footprint"), o.get("savings")) {
        (Some(f), None) => ("footprint", f.clone()),
        (None, Some(s)) => ("savings", s.clone()),
        _ => {
            errors.push(FieldError::new(
                "footprint",
                "give exactly one of `footprint` (a POST /footprint body) or `savings` (a POST /savings body)",
            ));
            return Err(ApiError::validation(errors));
        }
    };
    let engine = factors_engine;
    let result = if kind == "footprint" {
        let input = parse_device(&request, "footprint", engine.factors);
        match input {
            Ok(input) => match engine.footprint(&input) {
                Ok(f) => {
                    Some(serde_json::to_value(f).map_err(|e| ApiError::internal(e.to_string()))?)
                }
                Err(e) => {
                    errors.extend(
                        e.into_iter()
                            .map(|e| FieldError::new(format!("footprint.{}", e.field), e.message)),
                    );
                    None
                }
            },
            Err(e) => {
                errors.extend(e);
                None
            }
        }
    } else {
        match parse_savings(&request, engine.factors) {
            Ok(input) => match engine.footprint(&input.device) {
                Ok(new_device) => {
                    let grid = new_device.grid_kg_per_kwh();
                    Some(
                        serde_json::to_value(savings(&input, new_device, grid))
                            .map_err(|e| ApiError::internal(e.to_string()))?,
                    )
                }
                Err(e) => {
                    errors.extend(e.into_iter().map(|e| {
                        FieldError::new(format!("savings.device.{}", e.field), e.message)
                    }));
                    None
                }
            },
            Err(e) => {
                errors.extend(
                    e.into_iter()
                        .map(|e| FieldError::new(format!("savings.{}", e.field), e.message)),
                );
                None
            }
        }
    };
    match result {
        Some(r) if errors.is_empty() => Ok((kind, request, r, Value::Object(asset))),
        _ => Err(ApiError::validation(errors)),
    }
}

pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let body: Value = parse_json(&bytes)?;
    let engine = state::active(&rc.env).await.engine();
    if rc.caller.sandbox() {
        // A mock: computed like a real one so integrators see the shape, never signed or stored.
        let (kind, request, result, asset) = build_result(&body, engine)?;
        return http::json(
            201,
            &json!({
                "id": "cert_sandbox_0000000000000000", "kind": kind, "content_hash": null, "signature": null,
                "verification_url": null, "certificate": { "schema": SCHEMA, "request": request, "result": result, "asset": asset },
                "_sandbox": true, "note": "sandbox certificates are not signed and not stored",
            }),
        );
    }
    let signer = signer(rc)?;
    let org_id = rc.org_id()?;
    let reservation = match idempotency::begin(rc, &org_id, &bytes).await? {
        Some(Err(replay)) => return Ok(replay),
        Some(Ok(r)) => Some(r),
        None => None,
    };
    let outcome = issue(rc, &body, engine, &signer, &org_id).await;
    idempotency::settle(rc, reservation, 201, &outcome).await?;
    let v = outcome?;
    let mut resp = http::json(201, &v)?;
    http::set(
        resp.headers_mut(),
        "Location",
        &format!("/api/v1/certificates/{}", v["id"].as_str().unwrap_or("")),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct OrgName {
    name: String,
}

async fn org_name(rc: &RequestCtx, org_id: &str) -> Result<String, ApiError> {
    let db = rc.env.d1(bindings::DB).map_err(http::edge_error)?;
    let row: Option<OrgName> = db
        .prepare("SELECT name FROM organisations WHERE id = ?1")
        .bind(&[org_id.into()])
        .map_err(http::edge_error)?
        .first(None)
        .await
        .map_err(http::edge_error)?;
    Ok(row.map(|r| r.name).unwrap_or_else(|| org_id.to_string()))
}

async fn issue(
    rc: &RequestCtx,
    body: &Value,
    engine: crate::lca::Engine<'_>,
    signer: &Signer,
    org_id: &str,
) -> Result<Value, ApiError> {
    let (kind, request, result, asset) = build_result(body, engine)?;
    let id = format!("cert_{}", random::hex_id(12));
    let issued_at = now_iso();
    let org = org_name(rc, org_id).await?;
    let doc = json!({
        "schema": SCHEMA,
        "certificate_id": id,
        "issued_at": issued_at,
        "issuer": { "org_id": org_id, "org_name": org },
        "kind": kind,
        "asset": asset,
        "request": request,
        "result": result,
        "factor_set_version": engine.factors.version,
        "methodology_version": METHODOLOGY_VERSION,
    });
    let canon = canonical(&doc);
    let content_hash = sha256_hex(canon.as_bytes());
    let signature = sign(&signer.key, &content_hash);
    let url = verify_url(rc, &id);
    let started = js_sys::Date::now();
    let pdf = crate::pdf::certificate::render(&doc, &content_hash, &signature, &signer.id, &url);
    let render_ms = js_sys::Date::now() - started;
    let pdf_hash = sha256_hex(&pdf);
    let pdf_key = format!("certificates/{org_id}/{id}.pdf");
    let pdf_len = pdf.len();
    let total = if kind == "savings" {
        &result["avoided_kg_co2e"]
    } else {
        &result["total_kg_co2e"]
    }
    .as_f64()
    .unwrap_or(0.0);

    let bucket = rc.env.bucket(bindings::BUCKET).map_err(http::edge_error)?;
    bucket
        .put(&pdf_key, pdf)
        .http_metadata(worker::HttpMetadata {
            content_type: Some("application/pdf".into()),
            ..Default::default()
        })
        .execute()
        .await
        .map_err(http::edge_error)?;
    let db = rc.env.d1(bindings::DB).map_err(http::edge_error)?;
    let insert = db
        .prepare(
            "INSERT INTO certificates (id, org_id, key_id, kind, issued_at, canonical, content_hash, signature, \
             signing_key_id, factor_set_version, total_kg_co2e, pdf_key, pdf_hash, pdf_bytes) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .bind(&[
            id.clone().into(),
            org_id.into(),
            rc.caller.key_id.clone().unwrap_or_default().into(),
            kind.into(),
            issued_at.clone().into(),
            canon.into(),
            content_hash.clone().into(),
            signature.clone().into(),
            signer.id.clone().into(),
            engine.factors.version.clone().into(),
            total.into(),
            pdf_key.clone().into(),
            pdf_hash.clone().into(),
            (pdf_len as f64).into(),
        ])
        .map_err(http::edge_error)?;
    if let Err(e) = insert.run().await {
        // Nothing half-issued: take the PDF back out.
        let _ = bucket.delete(&pdf_key).await;
        return Err(http::edge_error(e));
    }
    rc.audit(
        org_id,
        "certificate.issued",
        Some(&id),
        json!({ "kind": kind, "content_hash": content_hash, "total_kg_co2e": total }),
    )
    .await;
    Ok(json!({
        "id": id, "kind": kind, "issued_at": issued_at,
        "content_hash": content_hash, "signature": signature, "signing_key_id": signer.id,
        "verification_url": url, "pdf_url": format!("/api/v1/certificates/{id}?format=pdf"),
        "pdf": { "bytes": pdf_len, "sha256": pdf_hash, "render_ms": render_ms },
        "certificate": doc,
    }))
}

#[derive(Deserialize)]
struct Row {
    id: String,
    org_id: String,
    kind: String,
    issued_at: String,
    canonical: String,
    content_hash: String,
    signature: String,
    signing_key_id: String,
    factor_set_version: String,
    pdf_key: String,
    pdf_hash: String,
    pdf_bytes: f64,
    revoked_at: Option<String>,
}

async fn load(rc: &RequestCtx, id: &str) -> Result<Option<Row>, ApiError> {
    let db = rc.env.d1(bindings::DB).map_err(http::edge_error)?;
    db.prepare(
        "SELECT id, org_id, kind, issued_at, canonical, content_hash, signature, signing_key_id, factor_set_version, \
         pdf_key, pdf_hash, pdf_bytes, revoked_at FROM certificates WHERE id = ?1",
    )
    .bind(&[id.into()])
    .map_err(http::edge_error)?
    .first(None)
    .await
    .map_err(http::edge_error)
}

/// The caller's own certificate; another organisation's is a 404 (its existence is not told).
async fn own(rc: &RequestCtx, id: &str) -> Result<Row, ApiError> {
    if rc.caller.sandbox() {
        return Err(ApiError::new(
            404,
            "sandbox_not_stored",
            "Not available in the sandbox",
            "Sandbox certificates are not stored; issue one with a live key to fetch it.",
        ));
    }
    match load(rc, id).await? {
        Some(r) if Some(&r.org_id) == rc.caller.org_id.as_ref() => Ok(r),
        _ => Err(ApiError::not_found(format!(
            "no certificate `{id}` for this organisation"
        ))),
    }
}

fn wants_pdf(rc: &RequestCtx) -> bool {
    rc.query("format").as_deref() == Some("pdf")
        || rc
            .header("Accept")
            .is_some_and(|a| a.contains("application/pdf"))
}

pub async fn get(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let row = own(rc, id).await?;
    if wants_pdf(rc) {
        let bucket = rc.env.bucket(bindings::BUCKET).map_err(http::edge_error)?;
        let obj = bucket
            .get(&row.pdf_key)
            .execute()
            .await
            .map_err(http::edge_error)?
            .ok_or_else(|| ApiError::internal("the certificate's PDF is missing from storage"))?;
        let body = obj
            .body()
            .ok_or_else(|| ApiError::internal("empty PDF object"))?;
        let stream = body.stream().map_err(http::edge_error)?;
        let mut resp = Response::from_stream(stream).map_err(http::edge_error)?;
        let h = resp.headers_mut();
        http::set(h, "Content-Type", "application/pdf");
        http::set(
            h,
            "Content-Disposition",
            &format!(
                "attachment; filename=\"carbontrace-certificate-{}.pdf\"",
                row.id
            ),
        );
        http::set(h, "Cache-Control", "private, max-age=3600");
        return Ok(resp);
    }
    let doc: Value =
        serde_json::from_str(&row.canonical).map_err(|e| ApiError::internal(e.to_string()))?;
    http::json(
        200,
        &json!({
            "id": row.id, "kind": row.kind, "issued_at": row.issued_at, "revoked_at": row.revoked_at,
            "content_hash": row.content_hash, "signature": row.signature, "signing_key_id": row.signing_key_id,
            "factor_set_version": row.factor_set_version, "verification_url": verify_url(rc, &row.id),
            "pdf": { "bytes": row.pdf_bytes, "sha256": row.pdf_hash, "url": format!("/api/v1/certificates/{}?format=pdf", row.id) },
            "certificate": doc,
        }),
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
    let db = rc.env.d1(bindings::DB).map_err(http::edge_error)?;
    db.prepare("UPDATE certificates SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")
        .bind(&[now.clone().into(), id.into()])
        .map_err(http::edge_error)?
        .run()
        .await
        .map_err(http::edge_error)?;
    rc.audit(&row.org_id, "certificate.revoked", Some(id), json!({}))
        .await;
    http::json(200, &json!({ "id": id, "revoked_at": now }))
}

pub async fn verify(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let Some(row) = load(rc, id).await? else {
        return Err(ApiError::not_found(format!("no certificate `{id}`")));
    };
    let signer = signer(rc)?;
    let content_ok = sha256_hex(row.canonical.as_bytes()) == row.content_hash;
    let signature_ok = row.signing_key_id == signer.id
        && verify_signature(&signer.key, &row.content_hash, &row.signature);
    let bucket = rc.env.bucket(bindings::BUCKET).map_err(http::edge_error)?;
    let pdf_ok = match bucket
        .get(&row.pdf_key)
        .execute()
        .await
        .map_err(http::edge_error)?
    {
        Some(obj) => match obj.body() {
            Some(b) => sha256_hex(&b.bytes().await.map_err(http::edge_error)?) == row.pdf_hash,
            None => false,
        },
        None => false,
    };
    let doc: Value = serde_json::from_str(&row.canonical).unwrap_or(Value::Null);
    let valid = content_ok && signature_ok && pdf_ok;
    let status = match (valid, &row.revoked_at) {
        (false, _) => "invalid",
        (true, Some(_)) => "revoked",
        (true, None) => "valid",
    };
    let mut problems = Vec::new();
    if !content_ok {
        problems.push("the stored content does not match its hash");
    }
    if !signature_ok {
        problems.push("the signature does not match the content hash");
    }
    if !pdf_ok {
        problems.push("the PDF does not match the one issued");
    }
    let result = &doc["result"];
    let footprint = if row.kind == "savings" {
        &result["new_device"]
    } else {
        result
    };
    let mut resp = http::json(
        200,
        &json!({
            "id": row.id, "status": status, "valid": valid && row.revoked_at.is_none(),
            "checks": { "content_hash": content_ok, "signature": signature_ok, "pdf": pdf_ok },
            "problems": problems,
            "content_hash": row.content_hash, "signing_key_id": row.signing_key_id,
            "issued_at": row.issued_at, "revoked_at": row.revoked_at,
            "issuer": doc["issuer"]["org_name"],
            "kind": row.kind, "factor_set_version": row.factor_set_version,
            "figures": {
                "total_kg_co2e": footprint["total_kg_co2e"], "breakdown": footprint["breakdown"],
                "avoided_kg_co2e": result.get("avoided_kg_co2e"),
            },
        }),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}
