//! Console sessions: an opaque random token in the cookie [`COOKIE`] (`HttpOnly; Secure;
//! SameSite=Lax; Path=/`), stored only as its SHA-256, with an idle and an absolute expiry,
//! revoked on sign-out and on a password change.
//!
//! A cookie rides along on requests the page did not make, so a session authenticates a
//! request only when [`check_request`] agrees: never one from another origin (`Origin` or
//! `Sec-Fetch-Site` says so), and a state-changing one only with a same-origin `Origin` and
//! the session's CSRF token in `X-CSRF-Token`. The token is derived from the session's
//! secret ([`csrf_token`]: a synchronizer token without a second store), so a page from
//! another origin, which cannot read the `HttpOnly` cookie, cannot make it.

use sha2::{Digest, Sha256};

/// The session cookie: `__Host-` makes the browser refuse it unless `Secure`, `Path=/` and
/// without `Domain`, so no sibling subdomain can plant or shadow it.
pub const COOKIE: &str = "__Host-ct_session";
/// The header a state-changing request from a session carries its CSRF token in.
pub const CSRF_HEADER: &str = "X-CSRF-Token";
/// The header a session request names its mode in (`test`, the default, or `live`): a key
/// carries its mode, a person chooses per request.
pub const MODE_HEADER: &str = "X-CarbonTrace-Mode";
/// Idle expiry: signed out after 12 hours without a request.
pub const IDLE_MS: f64 = 12.0 * 3_600_000.0;
/// Absolute expiry: signed out 7 days after signing in, however active.
pub const ABSOLUTE_MS: f64 = 7.0 * 86_400_000.0;
/// The idle deadline is pushed back at most once per 5 minutes (one D1 write, not one per
/// request).
pub const TOUCH_AFTER_MS: f64 = 300_000.0;
/// Prefix of a session token.
const PREFIX: &str = "cts_";
/// Longest `Cookie` header read (browsers send at most a few KiB).
const MAX_COOKIE_HEADER: usize = 8192;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A session token from 32 random bytes.
pub fn token(seed: &[u8; 32]) -> String {
    format!("{PREFIX}{}", hex(seed))
}

/// Whether `s` has a session token's shape (checked before any lookup).
pub fn is_token(s: &str) -> bool {
    s.strip_prefix(PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What is stored of a token (the session row's key): its SHA-256, hex. One-time tokens
/// (invitations, verification links) are stored the same way.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The session's CSRF token: derived from its secret, so only a page that was given it by
/// `GET /auth/me` (same origin) knows it.
pub fn csrf_token(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"carbontrace csrf v1\0");
    h.update(token.as_bytes());
    hex(&h.finalize()[..24])
}

/// `Set-Cookie` for a new session, living as long as its absolute expiry.
pub fn set_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age={}",
        (ABSOLUTE_MS / 1000.0) as u64
    )
}

/// `Set-Cookie` that makes the browser drop the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0")
}

/// The session token in a `Cookie` header, if one of the right shape is there.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    if header.len() > MAX_COOKIE_HEADER {
        return None;
    }
    header
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|v| is_token(v))
}

/// A stored session's clock, in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Times {
    pub idle_until_ms: f64,
    pub expires_ms: f64,
    pub last_seen_ms: f64,
    pub revoked: bool,
}

/// What a stored session is at a moment.
#[derive(Debug, PartialEq, Eq)]
pub enum State {
    /// Valid; `touch`: push its idle deadline back now.
    Active { touch: bool },
    /// Signed out, or ended by a password change.
    Revoked,
    /// Past its idle or absolute expiry.
    Expired,
}

impl Times {
    /// A session starting at `now`.
    pub fn start(now_ms: f64) -> Times {
        Times {
            idle_until_ms: now_ms + IDLE_MS,
            expires_ms: now_ms + ABSOLUTE_MS,
            last_seen_ms: now_ms,
            revoked: false,
        }
    }

    pub fn state(&self, now_ms: f64) -> State {
        if self.revoked {
            State::Revoked
        } else if now_ms >= self.idle_until_ms || now_ms >= self.expires_ms {
            State::Expired
        } else {
            State::Active {
                touch: now_ms - self.last_seen_ms >= TOUCH_AFTER_MS,
            }
        }
    }

    /// The idle deadline after a request at `now` (never past the absolute expiry).
    pub fn idle_after(&self, now_ms: f64) -> f64 {
        (now_ms + IDLE_MS).min(self.expires_ms)
    }
}

/// Why a request may not be authenticated by its session cookie.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `Origin` or `Sec-Fetch-Site` says another site or origin made the request.
    CrossOrigin,
    /// A state-changing request without `Origin` (every browser sends it on those).
    MissingOrigin,
    /// A state-changing request without the session's CSRF token, or with another one.
    Csrf,
}

