//! Ed25519 signing keys with their ids, and the JWK form (RFC 8037) that publishes their public
//! halves, so that anyone can check a signature offline. A key is configured as
//! `<kid>:<64 hex characters of seed>` (a worker secret); its public half is what verifiers
//! use, looked up by the `kid` a signature names.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Serialize;

/// A private signing key and its id.
pub struct KeyPair {
    pub kid: String,
    key: SigningKey,
}

impl KeyPair {
    /// Parse `<kid>:<64 hex seed>`; the kid is 1 to 64 characters of `[A-Za-z0-9._-]`.
    pub fn parse(spec: &str) -> Option<KeyPair> {
        let (kid, hex) = spec.trim().split_once(':')?;
        let kid_ok = !kid.is_empty()
            && kid.len() <= 64
            && kid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        let seed = crate::secure::parse_kek(hex)?;
        kid_ok.then(|| KeyPair {
            kid: kid.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The public key, base64url without padding (a JWK's `x`).
    pub fn public_x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes())
    }

    /// The signature of `msg`, base64url without padding.
    pub fn sign(&self, msg: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.key.sign(msg).to_bytes())
    }
}

/// Whether `sig` (base64url) is the signature of `msg` by the public key `x` (base64url).
/// Strict verification: no malleable signatures, no small-order keys.
pub fn verify(x: &str, msg: &[u8], sig: &str) -> bool {
    let (Ok(pk), Ok(sig)) = (URL_SAFE_NO_PAD.decode(x), URL_SAFE_NO_PAD.decode(sig)) else {
        return false;
    };
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pk), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    VerifyingKey::from_bytes(&pk)
        .is_ok_and(|vk| vk.verify_strict(msg, &Signature::from_bytes(&sig)).is_ok())
}

/// One published key (RFC 7517 / RFC 8037), with when it signed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub kid: String,
    pub x: String,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    /// What the key signs: `certificate` or `odata-proof` (one key per purpose).
    pub purpose: String,
    /// The period it signed in (RFC 3339); `valid_until` is null while it is current.
    pub valid_from: String,
    pub valid_until: Option<String>,
}

impl Jwk {
    pub fn ed25519(kid: &str, x: &str, purpose: &str, from: &str, until: Option<&str>) -> Jwk {
        Jwk {
            kty: "OKP",
            crv: "Ed25519",
            kid: kid.into(),
            x: x.into(),
            use_: "sig",
            alg: "EdDSA",
            purpose: purpose.into(),
            valid_from: from.into(),
            valid_until: until.map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rfc8032_test_vectors() {
        for (seed, public, msg, sig) in [
            (
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            ),
            (
                "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
                "72",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
            ),
        ] {
            let k = KeyPair::parse(&format!("t1:{seed}")).unwrap();
            assert_eq!(k.public_x(), URL_SAFE_NO_PAD.encode(hex(public)));
            let s = k.sign(&hex(msg));
            assert_eq!(s, URL_SAFE_NO_PAD.encode(hex(sig)));
            assert!(verify(&k.public_x(), &hex(msg), &s));
            assert!(!verify(&k.public_x(), b"other", &s));
        }
    }

    #[test]
    fn key_specs_and_garbage() {
        assert!(KeyPair::parse(&format!("cert-2026.1:{}", "11".repeat(32))).is_some());
        for bad in [
            "",
            "t1",
            &format!(":{}", "11".repeat(32)),
            &format!("a b:{}", "11".repeat(32)),
            "t1:zz",
        ] {
            assert!(KeyPair::parse(bad).is_none(), "{bad}");
        }
        assert!(!verify("not base64!", b"m", "x"));
        assert!(!verify(
            &URL_SAFE_NO_PAD.encode([0u8; 32]),
            b"m",
            &URL_SAFE_NO_PAD.encode([0u8; 64])
        ));
    }
}
