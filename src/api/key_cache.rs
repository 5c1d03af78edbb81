//! The isolate's cache of key lookups (hits and misses), so the auth gate reads D1 once per
//! key every [`KEY_CACHE_MS`] at most. That interval is also the revocation bound: revoking
//! here forgets the key at once ([`forget_key`]), other isolates within the bound.

use std::cell::RefCell;

use super::http::{RequestCtx, Step};
use super::problem::ApiError;
use crate::cache::{Expiring, Isolate};
use crate::store::keys::{by_hash, Credential};

/// How long an isolate trusts a key lookup (hit or miss). Also the revocation bound.
pub const KEY_CACHE_MS: f64 = 5_000.0;

thread_local! {
    static KEY_CACHE: RefCell<Expiring<String, Option<Credential>>> = RefCell::new(Expiring::new(10_000));
}

/// Forget a cached key in this isolate (after revoking or rolling it here).
pub fn forget_key(key_id: &str) {
    KEY_CACHE.forget_where(|row| row.as_ref().is_some_and(|r| r.id == key_id));
}

/// The key whose secret hashes to `hash`, from the cache while fresh, else from D1.
pub(super) async fn lookup(rc: &RequestCtx, hash: &str) -> Result<Option<Credential>, ApiError> {
    let now = crate::edge::clock::now_ms();
    if let Some((hit, _)) = KEY_CACHE.fresh(hash, now) {
        return Ok(hit);
    }
    let row = by_hash(&rc.env, hash)
        .await
        .step("lookup: reading the key")?;
    KEY_CACHE.remember(hash.to_string(), row.clone(), now + KEY_CACHE_MS);
    Ok(row)
}
