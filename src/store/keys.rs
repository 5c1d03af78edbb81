//! `api_keys`: an organisation's keys. Created by the operator (`POST /admin/keys`) or by an
//! organisation's admin key (`POST /keys`); listed, rolled and revoked by its admin keys. Only a
//! key's SHA-256 is stored; the secret is made by the caller (`crate::keys::format_key` from the
//! runtime's randomness) and returned once. Every query that names
//! a key also names the organisation and the modes the caller may see, so another
//! organisation's key, or a live key asked about with a test key, is simply not found.

use serde::{Deserialize, Serialize};

use super::db::{Count, Db, Result, Stmt};
use crate::keys::{hash_key, Mode, Role, VISIBLE_PREFIX_LEN};
use crate::limits::Plan;

/// A key's columns, with its organisation's plan (a plan belongs to the organisation: every
/// key of it shares the plan's limits).
const SELECT: &str = "SELECT k.id, k.org_id, k.name, k.prefix, o.plan, k.mode, k.role, k.created_at, \
     k.last_used_at, k.revoked_at, k.expires_at FROM api_keys k JOIN organisations o ON o.id = k.org_id";

/// Active keys: not revoked, and not past a roll's grace at `?now` (bound by the caller).
const ACTIVE: &str = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?now)";

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

/// The statement storing key `id` (only its hash and visible prefix are kept) if the
/// organisation holds fewer than `cap` active keys (both modes), and `guard` (a condition on
/// the same transaction's rows, `1` for none) holds: one conditional insert, so no burst of
/// creations passes the cap.
fn insert_stmt(k: &NewKey<'_>, v: &KeyView, secret: &str, cap: usize, guard: &str) -> Stmt {
    Stmt::new(format!(
        "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, plan, mode, role, created_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE ({guard}) AND \
         (SELECT COUNT(*) FROM api_keys WHERE org_id = ?2 AND {}) < ?10",
        ACTIVE.replace("?now", "?9")
    ))
    .bind(v.id.as_str())
    .bind(v.org_id.as_str())
    .bind(k.name)
    .bind(v.prefix.as_str())
    .bind(hash_key(secret))
    .bind(v.plan.as_str())
    .bind(v.mode.as_str())
    .bind(v.role.as_str())
    .bind(v.created_at.as_str())
    .bind(cap as i64)
}

fn view(k: &NewKey<'_>, id: &str, secret: &str, now: &str) -> KeyView {
    KeyView {
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
    }
}

/// The statement storing a new key within `cap`, and the key as it will be listed: for a
/// caller that writes it in one batch with other rows (a sign-up's organisation and owner).
pub(super) fn insert_in_batch(
    k: &NewKey<'_>,
    id: &str,
    secret: &str,
    now: &str,
    cap: usize,
) -> (Stmt, KeyView) {
    let v = view(k, id, secret, now);
    (insert_stmt(k, &v, secret, cap, "1"), v)
}

/// Store key `id` whose secret is `secret`, unless the organisation already holds `cap`
/// active keys (`None`: the cap is reached).
pub async fn insert(
    db: &impl Db,
    k: &NewKey<'_>,
    id: &str,
    secret: &str,
    now: &str,
    cap: usize,
) -> Result<Option<KeyView>> {
    let v = view(k, id, secret, now);
    let n = db.run(insert_stmt(k, &v, secret, cap, "1")).await?;
    Ok((n > 0).then_some(v))
}

/// What a roll did.
#[derive(Debug, PartialEq)]
pub enum Rolled {
    /// The successor is stored and the old key ends at the given time.
    Done(Box<KeyView>),
    /// The old key is revoked, already rolled, or past its grace (or not the organisation's).
    NotActive,
    /// The organisation holds `cap` active keys already.
    CapReached,
}

