//! `GET /certificates/{id}/verify` (public, metered per client): trusts no flag. It
//! recomputes the content hash of the stored document, checks the signature by its schema —
//! `ct-cert-2` with the registry's Ed25519 key its `kid` names, if that key was current at
//! the issue date and is not distrusted; `ct-cert-1` with the HMAC key; any other schema is
//! unknown — and checks the PDF in R2 (`pdf_check`, cached in KV). The verdict and its
//! reasons are `certs::verify`'s.

use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::ApiError;
use crate::certs::signing;
use crate::certs::verify::{may_vouch, scheme, verdict, Scheme};
use crate::certs::{jcs, sha256_hex, verify_signature};
use crate::edge::bindings;
use crate::edge::signing::Purpose;
use crate::store::certificates::{self, Certificate};

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

pub async fn verify(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let Some(row) = certificates::find(&rc.env, id)
        .await
        .step("verify: reading the record")?
    else {
        return Err(ApiError::not_found(format!("no certificate `{id}`")));
    };
    let doc: Value = serde_json::from_str(&row.canonical).unwrap_or(Value::Null);
    let content_ok = sha256_hex(row.canonical.as_bytes()) == row.content_hash;
    let signature = signature_holds(rc, &row, &doc).await?;
    let (pdf_ok, cache) = pdf_check(&rc.env, &row)
        .await
        .step("verify: checking the PDF")?;
    let (status, problems) = verdict(content_ok, &signature, pdf_ok, row.revoked_at.is_some());
    let valid = problems.is_empty();
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
            "checks": { "content_hash": content_ok, "signature": signature.is_ok(), "pdf": pdf_ok },
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
    http::set(resp.headers_mut(), "X-CarbonTrace-Verify-Cache", cache);
    Ok(resp)
}

/// Whether the signature holds, dispatched on the schema (`ct-cert-2`: the registry's Ed25519
/// key its `kid` names, if that key may vouch for the issue date; `ct-cert-1`: the HMAC key;
/// anything else: unknown). `Err` carries the reason the client reads.
async fn signature_holds(
    rc: &RequestCtx,
    row: &Certificate,
    doc: &Value,
) -> Result<Result<(), String>, ApiError> {
    let scheme = match scheme(doc["schema"].as_str()) {
        Ok(s) => s,
        Err(why) => return Ok(Err(why)),
    };
    let bad = || Err("the signature does not match the content".to_string());
    if scheme == Scheme::Hmac {
        let signer = signer(rc)?;
        let ok = row.signing_key_id == signer.id
            && verify_signature(&signer.key, &row.content_hash, &row.signature);
        return Ok(if ok { Ok(()) } else { bad() });
    }
    let Some(key) =
        crate::edge::signing::record(&rc.env, Purpose::Certificate, &row.signing_key_id)
            .await
            .step("verify: reading the signing key")?
    else {
        return Ok(Err(format!(
            "the signing key `{}` is unknown: no published key has that id",
            row.signing_key_id
        )));
    };
    if let Err(why) = may_vouch(&key.standing(), &row.issued_at) {
        return Ok(Err(why));
    }
    // The signed bytes are the RFC 8785 form of the document as stored.
    let ok = jcs::canonicalize(doc) == row.canonical
        && signing::verify(&key.public_x, row.canonical.as_bytes(), &row.signature);
    Ok(if ok { Ok(()) } else { bad() })
}

/// Whether the stored PDF is the one issued. Hashing it means reading it whole from R2, so
/// the verdict is kept in KV under the object's current etag: the next verification costs an
/// R2 `head`, and any change to the object (a new etag) is hashed afresh. Revocation is read
/// from D1 on every call, so it is never stale.
async fn pdf_check(env: &worker::Env, row: &Certificate) -> worker::Result<(bool, &'static str)> {
    let bucket = env.bucket(crate::edge::bindings::BUCKET)?;
    let Some(head) = bucket.head(&row.pdf_key).await? else {
        return Ok((false, "miss"));
    };
    let kv = env.kv(crate::edge::bindings::KV)?;
    let key = format!("verify:pdf:{}:{}:{}", row.id, row.pdf_hash, head.etag());
    if let Ok(Some(v)) = kv.get(&key).text().await {
        return Ok((v == "ok", "hit"));
    }
    let obj = bucket.get(&row.pdf_key).execute().await?;
    let ok = match obj.as_ref().and_then(|o| o.body()) {
        Some(b) => sha256_hex(&b.bytes().await?) == row.pdf_hash,
        None => false,
    };
    let stored = kv
        .put(&key, if ok { "ok" } else { "mismatch" })
        .map(|p| p.expiration_ttl(30 * 86_400));
    if let Ok(put) = stored {
        if let Err(e) = put.execute().await {
            worker::console_error!("verify: could not cache the PDF check: {e}");
        }
    }
    Ok((ok, "miss"))
}
