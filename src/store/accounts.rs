//! `users`, `memberships`, `invites`: the people of the console and their organisations. A
//! sign-up writes its organisation, owner, membership, first sandbox key and session in one
//! batch (all or nothing); an accepted invitation writes its person, membership and session
//! in one batch guarded by the invitation still being open, so one link makes one account.

use serde::{Deserialize, Serialize};

use super::db::{Count, Db, Result, Stmt};
use super::keys::{insert_in_batch, KeyView, NewKey};
use super::sessions;
use crate::accounts::session::Times;
use crate::limits::Plan;

/// Most open invitations an organisation may hold at once.
pub const MAX_OPEN_INVITES: usize = 50;

/// A person as the sign-in reads them.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub user_id: String,
    pub email: String,
    pub password: String,
    pub email_verified_at: Option<String>,
    pub org_id: String,
    pub role: String,
}

const ACCOUNT: &str =
    "SELECT u.id AS user_id, u.email, u.password, u.email_verified_at, m.org_id, m.role \
     FROM users u JOIN memberships m ON m.user_id = u.id";

/// The person signing in with `email` (normalised), if they belong to an organisation.
pub async fn by_email(db: &impl Db, email: &str) -> Result<Option<Account>> {
    db.first(Stmt::new(format!("{ACCOUNT} WHERE u.email = ?1")).bind(email))
        .await
}

pub async fn by_user(db: &impl Db, user_id: &str) -> Result<Option<Account>> {
    db.first(Stmt::new(format!("{ACCOUNT} WHERE u.id = ?1")).bind(user_id))
        .await
}

/// Whether an email already has an account, and whether an organisation name is taken.
pub async fn taken(db: &impl Db, email: &str, org_name: &str) -> Result<(bool, bool)> {
    #[derive(Deserialize)]
    struct Taken {
        email: f64,
        org: f64,
    }
    let t: Option<Taken> = db
        .first(
            Stmt::new(
                "SELECT (SELECT COUNT(*) FROM users WHERE email = ?1) AS email, \
                 (SELECT COUNT(*) FROM organisations WHERE name = ?2) AS org",
            )
            .bind(email)
            .bind(org_name),
        )
        .await?;
    Ok(t.map_or((false, false), |t| (t.email > 0.0, t.org > 0.0)))
}

/// A sign-up's rows.
pub struct NewSignup<'a> {
    pub org_id: &'a str,
    pub org_name: &'a str,
    pub user_id: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub verify_token_hash: &'a str,
    pub verify_expires_at: &'a str,
    pub now: &'a str,
    /// The first sandbox key: its id and secret.
    pub key_id: &'a str,
    pub key_secret: &'a str,
    /// The session the sign-up starts.
    pub session_id: &'a str,
    pub session_hash: &'a str,
    pub session: Times,
}

