//! `pact_clients`, `pact_profiles`, `pact_footprints`: PACT v3 (`src/pact`). Clients are found
//! by id alone when they ask for a token (the id is the OAuth2 `client_id`); everything else
//! is read and written per tenant. A re-publication deprecates the active version of the
//! product and stores the new one in one transaction, under a unique index that allows one
//! active version per product.

use serde::{Deserialize, Serialize};

use super::db::{Db, Result, Stmt};
use super::Tenant;
use crate::pact::Profile;

/// Most active clients, and most stored footprint versions, per organisation and mode.
pub const MAX_CLIENTS: usize = 50;
pub const MAX_FOOTPRINTS: usize = 10_000;

/// A client as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub id: String,
    pub name: Option<String>,
    pub mode: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Store a client unless the tenant holds [`MAX_CLIENTS`] active ones (`false`).
pub async fn add_client(
    db: &impl Db,
    t: &Tenant,
    id: &str,
    name: Option<&str>,
    secret_hash: &str,
    now: &str,
) -> Result<bool> {
    let n = db
        .run(
            Stmt::new(
                "INSERT INTO pact_clients (id, org_id, mode, name, secret_hash, created_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE (SELECT COUNT(*) FROM pact_clients \
                 WHERE org_id = ?2 AND mode = ?3 AND revoked_at IS NULL) < ?7",
            )
            .bind(id)
            .bind(t.org_id.as_str())
            .bind(t.mode())
            .bind(name)
            .bind(secret_hash)
            .bind(now)
            .bind(MAX_CLIENTS),
        )
        .await?;
    Ok(n > 0)
}

pub async fn clients(db: &impl Db, t: &Tenant) -> Result<Vec<Client>> {
    db.all(
        Stmt::new(
            "SELECT id, name, mode, created_at, revoked_at FROM pact_clients \
             WHERE org_id = ?1 AND mode = ?2 ORDER BY created_at DESC, id",
        )
        .bind(t.org_id.as_str())
        .bind(t.mode()),
    )
    .await
}

/// Revoke a tenant's client (`false`: none such, or revoked already).
pub async fn revoke_client(db: &impl Db, t: &Tenant, id: &str, now: &str) -> Result<bool> {
    let n = db
        .run(
            Stmt::new(
                "UPDATE pact_clients SET revoked_at = ?4 WHERE id = ?1 AND org_id = ?2 AND mode = ?3 \
                 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(t.org_id.as_str())
            .bind(t.mode())
            .bind(now),
        )
        .await?;
    Ok(n > 0)
}

/// What the token endpoint needs of a client: whose it is, its secret's hash, the plan.
#[derive(Debug, Clone, Deserialize)]
pub struct Credential {
    pub org_id: String,
    pub mode: String,
    pub secret_hash: String,
    pub plan: String,
}

/// An active client by its id (any organisation: the token endpoint knows no tenant yet).
pub async fn credential(db: &impl Db, client_id: &str) -> Result<Option<Credential>> {
    db.first(
        Stmt::new(
            "SELECT c.org_id, c.mode, c.secret_hash, o.plan FROM pact_clients c \
             JOIN organisations o ON o.id = c.org_id WHERE c.id = ?1 AND c.revoked_at IS NULL",
        )
        .bind(client_id),
    )
    .await
}

pub async fn put_profile(db: &impl Db, t: &Tenant, p: &Profile, now: &str) -> Result<()> {
    db.run(
        Stmt::new(
            "INSERT INTO pact_profiles (org_id, mode, company_name, company_ids, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(org_id, mode) DO UPDATE SET \
             company_name = excluded.company_name, company_ids = excluded.company_ids, \
             updated_at = excluded.updated_at",
        )
        .bind(t.org_id.as_str())
        .bind(t.mode())
        .bind(p.company_name.as_str())
        .bind(serde_json::to_string(&p.company_ids).unwrap_or_default())
        .bind(now),
    )
    .await?;
    Ok(())
}

pub async fn profile(db: &impl Db, t: &Tenant) -> Result<Option<Profile>> {
    #[derive(Deserialize)]
    struct Row {
        company_name: String,
        company_ids: String,
    }
    let r: Option<Row> = db
        .first(
            Stmt::new("SELECT company_name, company_ids FROM pact_profiles WHERE org_id = ?1 AND mode = ?2")
                .bind(t.org_id.as_str())
                .bind(t.mode()),
        )
        .await?;
    Ok(r.map(|r| Profile {
        company_name: r.company_name,
        company_ids: serde_json::from_str(&r.company_ids).unwrap_or_default(),
    }))
}

/// A stored footprint.
#[derive(Debug, Clone, Deserialize)]
pub struct Stored {
    pub id: String,
    pub document: String,
}

/// The active version of a product (its `product_key`), if any.
pub async fn active(db: &impl Db, t: &Tenant, product_key: &str) -> Result<Option<Stored>> {
    db.first(
        Stmt::new(
            "SELECT id, document FROM pact_footprints WHERE org_id = ?1 AND mode = ?2 \
             AND product_key = ?3 AND status = 'Active'",
        )
        .bind(t.org_id.as_str())
        .bind(t.mode())
        .bind(product_key),
    )
    .await
}

/// A new version to store.
pub struct NewVersion<'a> {
    pub id: &'a str,
    pub product_key: &'a str,
    pub created_at: &'a str,
    pub basis: &'a str,
    pub document: &'a str,
    /// The active version it replaces (deprecated in the same transaction).
    pub replaces: Option<&'a str>,
}

/// What storing a version did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    /// The tenant holds [`MAX_FOOTPRINTS`] versions.
    Full,
}

