//! PACT access tokens (`POST /pact/auth/token`, OAuth2 client credentials): short-lived,
//! bound to one organisation, mode and client, and checked without a database read on every
//! call: `ctp.<claims>.<mac>`, the claims as base64url JSON and an HMAC-SHA256 over them under
//! a key derived from the worker's signing secret (so a PACT token is never valid as anything
//! else). A revoked client gets no new token; one already issued ends with its hour.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long a token lives.
pub const TTL_S: i64 = 3600;
const PREFIX: &str = "ctp.";
/// Longest token read (a bearer token is attacker input).
const MAX_LEN: usize = 1024;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub org_id: String,
    /// `live` or `test`.
    pub mode: String,
    /// The organisation's plan when the token was issued (its limits meter the calls).
    pub plan: String,
    pub client_id: String,
    /// Expiry, ms since the epoch.
    pub exp: i64,
}

/// Why a token is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Invalid,
    Expired,
}

/// The token key, derived from the worker's signing secret with a label of its own.
pub fn key(secret: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    m.update(b"carbontrace pact access token key v1");
    m.finalize().into_bytes().into()
}

fn mac(key: &[u8; 32], claims: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    m.update(claims.as_bytes());
    m
}

pub fn sign(key: &[u8; 32], c: &Claims) -> String {
    let claims = B64.encode(serde_json::to_vec(c).unwrap_or_default());
    let tag = B64.encode(mac(key, &claims).finalize().into_bytes());
    format!("{PREFIX}{claims}.{tag}")
}

pub fn verify(key: &[u8; 32], token: &str, now_ms: i64) -> Result<Claims, Refusal> {
    if token.len() > MAX_LEN {
        return Err(Refusal::Invalid);
    }
    let (claims, tag) = token
        .strip_prefix(PREFIX)
        .and_then(|t| t.split_once('.'))
        .ok_or(Refusal::Invalid)?;
    let tag = B64.decode(tag).map_err(|_| Refusal::Invalid)?;
    mac(key, claims)
        .verify_slice(&tag)
        .map_err(|_| Refusal::Invalid)?;
    let c: Claims = serde_json::from_slice(&B64.decode(claims).map_err(|_| Refusal::Invalid)?)
        .map_err(|_| Refusal::Invalid)?;
    if now_ms >= c.exp {
        return Err(Refusal::Expired);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_until_it_expires_and_not_under_another_key() {
        let k = key(b"secret");
        let c = Claims {
            org_id: "org_a".into(),
            mode: "live".into(),
            plan: "pro".into(),
            client_id: "pc_1".into(),
            exp: 10_000,
        };
        let t = sign(&k, &c);
        assert!(t.starts_with("ctp."));
        assert_eq!(verify(&k, &t, 9_999), Ok(c.clone()));
        assert_eq!(verify(&k, &t, 10_000), Err(Refusal::Expired));
        assert_eq!(verify(&key(b"other"), &t, 0), Err(Refusal::Invalid));
        let forged = t.replace("ctp.", "ctp.e");
        assert_eq!(verify(&k, &forged, 0), Err(Refusal::Invalid));
        assert_eq!(
            verify(&k, "very-invalid-access-token", 0),
            Err(Refusal::Invalid)
        );
        assert_eq!(verify(&k, &"a".repeat(2000), 0), Err(Refusal::Invalid));
        assert_ne!(key(b"secret"), *b"secretsecretsecretsecretsecret12");
    }
}
