//! The hash-linked audit log. Each organisation's entries form a chain per mode ([`chain`]):
//! `hash = SHA-256(prev_hash ‖ "\n" ‖ canonical JSON of the entry)`, the first entry linking to
//! [`GENESIS`]. Canonical JSON: keys sorted, no whitespace, serde_json's number formatting.
//! Altering, removing or reordering an entry breaks every hash after it; [`verify`] finds the
//! first break.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// An action to record, before the sequencer gives it its place in the chain (`seq`, hashes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub org_id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub details: Value,
}

/// The chain of the operator's own actions that concern no one organisation (a signing key
/// distrusted).
pub const OPERATOR_CHAIN: &str = "_operator";

/// The chain an organisation's action in `mode` is written to: its live chain (its id), or
/// its test chain (`<id>:test`), so what sandbox keys do never reaches the live log, its
/// anchors or the live OData `AuditLog`.
pub fn chain(org_id: &str, mode: crate::keys::Mode) -> String {
    match mode {
        crate::keys::Mode::Live => org_id.to_string(),
        crate::keys::Mode::Test => format!("{org_id}:test"),
    }
}

/// `prev_hash` of an organisation's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub org_id: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    /// Canonical JSON text.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

pub use crate::certs::canonical;

/// The hash of an entry given its link to the previous one.
pub fn entry_hash(e: &Entry) -> String {
    let body = json!({
        "org_id": e.org_id, "seq": e.seq, "at": e.at, "actor": e.actor,
        "action": e.action, "target": e.target, "details": e.details,
    });
    let mut h = Sha256::new();
    h.update(e.prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical(&body).as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Build the next entry of a chain whose last entry is `last` (`None`: an empty chain).
pub fn next_entry(
    last: Option<(i64, &str)>,
    org_id: &str,
    at: &str,
    actor: &str,
    action: &str,
    target: Option<&str>,
    details: &Value,
) -> Entry {
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash.to_string()),
        None => (1, GENESIS.to_string()),
    };
    let mut e = Entry {
        org_id: org_id.into(),
        seq,
        at: at.into(),
        actor: actor.into(),
        action: action.into(),
        target: target.map(str::to_string),
        details: canonical(details),
        prev_hash: prev,
        hash: String::new(),
    };
    e.hash = entry_hash(&e);
    e
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// Walks a chain an entry at a time, so a long chain can be checked page by page without
/// holding it in memory.
#[derive(Debug, Clone)]
pub struct Verifier {
    checked: usize,
    prev: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            checked: 0,
            prev: GENESIS.to_string(),
        }
    }
}

impl Verifier {
    /// Check the next entry (entries must come in `seq` order).
    pub fn push(&mut self, e: &Entry) -> Result<(), Break> {
        let expected_seq = self.checked as i64 + 1;
        if e.seq != expected_seq {
            return Err(Break {
                seq: expected_seq,
                reason: format!("entry {expected_seq} is missing (found {} next)", e.seq),
            });
        }
        if e.prev_hash != self.prev {
            return Err(Break {
                seq: e.seq,
                reason: "prev_hash does not match the previous entry's hash".into(),
            });
        }
        if entry_hash(e) != e.hash {
            return Err(Break {
                seq: e.seq,
                reason: "content does not match its hash (altered)".into(),
            });
        }
        self.prev = e.hash.clone();
        self.checked += 1;
        Ok(())
    }

    /// Entries checked so far.
    pub fn checked(&self) -> usize {
        self.checked
    }

    /// The hash of the last entry checked (the chain's head so far).
    pub fn head(&self) -> Option<&str> {
        (self.checked > 0).then_some(self.prev.as_str())
    }
}

/// Re-walk a chain (entries in `seq` order) and report the first entry that does not hold.
pub fn verify(entries: &[Entry]) -> Result<usize, Break> {
    let mut v = Verifier::default();
    for e in entries {
        v.push(e)?;
    }
    Ok(v.checked())
}

/// A chain's head as it stood at `at`, kept outside D1 (in R2) and signed, so that a rewrite
/// of D1 alone — even one that rehashes every entry after the change — is detected: the
/// rewritten chain no longer holds `hash` at `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    pub org_id: String,
    pub seq: i64,
    pub hash: String,
    pub at: String,
    /// base64 HMAC-SHA256 of `ct-anchor-1:{org_id}:{seq}:{hash}:{at}`.
    pub signature: String,
}

fn anchor_mac(key: &[u8], org_id: &str, seq: i64, hash: &str, at: &str) -> hmac::Hmac<Sha256> {
    use hmac::Mac;
    let mut m = <hmac::Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    m.update(format!("ct-anchor-1:{org_id}:{seq}:{hash}:{at}").as_bytes());
    m
}

