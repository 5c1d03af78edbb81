//! Certificates: the canonical JSON of a result and its inputs, its SHA-256 content hash, and
//! an HMAC-SHA256 signature with the service's signing key.
//!
//! Canonical JSON (`ct-cert-1`): UTF-8, object keys sorted by byte order, no insignificant
//! whitespace, strings escaped as serde_json does (`"` `\` and control characters), numbers
//! in their shortest round-trip form (`290.0` → `290.0`, `0.1` → `0.1`). The content hash is
//! the lowercase hex SHA-256 of those bytes; the signature is base64 (standard, padded) of
//! HMAC-SHA256(signing key, `"ct-cert-1:" + content hash`).

pub mod issue;
pub mod jcs;
pub mod signing;
pub mod statement;
pub mod verify;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Version of the certificate format; part of what is signed. `ct-cert-1`: HMAC-SHA256 over
/// the serde_json form (issued until 2026-11; still verified through `/verify`).
pub const SCHEMA: &str = "ct-cert-1";
/// `ct-cert-2`: Ed25519 over the RFC 8785 (JCS) bytes, checkable offline with the JWK Set.
pub const SCHEMA_V2: &str = "ct-cert-2";

/// Canonical JSON of a value (serde_json's `Map` keeps keys sorted).
pub fn canonical(v: &Value) -> String {
    v.to_string()
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn mac(key: &[u8], content_hash: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(SCHEMA.as_bytes());
    m.update(b":");
    m.update(content_hash.as_bytes());
    m
}

/// The ct-cert-1 signature of a content hash. No longer issued (certificates are Ed25519,
/// `signing`); kept for tests of [`verify_signature`], which still checks old certificates.
#[cfg(test)]
pub fn sign(key: &[u8], content_hash: &str) -> String {
    STANDARD.encode(mac(key, content_hash).finalize().into_bytes())
}

/// Whether `signature` is this key's signature of `content_hash` (constant time).
pub fn verify_signature(key: &[u8], content_hash: &str, signature: &str) -> bool {
    match STANDARD.decode(signature) {
        Ok(sig) => mac(key, content_hash).verify_slice(&sig).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_form_is_stable() {
        let a = json!({"b": 1.5, "a": {"z": [3, 2], "y": "é\"x"}, "c": null});
        assert_eq!(
            canonical(&a),
            r#"{"a":{"y":"é\"x","z":[3,2]},"b":1.5,"c":null}"#
        );
        let reparsed: Value = serde_json::from_str(&canonical(&a)).unwrap();
        assert_eq!(canonical(&reparsed), canonical(&a));
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn signatures_verify_and_detect_changes() {
        let h = sha256_hex(b"doc");
        let s = sign(b"key-1", &h);
        assert!(verify_signature(b"key-1", &h, &s));
        assert!(!verify_signature(b"key-2", &h, &s));
        assert!(!verify_signature(b"key-1", &sha256_hex(b"doc2"), &s));
        assert!(!verify_signature(b"key-1", &h, "not base64!"));
    }
}
