//! An organisation's integration credentials, sealed and opened with the key-encryption keys
//! only the edge has (`bindings::credential_keys`); stored by `store::credentials`.

use worker::Env;

use super::bindings;
use super::clock::now_iso;
use crate::secure::{open, seal};
use crate::store::credentials as stored;

/// What binds a sealed key to its owner: another organisation's row cannot be opened as ours.
fn aad(org_id: &str, provider: &str) -> Vec<u8> {
    format!("{org_id}:{provider}").into_bytes()
}

/// Seal and store (replacing any earlier one) the organisation's credentials.
pub async fn put(
    env: &Env,
    org_id: &str,
    provider: &str,
    api_url: &str,
    api_key: &str,
) -> worker::Result<()> {
    let (kek_id, kek) = bindings::credential_keys(env)?
        .into_iter()
        .next()
        .ok_or_else(|| worker::Error::RustError("CREDENTIALS_KEY is not configured".into()))?;
    let nonce: [u8; 12] = super::random::secure_bytes(12)
        .map_err(|e| worker::Error::RustError(format!("no randomness: {e:?}")))?
        .try_into()
        .map_err(|_| worker::Error::RustError("short nonce".into()))?;
    let sealed = seal(
        &kek,
        &kek_id,
        nonce,
        api_key.as_bytes(),
        &aad(org_id, provider),
    );
    let last4: String = {
        let chars: Vec<char> = api_key.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    stored::upsert(env, org_id, provider, api_url, &sealed, &last4, &now_iso()).await?;
    Ok(())
}

/// The organisation's API URL and key, opened; `None` when none are set. An error when they
/// are set but cannot be opened (the key-encryption key they were sealed with is gone).
pub async fn open_for(
    env: &Env,
    org_id: &str,
    provider: &str,
) -> worker::Result<Option<(String, String)>> {
    let Some(s) = stored::get(env, org_id, provider).await? else {
        return Ok(None);
    };
    let keys = bindings::credential_keys(env)?;
    let key = keys
        .iter()
        .find(|(id, _)| *id == s.kek_id)
        .and_then(|(_, kek)| open(kek, &s.sealed(), &aad(org_id, provider)))
        .and_then(|k| String::from_utf8(k).ok())
        .ok_or_else(|| {
            worker::Error::RustError(format!(
                "the {provider} credentials were sealed with key `{}`, which is not configured",
                s.kek_id
            ))
        })?;
    Ok(Some((s.api_url, key)))
}
