//! `certificates`: issued certificates. `canonical` is exactly what was hashed and signed;
//! the PDF lives in R2 at `pdf_key` and `pdf_hash` is its SHA-256.

use serde::Deserialize;

use super::db::{Db, Result, Stmt};
use super::{newest_first, row, After, Owner, Tenant};

#[derive(Debug, Deserialize)]
pub struct Certificate {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub issued_at: String,
    pub canonical: String,
    pub content_hash: String,
    pub signature: String,
    pub signing_key_id: String,
    pub factor_set_version: String,
    pub pdf_key: String,
    pub pdf_hash: String,
    pub pdf_bytes: f64,
    pub revoked_at: Option<String>,
}

const COLUMNS: &str = "id, org_id, kind, issued_at, canonical, content_hash, signature, \
signing_key_id, factor_set_version, pdf_key, pdf_hash, pdf_bytes, revoked_at";

/// Any organisation's certificate (public verification).
pub async fn find(db: &impl Db, id: &str) -> Result<Option<Certificate>> {
    row(db, "certificates", COLUMNS, id, Owner::Any).await
}

pub async fn owned(db: &impl Db, tenant: &Tenant, id: &str) -> Result<Option<Certificate>> {
    row(db, "certificates", COLUMNS, id, Owner::Tenant(tenant)).await
}

/// A certificate as listed: what tells it apart in a table (the product or asset it is about)
/// and where its PDF and public check are.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct Listed {
    pub id: String,
    pub kind: String,
    pub issued_at: String,
    pub total_kg_co2e: f64,
    pub category: Option<String>,
    pub product: Option<String>,
    pub serial: Option<String>,
    pub revoked_at: Option<String>,
}

/// The tenant's certificates, newest first, `limit` after `after`.
pub async fn list(
    db: &impl Db,
    tenant: &Tenant,
    after: Option<&After>,
    limit: usize,
) -> Result<Vec<Listed>> {
    let columns = "id, kind, issued_at, total_kg_co2e, revoked_at, \
        COALESCE(json_extract(canonical, '$.result.category'), json_extract(canonical, '$.request.category'), \
                 json_extract(canonical, '$.request.device.category')) AS category, \
        COALESCE(json_extract(canonical, '$.result.product.name'), json_extract(canonical, '$.request.product.id'), \
                 json_extract(canonical, '$.request.product.model')) AS product, \
        json_extract(canonical, '$.asset.serial') AS serial";
    newest_first(
        db,
        "certificates",
        columns,
        "issued_at",
        tenant,
        after,
        limit,
    )
    .await
}

/// A new certificate's record.
pub struct NewCertificate<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    /// Who issued it (`Caller::actor`): the key's id, `user:<id>` from the console, …
    pub key_id: &'a str,
    pub kind: &'a str,
    pub issued_at: &'a str,
    pub canonical: &'a str,
    pub content_hash: &'a str,
    pub signature: &'a str,
    pub signing_key_id: &'a str,
    pub factor_set_version: &'a str,
    pub total_kg_co2e: f64,
    pub pdf_key: &'a str,
    pub pdf_hash: &'a str,
    pub pdf_bytes: usize,
    pub mode: &'a str,
}