/// Write a sign-up: a Free organisation, its owner, the first sandbox key and a session, in
/// one transaction. An email or organisation name taken meanwhile fails the whole batch
/// (`Err` naming the UNIQUE constraint); nothing is half-written.
pub async fn sign_up(db: &impl Db, s: &NewSignup<'_>) -> Result<KeyView> {
    let key = NewKey {
        org_id: s.org_id,
        name: Some("First sandbox key"),
        plan: Plan::Free,
        mode: crate::keys::Mode::Test,
        role: crate::keys::Role::Standard,
    };
    let (key_stmt, view) = insert_in_batch(&key, s.key_id, s.key_secret, s.now, usize::MAX);
    db.batch(vec![
        Stmt::new(
            "INSERT INTO organisations (id, name, created_at, plan) VALUES (?1, ?2, ?3, 'free')",
        )
        .bind(s.org_id)
        .bind(s.org_name)
        .bind(s.now),
        Stmt::new(
            "INSERT INTO users (id, email, password, verify_token_hash, verify_expires_at, created_at, \
             password_changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )
        .bind(s.user_id)
        .bind(s.email)
        .bind(s.password)
        .bind(s.verify_token_hash)
        .bind(s.verify_expires_at)
        .bind(s.now),
        Stmt::new(
            "INSERT INTO memberships (user_id, org_id, role, created_at) VALUES (?1, ?2, 'owner', ?3)",
        )
        .bind(s.user_id)
        .bind(s.org_id)
        .bind(s.now),
        key_stmt,
        sessions::insert_stmt(s.session_id, s.session_hash, s.user_id, s.now, &s.session),
    ])
    .await?;
    Ok(view)
}

/// Replace a person's password record; with `new_session`, every other session is signed out
/// in the same transaction and this one stored (a password change).
pub async fn set_password(
    db: &impl Db,
    user_id: &str,
    record: &str,
    now: &str,
    new_session: Option<Stmt>,
) -> Result<()> {
    let mut batch =
        vec![
            Stmt::new("UPDATE users SET password = ?2, password_changed_at = ?3 WHERE id = ?1")
                .bind(user_id)
                .bind(record)
                .bind(now),
        ];
    if let Some(s) = new_session {
        batch.push(sessions::revoke_all_stmt(user_id, now));
        batch.push(s);
    }
    db.batch(batch).await?;
    Ok(())
}

/// Run a confirming `UPDATE … RETURNING id, org_id`: the person confirmed and their
/// organisation, if any row changed.
async fn confirmed(db: &impl Db, update: Stmt) -> Result<Option<(String, String)>> {
    #[derive(Deserialize)]
    struct V {
        id: String,
        org_id: String,
    }
    let v: Option<V> = db.first(update).await?;
    Ok(v.map(|v| (v.id, v.org_id)))
}

const RETURNING: &str =
    "RETURNING id, (SELECT org_id FROM memberships WHERE user_id = users.id) AS org_id";

/// Confirm the email of `user_id` whose pending verification token hashes to `token_hash`:
/// the person's id and organisation, or `None` (unknown, used or expired link, or another
/// person's: a link confirms only the account signed in to open it).
pub async fn verify_by_token(
    db: &impl Db,
    token_hash: &str,
    user_id: &str,
    now: &str,
) -> Result<Option<(String, String)>> {
    confirmed(
        db,
        Stmt::new(format!(
            "UPDATE users SET email_verified_at = ?2, verify_token_hash = NULL, verify_expires_at = NULL \
             WHERE verify_token_hash = ?1 AND verify_expires_at > ?2 AND id = ?3 {RETURNING}"
        ))
        .bind(token_hash)
        .bind(now)
        .bind(user_id),
    )
    .await
}

/// The operator confirms an email: the person's id and organisation, or `None` (no account).
/// Confirming twice keeps the first time.
pub async fn verify_by_operator(
    db: &impl Db,
    email: &str,
    now: &str,
) -> Result<Option<(String, String)>> {
    confirmed(
        db,
        Stmt::new(format!(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?2), \
             verify_token_hash = NULL, verify_expires_at = NULL \
             WHERE email = ?1 AND id IN (SELECT user_id FROM memberships) {RETURNING}"
        ))
        .bind(email)
        .bind(now),
    )
    .await
}

/// A member as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub role: String,
    pub email_verified_at: Option<String>,
    pub joined_at: String,
}

pub async fn members(db: &impl Db, org_id: &str) -> Result<Vec<Member>> {
    db.all(
        Stmt::new(
            "SELECT u.id AS user_id, u.email, m.role, u.email_verified_at, \
             m.created_at AS joined_at FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.org_id = ?1 ORDER BY m.created_at, u.id",
        )
        .bind(org_id),
    )
    .await
}

/// An open invitation as listed (never its token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    pub id: String,
    pub email: String,
    pub role: String,
    pub created_at: String,
    pub expires_at: String,
}

const OPEN: &str = "accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?now";

/// The organisation's open invitations at `now`.
pub async fn invites(db: &impl Db, org_id: &str, now: &str) -> Result<Vec<Invite>> {
    db.all(
        Stmt::new(format!(
            "SELECT id, email, role, created_at, expires_at FROM invites WHERE org_id = ?1 AND {} \
             ORDER BY created_at, id",
            OPEN.replace("?now", "?2")
        ))
        .bind(org_id)
        .bind(now),
    )
    .await
}

/// A new invitation.
pub struct NewInvite<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub email: &'a str,
    pub token_hash: &'a str,
    pub created_by: &'a str,
    pub now: &'a str,
    pub expires_at: &'a str,
}

/// Store an invitation unless the organisation holds [`MAX_OPEN_INVITES`] open ones (`false`).
pub async fn invite(db: &impl Db, i: &NewInvite<'_>) -> Result<bool> {
    let n = db
        .run(
            Stmt::new(format!(
                "INSERT INTO invites (id, org_id, email, role, token_hash, created_by, created_at, expires_at) \
                 SELECT ?1, ?2, ?3, 'member', ?4, ?5, ?6, ?7 \
                 WHERE (SELECT COUNT(*) FROM invites WHERE org_id = ?2 AND {}) < ?8",
                OPEN.replace("?now", "?6")
            ))
            .bind(i.id)
            .bind(i.org_id)
            .bind(i.email)
            .bind(i.token_hash)
            .bind(i.created_by)
            .bind(i.now)
            .bind(i.expires_at)
            .bind(MAX_OPEN_INVITES),
        )
        .await?;
    Ok(n > 0)
}

