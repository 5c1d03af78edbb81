//! The proof header of an OData response: which audit entry recorded the read, its hash, the
//! hash it links to, the SHA-256 of the body, and an HMAC-SHA256 over all of them with the
//! service's signing key. Format (`ct-proof-1`):
//! `v=ct-proof-1; org=<org>; seq=<n>; entry=<hash>; prev=<hash>; body=<sha256>; sig=<base64>`
//! where `sig = HMAC(key, "ct-proof-1:" + org + ":" + seq + ":" + entry + ":" + prev + ":" + body)`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn message(org: &str, seq: i64, entry: &str, prev: &str, body: &str) -> String {
    format!("ct-proof-1:{org}:{seq}:{entry}:{prev}:{body}")
}

pub fn sign(key: &[u8], org: &str, seq: i64, entry: &str, prev: &str, body: &str) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(message(org, seq, entry, prev, body).as_bytes());
    STANDARD.encode(m.finalize().into_bytes())
}

pub fn header(key: &[u8], org: &str, seq: i64, entry: &str, prev: &str, body: &str) -> String {
    format!(
        "v=ct-proof-1; org={org}; seq={seq}; entry={entry}; prev={prev}; body={body}; sig={}",
        sign(key, org, seq, entry, prev, body)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = header(b"k", "org_1", 7, "aa", "bb", "cc");
        assert!(h.starts_with("v=ct-proof-1; org=org_1; seq=7; entry=aa; prev=bb; body=cc; sig="));
        assert!(h.ends_with(&sign(b"k", "org_1", 7, "aa", "bb", "cc")));
        assert_ne!(
            sign(b"k", "org_1", 7, "aa", "bb", "cc"),
            sign(b"k", "org_1", 7, "aa", "bb", "cd")
        );
    }
}