/// The parts of a request [`check_request`] reads.
pub struct Request<'a> {
    pub method: &'a str,
    pub origin: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
    pub csrf: Option<&'a str>,
}

/// Whether a request may be authenticated by session `token`, served at any of `own` origins
/// (the request's own and the public base URL's).
pub fn check_request(r: &Request<'_>, own: &[&str], token: &str) -> Result<(), Refusal> {
    let same = |o: &str| own.iter().any(|own| own.eq_ignore_ascii_case(o));
    if r.origin.is_some_and(|o| !same(o))
        || r.sec_fetch_site
            .is_some_and(|s| !matches!(s, "same-origin" | "none"))
    {
        return Err(Refusal::CrossOrigin);
    }
    if matches!(r.method, "GET" | "HEAD" | "OPTIONS") {
        return Ok(());
    }
    if r.origin.is_none() {
        return Err(Refusal::MissingOrigin);
    }
    let expected = csrf_token(token);
    match r.csrf {
        Some(sent) if crate::secure::constant_time_eq(sent.as_bytes(), expected.as_bytes()) => {
            Ok(())
        }
        _ => Err(Refusal::Csrf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_cookies_and_their_hashes() {
        let t = token(&[0xab; 32]);
        assert!(is_token(&t));
        assert_eq!(hash_token(&t).len(), 64);
        assert_ne!(hash_token(&t), csrf_token(&t));
        assert_ne!(csrf_token(&t), csrf_token(&token(&[0xac; 32])));
        let c = set_cookie(&t);
        for attr in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=604800",
        ] {
            assert!(c.contains(attr), "{c} has {attr}");
        }
        assert!(c.starts_with("__Host-ct_session=cts_"));
        assert!(clear_cookie().contains("Max-Age=0"));
        let header = format!("a=1; {COOKIE}={t}; b=2");
        assert_eq!(from_cookie_header(&header), Some(t.as_str()));
        assert_eq!(from_cookie_header("__Host-ct_session=cts_short"), None);
        assert_eq!(from_cookie_header(&format!("x={t}")), None);
        assert_eq!(
            from_cookie_header(&format!("{header};{}", " ".repeat(9000))),
            None
        );
    }

    #[test]
    fn sessions_expire_idle_and_absolute_and_touch_sparingly() {
        let t = Times::start(0.0);
        assert_eq!(t.state(1.0), State::Active { touch: false });
        assert_eq!(t.state(TOUCH_AFTER_MS), State::Active { touch: true });
        assert_eq!(t.state(IDLE_MS), State::Expired);
        let mut kept = t;
        kept.idle_until_ms = t.idle_after(ABSOLUTE_MS - 1.0);
        assert_eq!(
            kept.idle_until_ms, ABSOLUTE_MS,
            "never past the absolute expiry"
        );
        assert_eq!(kept.state(ABSOLUTE_MS), State::Expired);
        kept.revoked = true;
        assert_eq!(kept.state(1.0), State::Revoked);
    }

    #[test]
    fn a_cookie_never_authenticates_another_origin_and_writes_need_the_token() {
        let t = token(&[1; 32]);
        let csrf = csrf_token(&t);
        let own = ["https://api.example", "http://127.0.0.1:8787"];
        let req = |method, origin, site, csrf| Request {
            method,
            origin,
            sec_fetch_site: site,
            csrf,
        };
        let ok = |r: Request<'_>| check_request(&r, &own, &t);
        assert_eq!(ok(req("GET", None, None, None)), Ok(()));
        assert_eq!(ok(req("GET", None, Some("same-origin"), None)), Ok(()));
        assert_eq!(
            ok(req("GET", Some("https://evil.example"), None, None)),
            Err(Refusal::CrossOrigin)
        );
        assert_eq!(
            ok(req("GET", None, Some("cross-site"), None)),
            Err(Refusal::CrossOrigin)
        );
        assert_eq!(
            ok(req("GET", None, Some("same-site"), None)),
            Err(Refusal::CrossOrigin),
            "a sibling subdomain is another origin"
        );
        assert_eq!(
            ok(req(
                "POST",
                Some("http://127.0.0.1:8787"),
                None,
                Some(&csrf)
            )),
            Ok(())
        );
        assert_eq!(
            ok(req("POST", None, None, Some(&csrf))),
            Err(Refusal::MissingOrigin)
        );
        assert_eq!(
            ok(req("DELETE", Some("https://api.example"), None, None)),
            Err(Refusal::Csrf)
        );
        assert_eq!(
            ok(req("PUT", Some("https://api.example"), None, Some("0000"))),
            Err(Refusal::Csrf)
        );
        assert_eq!(
            ok(req("POST", Some("https://evil.example"), None, Some(&csrf))),
            Err(Refusal::CrossOrigin),
            "the token does not make another origin's request good"
        );
    }
}
