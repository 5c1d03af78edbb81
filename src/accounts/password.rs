//! The stored password record: `pbkdf2-sha256$<iterations>$<salt>$<hash>` (salt and hash in
//! unpadded base64url). The parameters live beside the hash so they can be raised: a record
//! below [`ITERATIONS`] still verifies, and is re-derived at the current cost on the next
//! successful sign-in ([`Record::needs_rehash`]). The derivation is PBKDF2-HMAC-SHA256
//! through WebCrypto (`edge::password`: native code, where the same loop in wasm would cost
//! the CPU budget several times over); this file only reads, writes and compares records.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;

/// PBKDF2 iterations: 100,000, the most Workers' WebCrypto accepts.
pub const ITERATIONS: u32 = 100_000;
/// Bytes of per-user random salt.
pub const SALT_LEN: usize = 16;
/// Bytes of derived key stored.
pub const HASH_LEN: usize = 32;
const SCHEME: &str = "pbkdf2-sha256";

/// A parsed password record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

impl Record {
    /// Read a stored record; `None` for anything this version cannot verify.
    pub fn parse(s: &str) -> Option<Record> {
        let mut parts = s.split('$');
        if parts.next()? != SCHEME {
            return None;
        }
        let iterations: u32 = parts.next()?.parse().ok()?;
        let salt = B64.decode(parts.next()?).ok()?;
        let hash = B64.decode(parts.next()?).ok()?;
        (parts.next().is_none() && iterations > 0 && !salt.is_empty() && hash.len() == HASH_LEN)
            .then_some(Record {
                iterations,
                salt,
                hash,
            })
    }

    /// The record as stored.
    pub fn format(&self) -> String {
        format!(
            "{SCHEME}${}${}${}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(&self.hash)
        )
    }

    /// Whether `derived` (the key derived from a presented password with this record's salt
    /// and iterations) is this record's hash, in time independent of where they differ.
    pub fn matches(&self, derived: &[u8]) -> bool {
        crate::secure::constant_time_eq(&self.hash, derived)
    }

    /// Whether the record is weaker than today's parameters.
    pub fn needs_rehash(&self) -> bool {
        self.iterations < ITERATIONS || self.salt.len() < SALT_LEN
    }
}

/// The record compared against when the email has no account, so that an unknown email costs
/// the same derivation as a known one and the answer's timing does not tell them apart.
pub fn decoy() -> Record {
    Record {
        iterations: ITERATIONS,
        salt: vec![0x5a; SALT_LEN],
        hash: vec![0; HASH_LEN],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_refuses_what_it_cannot_verify() {
        let r = Record {
            iterations: ITERATIONS,
            salt: (0..16).collect(),
            hash: vec![7; HASH_LEN],
        };
        let s = r.format();
        assert!(s.starts_with("pbkdf2-sha256$100000$"), "{s}");
        assert_eq!(Record::parse(&s), Some(r.clone()));
        assert!(r.matches(&[7; HASH_LEN]));
        assert!(!r.matches(&[7; HASH_LEN - 1]));
        assert!(!r.needs_rehash());
        for bad in [
            "bcrypt$10$x$y",
            "pbkdf2-sha256$0$AAAA$BBBB",
            "pbkdf2-sha256$100000$AAAA",
            "pbkdf2-sha256$100000$$BBBB",
            &format!("{s}$extra"),
            "pbkdf2-sha256$100000$AAAA$c2hvcnQ",
        ] {
            assert_eq!(Record::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_older_cost_verifies_and_asks_for_a_rehash() {
        let old = Record {
            iterations: 10_000,
            salt: vec![1; SALT_LEN],
            hash: vec![2; HASH_LEN],
        };
        assert!(Record::parse(&old.format()).unwrap().needs_rehash());
        assert!(!decoy().needs_rehash());
    }
}