/// Withdraw an open invitation of the organisation (`false`: none such).
pub async fn revoke_invite(db: &impl Db, org_id: &str, id: &str, now: &str) -> Result<bool> {
    let n = db
        .run(
            Stmt::new(format!(
                "UPDATE invites SET revoked_at = ?3 WHERE id = ?1 AND org_id = ?2 AND {}",
                OPEN.replace("?now", "?3")
            ))
            .bind(id)
            .bind(org_id)
            .bind(now),
        )
        .await?;
    Ok(n > 0)
}

/// An open invitation, found by its token's hash.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenInvite {
    pub id: String,
    pub org_id: String,
    pub email: String,
}

pub async fn open_invite(db: &impl Db, token_hash: &str, now: &str) -> Result<Option<OpenInvite>> {
    db.first(
        Stmt::new(format!(
            "SELECT id, org_id, email FROM invites WHERE token_hash = ?1 AND {}",
            OPEN.replace("?now", "?2")
        ))
        .bind(token_hash)
        .bind(now),
    )
    .await
}

/// Accept invitation `inv`: the person, their membership and a session, written only while
/// the invitation is still open; `false` when it was used, withdrawn or expired meanwhile. An
/// email that has an account fails the batch. The email is *not* confirmed by accepting: the
/// inviter held the link too, so the person confirms their address as anyone signing up does
/// (`verify_token_hash`, valid until `verify_expires_at`).
#[allow(clippy::too_many_arguments)]
pub async fn accept(
    db: &impl Db,
    inv: &OpenInvite,
    user_id: &str,
    password: &str,
    now: &str,
    verify: (&str, &str),
    session_id: &str,
    session_hash: &str,
    t: &Times,
) -> Result<bool> {
    let open = format!(
        "EXISTS (SELECT 1 FROM invites WHERE id = ?9 AND {})",
        OPEN.replace("?now", "?3")
    );
    let counts = db
        .batch(vec![
            Stmt::new(format!(
                "INSERT INTO users (id, email, password, verify_token_hash, verify_expires_at, created_at, \
                 password_changed_at) SELECT ?1, ?2, ?4, ?5, ?6, ?3, ?3 WHERE {open}"
            ))
            .bind(user_id)
            .bind(inv.email.as_str())
            .bind(now)
            .bind(password)
            .bind(verify.0)
            .bind(verify.1)
            .bind(Option::<String>::None)
            .bind(Option::<String>::None)
            .bind(inv.id.as_str()),
            Stmt::new(format!(
                "INSERT INTO memberships (user_id, org_id, role, created_at) \
                 SELECT ?1, ?2, 'member', ?3 WHERE {open}"
            ))
            .bind(user_id)
            .bind(inv.org_id.as_str())
            .bind(now)
            .bind(Option::<String>::None)
            .bind(Option::<String>::None)
            .bind(Option::<String>::None)
            .bind(Option::<String>::None)
            .bind(Option::<String>::None)
            .bind(inv.id.as_str()),
            Stmt::new(format!(
                "INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_ms, idle_until_ms, expires_ms) \
                 SELECT ?4, ?5, ?1, ?3, ?6, ?7, ?8 WHERE {open}"
            ))
            .bind(user_id)
            .bind(Option::<String>::None)
            .bind(now)
            .bind(session_hash)
            .bind(session_id)
            .bind(t.last_seen_ms as i64)
            .bind(t.idle_until_ms as i64)
            .bind(t.expires_ms as i64)
            .bind(inv.id.as_str()),
            Stmt::new(format!(
                "UPDATE invites SET accepted_at = ?3 WHERE id = ?9 AND {}",
                OPEN.replace("?now", "?3")
            ))
            .bind(Option::<String>::None)
            .bind(Option::<String>::None)
            .bind(now)
            .bind(Option::<String>::None)
            .bind(Option::<String>::None)
            .bind(Option::<String>::None)
            .bind(Option::<String>::None)
            .bind(Option::<String>::None)
            .bind(inv.id.as_str()),
        ])
        .await?;
    Ok(counts.first().copied().unwrap_or(0) > 0)
}

