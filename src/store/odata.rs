//! The OData feed's reads: a page of an entity set, one entity by key, a count. The query
//! is parsed by `crate::odata` (pure: the entity model, `$filter` into expressions); its SQL
//! is put together and run here, always scoped to one organisation (`?1`) by the set's own
//! predicate, every value the caller sent bound as a parameter.

use std::fmt::Write as _;

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

/// The SQL of one page, its parameters (?1 = the organisation), and the page's row limit.
fn page_sql(set: &EntitySet, q: &Query, org_id: &str) -> (String, Vec<odata::Param>, usize) {
    let props: Vec<&odata::Prop> = if q.select.is_empty() {
        set.props.iter().collect()
    } else {
        q.select.clone()
    };
    let cols: Vec<String> = props
        .iter()
        .map(|p| format!("{} AS \"{}\"", p.sql, p.name))
        .collect();
    let mut params = vec![odata::Param::Text(org_id.into())];
    let mut sql = format!(
        "SELECT {} FROM {} WHERE {}",
        cols.join(", "),
        set.table,
        set.scope
    );
    if let Some(f) = &q.filter {
        let _ = write!(sql, " AND ({})", f.to_sql(&mut params));
    }
    sql.push_str(&order_by(set, q));
    let served = q.offset;
    let remaining = q
        .top
        .map(|t| t.saturating_sub(served))
        .unwrap_or(usize::MAX);
    let limit = remaining.min(odata::PAGE_SIZE);
    // Caller-chosen numbers: saturate, never overflow.
    let _ = write!(
        sql,
        " LIMIT {} OFFSET {}",
        limit.saturating_add(1),
        q.skip.saturating_add(served).min(i64::MAX as usize)
    );
    (sql, params, limit)
}

/// The count of rows the filter selects (`$count=true`, `/$count`).
fn count_sql(set: &EntitySet, q: &Query, org_id: &str) -> (String, Vec<odata::Param>) {
    let mut params = vec![odata::Param::Text(org_id.into())];
    let mut sql = format!(
        "SELECT COUNT(*) AS n FROM {} WHERE {}",
        set.table, set.scope
    );
    if let Some(f) = &q.filter {
        let _ = write!(sql, " AND ({})", f.to_sql(&mut params));
    }
    (sql, params)
}

fn order_by(set: &EntitySet, q: &Query) -> String {
    let key = set.prop(set.key).expect("the key is a property");
    let mut parts: Vec<String> = q
        .orderby
        .iter()
        .map(|(p, desc)| format!("{} {}", p.sql, if *desc { "DESC" } else { "ASC" }))
        .collect();
    // Stable paging: the key always breaks ties.
    if !q.orderby.iter().any(|(p, _)| p.name == key.name) {
        parts.push(format!("{} ASC", key.sql));
    }
    format!(" ORDER BY {}", parts.join(", "))
}

/// One page of `set` for the organisation: its rows (one more than the page when more
/// follow) and the page's row limit.
pub async fn page(
    db: &impl Db,
    set: &EntitySet,
    q: &Query,
    org_id: &str,
) -> Result<(Vec<Map<String, Value>>, usize)> {
    let (sql, params, limit) = page_sql(set, q, org_id);
    Ok((db.all(stmt(sql, params)).await?, limit))
}

/// How many rows of `set` the query's filter selects for the organisation.
pub async fn count(db: &impl Db, set: &EntitySet, q: &Query, org_id: &str) -> Result<u64> {
    let (sql, params) = count_sql(set, q, org_id);
    let n: Option<Count> = db.first(stmt(sql, params)).await?;
    Ok(Count::of(n) as u64)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::odata::{context, encode_skiptoken, parse_query, set};
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

    #[test]
    fn pages_are_stable_and_bounded_by_top() {
        let s = set("Assets").unwrap();
        let q = query(
            s,
            &[
                ("$orderby", "Category desc,AvoidedKgCo2e"),
                ("$top", "1500"),
                ("$select", "DocumentId,Category"),
            ],
        );
        let (sql, params, limit) = page_sql(s, &q, "org_1");
        assert!(
            sql.ends_with(
                "ORDER BY category DESC, avoided_kg_co2e ASC, document_id ASC LIMIT 1001 OFFSET 0"
            ),
            "{sql}"
        );
        assert_eq!(limit, 1000);
        assert_eq!(params, vec![odata::Param::Text("org_1".into())]);
        let q2 = Query {
            offset: 1000,
            ..q.clone()
        };
        let (sql2, _, limit2) = page_sql(s, &q2, "org_1");
        assert_eq!(limit2, 500, "never past $top");
        assert!(sql2.ends_with("LIMIT 501 OFFSET 1000"));
        assert_eq!(
            context("https://x/odata", s, &q),
            "https://x/odata/$metadata#Assets(DocumentId,Category)"
        );
    }

    #[test]
    fn a_skip_past_32_bits_still_pages() {
        let s = set("Assets").unwrap();
        let q = query(
            s,
            &[
                ("$skip", "4294967295"),
                ("$skiptoken", &encode_skiptoken(4000)),
            ],
        );
        let (sql, _, _) = page_sql(s, &q, "org_1");
        assert!(sql.ends_with("OFFSET 4294971295"), "{sql}");
        let db = two_orgs();
        assert!(block_on(page(&db, s, &q, "org_a")).unwrap().0.is_empty());
    }
}
