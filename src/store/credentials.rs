//! `integration_credentials`: an organisation's own credentials for an integration, the
//! secret sealed (see `crate::secure`). Sealing and opening need the key-encryption keys,
//! which only the edge has (`edge::credentials`); this file stores and reads the sealed form.

use serde::Deserialize;

use super::db::{Db, Result, Stmt};
use crate::secure::Sealed;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Stored {
    pub api_url: String,
    pub kek_id: String,
    pub nonce: String,
    pub ciphertext: String,
    pub last4: String,
    pub updated_at: String,
}

impl Stored {
    pub fn sealed(&self) -> Sealed {
        Sealed {
            kek_id: self.kek_id.clone(),
            nonce: self.nonce.clone(),
            ciphertext: self.ciphertext.clone(),
        }
    }
}

/// The organisation's credentials for `provider`, sealed.
pub async fn get(db: &impl Db, org_id: &str, provider: &str) -> Result<Option<Stored>> {
    db.first(
        Stmt::new(
            "SELECT api_url, kek_id, nonce, ciphertext, last4, updated_at FROM integration_credentials \
             WHERE org_id = ?1 AND provider = ?2",
        )
        .bind(org_id)
        .bind(provider),
    )
    .await
}

/// Store (replacing any earlier one) the organisation's sealed credentials.
pub async fn upsert(
    db: &impl Db,
    org_id: &str,
    provider: &str,
    api_url: &str,
    sealed: &Sealed,
    last4: &str,
    now: &str,
) -> Result<()> {
    db.run(
        Stmt::new(
            "INSERT INTO integration_credentials (org_id, provider, api_url, kek_id, nonce, ciphertext, last4, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(org_id, provider) DO UPDATE SET \
             api_url = excluded.api_url, kek_id = excluded.kek_id, nonce = excluded.nonce, \
             ciphertext = excluded.ciphertext, last4 = excluded.last4, updated_at = excluded.updated_at",
        )
        .bind(org_id)
        .bind(provider)
        .bind(api_url)
        .bind(sealed.kek_id.as_str())
        .bind(sealed.nonce.as_str())
        .bind(sealed.ciphertext.as_str())
        .bind(last4)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// Remove the organisation's credentials; whether there were any.
pub async fn delete(db: &impl Db, org_id: &str, provider: &str) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new("DELETE FROM integration_credentials WHERE org_id = ?1 AND provider = ?2")
                .bind(org_id)
                .bind(provider),
        )
        .await?
        > 0)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::testdb::{block_on, two_orgs};

    fn sealed(c: &str) -> Sealed {
        Sealed {
            kek_id: "k1".into(),
            nonce: "n".into(),
            ciphertext: c.into(),
        }
    }

    #[test]
    fn credentials_are_replaced_and_deleted_per_organisation() {
        let db = two_orgs();
        block_on(upsert(
            &db,
            "org_a",
            "blancco",
            "https://a",
            &sealed("c1"),
            "abcd",
            "t1",
        ))
        .unwrap();
        block_on(upsert(
            &db,
            "org_a",
            "blancco",
            "https://b",
            &sealed("c2"),
            "efgh",
            "t2",
        ))
        .unwrap();
        let s = block_on(get(&db, "org_a", "blancco")).unwrap().unwrap();
        assert_eq!(
            (s.api_url.as_str(), s.ciphertext.as_str(), s.last4.as_str()),
            ("https://b", "c2", "efgh")
        );
        assert_eq!(s.sealed(), sealed("c2"));
        assert!(block_on(get(&db, "org_b", "blancco")).unwrap().is_none());
        assert!(!block_on(delete(&db, "org_b", "blancco")).unwrap());
        assert!(block_on(delete(&db, "org_a", "blancco")).unwrap());
        assert!(block_on(get(&db, "org_a", "blancco")).unwrap().is_none());
    }
}
