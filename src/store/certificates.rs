//! `certificates`: issued certificates. `canonical` is exactly what was hashed and signed;
//! the PDF lives in R2 at `pdf_key` and `pdf_hash` is its SHA-256.

use serde::Deserialize;
use worker::{D1PreparedStatement, Env};

use super::{execute, first, row, Tenant};
use crate::certs::sha256_hex;
use crate::edge::bindings;

#[derive(Debug, Deserialize)]
pub struct Certificate {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub issued_at: String,
    pub canonical: String,
    pub content_hash: String,
    pub signature: String,
    pub signing_key_id: String,
    pub factor_set_version: String,
    pub pdf_key: String,
    pub pdf_hash: String,
    pub pdf_bytes: f64,
    pub revoked_at: Option<String>,
}

const COLUMNS: &str = "id, org_id, kind, issued_at, canonical, content_hash, signature, \
signing_key_id, factor_set_version, pdf_key, pdf_hash, pdf_bytes, revoked_at";

/// Any organisation's certificate (public verification).
pub async fn find(env: &Env, id: &str) -> worker::Result<Option<Certificate>> {
    row(env, "certificates", COLUMNS, id, None).await
}

pub async fn owned(env: &Env, tenant: &Tenant, id: &str) -> worker::Result<Option<Certificate>> {
    row(env, "certificates", COLUMNS, id, Some(tenant)).await
}

/// A new certificate's record.
pub struct NewCertificate<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub key_id: &'a str,
    pub kind: &'a str,
    pub issued_at: &'a str,
    pub canonical: &'a str,
    pub content_hash: &'a str,
    pub signature: &'a str,
    pub signing_key_id: &'a str,
    pub factor_set_version: &'a str,
    pub total_kg_co2e: f64,
    pub pdf_key: &'a str,
    pub pdf_hash: &'a str,
    pub pdf_bytes: usize,
    pub mode: &'a str,
}

pub fn insert(env: &Env, c: &NewCertificate) -> worker::Result<D1PreparedStatement> {
    bindings::db(env)?
        .prepare(
            "INSERT INTO certificates (id, org_id, key_id, kind, issued_at, canonical, content_hash, signature, \
             signing_key_id, factor_set_version, total_kg_co2e, pdf_key, pdf_hash, pdf_bytes, mode) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )
        .bind(&[
            c.id.into(),
            c.org_id.into(),
            c.key_id.into(),
            c.kind.into(),
            c.issued_at.into(),
            c.canonical.into(),
            c.content_hash.into(),
            c.signature.into(),
            c.signing_key_id.into(),
            c.factor_set_version.into(),
            c.total_kg_co2e.into(),
            c.pdf_key.into(),
            c.pdf_hash.into(),
            (c.pdf_bytes as f64).into(),
            c.mode.into(),
        ])
}

/// Revoke (once): whether this call revoked it.
pub async fn revoke(env: &Env, tenant: &Tenant, id: &str, at: &str) -> worker::Result<bool> {
    Ok(execute(
        env,
        "UPDATE certificates SET revoked_at = ?1 WHERE id = ?2 AND org_id = ?3 AND mode = ?4 AND revoked_at IS NULL",
        &[at.into(), id.into(), tenant.org_id.as_str().into(), tenant.mode().into()],
    )
    .await?
        > 0)
}

/// An organisation's display name (its id when unknown).
pub async fn org_name(env: &Env, org_id: &str) -> worker::Result<String> {
    #[derive(Deserialize)]
    struct Org {
        name: String,
    }
    let o: Option<Org> = first(
        env,
        "SELECT name FROM organisations WHERE id = ?1",
        &[org_id.into()],
    )
    .await?;
    Ok(o.map(|o| o.name).unwrap_or_else(|| org_id.to_string()))
}

/// Whether the stored PDF is the one issued. Hashing it means reading it whole from R2, so
/// the verdict is kept in KV under the object's current etag: the next verification costs an
/// R2 `head`, and any change to the object (a new etag) is hashed afresh. Revocation is read
/// from D1 on every call, so it is never stale.
pub async fn pdf_check(env: &Env, row: &Certificate) -> worker::Result<(bool, &'static str)> {
    let bucket = env.bucket(bindings::BUCKET)?;
    let Some(head) = bucket.head(&row.pdf_key).await? else {
        return Ok((false, "miss"));
    };
    let kv = env.kv(bindings::KV)?;
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
