//! The proof header of an OData response (`X-CarbonTrace-Proof`): which audit entry recorded
//! the read, its hash, the hash it links to, the SHA-256 of the body, signed with Ed25519 by
//! the OData-proof key (its own key: one key per purpose), so a BI user can check it with the
//! published JWK Set and nothing else. Format (`ct-proof-2`):
//!
//! `v=ct-proof-2; kid=<kid>; org=<org>; seq=<n>; entry=<hex>; prev=<hex>; body=<hex>; sig=<base64url>`
//!
//! `sig` is the Ed25519 signature of [`message`]: the bytes `ct-proof-2`, then for each of
//! org, seq (decimal), entry, prev and body in that order, its UTF-8 length as a 4-byte
//! big-endian integer followed by its UTF-8 bytes. Length prefixes make the encoding
//! unambiguous: no choice of values can make two different field lists sign the same bytes.

use crate::certs::signing::{verify, KeyPair};

pub const VERSION: &str = "ct-proof-2";

/// The signed bytes of a proof.
pub fn message(org: &str, seq: i64, entry: &str, prev: &str, body: &str) -> Vec<u8> {
    let seq = seq.to_string();
    let mut m = VERSION.as_bytes().to_vec();
    for field in [org, seq.as_str(), entry, prev, body] {
        m.extend_from_slice(&(field.len() as u32).to_be_bytes());
        m.extend_from_slice(field.as_bytes());
    }
    m
}

pub fn header(key: &KeyPair, org: &str, seq: i64, entry: &str, prev: &str, body: &str) -> String {
    format!(
        "v={VERSION}; kid={}; org={org}; seq={seq}; entry={entry}; prev={prev}; body={body}; sig={}",
        key.kid,
        key.sign(&message(org, seq, entry, prev, body))
    )
}

/// Check a proof header with the public key `x` (base64url) of its `kid`.
pub fn check(header: &str, x: &str) -> bool {
    let fields: std::collections::HashMap<&str, &str> = header
        .split("; ")
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let get = |k: &str| fields.get(k).copied().unwrap_or("");
    let Ok(seq) = get("seq").parse::<i64>() else {
        return false;
    };
    get("v") == VERSION
        && verify(
            x,
            &message(get("org"), seq, get("entry"), get("prev"), get("body")),
            get("sig"),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_verifies_with_its_public_key_and_nothing_else() {
        let key = KeyPair::parse(&format!("p1:{}", "42".repeat(32))).unwrap();
        let h = header(&key, "org_1", 7, "aa", "bb", "cc");
        assert!(h.starts_with(
            "v=ct-proof-2; kid=p1; org=org_1; seq=7; entry=aa; prev=bb; body=cc; sig="
        ));
        assert!(check(&h, &key.public_x()));
        assert!(!check(&h.replace("body=cc", "body=cd"), &key.public_x()));
        let other = KeyPair::parse(&format!("p2:{}", "43".repeat(32))).unwrap();
        assert!(!check(&h, &other.public_x()));
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        // Without length prefixes these two would concatenate to the same text.
        assert_ne!(
            message("org_1", 7, "ab", "c", "d"),
            message("org_1", 7, "a", "bc", "d")
        );
        let m = message("o", 12, "e", "p", "b");
        assert_eq!(&m[..10], b"ct-proof-2");
        assert_eq!(&m[10..15], &[0, 0, 0, 1, b'o']);
        assert_eq!(&m[15..21], &[0, 0, 0, 2, b'1', b'2']);
    }
}