pub async fn insert(db: &impl Db, c: &NewCertificate<'_>) -> Result<()> {
    db.run(
        Stmt::new(
            "INSERT INTO certificates (id, org_id, key_id, kind, issued_at, canonical, content_hash, signature, \
             signing_key_id, factor_set_version, total_kg_co2e, pdf_key, pdf_hash, pdf_bytes, mode) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )
        .bind(c.id)
        .bind(c.org_id)
        .bind(c.key_id)
        .bind(c.kind)
        .bind(c.issued_at)
        .bind(c.canonical)
        .bind(c.content_hash)
        .bind(c.signature)
        .bind(c.signing_key_id)
        .bind(c.factor_set_version)
        .bind(c.total_kg_co2e)
        .bind(c.pdf_key)
        .bind(c.pdf_hash)
        .bind(c.pdf_bytes)
        .bind(c.mode),
    )
    .await?;
    Ok(())
}

/// Revoke (once): whether this call revoked it.
pub async fn revoke(db: &impl Db, tenant: &Tenant, id: &str, at: &str) -> Result<bool> {
    Ok(db
        .run(
            Stmt::new(
                "UPDATE certificates SET revoked_at = ?1 WHERE id = ?2 AND org_id = ?3 AND mode = ?4 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(id)
            .bind(tenant.org_id.as_str())
            .bind(tenant.mode()),
        )
        .await?
        > 0)
}

/// The footprint requests the tenant's valid footprint certificates were issued for (a
/// report of `source: assets` computes them), oldest first, at most `limit`.
pub async fn certified_requests(
    db: &impl Db,
    tenant: &Tenant,
    limit: usize,
) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct C {
        canonical: String,
    }
    let rows: Vec<C> = db
        .all(
            Stmt::new(
                "SELECT canonical FROM certificates WHERE org_id = ?1 AND mode = ?2 AND kind = 'footprint' \
                 AND revoked_at IS NULL ORDER BY issued_at LIMIT ?3",
            )
            .bind(tenant.org_id.as_str())
            .bind(tenant.mode())
            .bind(limit),
        )
        .await?;
    Ok(rows.into_iter().map(|c| c.canonical).collect())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod tests {
    use super::*;
    use crate::store::testdb::{a_live, a_test, b_live, block_on, two_orgs, Sqlite};

    pub fn issue(db: &Sqlite, t: &Tenant, id: &str, kind: &str) {
        let c = NewCertificate {
            id,
            org_id: &t.org_id,
            key_id: "key_1",
            kind,
            issued_at: "2026-01-01T00:00:00.000Z",
            canonical: "{\"request\":{\"category\":\"laptop\"}}",
            content_hash: "h",
            signature: "s",
            signing_key_id: "k",
            factor_set_version: "f",
            total_kg_co2e: 300.5,
            pdf_key: "certificates/x.pdf",
            pdf_hash: "ph",
            pdf_bytes: 1234,
            mode: t.mode(),
        };
        block_on(insert(db, &c)).unwrap();
    }

    #[test]
    fn certificates_list_newest_first_in_pages_within_their_tenant() {
        let db = two_orgs();
        for id in ["c1", "c2", "c3"] {
            issue(&db, &a_live(), id, "footprint");
        }
        issue(&db, &a_test(), "t1", "footprint");
        issue(&db, &b_live(), "b1", "footprint");
        let first = block_on(list(&db, &a_live(), None, 2)).unwrap();
        // Same issued_at: the id breaks the tie, descending.
        assert_eq!(
            first.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["c3", "c2"]
        );
        assert_eq!(first[0].category.as_deref(), Some("laptop"));
        assert_eq!(first[0].total_kg_co2e, 300.5);
        let after = After::parse(&After::cursor(&first[1].issued_at, &first[1].id)).unwrap();
        let rest = block_on(list(&db, &a_live(), Some(&after), 2)).unwrap();
        assert_eq!(
            rest.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["c1"]
        );
        let test = block_on(list(&db, &a_test(), None, 10)).unwrap();
        assert_eq!(
            test.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["t1"]
        );
        assert_eq!(After::parse("no-bar"), None);
    }

    #[test]
    fn a_certificate_is_read_and_revoked_only_by_its_tenant_and_verified_by_anyone() {
        let db = two_orgs();
        issue(&db, &a_live(), "c1", "footprint");
        let c = block_on(owned(&db, &a_live(), "c1")).unwrap().unwrap();
        assert_eq!((c.pdf_bytes, c.revoked_at), (1234.0, None));
        assert!(block_on(owned(&db, &a_test(), "c1")).unwrap().is_none());
        assert!(block_on(owned(&db, &b_live(), "c1")).unwrap().is_none());
        assert!(block_on(find(&db, "c1")).unwrap().is_some());
        assert!(!block_on(revoke(&db, &b_live(), "c1", "t")).unwrap());
        assert!(!block_on(revoke(&db, &a_test(), "c1", "t")).unwrap());
        assert!(block_on(revoke(&db, &a_live(), "c1", "t")).unwrap());
        assert!(
            !block_on(revoke(&db, &a_live(), "c1", "t")).unwrap(),
            "once"
        );
    }

    #[test]
    fn certified_requests_are_the_tenants_valid_footprints() {
        let db = two_orgs();
        issue(&db, &a_live(), "c1", "footprint");
        issue(&db, &a_live(), "c2", "savings");
        issue(&db, &a_live(), "c3", "footprint");
        issue(&db, &a_test(), "c4", "footprint");
        issue(&db, &b_live(), "c5", "footprint");
        block_on(revoke(&db, &a_live(), "c3", "t")).unwrap();
        assert_eq!(
            block_on(certified_requests(&db, &a_live(), 10))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            block_on(certified_requests(&db, &a_test(), 10))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            block_on(certified_requests(&db, &a_live(), 0))
                .unwrap()
                .len(),
            0
        );
    }
}
