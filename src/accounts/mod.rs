//! Console accounts: people who sign in with an email and a password, each the `owner` or a
//! `member` of one organisation, and the sessions they hold. Pure rules only, tested natively:
//! what a sign-up, a sign-in or an invitation may contain ([`SignupBody`] → [`Signup`]), the
//! stored password record and its parameters ([`password`]), and what a session is, how it
//! expires and which requests it may authenticate ([`session`]). The key derivation itself is
//! WebCrypto's (`edge::password`); the tables are `store::accounts` and `store::sessions`.

pub mod password;
pub mod session;

use serde::Deserialize;

use crate::keys::Role;
use crate::validation::FieldError;

/// Longest email address (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// Shortest password (NIST SP 800-63B asks at least 8; a console that issues API keys asks more).
pub const MIN_PASSWORD: usize = 12;
/// Longest password: bounded so a caller cannot make the key derivation hash megabytes.
pub const MAX_PASSWORD: usize = 256;
/// Longest organisation name.
pub const MAX_ORG_NAME: usize = 100;
/// How long an invitation link stays valid.
pub const INVITE_TTL_S: u64 = 7 * 86_400;
/// How long an email verification link stays valid.
pub const VERIFY_TTL_S: u64 = 3 * 86_400;

/// A person's role in their organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    /// Signed the organisation up: manages its keys, members and settings.
    Owner,
    /// Invited: uses the console (usage, certificates, reports, inventory), manages nothing.
    Member,
}

impl MemberRole {
    pub fn parse(s: &str) -> Option<MemberRole> {
        match s {
            "owner" => Some(MemberRole::Owner),
            "member" => Some(MemberRole::Member),
            _ => None,
        }
    }

    /// The key role a session of this person acts with: the gate's rules for admin keys
    /// (manage keys, integrations, settings) and standard keys (call the API) apply unchanged.
    pub fn key_role(self) -> Role {
        match self {
            MemberRole::Owner => Role::Admin,
            MemberRole::Member => Role::Standard,
        }
    }
}

/// An email as stored and compared: trimmed, lower-cased (the local part too: no provider a
/// customer uses tells `Ann@` from `ann@`, and two accounts for one inbox would be worse).
pub fn normalise_email(raw: &str) -> String {
    raw.trim().to_ascii_lowercase()
}

/// Whether `email` (normalised) looks deliverable: one `@`, a non-empty local part, a domain
/// with a dot and no empty label, printable ASCII without spaces, at most [`MAX_EMAIL`].
/// Ownership is proven by the verification link, not by syntax.
pub fn email_error(field: &str, email: &str) -> Option<FieldError> {
    let ok = email.len() <= MAX_EMAIL
        && email.bytes().all(|b| b.is_ascii_graphic())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && domain.split('.').all(|l| {
                        !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
            }
            None => false,
        };
    (!ok).then(|| {
        FieldError::new(
            field,
            format!("an email address (at most {MAX_EMAIL} characters)"),
        )
    })
}

/// A new password's problems: length in characters, and not the account's email.
pub fn password_error(field: &str, password: &str, email: &str) -> Option<FieldError> {
    let n = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Some(FieldError::new(
            field,
            format!("{MIN_PASSWORD} to {MAX_PASSWORD} characters"),
        ));
    }
    if password.trim().eq_ignore_ascii_case(email) {
        return Some(FieldError::new(field, "must not be the email address"));
    }
    None
}

/// Characters that change how a name is shown without being seen: bidirectional overrides and
/// isolates, zero-width characters, the soft hyphen, the byte-order mark. The organisation's
/// name is the issuer certificate verification shows, so `\u{202e}` must not reorder it.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}')
}

/// `POST /auth/signup`, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    pub email: Option<String>,
    pub password: Option<String>,
    pub organisation: Option<String>,
}

/// A valid sign-up.
#[derive(Debug, PartialEq)]
pub struct Signup {
    pub email: String,
    pub password: String,
    pub organisation: String,
}

/// Validate a sign-up, naming every bad field.
pub fn signup(body: SignupBody) -> Result<Signup, Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = normalise_email(body.email.as_deref().unwrap_or_default());
    errors.extend(email_error("email", &email));
    let password = body.password.unwrap_or_default();
    errors.extend(password_error("password", &password, &email));
    let organisation = body
        .organisation
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_string();
    let n = organisation.chars().count();
    if n == 0 || n > MAX_ORG_NAME || organisation.chars().any(|c| c.is_control() || invisible(c)) {
        errors.push(FieldError::new(
            "organisation",
            format!("the organisation's name, 1 to {MAX_ORG_NAME} characters"),
        ));
    }
    if errors.is_empty() {
        Ok(Signup {
            email,
            password,
            organisation,
        })
    } else {
        Err(errors)
    }
}

