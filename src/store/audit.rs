//! `audit_log`: each organisation's hash-linked chain (`crate::audit` hashes and verifies it;
//! `edge::audit`'s sequencer is the one writer, so `seq` never races).

use serde::Deserialize;

use super::db::{Db, Result, Stmt};
use crate::audit::Entry;

const COLUMNS: &str = "org_id, seq, at, actor, action, target, details, prev_hash, hash";

/// Rows of the chain read per query when walking it.
pub const CHAIN_PAGE: usize = 1000;

/// The last entry's `(seq, hash)` of an organisation's chain.
pub async fn tail(db: &impl Db, org_id: &str) -> Result<Option<(i64, String)>> {
    #[derive(Deserialize)]
    struct Tail {
        seq: i64,
        hash: String,
    }
    let t: Option<Tail> = db
        .first(
            Stmt::new(
                "SELECT seq, hash FROM audit_log WHERE org_id = ?1 ORDER BY seq DESC LIMIT 1",
            )
            .bind(org_id),
        )
        .await?;
    Ok(t.map(|t| (t.seq, t.hash)))
}

/// Append an entry (its `(org_id, seq)` is the key: a second writer at the same `seq` fails).
pub async fn insert(db: &impl Db, e: &Entry) -> Result<()> {
    db.run(
        Stmt::new(format!(
            "INSERT INTO audit_log ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))
        .bind(e.org_id.as_str())
        .bind(e.seq)
        .bind(e.at.as_str())
        .bind(e.actor.as_str())
        .bind(e.action.as_str())
        .bind(e.target.as_deref())
        .bind(e.details.as_str())
        .bind(e.prev_hash.as_str())
        .bind(e.hash.as_str()),
    )
    .await?;
    Ok(())
}

/// Entries `after_seq < seq <= after_seq + CHAIN_PAGE` of an organisation, in order.
pub async fn page(db: &impl Db, org_id: &str, after_seq: i64) -> Result<Vec<Entry>> {
    db.all(
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT {CHAIN_PAGE}"
        ))
        .bind(org_id)
        .bind(after_seq),
    )
    .await
}

/// One entry of a chain.
pub async fn at(db: &impl Db, org_id: &str, seq: i64) -> Result<Option<Entry>> {
    db.first(
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE org_id = ?1 AND seq = ?2"
        ))
        .bind(org_id)
        .bind(seq),
    )
    .await
}

/// The head of a chain.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Head {
    pub org_id: String,
    pub seq: i64,
    pub hash: String,
}

/// Every organisation's chain head (the anchoring cron).
pub async fn heads(db: &impl Db) -> Result<Vec<Head>> {
    db.all(Stmt::new(
        "SELECT org_id, seq, hash FROM audit_log a \
         WHERE seq = (SELECT MAX(seq) FROM audit_log b WHERE b.org_id = a.org_id)",
    ))
    .await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::audit::next_entry;
    use crate::store::testdb::{block_on, two_orgs, Sqlite};

    fn append(db: &Sqlite, org: &str, action: &str) -> Entry {
        let t = block_on(tail(db, org)).unwrap();
        let e = next_entry(
            t.as_ref().map(|(s, h)| (*s, h.as_str())),
            org,
            "2026-01-01T00:00:00.000Z",
            "key_1",
            action,
            None,
            &serde_json::json!({}),
        );
        block_on(insert(db, &e)).unwrap();
        e
    }

    #[test]
    fn chains_are_per_organisation_and_read_back_whole() {
        let db = two_orgs();
        let a1 = append(&db, "org_a", "key.created");
        let a2 = append(&db, "org_a", "key.revoked");
        let b1 = append(&db, "org_b", "key.created");
        assert_eq!((a1.seq, a2.seq, b1.seq), (1, 2, 1));
        assert_eq!(a2.prev_hash, a1.hash);
        assert_eq!(
            block_on(page(&db, "org_a", 0)).unwrap(),
            vec![a1.clone(), a2.clone()]
        );
        assert_eq!(block_on(page(&db, "org_a", 1)).unwrap(), vec![a2.clone()]);
        assert_eq!(block_on(at(&db, "org_b", 1)).unwrap(), Some(b1.clone()));
        assert_eq!(block_on(at(&db, "org_b", 2)).unwrap(), None);
        let mut h = block_on(heads(&db)).unwrap();
        h.sort_by(|x, y| x.org_id.cmp(&y.org_id));
        assert_eq!(
            h.iter()
                .map(|h| (h.org_id.as_str(), h.seq))
                .collect::<Vec<_>>(),
            [("org_a", 2), ("org_b", 1)]
        );
        // A second writer at the same seq is refused: the chain cannot fork.
        assert!(block_on(insert(&db, &a2)).is_err());
    }
}