/// Roll key `old_id`: store its successor (`k`, `id`, `secret`) and end the old key at
/// `expires_at`, in one transaction guarded by the old key being active and never rolled, so
/// two concurrent rolls make one successor, not two.
#[allow(clippy::too_many_arguments)]
pub async fn roll(
    db: &impl Db,
    old_id: &str,
    k: &NewKey<'_>,
    id: &str,
    secret: &str,
    now: &str,
    expires_at: &str,
    cap: usize,
) -> Result<Rolled> {
    let v = view(k, id, secret, now);
    let guard = "EXISTS (SELECT 1 FROM api_keys WHERE id = ?11 AND org_id = ?2 AND mode = ?7 \
                 AND revoked_at IS NULL AND expires_at IS NULL)";
    let counts = db
        .batch(vec![
            // The old key is not counted: it ends with its grace period.
            insert_stmt(k, &v, secret, cap + 1, guard).bind(old_id),
            Stmt::new(
                "UPDATE api_keys SET expires_at = ?1 WHERE id = ?2 AND org_id = ?3 \
                 AND revoked_at IS NULL AND expires_at IS NULL \
                 AND EXISTS (SELECT 1 FROM api_keys WHERE id = ?4)",
            )
            .bind(expires_at)
            .bind(old_id)
            .bind(k.org_id)
            .bind(id),
        ])
        .await?;
    if counts.first().copied().unwrap_or(0) > 0 {
        return Ok(Rolled::Done(Box::new(v)));
    }
    // Nothing written: tell why (the old key's state cannot change back to rollable).
    let still_rollable: Option<Count> = db
        .first(
            Stmt::new(
                "SELECT COUNT(*) AS n FROM api_keys WHERE id = ?1 AND org_id = ?2 \
                 AND revoked_at IS NULL AND expires_at IS NULL",
            )
            .bind(old_id)
            .bind(k.org_id),
        )
        .await?;
    Ok(if Count::of(still_rollable) > 0 {
        Rolled::CapReached
    } else {
        Rolled::NotActive
    })
}

