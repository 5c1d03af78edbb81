//! Ed25519 signing keys on the edge: the current private key of each purpose comes from a
//! secret (`CERT_ED25519_KEY`, `PROOF_ED25519_KEY`: `<kid>:<64 hex seed>`); its public half is
//! registered in D1 (`signing_keys`) the first time an isolate signs with it, which retires
//! the purpose's previous key. Rotation is `wrangler secret put` of a new `<kid>:<seed>`, no
//! code change: old signatures verify against the registry, new ones carry the new `kid`.

use std::cell::RefCell;
use std::collections::HashSet;

use serde::Deserialize;
use worker::Env;

use super::bindings;
use super::clock::now_iso;
use super::d1::execute;
use crate::certs::signing::{select, Jwk, KeyPair};

/// What a key signs; one key per purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Certificate,
    OdataProof,
}

impl Purpose {
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Certificate => "certificate",
            Purpose::OdataProof => "odata-proof",
        }
    }

    fn secret(self) -> &'static str {
        match self {
            Purpose::Certificate => "CERT_ED25519_KEY",
            Purpose::OdataProof => "PROOF_ED25519_KEY",
        }
    }
}

thread_local! {
    /// (purpose, kid) this isolate has registered.
    static REGISTERED: RefCell<HashSet<(&'static str, String)>> = RefCell::new(HashSet::new());
}

/// The current key of `purpose`, registered in D1 (once per isolate); `None` when the secret
/// is unset or unreadable.
pub async fn current(env: &Env, purpose: Purpose) -> worker::Result<Option<KeyPair>> {
    let Some(key) = bindings::setting(env, purpose.secret()).and_then(|s| KeyPair::parse(&s))
    else {
        return Ok(None);
    };
    let known = REGISTERED.with(|r| r.borrow().contains(&(purpose.name(), key.kid.clone())));
    if !known {
        let now = now_iso();
        execute(
            env,
            "INSERT INTO signing_keys (purpose, kid, public_x, valid_from) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(purpose, kid) DO NOTHING",
            &[purpose.name().into(), key.kid.as_str().into(), key.public_x().into(), now.as_str().into()],
        )
        .await?;
        execute(
            env,
            "UPDATE signing_keys SET retired_at = ?3 WHERE purpose = ?1 AND kid != ?2 AND retired_at IS NULL",
            &[purpose.name().into(), key.kid.as_str().into(), now.into()],
        )
        .await?;
        REGISTERED.with(|r| r.borrow_mut().insert((purpose.name(), key.kid.clone())));
    }
    Ok(Some(key))
}

#[derive(Deserialize)]
struct Row {
    purpose: String,
    kid: String,
    public_x: String,
    valid_from: String,
    retired_at: Option<String>,
}

/// The public key `kid` of `purpose`, if it ever signed (selected from the published set).
pub async fn public_x(env: &Env, purpose: Purpose, kid: &str) -> worker::Result<Option<String>> {
    let keys = jwks(env).await?;
    Ok(select(&keys, purpose.name(), kid).map(|k| k.x.clone()))
}

/// Every key that ever signed, as a JWK Set's `keys`.
pub async fn jwks(env: &Env) -> worker::Result<Vec<Jwk>> {
    // Register the current keys first, so a fresh deployment publishes them before signing.
    for p in [Purpose::Certificate, Purpose::OdataProof] {
        current(env, p).await?;
    }
    let rows: Vec<Row> = bindings::db(env)?
        .prepare("SELECT purpose, kid, public_x, valid_from, retired_at FROM signing_keys ORDER BY purpose, valid_from")
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .map(|r| {
            Jwk::ed25519(
                &r.kid,
                &r.public_x,
                &r.purpose,
                &r.valid_from,
                r.retired_at.as_deref(),
            )
        })
        .collect())
}
