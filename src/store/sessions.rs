//! `sessions`: console sign-ins, keyed by the SHA-256 of the cookie's token (the token itself
//! is never stored). The expiry rules are `accounts::session`; this file stores and reads the
//! times they compare, and what the auth gate needs of the person and organisation behind a
//! session, in one read.

use serde::Deserialize;

use super::db::{Db, Result, Stmt};
use crate::accounts::session::Times;

/// The statement storing a new session (for a caller that writes it in one batch with other
/// rows: a sign-up, an accepted invitation, a password change).
pub fn insert_stmt(id: &str, token_hash: &str, user_id: &str, now: &str, t: &Times) -> Stmt {
    Stmt::new(
        "INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_ms, idle_until_ms, expires_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(token_hash)
    .bind(id)
    .bind(user_id)
    .bind(now)
    .bind(t.last_seen_ms as i64)
    .bind(t.idle_until_ms as i64)
    .bind(t.expires_ms as i64)
}

/// Store a new session.
pub async fn insert(
    db: &impl Db,
    id: &str,
    token_hash: &str,
    user_id: &str,
    now: &str,
    t: &Times,
) -> Result<()> {
    db.run(insert_stmt(id, token_hash, user_id, now, t)).await?;
    Ok(())
}

/// A session with the person, their membership and their organisation.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub email_verified_at: Option<String>,
    pub user_created_at: String,
    pub org_id: String,
    pub org_name: String,
    pub plan: String,
    pub role: String,
    pub last_seen_ms: f64,
    pub idle_until_ms: f64,
    pub expires_ms: f64,
    pub revoked_at: Option<String>,
}

impl SessionRow {
    pub fn times(&self) -> Times {
        Times {
            idle_until_ms: self.idle_until_ms,
            expires_ms: self.expires_ms,
            last_seen_ms: self.last_seen_ms,
            revoked: self.revoked_at.is_some(),
        }
    }
}

/// The session whose token hashes to `token_hash`, if its person still has a membership.
pub async fn find(db: &impl Db, token_hash: &str) -> Result<Option<SessionRow>> {
    db.first(
        Stmt::new(
            "SELECT s.id, s.user_id, u.email, u.email_verified_at, u.created_at AS user_created_at, \
             m.org_id, o.name AS org_name, o.plan, m.role, s.last_seen_ms, s.idle_until_ms, \
             s.expires_ms, s.revoked_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             JOIN memberships m ON m.user_id = s.user_id JOIN organisations o ON o.id = m.org_id \
             WHERE s.token_hash = ?1",
        )
        .bind(token_hash),
    )
    .await
}

/// Push a session's idle deadline back after a request at `now_ms`.
pub async fn touch(db: &impl Db, token_hash: &str, now_ms: f64, idle_until_ms: f64) -> Result<()> {
    db.run(
        Stmt::new(
            "UPDATE sessions SET last_seen_ms = ?2, idle_until_ms = ?3 \
             WHERE token_hash = ?1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(now_ms as i64)
        .bind(idle_until_ms as i64),
    )
    .await?;
    Ok(())
}

/// Sign one session out.
pub async fn revoke(db: &impl Db, token_hash: &str, now: &str) -> Result<usize> {
    db.run(
        Stmt::new(
            "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(now),
    )
    .await
}

/// The statement signing out every session of a person (a password change).
pub fn revoke_all_stmt(user_id: &str, now: &str) -> Stmt {
    Stmt::new("UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL")
        .bind(user_id)
        .bind(now)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::accounts::session::{State, IDLE_MS};
    use crate::store::testdb::{block_on, two_orgs};

    pub(crate) fn a_person(db: &impl Db, user: &str, org: &str, role: &str) {
        block_on(db.batch(vec![
            Stmt::new(
                "INSERT INTO users (id, email, password, created_at, password_changed_at) \
                 VALUES (?1, ?1 || '@example.com', 'x', 't', 't')",
            )
            .bind(user),
            Stmt::new(
                "INSERT INTO memberships (user_id, org_id, role, created_at) VALUES (?1, ?2, ?3, 't')",
            )
            .bind(user)
            .bind(org)
            .bind(role),
        ]))
        .unwrap();
    }

    #[test]
    fn a_session_is_found_by_its_hash_touched_and_revoked() {
        let db = two_orgs();
        a_person(&db, "usr_1", "org_a", "owner");
        block_on(insert(
            &db,
            "ses_1",
            "h1",
            "usr_1",
            "t",
            &Times::start(1000.0),
        ))
        .unwrap();
        block_on(insert(
            &db,
            "ses_2",
            "h2",
            "usr_1",
            "t",
            &Times::start(1000.0),
        ))
        .unwrap();
        let s = block_on(find(&db, "h1")).unwrap().unwrap();
        assert_eq!(
            (s.org_id.as_str(), s.org_name.as_str(), s.role.as_str()),
            ("org_a", "Org A", "owner")
        );
        assert_eq!(s.times().state(2000.0), State::Active { touch: false });
        block_on(touch(&db, "h1", 5000.0, 5000.0 + IDLE_MS)).unwrap();
        let s = block_on(find(&db, "h1")).unwrap().unwrap();
        assert_eq!(s.last_seen_ms, 5000.0);
        assert!(block_on(find(&db, "nope")).unwrap().is_none());
        assert_eq!(block_on(revoke(&db, "h1", "t2")).unwrap(), 1);
        assert_eq!(block_on(revoke(&db, "h1", "t3")).unwrap(), 0, "once");
        let s = block_on(find(&db, "h1")).unwrap().unwrap();
        assert_eq!(s.times().state(2000.0), State::Revoked);
        block_on(db.run(revoke_all_stmt("usr_1", "t4"))).unwrap();
        let s2 = block_on(find(&db, "h2")).unwrap().unwrap();
        assert_eq!(s2.revoked_at.as_deref(), Some("t4"));
        // A person without a membership (removed) has no session that counts.
        block_on(db.run(Stmt::new("DELETE FROM memberships WHERE user_id = 'usr_1'"))).unwrap();
        assert!(block_on(find(&db, "h2")).unwrap().is_none());
    }
}