/// `POST /auth/login`, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: Option<String>,
    pub password: Option<String>,
}

/// A sign-in's email and password: present and within bounds (a password past
/// [`MAX_PASSWORD`] is refused before any key derivation; a short one is simply wrong).
pub fn login(body: LoginBody) -> Result<(String, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = normalise_email(body.email.as_deref().unwrap_or_default());
    if email.is_empty() || email.len() > MAX_EMAIL {
        errors.push(FieldError::new("email", "the account's email address"));
    }
    let password = body.password.unwrap_or_default();
    if password.is_empty() || password.chars().count() > MAX_PASSWORD {
        errors.push(FieldError::new(
            "password",
            format!("the account's password (at most {MAX_PASSWORD} characters)"),
        ));
    }
    if errors.is_empty() {
        Ok((email, password))
    } else {
        Err(errors)
    }
}

/// `POST /auth/password`, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeBody {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

/// `POST /auth/verify-email` and `POST /auth/accept-invite`, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub token: Option<String>,
    pub password: Option<String>,
}

/// `POST /members/invites`, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    pub email: Option<String>,
}

/// A one-time token (invitation, email verification) as sent: `ct<kind>_` and 64 hex
/// characters; anything else is refused before a lookup.
pub fn token_error(field: &str, token: &str, prefix: &str) -> Option<FieldError> {
    let ok = token
        .strip_prefix(prefix)
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    (!ok).then(|| FieldError::new(field, format!("the token from the link (`{prefix}…`)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(email: &str, password: &str, org: &str) -> SignupBody {
        SignupBody {
            email: Some(email.into()),
            password: Some(password.into()),
            organisation: Some(org.into()),
        }
    }

    #[test]
    fn a_signup_is_normalised_and_every_bad_field_named() {
        let s = signup(body(" Ann@Example.COM ", "correct horse battery", " Acme ")).unwrap();
        assert_eq!(
            (s.email.as_str(), s.organisation.as_str()),
            ("ann@example.com", "Acme")
        );
        let fields = |e: Vec<FieldError>| e.into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(
            fields(signup(body("nope", "short", "")).unwrap_err()),
            ["email", "password", "organisation"]
        );
        for bad in ["a@b", "@b.c", "a b@c.d", "a@b..c", "a@@b.c", "a@b.c-\u{e9}"] {
            assert!(email_error("email", bad).is_some(), "{bad}");
        }
        assert!(email_error("email", &format!("{}@b.co", "a".repeat(250))).is_some());
        assert!(
            signup(body("a@b.co", "a@b.co", "X")).is_err(),
            "password = email"
        );
        assert!(signup(body("a@b.co", &"p".repeat(257), "X")).is_err());
        assert!(signup(body("a@b.co", &"p".repeat(256), "X")).is_ok());
        assert!(signup(body("a@b.co", "correct horse battery", "a\u{7}b")).is_err());
        for sneaky in [
            "Dell\u{202e}lleD",
            "Ac\u{200b}me",
            "\u{feff}Acme",
            "A\u{2066}cme",
        ] {
            assert!(
                signup(body("a@b.co", "correct horse battery", sneaky)).is_err(),
                "{sneaky:?}"
            );
        }
        assert!(signup(body(
            "a@b.co",
            "correct horse battery",
            "Société Générale – Paris"
        ))
        .is_ok());
        assert!(signup(body("a@b.co", "correct horse battery", &"o".repeat(101))).is_err());
    }

    #[test]
    fn a_login_is_bounded_before_any_derivation() {
        let ok = login(LoginBody {
            email: Some("A@B.co".into()),
            password: Some("x".into()),
        });
        assert_eq!(ok.unwrap(), ("a@b.co".to_string(), "x".to_string()));
        let e = login(LoginBody {
            email: None,
            password: Some("p".repeat(MAX_PASSWORD + 1)),
        })
        .unwrap_err();
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn roles_map_onto_the_key_roles_the_gate_knows() {
        assert_eq!(MemberRole::Owner.key_role(), Role::Admin);
        assert_eq!(MemberRole::Member.key_role(), Role::Standard);
        assert_eq!(MemberRole::parse("member"), Some(MemberRole::Member));
        assert_eq!(MemberRole::parse("admin"), None);
    }

    #[test]
    fn tokens_are_checked_before_a_lookup() {
        let t = format!("ctinv_{}", "a".repeat(64));
        assert!(token_error("token", &t, "ctinv_").is_none());
        assert!(token_error("token", &t, "ctver_").is_some());
        assert!(token_error("token", "ctinv_zz", "ctinv_").is_some());
    }
}
