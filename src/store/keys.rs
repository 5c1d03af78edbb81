//! `api_keys`: an organisation's keys. Created by the operator (`POST /admin/keys`) or by an
//! organisation's admin key (`POST /keys`); listed, rolled and revoked by its admin keys. Only a
//! key's SHA-256 is stored; the secret is returned once, by [`create`]. Every query that names
//! a key also names the organisation and the modes the caller may see, so another
//! organisation's key, or a live key asked about with a test key, is simply not found.

use serde::{Deserialize, Serialize};
use worker::Env;

use super::{execute, first, opt};
use crate::edge::bindings;
use crate::edge::clock::now_iso;
use crate::edge::random;
use crate::keys::{format_key, hash_key, Mode, Role, VISIBLE_PREFIX_LEN};
use crate::limits::Plan;

const COLUMNS: &str =
    "id, org_id, name, prefix, plan, mode, role, created_at, last_used_at, revoked_at, expires_at";

/// A key as listed: everything but the secret (which is never stored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyView {
    pub id: String,
    pub org_id: String,
    pub name: Option<String>,
    pub prefix: String,
    pub plan: String,
    pub mode: String,
    pub role: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// A rolled key's end of grace: refused from then on.
    pub expires_at: Option<String>,
}

/// What a new key is.
pub struct NewKey<'a> {
    pub org_id: &'a str,
    pub name: Option<&'a str>,
    pub plan: Plan,
    pub mode: Mode,
    pub role: Role,
}

/// Create a key: the secret (shown once) and the stored row.
pub async fn create(env: &Env, k: &NewKey<'_>) -> worker::Result<(String, KeyView)> {
    let seed: [u8; 20] = random::secure_bytes(20)?
        .try_into()
        .map_err(|_| worker::Error::RustError("short randomness".into()))?;
    let secret = format_key(k.mode, &seed);
    let view = KeyView {
        id: format!("key_{}", random::hex_id(8)),
        org_id: k.org_id.to_string(),
        name: k.name.map(str::to_string),
        prefix: secret[..VISIBLE_PREFIX_LEN].to_string(),
        plan: k.plan.name().to_string(),
        mode: k.mode.name().to_string(),
        role: k.role.name().to_string(),
        created_at: now_iso(),
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
    };
    execute(
        env,
        "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, plan, mode, role, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &[
            view.id.as_str().into(),
            view.org_id.as_str().into(),
            opt(k.name),
            view.prefix.as_str().into(),
            hash_key(&secret).into(),
            view.plan.as_str().into(),
            view.mode.as_str().into(),
            view.role.as_str().into(),
            view.created_at.as_str().into(),
        ],
    )
    .await?;
    Ok((secret, view))
}

/// The organisation's keys of the given modes, newest first.
pub async fn list(env: &Env, org_id: &str, modes: &[Mode]) -> worker::Result<Vec<KeyView>> {
    let (live, test) = (modes.contains(&Mode::Live), modes.contains(&Mode::Test));
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys WHERE org_id = ?1 AND ((mode = 'live' AND ?2) OR (mode = 'test' AND ?3)) \
         ORDER BY created_at DESC, id"
    );
    env.d1(bindings::DB)?
        .prepare(&sql)
        .bind(&[
            org_id.into(),
            f64::from(u8::from(live)).into(),
            f64::from(u8::from(test)).into(),
        ])?
        .all()
        .await?
        .results()
}

/// One of the organisation's keys, if it is one of the given modes.
pub async fn get(
    env: &Env,
    org_id: &str,
    modes: &[Mode],
    id: &str,
) -> worker::Result<Option<KeyView>> {
    let key: Option<KeyView> = first(
        env,
        &format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1 AND org_id = ?2"),
        &[id.into(), org_id.into()],
    )
    .await?;
    Ok(key.filter(|k| Mode::parse(&k.mode).is_some_and(|m| modes.contains(&m))))
}

/// What the auth gate needs of a key.
#[derive(Debug, Clone, Deserialize)]
pub struct Credential {
    pub id: String,
    pub org_id: String,
    pub plan: String,
    pub mode: String,
    pub role: String,
    pub revoked_at: Option<String>,
    pub expires_at: Option<String>,
}

/// The key whose secret has this SHA-256 (hex).
pub async fn by_hash(env: &Env, hash: &str) -> worker::Result<Option<Credential>> {
    first(
        env,
        "SELECT id, org_id, plan, mode, role, revoked_at, expires_at FROM api_keys WHERE key_hash = ?1",
        &[hash.into()],
    )
    .await
}

/// Any key by id (the operator's routes).
pub async fn by_id(env: &Env, id: &str) -> worker::Result<Option<KeyView>> {
    first(
        env,
        &format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"),
        &[id.into()],
    )
    .await
}

/// Revoke a key now; `false` if it already was.
pub async fn revoke(env: &Env, id: &str, at: &str) -> worker::Result<bool> {
    Ok(execute(
        env,
        "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
        &[at.into(), id.into()],
    )
    .await?
        > 0)
}

/// End a key's validity at `at` (a roll's grace period); only shortens an earlier end.
pub async fn expire(env: &Env, id: &str, at: &str) -> worker::Result<bool> {
    Ok(execute(
        env,
        "UPDATE api_keys SET expires_at = ?1 WHERE id = ?2 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > ?1)",
        &[at.into(), id.into()],
    )
    .await?
        > 0)
}
