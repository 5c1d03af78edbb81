//! `signing_keys`: every public key that ever signed (certificates, OData proofs), the period
//! it was current, and whether the operator distrusts it. The trusted ones are published as
//! a JWK Set. The private keys are secrets of the edge (`edge::signing`).

use serde::Deserialize;

use super::db::{Db, Result, Stmt};

/// A published key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SigningKey {
    pub purpose: String,
    pub kid: String,
    pub public_x: String,
    pub valid_from: String,
    pub retired_at: Option<String>,
    pub distrusted_at: Option<String>,
    pub distrust_reason: Option<String>,
}

impl SigningKey {
    pub fn standing(&self) -> crate::certs::verify::Standing<'_> {
        crate::certs::verify::Standing {
            kid: &self.kid,
            valid_from: &self.valid_from,
            retired_at: self.retired_at.as_deref(),
            distrusted_at: self.distrusted_at.as_deref(),
            distrust_reason: self.distrust_reason.as_deref(),
        }
    }
}

/// Publish `kid` as the current key of `purpose` from `now`, and retire any other current
/// key of that purpose (one transaction).
pub async fn make_current(
    db: &impl Db,
    purpose: &str,
    kid: &str,
    public_x: &str,
    now: &str,
) -> Result<()> {
    db.batch(vec![
        Stmt::new(
            "INSERT INTO signing_keys (purpose, kid, public_x, valid_from) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(purpose, kid) DO NOTHING",
        )
        .bind(purpose)
        .bind(kid)
        .bind(public_x)
        .bind(now),
        Stmt::new(
            "UPDATE signing_keys SET retired_at = ?3 WHERE purpose = ?1 AND kid != ?2 AND retired_at IS NULL",
        )
        .bind(purpose)
        .bind(kid)
        .bind(now),
    ])
    .await?;
    Ok(())
}

/// Every key that ever signed, by purpose and age.
pub async fn all(db: &impl Db) -> Result<Vec<SigningKey>> {
    db.all(Stmt::new(
        "SELECT purpose, kid, public_x, valid_from, retired_at, distrusted_at, distrust_reason \
         FROM signing_keys ORDER BY purpose, valid_from",
    ))
    .await
}

/// Distrust `kid` of `purpose` from `at` for `reason`; `false` if there is no such key or it
/// already is (the first reason stands).
pub async fn distrust(
    db: &impl Db,
    purpose: &str,
    kid: &str,
    at: &str,
    reason: &str,
) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new(
                "UPDATE signing_keys SET distrusted_at = ?3, distrust_reason = ?4 \
                 WHERE purpose = ?1 AND kid = ?2 AND distrusted_at IS NULL",
            )
            .bind(purpose)
            .bind(kid)
            .bind(at)
            .bind(reason),
        )
        .await?
        > 0)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::testdb::{block_on, two_orgs};

    #[test]
    fn a_new_current_key_retires_the_previous_one_of_its_purpose_only() {
        let db = two_orgs();
        block_on(make_current(&db, "certificate", "c1", "x1", "2026-01-01")).unwrap();
        block_on(make_current(&db, "odata-proof", "p1", "y1", "2026-01-01")).unwrap();
        block_on(make_current(&db, "certificate", "c1", "x1", "2026-01-05")).unwrap();
        block_on(make_current(&db, "certificate", "c2", "x2", "2026-02-01")).unwrap();
        let keys = block_on(all(&db)).unwrap();
        let get = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().clone();
        assert_eq!(
            get("c1").valid_from,
            "2026-01-01",
            "registering again changes nothing"
        );
        assert_eq!(get("c1").retired_at.as_deref(), Some("2026-02-01"));
        assert_eq!(get("c2").retired_at, None);
        assert_eq!(get("p1").retired_at, None);
        assert_eq!(keys.len(), 3);
        assert!(block_on(distrust(
            &db,
            "certificate",
            "c1",
            "2026-03-01",
            "seed leaked"
        ))
        .unwrap());
        assert!(!block_on(distrust(&db, "certificate", "c1", "2026-03-02", "again")).unwrap());
        assert!(!block_on(distrust(&db, "odata-proof", "c1", "2026-03-02", "x")).unwrap());
        let keys = block_on(all(&db)).unwrap();
        let c1 = keys.iter().find(|k| k.kid == "c1").unwrap();
        assert_eq!(c1.distrusted_at.as_deref(), Some("2026-03-01"));
        assert_eq!(c1.distrust_reason.as_deref(), Some("seed leaked"));
        assert!(keys
            .iter()
            .find(|k| k.kid == "c2")
            .unwrap()
            .distrusted_at
            .is_none());
    }
}
