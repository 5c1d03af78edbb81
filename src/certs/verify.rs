//! What a verification concludes, from checks the edge ran: the content hash, the signature
//! (dispatched on the certificate's schema), whether the signing key may vouch for a
//! certificate of that date, the PDF, and revocation. Pure, so every verdict and every reason
//! a client reads is tested natively.

use super::{SCHEMA, SCHEMA_V2};
use crate::validation::epoch_ms;

/// How a certificate's signature is checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `ct-cert-1`: HMAC-SHA256 with the service's key.
    Hmac,
    /// `ct-cert-2`: Ed25519 with the published key its `kid` names.
    Ed25519,
}

/// The scheme of a known schema; anything else is refused by name, never guessed.
pub fn scheme(schema: Option<&str>) -> Result<Scheme, String> {
    match schema {
        Some(SCHEMA_V2) => Ok(Scheme::Ed25519),
        Some(SCHEMA) => Ok(Scheme::Hmac),
        Some(other) => Err(format!(
            "unknown certificate schema `{other}` (known: {SCHEMA}, {SCHEMA_V2})"
        )),
        None => Err("the certificate names no schema".into()),
    }
}

/// How long after a key was retired a certificate dated then still verifies under it: while a
/// rotation rolls out, isolates still running the previous secret sign for a little while.
pub const ROTATION_GRACE_MS: i64 = 10 * 60_000;

/// What the registry knows of a signing key.
pub struct Standing<'a> {
    pub kid: &'a str,
    /// When it became current (`not_before`).
    pub valid_from: &'a str,
    /// When another key replaced it (`not_after`, with [`ROTATION_GRACE_MS`]).
    pub retired_at: Option<&'a str>,
    pub distrusted_at: Option<&'a str>,
    pub distrust_reason: Option<&'a str>,
}

/// Whether the key may vouch for a certificate issued at `issued_at`: not distrusted, and
/// current then. The reason, when it may not, is what the client reads.
pub fn may_vouch(k: &Standing, issued_at: &str) -> Result<(), String> {
    if let Some(at) = k.distrusted_at {
        return Err(format!(
            "the signing key `{}` is distrusted since {at}: {}",
            k.kid,
            k.distrust_reason.unwrap_or("no reason given")
        ));
    }
    let (Some(issued), Some(from)) = (epoch_ms(issued_at), epoch_ms(k.valid_from)) else {
        return Err(format!("the issue date `{issued_at}` cannot be read"));
    };
    if issued < from {
        return Err(format!(
            "the signing key `{}` was not in use yet at {issued_at} (from {})",
            k.kid, k.valid_from
        ));
    }
    if let Some(until) = k.retired_at.and_then(epoch_ms) {
        if issued >= until + ROTATION_GRACE_MS {
            return Err(format!(
                "the signing key `{}` was retired at {} and does not vouch for {issued_at}",
                k.kid,
                k.retired_at.unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// A verification's status and problems from its checks: `signature` is `Err(reason)` when
/// the signature does not hold, for whatever reason (schema, key, bytes).
pub fn verdict(
    content_ok: bool,
    signature: &Result<(), String>,
    pdf_ok: bool,
    revoked: bool,
) -> (&'static str, Vec<String>) {
    let mut problems = Vec::new();
    if !content_ok {
        problems.push("the stored content does not match its hash".to_string());
    }
    if let Err(why) = signature {
        problems.push(why.clone());
    }
    if !pdf_ok {
        problems.push("the PDF does not match the one issued".to_string());
    }
    let status = match (problems.is_empty(), revoked) {
        (false, _) => "invalid",
        (true, true) => "revoked",
        (true, false) => "valid",
    };
    (status, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(retired: Option<&'a str>, distrusted: Option<&'a str>) -> Standing<'a> {
        Standing {
            kid: "c1",
            valid_from: "2026-01-01T00:00:00.000Z",
            retired_at: retired,
            distrusted_at: distrusted,
            distrust_reason: distrusted.map(|_| "seed leaked"),
        }
    }

    #[test]
    fn only_known_schemas_are_checked() {
        assert_eq!(scheme(Some("ct-cert-2")), Ok(Scheme::Ed25519));
        assert_eq!(scheme(Some("ct-cert-1")), Ok(Scheme::Hmac));
        assert!(scheme(Some("ct-cert-3"))
            .unwrap_err()
            .contains("unknown certificate schema"));
        assert!(scheme(None).is_err());
    }

    #[test]
    fn a_key_vouches_only_within_its_window_and_while_trusted() {
        let k = key(Some("2026-06-01T00:00:00.000Z"), None);
        assert!(may_vouch(&k, "2026-03-01T00:00:00.000Z").is_ok());
        assert!(may_vouch(&k, "2025-12-31T23:59:59.999Z")
            .unwrap_err()
            .contains("not in use yet"));
        assert!(
            may_vouch(&k, "2026-06-01T00:05:00.000Z").is_ok(),
            "within the rotation grace"
        );
        assert!(may_vouch(&k, "2026-06-01T00:10:00.000Z")
            .unwrap_err()
            .contains("retired"));
        assert!(may_vouch(&key(None, None), "2030-01-01T00:00:00.000Z").is_ok());
        let d = key(None, Some("2026-02-01T00:00:00.000Z"));
        let why = may_vouch(&d, "2026-01-15T00:00:00.000Z").unwrap_err();
        assert!(
            why.contains("distrusted") && why.contains("seed leaked"),
            "{why}"
        );
    }

    #[test]
    fn any_failed_check_makes_it_invalid_even_if_revoked() {
        assert_eq!(verdict(true, &Ok(()), true, false), ("valid", vec![]));
        assert_eq!(verdict(true, &Ok(()), true, true).0, "revoked");
        let (status, problems) = verdict(true, &Err("the key is distrusted".into()), false, true);
        assert_eq!(status, "invalid");
        assert_eq!(
            problems,
            [
                "the key is distrusted",
                "the PDF does not match the one issued"
            ]
        );
    }
}
