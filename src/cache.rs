//! What an isolate remembers between requests: one bounded map whose entries expire, and the
//! three operations every isolate-local cache needs on a `thread_local!` of it. Pure (time is
//! a parameter, in milliseconds), so the bound and the expiry are tested natively.
//!
//! Used for key lookups (`api::key_cache`), clients blocked after failed authentications
//! (`api::auth_failures`), the minute a key's `last_used_at` was last written
//! (`api::limiter`) and the signing keys registered in D1 (`edge::signing`).

use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::thread::LocalKey;

/// A map of at most `cap` entries, each fresh until its own time. Past the cap it starts over
/// (an isolate's cache is an optimisation: forgetting is always safe).
pub struct Expiring<K, V> {
    entries: HashMap<K, (V, f64)>,
    cap: usize,
}

impl<K: Eq + Hash, V> Expiring<K, V> {
    pub fn new(cap: usize) -> Self {
        Self {
            entries: HashMap::new(),
            cap,
        }
    }

    /// The value and the time it is fresh until, if it is fresh at `now`.
    pub fn get<Q>(&self, key: &Q, now: f64) -> Option<(&V, f64)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries
            .get(key)
            .filter(|(_, until)| now < *until)
            .map(|(v, until)| (v, *until))
    }

    pub fn insert(&mut self, key: K, value: V, until: f64) {
        if self.entries.len() >= self.cap && !self.entries.contains_key(&key) {
            self.entries.clear();
        }
        self.entries.insert(key, (value, until));
    }

    /// Forget every entry whose value matches (a revoked key under any of its hashes).
    pub fn forget_where(&mut self, mut matches: impl FnMut(&V) -> bool) {
        self.entries.retain(|_, (v, _)| !matches(v));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The operations on an isolate's `thread_local!` cache, so no caller borrows the cell.
pub trait Isolate<K, V> {
    /// The fresh value and its expiry time, cloned out of the cache.
    fn fresh<Q>(&'static self, key: &Q, now: f64) -> Option<(V, f64)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized;
    fn remember(&'static self, key: K, value: V, until: f64);
    fn forget_where(&'static self, matches: impl FnMut(&V) -> bool);
}

impl<K: Eq + Hash, V: Clone> Isolate<K, V> for LocalKey<RefCell<Expiring<K, V>>> {
    fn fresh<Q>(&'static self, key: &Q, now: f64) -> Option<(V, f64)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.with(|c| {
            c.borrow()
                .get(key, now)
                .map(|(v, until)| (v.clone(), until))
        })
    }

    fn remember(&'static self, key: K, value: V, until: f64) {
        self.with(|c| c.borrow_mut().insert(key, value, until));
    }

    fn forget_where(&'static self, matches: impl FnMut(&V) -> bool) {
        self.with(|c| c.borrow_mut().forget_where(matches));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static CACHE: RefCell<Expiring<String, u32>> = RefCell::new(Expiring::new(3));
    }

    #[test]
    fn entries_expire_at_their_own_time() {
        let mut c = Expiring::new(10);
        c.insert("a", 1, 100.0);
        c.insert("b", 2, 200.0);
        assert_eq!(c.get("a", 99.0), Some((&1, 100.0)));
        assert_eq!(c.get("a", 100.0), None, "fresh until, not at, its time");
        assert_eq!(c.get("b", 150.0), Some((&2, 200.0)));
        assert_eq!(c.get("c", 0.0), None);
    }

    #[test]
    fn the_bound_holds_and_updates_do_not_count() {
        let mut c = Expiring::new(2);
        c.insert(1, "x", 10.0);
        c.insert(2, "y", 10.0);
        c.insert(2, "y2", 10.0);
        assert_eq!(c.len(), 2, "replacing an entry keeps the others");
        c.insert(3, "z", 10.0);
        assert_eq!(c.len(), 1, "past the cap it starts over");
        assert_eq!(c.get(&3, 0.0), Some((&"z", 10.0)));
    }

    #[test]
    fn an_isolate_cache_remembers_and_forgets_by_value() {
        CACHE.remember("k1".into(), 7, 50.0);
        CACHE.remember("k2".into(), 8, 50.0);
        assert_eq!(CACHE.fresh("k1", 10.0), Some((7, 50.0)));
        CACHE.forget_where(|v| *v == 7);
        assert_eq!(CACHE.fresh("k1", 10.0), None);
        assert_eq!(CACHE.fresh("k2", 10.0), Some((8, 50.0)));
        assert_eq!(CACHE.fresh("k2", 60.0), None);
    }
}