impl Anchor {
    pub fn new(key: &[u8], org_id: &str, seq: i64, hash: &str, at: &str) -> Anchor {
        use base64::Engine as _;
        use hmac::Mac;
        let sig = anchor_mac(key, org_id, seq, hash, at)
            .finalize()
            .into_bytes();
        Anchor {
            org_id: org_id.into(),
            seq,
            hash: hash.into(),
            at: at.into(),
            signature: base64::engine::general_purpose::STANDARD.encode(sig),
        }
    }

    /// Whether this key signed the anchor as it reads (constant time).
    pub fn signed_by(&self, key: &[u8]) -> bool {
        use base64::Engine as _;
        use hmac::Mac;
        match base64::engine::general_purpose::STANDARD.decode(&self.signature) {
            Ok(sig) => anchor_mac(key, &self.org_id, self.seq, &self.hash, &self.at)
                .verify_slice(&sig)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Check a chain's entry against the anchor (`None`: the chain has no entry at its seq).
    pub fn check(&self, entry_at_seq: Option<&Entry>) -> Result<(), Break> {
        match entry_at_seq {
            Some(e) if e.seq == self.seq && e.hash == self.hash => Ok(()),
            Some(_) => Err(Break {
                seq: self.seq,
                reason: format!(
                    "entry {} does not match the anchor of {} (the chain was rewritten)",
                    self.seq, self.at
                ),
            }),
            None => Err(Break {
                seq: self.seq,
                reason: format!(
                    "the chain ends before entry {}, anchored at {} (entries were removed)",
                    self.seq, self.at
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for i in 0..n {
            let last = out.last().map(|e| (e.seq, e.hash.as_str()));
            let e = next_entry(
                last,
                "org_1",
                "2026-11-28T00:00:00Z",
                "admin",
                "key.created",
                Some("key_1"),
                &json!({"i": i, "b": [1, 2]}),
            );
            out.push(e);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(c[0].prev_hash, GENESIS);
        assert_eq!(c[1].prev_hash, c[0].hash);
        assert_eq!(verify(&c), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn tampering_is_pinpointed() {
        let mut c = chain(5);
        c[2].details = r#"{"i":99}"#.into();
        assert_eq!(verify(&c).unwrap_err().seq, 3);

        let mut c = chain(5);
        c.remove(3);
        let b = verify(&c).unwrap_err();
        assert_eq!(b.seq, 4);
        assert!(b.reason.contains("missing"));

        // Rehashing an altered entry does not help: the next link breaks.
        let mut c = chain(5);
        c[1].action = "key.revoked".into();
        c[1].hash = entry_hash(&c[1]);
        assert_eq!(verify(&c).unwrap_err().seq, 3);
    }

    #[test]
    fn page_by_page_is_the_same_as_whole() {
        let c = chain(7);
        let mut v = Verifier::default();
        for page in c.chunks(3) {
            for e in page {
                v.push(e).unwrap();
            }
        }
        assert_eq!(v.checked(), 7);
        assert_eq!(v.head(), Some(c[6].hash.as_str()));
        assert_eq!(Verifier::default().head(), None);
    }

    #[test]
    fn an_anchor_catches_a_rehashed_rewrite() {
        let c = chain(5);
        let a = Anchor::new(b"k", "org_1", 4, &c[3].hash, "2026-11-29T00:00:00Z");
        assert!(a.signed_by(b"k") && !a.signed_by(b"other"));
        assert_eq!(a.check(Some(&c[3])), Ok(()));
        // Rewrite entry 2 and rehash everything after it: the chain verifies on its own…
        let mut forged = chain(5);
        forged[1].action = "key.revoked".into();
        for i in 1..5 {
            forged[i].prev_hash = if i == 0 {
                GENESIS.into()
            } else {
                forged[i - 1].hash.clone()
            };
            forged[i].hash = entry_hash(&forged[i]);
        }
        assert_eq!(verify(&forged), Ok(5));
        // …but not against the anchor.
        assert!(a
            .check(Some(&forged[3]))
            .unwrap_err()
            .reason
            .contains("rewritten"));
        assert!(a.check(None).unwrap_err().reason.contains("removed"));
        let mut tampered = a.clone();
        tampered.seq = 3;
        assert!(!tampered.signed_by(b"k"));
    }

    #[test]
    fn canonical_json_sorts_keys() {
        assert_eq!(
            canonical(&json!({"b": 1, "a": {"d": 2, "c": 3}})),
            r#"{"a":{"c":3,"d":2},"b":1}"#
        );
    }
}