/// Store a version, deprecating the one it replaces. A concurrent publication of the same
/// product fails the batch (the unique index on the active version): an `Err`.
pub async fn publish(db: &impl Db, t: &Tenant, v: &NewVersion<'_>) -> Result<Outcome> {
    let mut batch = Vec::new();
    if let Some(old) = v.replaces {
        batch.push(
            Stmt::new(
                "UPDATE pact_footprints SET status = 'Deprecated', \
                 document = json_set(document, '$.status', 'Deprecated') \
                 WHERE id = ?1 AND org_id = ?2 AND mode = ?3 AND status = 'Active'",
            )
            .bind(old)
            .bind(t.org_id.as_str())
            .bind(t.mode()),
        );
    }
    batch.push(
        Stmt::new(
            "INSERT INTO pact_footprints (id, org_id, mode, product_key, status, created_at, basis, document) \
             SELECT ?1, ?2, ?3, ?4, 'Active', ?5, ?6, ?7 \
             WHERE (SELECT COUNT(*) FROM pact_footprints WHERE org_id = ?2 AND mode = ?3) < ?8",
        )
        .bind(v.id)
        .bind(t.org_id.as_str())
        .bind(t.mode())
        .bind(v.product_key)
        .bind(v.created_at)
        .bind(v.basis)
        .bind(v.document)
        .bind(MAX_FOOTPRINTS),
    );
    let counts = db.batch(batch).await?;
    Ok(if counts.last().copied().unwrap_or(0) > 0 {
        Outcome::Stored
    } else {
        Outcome::Full
    })
}

/// Every stored version of the tenant, oldest first (the order the listing pages in).
pub async fn documents(db: &impl Db, t: &Tenant) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        document: String,
    }
    let rows: Vec<Row> = db
        .all(
            Stmt::new(
                "SELECT document FROM pact_footprints WHERE org_id = ?1 AND mode = ?2 \
                 ORDER BY created_at, id LIMIT ?3",
            )
            .bind(t.org_id.as_str())
            .bind(t.mode())
            .bind(MAX_FOOTPRINTS),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.document).collect())
}

/// One of the tenant's footprints by id.
pub async fn document(db: &impl Db, t: &Tenant, id: &str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        document: String,
    }
    let r: Option<Row> = db
        .first(
            Stmt::new(
                "SELECT document FROM pact_footprints WHERE id = ?1 AND org_id = ?2 AND mode = ?3",
            )
            .bind(id)
            .bind(t.org_id.as_str())
            .bind(t.mode()),
        )
        .await?;
    Ok(r.map(|r| r.document))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::testdb::{a_live, a_test, b_live, block_on, two_orgs};

    #[test]
    fn clients_are_the_tenants_and_found_by_id_for_a_token() {
        let db = two_orgs();
        assert!(block_on(add_client(&db, &a_live(), "pc_1", Some("Buyer"), "h", "t")).unwrap());
        let c = block_on(credential(&db, "pc_1")).unwrap().unwrap();
        assert_eq!(
            (c.org_id.as_str(), c.mode.as_str(), c.plan.as_str()),
            ("org_a", "live", "free")
        );
        assert_eq!(block_on(clients(&db, &a_live())).unwrap().len(), 1);
        assert!(block_on(clients(&db, &a_test())).unwrap().is_empty());
        assert!(!block_on(revoke_client(&db, &b_live(), "pc_1", "t")).unwrap());
        assert!(block_on(revoke_client(&db, &a_live(), "pc_1", "t")).unwrap());
        assert!(
            block_on(credential(&db, "pc_1")).unwrap().is_none(),
            "revoked: no token"
        );
    }

    #[test]
    fn a_republication_deprecates_the_version_before_in_one_step() {
        let db = two_orgs();
        let p = Profile {
            company_name: "A".into(),
            company_ids: vec!["urn:lei:A".into()],
        };
        block_on(put_profile(&db, &a_live(), &p, "t")).unwrap();
        assert_eq!(block_on(profile(&db, &a_live())).unwrap(), Some(p));
        assert_eq!(block_on(profile(&db, &a_test())).unwrap(), None);
        let v1 = NewVersion {
            id: "u1",
            product_key: "urn:gtin:1",
            created_at: "2026-01-01",
            basis: "footprint",
            document: r#"{"id":"u1","status":"Active"}"#,
            replaces: None,
        };
        assert_eq!(
            block_on(publish(&db, &a_live(), &v1)).unwrap(),
            Outcome::Stored
        );
        // A second active version of the same product without replacing the first: refused.
        assert!(block_on(publish(&db, &a_live(), &NewVersion { id: "u9", ..v1 })).is_err());
        let active1 = block_on(active(&db, &a_live(), "urn:gtin:1"))
            .unwrap()
            .unwrap();
        assert_eq!(active1.id, "u1");
        let v2 = NewVersion {
            id: "u2",
            created_at: "2026-02-01",
            document: r#"{"id":"u2","status":"Active"}"#,
            replaces: Some("u1"),
            ..v1
        };
        assert_eq!(
            block_on(publish(&db, &a_live(), &v2)).unwrap(),
            Outcome::Stored
        );
        let docs = block_on(documents(&db, &a_live())).unwrap();
        assert_eq!(
            docs,
            [
                r#"{"id":"u1","status":"Deprecated"}"#,
                r#"{"id":"u2","status":"Active"}"#
            ]
        );
        assert_eq!(
            block_on(active(&db, &a_live(), "urn:gtin:1"))
                .unwrap()
                .unwrap()
                .id,
            "u2"
        );
        assert!(block_on(document(&db, &b_live(), "u2")).unwrap().is_none());
        assert!(block_on(document(&db, &a_test(), "u2")).unwrap().is_none());
    }
}