/// Remove a member (never an owner) of the organisation: their sessions and their account go
/// (the audit log keeps `user:<id>` as the actor of what they did), so the email can be
/// invited again or sign up. `false`: no such member.
pub async fn remove_member(db: &impl Db, org_id: &str, user_id: &str) -> Result<bool> {
    let is_member: Option<Count> = db
        .first(
            Stmt::new(
                "SELECT COUNT(*) AS n FROM memberships WHERE user_id = ?1 AND org_id = ?2 AND role = 'member'",
            )
            .bind(user_id)
            .bind(org_id),
        )
        .await?;
    if Count::of(is_member) == 0 {
        return Ok(false);
    }
    db.batch(vec![
        Stmt::new("DELETE FROM sessions WHERE user_id = ?1").bind(user_id),
        Stmt::new("DELETE FROM memberships WHERE user_id = ?1 AND org_id = ?2 AND role = 'member'")
            .bind(user_id)
            .bind(org_id),
        Stmt::new(
            "DELETE FROM users WHERE id = ?1 AND id NOT IN (SELECT user_id FROM memberships)",
        )
        .bind(user_id),
    ])
    .await?;
    Ok(true)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::sessions::find;
    use crate::store::testdb::{block_on, two_orgs};

    fn signup<'a>(
        org: &'a str,
        name: &'a str,
        user: &'a str,
        email: &'a str,
        ses: &'a str,
    ) -> NewSignup<'a> {
        NewSignup {
            org_id: org,
            org_name: name,
            user_id: user,
            email,
            password: "pbkdf2-sha256$1$AA$AA",
            verify_token_hash: user,
            verify_expires_at: "2026-12-31",
            now: "2026-12-01",
            key_id: ses,
            key_secret: ses,
            session_id: ses,
            session_hash: ses,
            session: Times::start(0.0),
        }
    }

    #[test]
    fn a_signup_is_all_or_nothing() {
        let db = two_orgs();
        let key = block_on(sign_up(
            &db,
            &signup("org_n", "New", "usr_1", "a@x.co", "s1"),
        ))
        .unwrap();
        assert_eq!((key.mode.as_str(), key.plan.as_str()), ("test", "free"));
        let a = block_on(by_email(&db, "a@x.co")).unwrap().unwrap();
        assert_eq!((a.org_id.as_str(), a.role.as_str()), ("org_n", "owner"));
        assert!(a.email_verified_at.is_none());
        assert!(block_on(find(&db, "s1")).unwrap().is_some());
        assert_eq!(
            block_on(taken(&db, "a@x.co", "Other")).unwrap(),
            (true, false)
        );
        assert_eq!(
            block_on(taken(&db, "b@x.co", "New")).unwrap(),
            (false, true)
        );
        // The same email again: the batch fails and no second organisation is left behind.
        assert!(block_on(sign_up(
            &db,
            &signup("org_m", "Newer", "usr_2", "a@x.co", "s2")
        ))
        .is_err());
        let orgs: Option<Count> = block_on(db.first(Stmt::new(
            "SELECT COUNT(*) AS n FROM organisations WHERE id = 'org_m'",
        )))
        .unwrap();
        assert_eq!(Count::of(orgs), 0);
        // Verification by link: once, and not after it expired.
        assert_eq!(
            block_on(verify_by_token(&db, "usr_1", "usr_1", "2027-01-01")).unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            block_on(verify_by_token(&db, "usr_1", "usr_other", "2026-12-02")).unwrap(),
            None,
            "another person's link"
        );
        assert_eq!(
            block_on(verify_by_token(&db, "usr_1", "usr_1", "2026-12-02")).unwrap(),
            Some(("usr_1".into(), "org_n".into()))
        );
        assert_eq!(
            block_on(verify_by_token(&db, "usr_1", "usr_1", "2026-12-02")).unwrap(),
            None
        );
        // The operator confirms; again keeps the first time.
        let q = signup("org_q", "Q", "usr_q", "q@x.co", "sq");
        block_on(sign_up(&db, &q)).unwrap();
        assert_eq!(
            block_on(verify_by_operator(&db, "q@x.co", "t1")).unwrap(),
            Some(("usr_q".into(), "org_q".into()))
        );
        block_on(verify_by_operator(&db, "q@x.co", "t2")).unwrap();
        let q = block_on(by_user(&db, "usr_q")).unwrap().unwrap();
        assert_eq!(q.email_verified_at.as_deref(), Some("t1"));
        assert!(block_on(verify_by_operator(&db, "nobody@x.co", "t"))
            .unwrap()
            .is_none());
        let a = block_on(by_user(&db, "usr_1")).unwrap().unwrap();
        assert_eq!(a.email_verified_at.as_deref(), Some("2026-12-02"));
    }

    #[test]
    fn an_invitation_makes_one_member_and_members_can_be_removed() {
        let db = two_orgs();
        block_on(sign_up(
            &db,
            &signup("org_n", "New", "usr_1", "a@x.co", "s1"),
        ))
        .unwrap();
        let inv = NewInvite {
            id: "inv_1",
            org_id: "org_n",
            email: "m@x.co",
            token_hash: "th",
            created_by: "usr_1",
            now: "2026-12-01",
            expires_at: "2026-12-08",
        };
        assert!(block_on(invite(&db, &inv)).unwrap());
        assert_eq!(
            block_on(invites(&db, "org_n", "2026-12-02")).unwrap().len(),
            1
        );
        assert!(block_on(invites(&db, "org_a", "2026-12-02"))
            .unwrap()
            .is_empty());
        assert!(
            block_on(open_invite(&db, "th", "2026-12-09"))
                .unwrap()
                .is_none(),
            "expired"
        );
        let open = block_on(open_invite(&db, "th", "2026-12-02"))
            .unwrap()
            .unwrap();
        let t = Times::start(0.0);
        assert!(block_on(accept(
            &db,
            &open,
            "usr_m",
            "rec",
            "2026-12-02",
            ("vm", "2026-12-05"),
            "ses_m",
            "hm",
            &t
        ))
        .unwrap());
        assert!(
            !block_on(accept(
                &db,
                &open,
                "usr_n",
                "rec",
                "2026-12-02",
                ("vn", "2026-12-05"),
                "ses_n",
                "hn",
                &t
            ))
            .unwrap(),
            "one link, one account"
        );
        let m = block_on(members(&db, "org_n")).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            (
                m[1].email.as_str(),
                m[1].role.as_str(),
                m[1].email_verified_at.as_deref()
            ),
            ("m@x.co", "member", None),
            "joining confirms no email: the inviter held the link"
        );
        assert!(block_on(find(&db, "hm")).unwrap().is_some());
        assert!(
            block_on(invites(&db, "org_n", "2026-12-02"))
                .unwrap()
                .is_empty(),
            "accepted"
        );
        // Another organisation cannot remove them; the owner cannot be removed.
        assert!(!block_on(remove_member(&db, "org_a", "usr_m")).unwrap());
        assert!(!block_on(remove_member(&db, "org_n", "usr_1")).unwrap());
        // Confirmed by their own link (the inviter's knowledge of the invitation proves nothing).
        assert_eq!(
            block_on(verify_by_token(&db, "vm", "usr_m", "2026-12-03")).unwrap(),
            Some(("usr_m".into(), "org_n".into()))
        );
        assert!(block_on(remove_member(&db, "org_n", "usr_m")).unwrap());
        assert!(block_on(find(&db, "hm")).unwrap().is_none());
        assert!(block_on(by_email(&db, "m@x.co")).unwrap().is_none());
        let gone: Option<Count> = block_on(db.first(Stmt::new(
            "SELECT COUNT(*) AS n FROM users WHERE id = 'usr_m'",
        )))
        .unwrap();
        assert_eq!(
            Count::of(gone),
            0,
            "the account goes: the email can come back"
        );
        assert!(block_on(verify_by_operator(&db, "m@x.co", "t"))
            .unwrap()
            .is_none());
        // Withdrawing: only the organisation's own, only while open.
        let inv2 = NewInvite {
            id: "inv_2",
            token_hash: "th2",
            ..inv
        };
        assert!(block_on(invite(&db, &inv2)).unwrap());
        assert!(!block_on(revoke_invite(&db, "org_a", "inv_2", "2026-12-02")).unwrap());
        assert!(block_on(revoke_invite(&db, "org_n", "inv_2", "2026-12-02")).unwrap());
        assert!(!block_on(revoke_invite(&db, "org_n", "inv_2", "2026-12-02")).unwrap());
    }

    #[test]
    fn a_password_change_ends_the_other_sessions() {
        let db = two_orgs();
        block_on(sign_up(
            &db,
            &signup("org_n", "New", "usr_1", "a@x.co", "s1"),
        ))
        .unwrap();
        let new = sessions::insert_stmt("ses_2", "s2", "usr_1", "t", &Times::start(0.0));
        block_on(set_password(&db, "usr_1", "new-record", "t", Some(new))).unwrap();
        assert!(block_on(find(&db, "s1"))
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some());
        assert!(block_on(find(&db, "s2"))
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none());
        assert_eq!(
            block_on(by_user(&db, "usr_1")).unwrap().unwrap().password,
            "new-record"
        );
    }
}
