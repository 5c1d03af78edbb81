//! `integration_credentials`: an organisation's own credentials for an integration, the
//! secret sealed (see `crate::secure`). Opening needs the key-encryption key, which only the
//! edge has (`bindings::credential_keys`).

use serde::Deserialize;
use worker::Env;

use super::{execute, first, Tenant};
use crate::edge::bindings;
use crate::edge::clock::now_iso;
use crate::secure::{open, seal, Sealed};

#[derive(Debug, Deserialize)]
pub struct Stored {
    pub api_url: String,
    pub kek_id: String,
    pub nonce: String,
    pub ciphertext: String,
    pub last4: String,
    pub updated_at: String,
}

/// What binds a sealed key to its owner: another organisation's row cannot be opened as ours.
fn aad(org_id: &str, provider: &str) -> Vec<u8> {
    format!("{org_id}:{provider}").into_bytes()
}

pub async fn get(env: &Env, org_id: &str, provider: &str) -> worker::Result<Option<Stored>> {
    first(
        env,
        "SELECT api_url, kek_id, nonce, ciphertext, last4, updated_at FROM integration_credentials \
         WHERE org_id = ?1 AND provider = ?2",
        &[org_id.into(), provider.into()],
    )
    .await
}

/// Seal and store (replacing any earlier one) the tenant's credentials.
pub async fn put(
    env: &Env,
    tenant: &Tenant,
    provider: &str,
    api_url: &str,
    api_key: &str,
) -> worker::Result<()> {
    let (kek_id, kek) = bindings::credential_keys(env)?
        .into_iter()
        .next()
        .ok_or_else(|| worker::Error::RustError("CREDENTIALS_KEY is not configured".into()))?;
    let nonce: [u8; 12] = crate::edge::random::secure_bytes(12)
        .map_err(|e| worker::Error::RustError(format!("no randomness: {e:?}")))?
        .try_into()
        .map_err(|_| worker::Error::RustError("short nonce".into()))?;
    let sealed = seal(
        &kek,
        &kek_id,
        nonce,
        api_key.as_bytes(),
        &aad(&tenant.org_id, provider),
    );
    let last4: String = api_key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    execute(
        env,
        "INSERT INTO integration_credentials (org_id, provider, api_url, kek_id, nonce, ciphertext, last4, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(org_id, provider) DO UPDATE SET \
         api_url = excluded.api_url, kek_id = excluded.kek_id, nonce = excluded.nonce, \
         ciphertext = excluded.ciphertext, last4 = excluded.last4, updated_at = excluded.updated_at",
        &[
            tenant.org_id.as_str().into(),
            provider.into(),
            api_url.into(),
            sealed.kek_id.into(),
            sealed.nonce.into(),
            sealed.ciphertext.into(),
            last4.into(),
            now_iso().into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete(env: &Env, tenant: &Tenant, provider: &str) -> worker::Result<bool> {
    Ok(execute(
        env,
        "DELETE FROM integration_credentials WHERE org_id = ?1 AND provider = ?2",
        &[tenant.org_id.as_str().into(), provider.into()],
    )
    .await?
        > 0)
}

/// The organisation's API URL and key, opened; `None` when none are set. An error when they
/// are set but cannot be opened (the key-encryption key they were sealed with is gone).
pub async fn open_for(
    env: &Env,
    org_id: &str,
    provider: &str,
) -> worker::Result<Option<(String, String)>> {
    let Some(s) = get(env, org_id, provider).await? else {
        return Ok(None);
    };
    let sealed = Sealed {
        kek_id: s.kek_id.clone(),
        nonce: s.nonce,
        ciphertext: s.ciphertext,
    };
    let keys = bindings::credential_keys(env)?;
    let key = keys
        .iter()
        .find(|(id, _)| *id == s.kek_id)
        .and_then(|(_, kek)| open(kek, &sealed, &aad(org_id, provider)))
        .and_then(|k| String::from_utf8(k).ok())
        .ok_or_else(|| {
            worker::Error::RustError(format!(
                "the {provider} credentials were sealed with key `{}`, which is not configured",
                s.kek_id
            ))
        })?;
    Ok(Some((s.api_url, key)))
}
