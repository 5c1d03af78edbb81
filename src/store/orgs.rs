//! `organisations`: created by the operator (`POST /admin/keys` names one and its plan), read
//! for their display name (certificates, reports) and their record (GDPR export). The plan is
//! the organisation's: every key of it shares its limits (`keys` reads it by join).

use serde::Deserialize;
use serde_json::Value;

use super::db::{Db, Result, Stmt};
use crate::limits::Plan;

/// The organisation named `name` on `plan`, created with id `new_id` at `now` if there is
/// none, else moved to `plan` (the operator's word on the contract): its id.
pub async fn ensure(
    db: &impl Db,
    name: &str,
    plan: Plan,
    new_id: &str,
    now: &str,
) -> Result<String> {
    #[derive(Deserialize)]
    struct Org {
        id: String,
    }
    let org: Option<Org> = db
        .first(
            Stmt::new(
                "INSERT INTO organisations (id, name, created_at, plan) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(name) DO UPDATE SET plan = excluded.plan RETURNING id",
            )
            .bind(new_id)
            .bind(name)
            .bind(now)
            .bind(plan.name()),
        )
        .await?;
    org.map(|o| o.id)
        .ok_or_else(|| super::Error(format!("organisation `{name}` not created")))
}

/// One text column of an organisation (`column` is ours, never a caller's).
async fn column(db: &impl Db, org_id: &str, column: &'static str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct One {
        v: String,
    }
    let o: Option<One> = db
        .first(
            Stmt::new(format!(
                "SELECT {column} AS v FROM organisations WHERE id = ?1"
            ))
            .bind(org_id),
        )
        .await?;
    Ok(o.map(|o| o.v))
}

/// An organisation's display name (its id when unknown).
pub async fn name(db: &impl Db, org_id: &str) -> Result<String> {
    Ok(column(db, org_id, "name")
        .await?
        .unwrap_or_else(|| org_id.to_string()))
}

/// An organisation's plan (`Free` when unknown: the least it could be owed).
pub async fn plan(db: &impl Db, org_id: &str) -> Result<Plan> {
    Ok(column(db, org_id, "plan")
        .await?
        .and_then(|p| Plan::parse(&p))
        .unwrap_or(Plan::Free))
}

/// An organisation's record as exported (id, name, created_at); `null` when unknown.
pub async fn record(db: &impl Db, org_id: &str) -> Result<Value> {
    Ok(db
        .first(
            Stmt::new("SELECT id, name, created_at FROM organisations WHERE id = ?1").bind(org_id),
        )
        .await?
        .unwrap_or(Value::Null))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::testdb::{block_on, two_orgs};

    #[test]
    fn ensure_creates_once_and_names_are_read_back() {
        let db = two_orgs();
        let id = block_on(ensure(&db, "Acme", Plan::Free, "org_new", "2026-01-01")).unwrap();
        assert_eq!(id, "org_new");
        // The same name again keeps the first id, and takes the plan given.
        assert_eq!(
            block_on(ensure(&db, "Acme", Plan::Pro, "org_other", "2026-01-02")).unwrap(),
            "org_new"
        );
        let plan: Option<Value> = block_on(
            db.first(Stmt::new("SELECT plan FROM organisations WHERE id = ?1").bind("org_new")),
        )
        .unwrap();
        assert_eq!(plan.unwrap()["plan"], "pro");
        assert_eq!(block_on(super::plan(&db, "org_new")).unwrap(), Plan::Pro);
        assert_eq!(
            block_on(super::plan(&db, "org_missing")).unwrap(),
            Plan::Free
        );
        assert_eq!(
            block_on(ensure(&db, "Org A", Plan::Free, "org_x", "t")).unwrap(),
            "org_a"
        );
        assert_eq!(block_on(name(&db, "org_new")).unwrap(), "Acme");
        assert_eq!(block_on(name(&db, "org_missing")).unwrap(), "org_missing");
        assert_eq!(
            block_on(record(&db, "org_new")).unwrap()["created_at"],
            "2026-01-01"
        );
        assert_eq!(block_on(record(&db, "org_missing")).unwrap(), Value::Null);
    }
}
