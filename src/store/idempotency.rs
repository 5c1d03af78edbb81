//! `idempotency`: one row per (scope, Idempotency-Key). The rules (what a repeat gets, how
//! long a key holds) are `api::idempotency`'s; this file only reserves, reads, settles and
//! forgets rows, each in one statement.

use serde::Deserialize;

use super::db::{Db, Result, Stmt};

/// A key's row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Stored {
    pub method_path: String,
    pub body_hash: String,
    /// `None` while the first request is still running.
    pub status: Option<u16>,
    pub response: Option<String>,
}

/// A reservation to make.
pub struct Reserve<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    pub method_path: &'a str,
    pub body_hash: &'a str,
    pub now: &'a str,
    /// A reservation created before this, never finished, has lapsed.
    pub lock_before: &'a str,
    /// A stored response created before this is no longer replayed.
    pub keep_before: &'a str,
}

/// Take the key if it is new, or if what holds it has lapsed (an unfinished reservation
/// older than the lock time, or a response older than the replay window). `true`: reserved.
pub async fn reserve(db: &impl Db, r: &Reserve<'_>) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new(
                "INSERT INTO idempotency (scope, idem_key, method_path, body_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(scope, idem_key) DO UPDATE SET method_path = excluded.method_path, \
                   body_hash = excluded.body_hash, status = NULL, response = NULL, created_at = excluded.created_at \
                 WHERE (idempotency.status IS NULL AND idempotency.created_at < ?6) OR idempotency.created_at < ?7",
            )
            .bind(r.scope)
            .bind(r.key)
            .bind(r.method_path)
            .bind(r.body_hash)
            .bind(r.now)
            .bind(r.lock_before)
            .bind(r.keep_before),
        )
        .await?
        > 0)
}

/// What holds the key.
pub async fn get(db: &impl Db, scope: &str, key: &str) -> Result<Option<Stored>> {
    db.first(
        Stmt::new(
            "SELECT method_path, body_hash, status, response FROM idempotency WHERE scope = ?1 AND idem_key = ?2",
        )
        .bind(scope)
        .bind(key),
    )
    .await
}

/// Store the response of a reserved request.
pub async fn store_response(
    db: &impl Db,
    scope: &str,
    key: &str,
    status: u16,
    body: &str,
) -> Result<usize> {
    db.run(
        Stmt::new(
            "UPDATE idempotency SET status = ?3, response = ?4 WHERE scope = ?1 AND idem_key = ?2",
        )
        .bind(scope)
        .bind(key)
        .bind(u32::from(status))
        .bind(body),
    )
    .await
}

/// Release a reserved key (the request was refused or failed: a retry runs again).
pub async fn release(db: &impl Db, scope: &str, key: &str) -> Result<usize> {
    db.run(
        Stmt::new("DELETE FROM idempotency WHERE scope = ?1 AND idem_key = ?2")
            .bind(scope)
            .bind(key),
    )
    .await
}

/// Forget every key created before `before` (the cron).
pub async fn forget_before(db: &impl Db, before: &str) -> Result<usize> {
    db.run(Stmt::new("DELETE FROM idempotency WHERE created_at < ?1").bind(before))
        .await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::testdb::{block_on, two_orgs};

    fn reserve_at<'a>(scope: &'a str, hash: &'a str, now: &'a str) -> Reserve<'a> {
        Reserve {
            scope,
            key: "k1",
            method_path: "POST /api/v1/certificates",
            body_hash: hash,
            now,
            lock_before: "2026-01-01T00:01:00Z",
            keep_before: "2026-01-01T00:00:00Z",
        }
    }

    #[test]
    fn a_key_is_reserved_once_per_scope_until_it_lapses() {
        let db = two_orgs();
        assert!(block_on(reserve(
            &db,
            &reserve_at("org_a:live", "h1", "2026-01-01T00:02:00Z")
        ))
        .unwrap());
        // Held (recent, unfinished): refused.
        assert!(!block_on(reserve(
            &db,
            &reserve_at("org_a:live", "h2", "2026-01-01T00:02:00Z")
        ))
        .unwrap());
        // Another scope (mode or organisation) has its own keys.
        assert!(block_on(reserve(
            &db,
            &reserve_at("org_a:test", "h1", "2026-01-01T00:02:00Z")
        ))
        .unwrap());
        assert_eq!(
            block_on(store_response(&db, "org_a:live", "k1", 201, "{}")).unwrap(),
            1
        );
        let s = block_on(get(&db, "org_a:live", "k1")).unwrap().unwrap();
        assert_eq!(
            (s.status, s.response.as_deref(), s.body_hash.as_str()),
            (Some(201), Some("{}"), "h1")
        );
        assert!(block_on(get(&db, "org_b:live", "k1")).unwrap().is_none());
        // A finished response within the window holds the key even if old enough to unlock.
        let mut later = reserve_at("org_a:live", "h3", "2026-01-01T00:03:00Z");
        later.lock_before = "2026-01-01T00:05:00Z";
        assert!(!block_on(reserve(&db, &later)).unwrap());
        // Past the window, the key is free again.
        later.keep_before = "2026-01-01T00:05:00Z";
        assert!(block_on(reserve(&db, &later)).unwrap());
        assert_eq!(
            block_on(get(&db, "org_a:live", "k1"))
                .unwrap()
                .unwrap()
                .status,
            None
        );
    }

    #[test]
    fn release_and_forget() {
        let db = two_orgs();
        assert!(block_on(reserve(&db, &reserve_at("s", "h", "2026-01-01T00:02:00Z"))).unwrap());
        assert_eq!(block_on(release(&db, "other", "k1")).unwrap(), 0);
        assert_eq!(block_on(release(&db, "s", "k1")).unwrap(), 1);
        assert!(block_on(reserve(&db, &reserve_at("s", "h", "2026-01-01T00:02:00Z"))).unwrap());
        assert_eq!(
            block_on(forget_before(&db, "2026-01-01T00:02:00Z")).unwrap(),
            0
        );
        assert_eq!(
            block_on(forget_before(&db, "2026-01-01T00:02:01Z")).unwrap(),
            1
        );
    }
}