/// The organisation's keys of the given modes, newest first.
pub async fn list(db: &impl Db, org_id: &str, modes: &[Mode]) -> Result<Vec<KeyView>> {
    db.all(
        Stmt::new(format!(
            "{SELECT} WHERE k.org_id = ?1 AND ((k.mode = 'live' AND ?2) OR (k.mode = 'test' AND ?3)) \
             ORDER BY k.created_at DESC, k.id"
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
            Stmt::new(format!("{SELECT} WHERE k.id = ?1 AND k.org_id = ?2"))
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
            "SELECT k.id, k.org_id, o.plan, k.mode, k.role, k.revoked_at, k.expires_at \
             FROM api_keys k JOIN organisations o ON o.id = k.org_id WHERE k.key_hash = ?1",
        )
        .bind(hash),
    )
    .await
}

/// Any organisation's key by id (the operator's routes only).
pub async fn by_id_any_org(db: &impl Db, id: &str) -> Result<Option<KeyView>> {
    db.first(Stmt::new(format!("{SELECT} WHERE k.id = ?1")).bind(id))
        .await
}

/// What a revocation did.
#[derive(Debug, PartialEq)]
pub enum Revoked {
    Now,
    /// It was revoked before (a repeat: answered as such).
    Already,
    /// It was rolled: its successor holds its powers and it ends with its grace period.
    Rolled,
}

/// Revoke the organisation's key now, in one conditional statement (a key already rolled is
/// left to its grace period).
pub async fn revoke(db: &impl Db, org_id: &str, id: &str, at: &str) -> Result<Revoked> {
    let n = db
        .run(
            Stmt::new(
                "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND org_id = ?3 \
                 AND revoked_at IS NULL AND expires_at IS NULL",
            )
            .bind(at)
            .bind(id)
            .bind(org_id),
        )
        .await?;
    if n > 0 {
        return Ok(Revoked::Now);
    }
    let revoked: Option<Count> = db
        .first(
            Stmt::new(
                "SELECT COUNT(*) AS n FROM api_keys WHERE id = ?1 AND org_id = ?2 AND revoked_at IS NOT NULL",
            )
            .bind(id)
            .bind(org_id),
        )
        .await?;
    Ok(if Count::of(revoked) > 0 {
        Revoked::Already
    } else {
        Revoked::Rolled
    })
}

/// Revoke any organisation's key now (the operator's `DELETE /admin/keys/{id}`: a rolled key
/// too); `false` if it already was.
pub async fn revoke_any(db: &impl Db, id: &str, at: &str) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new("UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")
                .bind(at)
                .bind(id),
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
            plan: Plan::Free,
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
            100,
        ))
        .unwrap()
        .unwrap();
        block_on(insert(
            &db,
            &new_key("org_a", Mode::Test),
            "key_2",
            "ct_test_bbbbbbbbbbbbbbbbbbbbbbbb",
            NOW,
            100,
        ))
        .unwrap();
        block_on(insert(
            &db,
            &new_key("org_b", Mode::Live),
            "key_3",
            "ct_live_cccccccccccccccccccccccc",
            NOW,
            100,
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

    fn add(db: &crate::store::sqlite::Sqlite, org: &str, mode: Mode, id: &str) -> Option<KeyView> {
        let secret = format!("ct_{}_{id:0>24}", mode.name());
        block_on(insert(db, &new_key(org, mode), id, &secret, NOW, 3)).unwrap()
    }

    #[test]
    fn the_plan_is_the_organisations_and_the_key_cap_holds_across_modes() {
        let db = two_orgs();
        block_on(db.run(
            Stmt::new("UPDATE organisations SET plan = 'business' WHERE id = ?1").bind("org_a"),
        ))
        .unwrap();
        let k = add(&db, "org_a", Mode::Live, "key_1").unwrap();
        assert_eq!(
            k.plan, "free",
            "the insert answers the plan it was issued under"
        );
        let c = block_on(by_hash(
            &db,
            &hash_key(&format!("ct_live_{:0>24}", "key_1")),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(c.plan, "business", "the gate reads the organisation's plan");
        assert_eq!(
            block_on(get(&db, "org_a", &[Mode::Live], "key_1"))
                .unwrap()
                .unwrap()
                .plan,
            "business"
        );
        assert!(add(&db, "org_a", Mode::Test, "key_2").is_some());
        assert!(add(&db, "org_a", Mode::Live, "key_3").is_some());
        assert!(
            add(&db, "org_a", Mode::Test, "key_4").is_none(),
            "cap 3, both modes"
        );
        assert!(
            add(&db, "org_b", Mode::Live, "key_5").is_some(),
            "another org's cap"
        );
        // A revoked key, or one past its grace, frees a place.
        assert_eq!(
            block_on(revoke(&db, "org_a", "key_2", NOW)).unwrap(),
            Revoked::Now
        );
        assert!(add(&db, "org_a", Mode::Test, "key_6").is_some());
    }

    #[test]
    fn a_roll_makes_one_successor_and_a_rolled_key_is_neither_rolled_nor_revoked_again() {
        let db = two_orgs();
        add(&db, "org_a", Mode::Live, "key_1").unwrap();
        let roll_ = |id: &str, new_id: &str, org: &str| {
            block_on(roll(
                &db,
                id,
                &new_key(org, Mode::Live),
                new_id,
                &format!("ct_live_{new_id:0>24}"),
                NOW,
                "2026-01-02T00:00:00.000Z",
                3,
            ))
            .unwrap()
        };
        assert_eq!(
            roll_("key_1", "key_x", "org_b"),
            Rolled::NotActive,
            "another org"
        );
        let Rolled::Done(v) = roll_("key_1", "key_2", "org_a") else {
            panic!("the first roll succeeds")
        };
        assert_eq!(v.id, "key_2");
        assert_eq!(roll_("key_1", "key_3", "org_a"), Rolled::NotActive, "twice");
        assert!(block_on(by_id_any_org(&db, "key_3")).unwrap().is_none());
        let old = block_on(by_id_any_org(&db, "key_1")).unwrap().unwrap();
        assert_eq!(old.expires_at.as_deref(), Some("2026-01-02T00:00:00.000Z"));
        assert_eq!(
            block_on(revoke(&db, "org_a", "key_1", NOW)).unwrap(),
            Revoked::Rolled
        );
        // At the cap a roll still replaces its key (the old one is not counted) …
        for id in ["key_b1", "key_b2", "key_b3"] {
            add(&db, "org_b", Mode::Live, id).unwrap();
        }
        assert!(matches!(
            roll_("key_b1", "key_b4", "org_b"),
            Rolled::Done(_)
        ));
        // … but not past it: four are active now (one in its grace period).
        assert_eq!(roll_("key_b2", "key_b5", "org_b"), Rolled::CapReached);
        assert!(block_on(by_id_any_org(&db, "key_b2"))
            .unwrap()
            .unwrap()
            .expires_at
            .is_none());
    }

    #[test]
    fn revoke_touches_only_the_orgs_own_key_once() {
        let db = two_orgs();
        add(&db, "org_a", Mode::Live, "key_1").unwrap();
        assert_eq!(
            block_on(revoke(&db, "org_b", "key_1", NOW)).unwrap(),
            Revoked::Rolled,
            "another org's key is not revoked"
        );
        assert!(block_on(by_id_any_org(&db, "key_1"))
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none());
        assert_eq!(
            block_on(revoke(&db, "org_a", "key_1", NOW)).unwrap(),
            Revoked::Now
        );
        assert_eq!(
            block_on(revoke(&db, "org_a", "key_1", NOW)).unwrap(),
            Revoked::Already
        );
        add(&db, "org_b", Mode::Live, "key_2").unwrap();
        assert!(block_on(revoke_any(&db, "key_2", NOW)).unwrap());
        assert!(!block_on(revoke_any(&db, "key_2", NOW)).unwrap());
        assert_eq!(block_on(touch(&db, "key_1", NOW)).unwrap(), 1);
        let k = block_on(by_id_any_org(&db, "key_1")).unwrap().unwrap();
        assert_eq!(k.last_used_at.as_deref(), Some(NOW));
    }
}
