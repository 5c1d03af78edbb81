//! The OData feed's reads: a page of an entity set, one entity by key, a count. The query
//! is parsed and planned by `crate::odata` (pure); its SQL runs here, always scoped to one
//! organisation (`?1`) by the set's own predicate.

use serde_json::{Map, Value};

use super::db::{Count, Db, Param, Result, Stmt};
use crate::odata::{self, EntitySet, Query};

fn stmt(sql: String, params: Vec<odata::Param>) -> Stmt {
    Stmt {
        sql: sql.into(),
        params: params
            .into_iter()
            .map(|p| match p {
                odata::Param::Text(t) => Param::Text(t),
                odata::Param::Number(n) => Param::Real(n),
            })
            .collect(),
    }
}

/// One page of `set` for the organisation: its rows (one more than the page when more
/// follow) and the page's row limit.
pub async fn page(
    db: &impl Db,
    set: &EntitySet,
    q: &Query,
    org_id: &str,
) -> Result<(Vec<Map<String, Value>>, usize)> {
    let (sql, params, limit) = odata::page_sql(set, q, org_id);
    Ok((db.all(stmt(sql, params)).await?, limit))
}

/// How many rows of `set` the query's filter selects for the organisation.
pub async fn count(db: &impl Db, set: &EntitySet, q: &Query, org_id: &str) -> Result<u64> {
    let (sql, params) = odata::count_sql(set, q, org_id);
    let n: Option<Count> = db.first(stmt(sql, params)).await?;
    Ok(Count::of(n) as u64)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::odata::{parse_query, set};
    use crate::store::certificates::tests::issue;
    use crate::store::testdb::{a_live, a_test, b_live, block_on, two_orgs};

    fn query(set: &'static EntitySet, pairs: &[(&str, &str)]) -> Query {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_query(set, &pairs).unwrap()
    }

    #[test]
    fn every_set_runs_and_serves_only_the_organisations_live_rows() {
        let db = two_orgs();
        issue(&db, &a_live(), "c1", "footprint");
        issue(&db, &a_live(), "c2", "savings");
        issue(&db, &a_test(), "c3", "footprint");
        issue(&db, &b_live(), "c4", "footprint");
        for s in crate::odata::SETS {
            block_on(page(&db, s, &query(s, &[]), "org_a")).unwrap();
            block_on(count(&db, s, &query(s, &[]), "org_a")).unwrap();
        }
        let certs = set("Certificates").unwrap();
        let (rows, limit) = block_on(page(&db, certs, &query(certs, &[]), "org_a")).unwrap();
        assert_eq!(limit, crate::odata::PAGE_SIZE);
        let ids: Vec<&str> = rows.iter().map(|r| r["Id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["c1", "c2"]);
        let calcs = set("Calculations").unwrap();
        assert_eq!(
            block_on(count(&db, calcs, &query(calcs, &[]), "org_a")).unwrap(),
            1
        );
        let q = query(certs, &[("$filter", "Kind eq 'savings'"), ("$top", "5")]);
        let (rows, limit) = block_on(page(&db, certs, &q, "org_a")).unwrap();
        assert_eq!((rows.len(), limit), (1, 5));
        assert_eq!(rows[0]["Id"], "c2");
        assert_eq!(block_on(count(&db, certs, &q, "org_b")).unwrap(), 0);
    }
}
