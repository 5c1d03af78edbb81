//! `api_keys`: an organisation's keys. Created by the operator (`POST /admin/keys`) or by an
//! organisation's admin key (`POST /keys`); listed, rolled and revoked by its admin keys. Only a
//! key's SHA-256 is stored; the secret is made by the caller (`crate::keys::format_key` from the
//! runtime's randomness) and returned once. Every query that names
//! a key also names the organisation and the modes the caller may see, so another
//! organisation's key, or a live key asked about with a test key, is simply not found.

use serde::{Deserialize, Serialize};

use super::db::{Db, Result, Stmt};
use crate::keys::{hash_key, Mode, Role, VISIBLE_PREFIX_LEN};
use crate::limits::Plan;

const COLUMNS: &str =
    "id, org_id, name, prefix, plan, mode, role, created_at, last_used_at, revoked_at, expires_at";

/// A key as listed: everything but the secret (which is never stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyView {
    pub id: String,
    pub org_id: String,
    pub name: Option<String>,
    pub prefix: String,
    pub plan: String,
    pub mode: String,
    pub role: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// A rolled key's end of grace: refused from then on.
    pub expires_at: Option<String>,
}

/// What a new key is.
pub struct NewKey<'a> {
    pub org_id: &'a str,
    pub name: Option<&'a str>,
    pub plan: Plan,
    pub mode: Mode,
    pub role: Role,
}

/// Store key `id` whose secret is `secret` (only its hash and visible prefix are kept).
pub async fn insert(
    db: &impl Db,
    k: &NewKey<'_>,
    id: &str,
    secret: &str,
    now: &str,
) -> Result<KeyView> {
    let view = KeyView {
        id: id.to_string(),
        org_id: k.org_id.to_string(),
        name: k.name.map(str::to_string),
        prefix: secret.chars().take(VISIBLE_PREFIX_LEN).collect(),
        plan: k.plan.name().to_string(),
        mode: k.mode.name().to_string(),
        role: k.role.name().to_string(),
        created_at: now.to_string(),
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
    };
    db.run(
        Stmt::new(
            "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, plan, mode, role, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(view.id.as_str())
        .bind(view.org_id.as_str())
        .bind(k.name)
        .bind(view.prefix.as_str())
        .bind(hash_key(secret))
        .bind(view.plan.as_str())
        .bind(view.mode.as_str())
        .bind(view.role.as_str())
        .bind(view.created_at.as_str()),
    )
    .await?;
    Ok(view)
}

/// The organisation's keys of the given modes, newest first.
pub async fn list(db: &impl Db, org_id: &str, modes: &[Mode]) -> Result<Vec<KeyView>> {
    db.all(
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM api_keys WHERE org_id = ?1 AND ((mode = 'live' AND ?2) OR (mode = 'test' AND ?3)) \
             ORDER BY created_at DESC, id"
        ))
        .bind(org_id)
        .bind(modes.contains(&Mode::Live))
        .bind(modes.contains(&Mode::Test)),
    )
    .await
}

/// One of the organisation's keys, if it is one of the given modes.
pub async fn get(db: &impl Db, org_id: &str, modes: &[Mode], id: &str) -> Result<Option<KeyView>> {
    let key: Option<KeyView> = db
        .first(
            Stmt::new(format!(
                "SELECT {COLUMNS} FROM api_keys WHERE id = ?1 AND org_id = ?2"
            ))
            .bind(id)
            .bind(org_id),
        )
        .await?;
    Ok(key.filter(|k| Mode::parse(&k.mode).is_some_and(|m| modes.contains(&m))))
}

/// What the auth gate needs of a key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Credential {
    pub id: String,
    pub org_id: String,
    pub plan: String,
    pub mode: String,
    pub role: String,
    pub revoked_at: Option<String>,
    pub expires_at: Option<String>,
}

/// The key whose secret has this SHA-256 (hex).
pub async fn by_hash(db: &impl Db, hash: &str) -> Result<Option<Credential>> {
    db.first(
        Stmt::new(
            "SELECT id, org_id, plan, mode, role, revoked_at, expires_at FROM api_keys WHERE key_hash = ?1",
        )
        .bind(hash),
    )
    .await
}

/// Any organisation's key by id (the operator's routes only).
pub async fn by_id_any_org(db: &impl Db, id: &str) -> Result<Option<KeyView>> {
    db.first(Stmt::new(format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1")).bind(id))
        .await
}

/// Revoke the organisation's key now; `false` if it already was (or is not theirs).
pub async fn revoke(db: &impl Db, org_id: &str, id: &str, at: &str) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new(
                "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND org_id = ?3 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(id)
            .bind(org_id),
        )
        .await?
        > 0)
}

