//! API key format and hashing. Keys are `ct_live_` or `ct_test_` followed by 40 lowercase hex
//! characters (160 random bits). Only the SHA-256 of a key is stored; the key is shown once.

use sha2::{Digest, Sha256};

/// Live keys compute and store; test (sandbox) keys answer from fixtures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Test,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "live" => Some(Mode::Live),
            "test" => Some(Mode::Test),
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Mode::Live => "ct_live_",
            Mode::Test => "ct_test_",
        }
    }
}

/// What a key may do: an organisation's `admin` keys also manage its keys (`/keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Standard,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Standard => "standard",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "standard" => Some(Role::Standard),
            _ => None,
        }
    }
}

/// Longest a rolled key stays valid beside its successor (Stripe allows up to 7 days).
pub const MAX_ROLL_GRACE_S: u64 = 7 * 86_400;

/// Longest label a key may carry.
pub const MAX_KEY_NAME: usize = 100;

const SECRET_HEX_LEN: usize = 40;
/// Characters of a key kept in clear (the prefix plus 4), to recognise it in listings.
pub const VISIBLE_PREFIX_LEN: usize = 12;

/// Build a key from 20 random bytes.
pub fn format_key(mode: Mode, random: &[u8; 20]) -> String {
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}{hex}", mode.prefix())
}

/// The mode of a well-formed key, or `None` for anything that is not one.
pub fn parse_key(key: &str) -> Option<Mode> {
    let mode = if key.starts_with("ct_live_") {
        Mode::Live
    } else if key.starts_with("ct_test_") {
        Mode::Test
    } else {
        return None;
    };
    let secret = &key[8..];
    (secret.len() == SECRET_HEX_LEN
        && secret
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(mode)
}

/// SHA-256 of the key, hex: what D1 stores and looks keys up by.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_malformed_ones_are_refused() {
        let k = format_key(Mode::Test, &[0xab; 20]);
        assert_eq!(k.len(), 48);
        assert_eq!(parse_key(&k), Some(Mode::Test));
        assert_eq!(
            parse_key(&format_key(Mode::Live, &[1; 20])),
            Some(Mode::Live)
        );
        for bad in [
            "",
            "ct_live_",
            "ct_live_XYZ",
            "sk_live_abababababababababababababababababababab",
            &k[..47],
            &format!("{k}0"),
        ] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
        assert_eq!(hash_key(&k).len(), 64);
        assert_ne!(hash_key(&k), hash_key(&format_key(Mode::Test, &[0xac; 20])));
    }
}
