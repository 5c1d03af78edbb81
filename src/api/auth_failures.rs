//! Failed authentications slow attackers and never lock out owners.
//!
//! A failure is counted against the client address's `auth_failures` bucket (10 a minute),
//! and, for a well-formed key, against the presented key prefix's bucket too (a guess spread
//! over many addresses). Past either limit the failure answers 429 and this isolate refuses
//! further *failures* from that address before any Durable Object call, for a block that
//! grows with repeat offences (1, 2, 4 … minutes, at most [`MAX_BLOCK_S`]), never "until
//! midnight". A request carrying a valid key or the admin token is never refused because of
//! its address's failures: the gate checks the credential first and consults the block only
//! when the credential failed.
//!
//! Console sign-ins (`POST /auth/login`) follow the same rules with two more buckets: the
//! account (`login:<email>`) and the pair of account and address. A password, unlike a key,
//! can be guessed, so a blocked address is refused *before* its password is checked
//! ([`login_blocked`]), and so is an address that failed on an account whose own bucket is past
//! its limit; an address that never failed on the account is still heard, so the owner
//! signing in from their own machine is never locked out by someone else's guesses.

use std::cell::RefCell;

use super::caller::Caller;
use super::http::RequestCtx;
use super::limiter;
use super::problem::ApiError;
use crate::cache::{Expiring, Isolate};
use crate::limits::Plan;

/// The longest block, whatever the offences.
pub const MAX_BLOCK_S: f64 = 900.0;
/// How long an isolate remembers an address's offences after its last one.
const MEMORY_MS: f64 = 86_400_000.0;

#[derive(Clone, Copy)]
struct Offences {
    count: u32,
    blocked_until_ms: f64,
}

thread_local! {
    /// Addresses (and key prefixes) that went past the failure limit: their offences and the
    /// end of their current block.
    static BLOCKED: RefCell<Expiring<String, Offences>> = RefCell::new(Expiring::new(10_000));

    /// (account, address) pairs that failed a sign-in lately: refused while their account is
    /// blocked.
    static FAILED_PAIRS: RefCell<Expiring<String, ()>> = RefCell::new(Expiring::new(10_000));
}

/// The block after `count` offences: a minute, doubling, capped.
pub fn block_seconds(count: u32) -> f64 {
    (60.0 * 2f64.powi(count.saturating_sub(1).min(16) as i32)).min(MAX_BLOCK_S)
}

/// The prefix of an (account, address) bucket: its own, so no email (which may hold any
/// character) can name another account's pair bucket.
const PAIR: &str = "loginpair:";

/// The bucket of a presented key's prefix.
pub fn key_bucket(prefix: &str) -> String {
    format!("key:{prefix}")
}

/// The buckets of a sign-in to `email` from this client: the account, and the pair.
pub fn login_buckets(rc: &RequestCtx, email: &str) -> [String; 2] {
    [
        format!("login:{email}"),
        format!("{PAIR}{email}|{}", rc.client_bucket()),
    ]
}

/// Before a password is checked: a 429 if this address (or this address on this account) is
/// blocked, or if the account is blocked and this address has failed on it lately.
pub(super) fn login_blocked(rc: &RequestCtx, email: &str) -> Option<ApiError> {
    let [account, pair] = login_buckets(rc, email);
    if let Some(e) = blocked(rc, std::slice::from_ref(&pair)) {
        return Some(e);
    }
    let now = crate::edge::clock::now_ms();
    if FAILED_PAIRS.fresh(&pair, now).is_some() {
        return blocked(rc, &[account]);
    }
    None
}

/// Count a failed authentication (`failure`, the 401) against the client's address and the
/// `extra` buckets (a presented key's prefix, a sign-in's account and pair). Within every
/// limit the 401 stands; past any, the answer is a 429 and the bucket is blocked in this
/// isolate.
pub(super) async fn count_failure(
    rc: &RequestCtx,
    failure: ApiError,
    extra: &[String],
) -> ApiError {
    let now = crate::edge::clock::now_ms();
    for b in extra.iter().filter(|b| b.starts_with(PAIR)) {
        FAILED_PAIRS.remember(b.clone(), (), now + MAX_BLOCK_S * 1000.0);
    }
    if let Some(e) = blocked(rc, extra) {
        return e;
    }
    let mut buckets = vec![rc.client_bucket()];
    buckets.extend(extra.iter().cloned());
    for bucket in buckets {
        let mut c = Caller::anonymous(&bucket);
        c.plan = Plan::AuthFailures;
        c.subject = format!("authfail:{bucket}");
        if let Err(refused) = limiter::take(rc, &c).await {
            if refused.status != 429 {
                return refused;
            }
            let now = crate::edge::clock::now_ms();
            let count = BLOCKED.fresh(&bucket, now).map_or(0, |(o, _)| o.count) + 1;
            let until = now + block_seconds(count) * 1000.0;
            BLOCKED.remember(
                bucket.clone(),
                Offences {
                    count,
                    blocked_until_ms: until,
                },
                now + MEMORY_MS,
            );
            return too_many(((until - now) / 1000.0).ceil() as u64);
        }
    }
    failure
}

/// A 429 if the client's address (or one of the `extra` buckets) is blocked in this isolate.
fn blocked(rc: &RequestCtx, extra: &[String]) -> Option<ApiError> {
    let now = crate::edge::clock::now_ms();
    let mut buckets = vec![rc.client_bucket()];
    buckets.extend(extra.iter().cloned());
    let until = buckets
        .iter()
        .filter_map(|b| BLOCKED.fresh(b, now))
        .map(|(o, _)| o.blocked_until_ms)
        .fold(0.0, f64::max);
    (until > now).then(|| too_many(((until - now) / 1000.0).ceil().max(1.0) as u64))
}

fn too_many(retry_s: u64) -> ApiError {
    ApiError::new(
        429,
        "rate_limited",
        "Too many failed authentications",
        format!(
            "Too many failed authentications from this client; retry in {retry_s} s. A valid key is never refused for this."
        ),
    )
    .with_extension("limit", "auth_failures".into())
    .with_extension("retry_after_s", retry_s.into())
    .with_header("Retry-After", retry_s.to_string())
}