/// End the organisation's key's validity at `at` (a roll's grace period); only shortens an
/// earlier end.
pub async fn expire(db: &impl Db, org_id: &str, id: &str, at: &str) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new(
                "UPDATE api_keys SET expires_at = ?1 WHERE id = ?2 AND org_id = ?3 AND revoked_at IS NULL \
                 AND (expires_at IS NULL OR expires_at > ?1)",
            )
            .bind(at)
            .bind(id)
            .bind(org_id),
        )
        .await?
        > 0)
}

/// Record that key `id` was used at `at` (written at most once per key and minute by the
/// limiter's lease, so this is off the hot path).
pub async fn touch(db: &impl Db, id: &str, at: &str) -> Result<usize> {
    db.run(
        Stmt::new("UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2")
            .bind(at)
            .bind(id),
    )
    .await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::testdb::{block_on, two_orgs};

    const NOW: &str = "2026-01-01T00:00:00.000Z";

    fn new_key<'a>(org: &'a str, mode: Mode) -> NewKey<'a> {
        NewKey {
            org_id: org,
            name: Some("ci"),
            plan: Plan::Pro,
            mode,
            role: Role::Admin,
        }
    }

    #[test]
    fn keys_are_found_by_hash_and_listed_per_org_and_mode() {
        let db = two_orgs();
        let live = block_on(insert(
            &db,
            &new_key("org_a", Mode::Live),
            "key_1",
            "ct_live_aaaaaaaaaaaaaaaaaaaaaaaa",
            NOW,
        ))
        .unwrap();
        block_on(insert(
            &db,
            &new_key("org_a", Mode::Test),
            "key_2",
            "ct_test_bbbbbbbbbbbbbbbbbbbbbbbb",
            NOW,
        ))
        .unwrap();
        block_on(insert(
            &db,
            &new_key("org_b", Mode::Live),
            "key_3",
            "ct_live_cccccccccccccccccccccccc",
            NOW,
        ))
        .unwrap();
        assert_eq!(live.prefix.len(), VISIBLE_PREFIX_LEN);
        let c = block_on(by_hash(&db, &hash_key("ct_live_aaaaaaaaaaaaaaaaaaaaaaaa")))
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.id.as_str(), c.org_id.as_str(), c.mode.as_str()),
            ("key_1", "org_a", "live")
        );
        assert!(block_on(by_hash(&db, &hash_key("nope"))).unwrap().is_none());
        let ids = |modes: &[Mode]| -> Vec<String> {
            block_on(list(&db, "org_a", modes))
                .unwrap()
                .into_iter()
                .map(|k| k.id)
                .collect()
        };
        assert_eq!(ids(&[Mode::Live]), ["key_1"]);
        assert_eq!(ids(&[Mode::Test]), ["key_2"]);
        assert_eq!(ids(&[Mode::Live, Mode::Test]).len(), 2);
        // Another organisation's key, or another mode's, is not found.
        assert!(block_on(get(&db, "org_a", &[Mode::Live], "key_3"))
            .unwrap()
            .is_none());
        assert!(block_on(get(&db, "org_a", &[Mode::Test], "key_1"))
            .unwrap()
            .is_none());
        assert_eq!(
            block_on(get(&db, "org_a", &[Mode::Live], "key_1")).unwrap(),
            Some(live)
        );
        assert!(block_on(by_id_any_org(&db, "key_3")).unwrap().is_some());
    }

    #[test]
    fn revoke_and_expire_touch_only_the_orgs_own_key_once() {
        let db = two_orgs();
        block_on(insert(
            &db,
            &new_key("org_a", Mode::Live),
            "key_1",
            "ct_live_aaaaaaaaaaaaaaaaaaaaaaaa",
            NOW,
        ))
        .unwrap();
        assert!(
            !block_on(revoke(&db, "org_b", "key_1", NOW)).unwrap(),
            "another org"
        );
        assert!(
            !block_on(expire(&db, "org_b", "key_1", NOW)).unwrap(),
            "another org"
        );
        assert!(block_on(expire(&db, "org_a", "key_1", "2026-02-01T00:00:00.000Z")).unwrap());
        // Only shortens.
        assert!(!block_on(expire(&db, "org_a", "key_1", "2026-03-01T00:00:00.000Z")).unwrap());
        assert!(block_on(expire(&db, "org_a", "key_1", "2026-01-15T00:00:00.000Z")).unwrap());
        assert!(block_on(revoke(&db, "org_a", "key_1", NOW)).unwrap());
        assert!(
            !block_on(revoke(&db, "org_a", "key_1", NOW)).unwrap(),
            "twice"
        );
        assert!(
            !block_on(expire(&db, "org_a", "key_1", NOW)).unwrap(),
            "revoked"
        );
        assert_eq!(block_on(touch(&db, "key_1", NOW)).unwrap(), 1);
        let k = block_on(by_id_any_org(&db, "key_1")).unwrap().unwrap();
        assert_eq!(k.last_used_at.as_deref(), Some(NOW));
        assert_eq!(k.expires_at.as_deref(), Some("2026-01-15T00:00:00.000Z"));
    }
}
