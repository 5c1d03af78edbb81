//! Small security primitives: constant-time comparison (the auth gate, certificate checks)
//! and sealing secrets at rest (integration credentials, AES-256-GCM under a key-encryption
//! key that lives in a worker secret, bound to their owner by the associated data).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Compare two secrets in time that depends only on their lengths, not on where they differ.
/// The mark of every example value in `.dev.vars.example`: a secret holding it was copied
/// from the example, so anyone who read the repository knows it.
pub const PLACEHOLDER_MARK: &str = "change-me";

/// Whether a configured secret is an example placeholder (then it counts as unset).
pub fn is_placeholder(secret: &str) -> bool {
    secret.to_ascii_lowercase().contains(PLACEHOLDER_MARK)
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A key-encryption key: 32 bytes, given as 64 hex characters.
pub fn parse_kek(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A sealed secret as stored: base64 nonce and ciphertext (with its tag), and the id of the
/// key-encryption key that sealed it (so keys can rotate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub kek_id: String,
    pub nonce: String,
    pub ciphertext: String,
}

/// Seal `plaintext` under `kek`; `aad` (e.g. the owner's id) must be given again to open it.
/// The nonce must be fresh random bytes for every seal.
pub fn seal(kek: &[u8; 32], kek_id: &str, nonce: [u8; 12], plaintext: &[u8], aad: &[u8]) -> Sealed {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(kek));
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default(); // only fails for plaintexts past GCM's 64 GiB bound
    Sealed {
        kek_id: kek_id.into(),
        nonce: STANDARD.encode(nonce),
        ciphertext: STANDARD.encode(ct),
    }
}

/// Open a sealed secret; `None` if the key, the associated data or any byte is wrong.
pub fn open(kek: &[u8; 32], sealed: &Sealed, aad: &[u8]) -> Option<Vec<u8>> {
    let nonce = STANDARD.decode(&sealed.nonce).ok()?;
    if nonce.len() != 12 {
        return None;
    }
    let ct = STANDARD.decode(&sealed.ciphertext).ok()?;
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(kek))
        .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_secret_is_a_placeholder() {
        let example = include_str!("../.dev.vars.example");
        let mut secrets = 0;
        for line in example.lines().filter(|l| !l.starts_with('#')) {
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            let is_secret =
                ["TOKEN", "KEY"].iter().any(|s| name.contains(s)) && !name.ends_with("_ID");
            if is_secret && !value.is_empty() {
                secrets += 1;
                assert!(
                    is_placeholder(value),
                    "{name} in the example is not a placeholder"
                );
            }
        }
        assert!(secrets >= 5, "{secrets} example secrets found");
        assert!(!is_placeholder("adm_0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_owner() {
        let kek = parse_kek(&"ab".repeat(32)).unwrap();
        let s = seal(
            &kek,
            "k1",
            [7; 12],
            b"blancco-secret-1234",
            b"org_1:blancco",
        );
        assert!(!s.ciphertext.contains("secret"));
        assert_eq!(
            open(&kek, &s, b"org_1:blancco").unwrap(),
            b"blancco-secret-1234"
        );
        assert_eq!(open(&kek, &s, b"org_2:blancco"), None, "bound to its owner");
        let other = parse_kek(&"cd".repeat(32)).unwrap();
        assert_eq!(open(&other, &s, b"org_1:blancco"), None);
        let mut tampered = s.clone();
        tampered.ciphertext.replace_range(0..2, "AA");
        assert_eq!(open(&kek, &tampered, b"org_1:blancco"), None);
        // A fresh nonce gives another ciphertext for the same secret.
        assert_ne!(
            seal(
                &kek,
                "k1",
                [8; 12],
                b"blancco-secret-1234",
                b"org_1:blancco"
            )
            .ciphertext,
            s.ciphertext
        );
    }

    #[test]
    fn a_kek_is_64_hex_characters() {
        assert!(parse_kek(&"0f".repeat(32)).is_some());
        for bad in [
            "",
            "zz",
            &"0f".repeat(31),
            &"0g".repeat(32),
            &"é".repeat(32),
        ] {
            assert!(parse_kek(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn compares_by_content() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(constant_time_eq(b"", b""));
    }
}
