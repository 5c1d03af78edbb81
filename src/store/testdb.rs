//! Test support shared by every store file's tests: a migrated database with two
//! organisations, a tenant of each mode, and a blocking runner
//! for the store's futures.

pub use super::sqlite::{block_on, Sqlite};
use super::Tenant;
use crate::keys::Mode;

/// A migrated database holding organisations `org_a` and `org_b`.
pub fn two_orgs() -> Sqlite {
    let db = Sqlite::migrated();
    db.exec(
        "INSERT INTO organisations (id, name, created_at) VALUES \
         ('org_a', 'Org A', '2026-01-01T00:00:00.000Z'), ('org_b', 'Org B', '2026-01-01T00:00:00.000Z')",
    );
    db
}

pub fn a_live() -> Tenant {
    Tenant::new("org_a", Mode::Live)
}
pub fn a_test() -> Tenant {
    Tenant::new("org_a", Mode::Test)
}
pub fn b_live() -> Tenant {
    Tenant::new("org_b", Mode::Live)
}
