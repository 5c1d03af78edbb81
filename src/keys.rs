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

/// `POST /keys` body, as sent.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub mode: Option<String>,
    pub role: Option<String>,
    pub name: Option<String>,
}

/// A key to create, validated: the caller's mode unless it names one (a test key creates
/// test keys only), `standard` unless it names a role, an optional trimmed name.
#[derive(Debug, PartialEq)]
pub struct Create {
    pub mode: Mode,
    pub role: Role,
    pub name: Option<String>,
}

/// Validate a `POST /keys` body from a caller of mode `caller`, naming every bad field.
pub fn create_request(
    body: CreateBody,
    caller: Mode,
) -> Result<Create, Vec<crate::validation::FieldError>> {
    use crate::validation::FieldError;
    let mut errors = Vec::new();
    let mode = match body.mode.as_deref() {
        None => Some(caller),
        Some(m) => Mode::parse(m),
    };
    match mode {
        None => errors.push(FieldError::new("mode", "one of: live, test")),
        Some(Mode::Live) if caller == Mode::Test => {
            errors.push(FieldError::new("mode", "a test key creates test keys only"))
        }
        _ => {}
    }
    let role = Role::parse(body.role.as_deref().unwrap_or("standard"));
    if role.is_none() {
        errors.push(FieldError::new("role", "one of: admin, standard"));
    }
    let name = body.name.as_deref().map(str::trim);
    if name.is_some_and(|n| n.is_empty() || n.chars().count() > MAX_KEY_NAME) {
        errors.push(FieldError::new(
            "name",
            format!("1 to {MAX_KEY_NAME} characters"),
        ));
    }
    match (mode, role) {
        (Some(mode), Some(role)) if errors.is_empty() => Ok(Create {
            mode,
            role,
            name: name.map(str::to_string),
        }),
        _ => Err(errors),
    }
}

/// `POST /keys/{id}/roll` body, as sent.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollBody {
    /// How long the old key stays valid beside the new one (0: refused at once). A JSON
    /// number: `86400.0` is as whole as `86400`.
    pub expires_in_s: Option<f64>,
}

/// The grace period of a roll, in whole seconds from 0 to [`MAX_ROLL_GRACE_S`].
pub fn roll_grace(body: &RollBody) -> Result<f64, crate::validation::FieldError> {
    let grace = body.expires_in_s.unwrap_or(0.0);
    if !(0.0..=MAX_ROLL_GRACE_S as f64).contains(&grace) || grace.fract() != 0.0 {
        return Err(crate::validation::FieldError::new(
            "expires_in_s",
            format!("a whole number of seconds from 0 to {MAX_ROLL_GRACE_S} (7 days)"),
        ));
    }
    Ok(grace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(
        mode: Option<&str>,
        role: Option<&str>,
        name: Option<&str>,
        caller: Mode,
    ) -> Result<Create, Vec<String>> {
        let body = CreateBody {
            mode: mode.map(str::to_string),
            role: role.map(str::to_string),
            name: name.map(str::to_string),
        };
        create_request(body, caller).map_err(|e| e.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn key_requests_default_and_name_every_bad_field() {
        assert_eq!(
            create(None, None, Some(" ci "), Mode::Live),
            Ok(Create {
                mode: Mode::Live,
                role: Role::Standard,
                name: Some("ci".into())
            })
        );
        assert_eq!(
            create(None, None, None, Mode::Test).unwrap().mode,
            Mode::Test
        );
        assert_eq!(
            create(Some("live"), None, None, Mode::Test),
            Err(vec!["mode".into()])
        );
        assert_eq!(
            create(Some("prod"), Some("root"), Some("  "), Mode::Live),
            Err(vec!["mode".into(), "role".into(), "name".into()])
        );
        assert_eq!(roll_grace(&RollBody::default()), Ok(0.0));
        assert_eq!(
            roll_grace(&RollBody {
                expires_in_s: Some(86_400.0)
            }),
            Ok(86_400.0)
        );
        for bad in [-1.0, 0.5, (MAX_ROLL_GRACE_S + 1) as f64, f64::NAN] {
            assert!(
                roll_grace(&RollBody {
                    expires_in_s: Some(bad)
                })
                .is_err(),
                "{bad}"
            );
        }
    }

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
