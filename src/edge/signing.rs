//! Ed25519 signing keys on the edge: the current private key of each purpose comes from a
//! secret (`CERT_ED25519_KEY`, `PROOF_ED25519_KEY`: `<kid>:<64 hex seed>`); its public half is
//! registered in D1 (`signing_keys`) the first time an isolate signs with it, which retires
//! the purpose's previous key. Rotation is `wrangler secret put` of a new `<kid>:<seed>`, no
//! code change: old signatures verify against the registry, new ones carry the new `kid`.

use std::cell::RefCell;

use worker::Env;

use super::bindings;
use super::clock::{now_iso, now_ms};
use crate::cache::{Expiring, Isolate};
use crate::certs::signing::{Jwk, KeyPair};
use crate::store::signing_keys::{self, SigningKey};

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
    /// (purpose, kid) this isolate has registered (for the isolate's life).
    static REGISTERED: RefCell<Expiring<(&'static str, String), ()>> = RefCell::new(Expiring::new(64));
}

/// The current key of `purpose`, registered in D1 (once per isolate); `None` when the secret
/// is unset or unreadable.
pub async fn current(env: &Env, purpose: Purpose) -> worker::Result<Option<KeyPair>> {
    let Some(key) = bindings::setting(env, purpose.secret()).and_then(|s| KeyPair::parse(&s))
    else {
        return Ok(None);
    };
    let id = (purpose.name(), key.kid.clone());
    let known = REGISTERED.fresh(&id, now_ms()).is_some();
    if !known {
        signing_keys::make_current(env, purpose.name(), &key.kid, &key.public_x(), &now_iso())
            .await?;
        REGISTERED.remember(id, (), f64::INFINITY);
    }
    Ok(Some(key))
}

/// The registry's record of `kid` of `purpose` (public half, period, trust), if it ever
/// signed.
pub async fn record(env: &Env, purpose: Purpose, kid: &str) -> worker::Result<Option<SigningKey>> {
    Ok(signing_keys::all(env)
        .await?
        .into_iter()
        .find(|k| k.kid == kid && k.purpose == purpose.name()))
}

/// Every trusted key that ever signed, as a JWK Set's `keys` (a distrusted key is withdrawn,
/// so offline verifiers stop accepting it too).
pub async fn jwks(env: &Env) -> worker::Result<Vec<Jwk>> {
    // Register the current keys first, so a fresh deployment publishes them before signing.
    for p in [Purpose::Certificate, Purpose::OdataProof] {
        current(env, p).await?;
    }
    let rows = signing_keys::all(env).await?;
    Ok(rows
        .into_iter()
        .filter(|r| r.distrusted_at.is_none())
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
