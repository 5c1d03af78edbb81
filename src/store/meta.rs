//! `meta`: facts about the database itself (the schema version the migrations reached).

use serde::Deserialize;

use super::db::{Db, Result, Stmt};

/// The schema version the applied migrations reached; `None` when no migration ran.
pub async fn schema_version(db: &impl Db) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct V {
        value: String,
    }
    let v: Option<V> = db
        .first(Stmt::new(
            "SELECT value FROM meta WHERE key = 'schema_version'",
        ))
        .await?;
    Ok(v.map(|v| v.value))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::testdb::{block_on, two_orgs};

    #[test]
    fn the_version_is_the_last_migrations_number() {
        let db = two_orgs();
        let last = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.get(..4)?.parse::<u32>().ok())
            .max()
            .unwrap();
        let v = block_on(schema_version(&db)).unwrap().unwrap();
        assert_eq!(v.parse::<u32>().unwrap(), last);
    }
}
