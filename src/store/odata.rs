//! The OData feed's reads: a page of an entity set, one entity by key, a count. The query
//! is parsed by `crate::odata` (pure: the entity model, `$filter` into expressions); where
//! each set and property is stored, and the SQL of a query, are here alone, always scoped to
//! one organisation (`?1`) by the set's own predicate, every value the caller sent bound as a
//! parameter.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::db::{Count, Db, Param, Result, Stmt};
use crate::odata::filter::{Expr, Lit};
use crate::odata::{self, EntitySet, Prop, Query};

/// Where each entity set is stored: its table, the SQL restricting it to the organisation
/// (bound as ?1, live rows only) and to the set, and the column expression of each property.
struct Source {
    set: &'static str,
    table: &'static str,
    scope: &'static str,
    columns: &'static [(&'static str, &'static str)],
}

const SOURCES: &[Source] = &[
    Source {
        set: "InventoryAssets",
        table: "inventory_assets",
        scope: "org_id = ?1 AND mode = 'live'",
        columns: &[
            ("Id", "id"),
            ("Serial", "serial"),
            ("AssetTag", "asset_tag"),
            ("Name", "name"),
            ("Category", "json_extract(footprint, '$.category')"),
            ("ProductId", "json_extract(footprint, '$.product_id')"),
            ("PurchaseDate", "purchase_date"),
            ("RetiredDate", "retired_date"),
            ("EndOfLife", "end_of_life"),
            ("Ownership", "ownership"),
            ("Country", "country"),
            (
                "ProductionKgCo2e",
                "json_extract(footprint, '$.production_kg')",
            ),
            (
                "TransportKgCo2e",
                "json_extract(footprint, '$.transport_kg')",
            ),
            (
                "UseKgCo2ePerYear",
                "json_extract(footprint, '$.use_kg_per_year')",
            ),
            (
                "EndOfLifeKgCo2e",
                "json_extract(footprint, '$.end_of_life_kg')",
            ),
            ("Source", "json_extract(footprint, '$.source')"),
            (
                "FactorSetVersion",
                "json_extract(footprint, '$.factor_set')",
            ),
        ],
    },
    Source {
        set: "Calculations",
        table: "certificates",
        scope: "org_id = ?1 AND mode = 'live' AND kind = 'footprint'",
        columns: &[
            ("Id", "id"),
            ("CalculatedAt", "issued_at"),
            ("Category", "json_extract(canonical, '$.result.category')"),
            (
                "ProductId",
                "json_extract(canonical, '$.result.product.id')",
            ),
            ("Source", "json_extract(canonical, '$.result.source')"),
            (
                "ProductionKgCo2e",
                "json_extract(canonical, '$.result.breakdown.production_kg')",
            ),
            (
                "TransportKgCo2e",
                "json_extract(canonical, '$.result.breakdown.transport_kg')",
            ),
            (
                "UseKgCo2e",
                "json_extract(canonical, '$.result.breakdown.use_kg')",
            ),
            (
                "EndOfLifeKgCo2e",
                "json_extract(canonical, '$.result.breakdown.end_of_life_kg')",
            ),
            ("TotalKgCo2e", "total_kg_co2e"),
            ("FactorSetVersion", "factor_set_version"),
        ],
    },
    Source {
        set: "Certificates",
        table: "certificates",
        scope: "org_id = ?1 AND mode = 'live'",
        columns: &[
            ("Id", "id"),
            ("Kind", "kind"),
            ("IssuedAt", "issued_at"),
            ("TotalKgCo2e", "total_kg_co2e"),
            ("ContentHash", "content_hash"),
            ("FactorSetVersion", "factor_set_version"),
            ("Revoked", "(revoked_at IS NOT NULL)"),
            ("RevokedAt", "revoked_at"),
        ],
    },
    Source {
        set: "Assets",
        table: "assets",
        scope: "org_id = ?1 AND mode = 'live'",
        columns: &[
            ("DocumentId", "document_id"),
            ("Source", "source"),
            ("Manufacturer", "manufacturer"),
            ("Model", "model"),
            ("Serial", "serial"),
            ("Category", "category"),
            ("ProductId", "product_id"),
            ("RamGb", "ram_gb"),
            ("StorageGb", "storage_gb"),
            ("ErasureStandard", "erasure_standard"),
            ("ErasedAt", "erased_at"),
            ("AvoidedKgCo2e", "avoided_kg_co2e"),
            ("ImportedAt", "imported_at"),
        ],
    },
    Source {
        set: "AuditLog",
        table: "audit_log",
        scope: "org_id = ?1",
        columns: &[
            ("Seq", "seq"),
            ("At", "at"),
            ("Actor", "actor"),
            ("Action", "action"),
            ("Target", "target"),
            ("Details", "details"),
            ("PrevHash", "prev_hash"),
            ("Hash", "hash"),
        ],
    },
];

fn source(set: &EntitySet) -> &'static Source {
    SOURCES
        .iter()
        .find(|s| s.set == set.name)
        .expect("every entity set has a source (tested)")
}

/// The column expression of a property of `set`.
fn column(set: &EntitySet, prop: &Prop) -> &'static str {
    source(set)
        .columns
        .iter()
        .find(|(name, _)| *name == prop.name)
        .map(|(_, sql)| *sql)
        .expect("every property has a column (tested)")
}

fn stmt(sql: String, params: Vec<Param>) -> Stmt {
    Stmt {
        sql: sql.into(),
        params,
    }
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The SQL of a `$filter` expression on `set`; its literals become `?N` parameters appended
/// to `params` (as many as `Expr::bound_values` counts).
fn predicate(set: &EntitySet, e: &Expr, params: &mut Vec<Param>) -> String {
    let bind = |p: Param, params: &mut Vec<Param>| {
        params.push(p);
        format!("?{}", params.len())
    };
    let sql = |e: &Expr, params: &mut Vec<Param>| predicate(set, e, params);
    match e {
        Expr::Prop(p) => column(set, p).to_string(),
        Expr::Lit(Lit::Text(s)) => bind(Param::Text(s.clone()), params),
        Expr::Lit(Lit::Number(n)) => bind(Param::Real(*n), params),
        Expr::Lit(Lit::Bool(b)) => if *b { "1" } else { "0" }.into(),
        Expr::Lit(Lit::Null) => "NULL".into(),
        Expr::Cmp(l, op, r) => {
            if let (Expr::Lit(Lit::Null), side) | (side, Expr::Lit(Lit::Null)) = (&**l, &**r) {
                let s = sql(side, params);
                return match *op {
                    "eq" => format!("({s} IS NULL)"),
                    "ne" => format!("({s} IS NOT NULL)"),
                    _ => "(0)".into(),
                };
            }
            let sql_op = match *op {
                "eq" => "=",
                "ne" => "<>",
                "gt" => ">",
                "ge" => ">=",
                "lt" => "<",
                _ => "<=",
            };
            let (a, b) = (sql(l, params), sql(r, params));
            format!("({a} {sql_op} {b})")
        }
        Expr::In(l, items) => {
            let a = sql(l, params);
            let list: Vec<String> = items
                .iter()
                .map(|i| sql(&Expr::Lit(i.clone()), params))
                .collect();
            format!("({a} IN ({}))", list.join(", "))
        }
        Expr::And(a, b) => format!("({} AND {})", sql(a, params), sql(b, params)),
        Expr::Or(a, b) => format!("({} OR {})", sql(a, params), sql(b, params)),
        Expr::Not(a) => format!("(NOT {})", sql(a, params)),
        Expr::Func(name, args) => match *name {
            "contains" | "startswith" | "endswith" => {
                let hay = sql(&args[0], params);
                let pattern = match &args[1] {
                    Expr::Lit(Lit::Text(t)) => {
                        let t = like_escape(t);
                        match *name {
                            "contains" => format!("%{t}%"),
                            "startswith" => format!("{t}%"),
                            _ => format!("%{t}"),
                        }
                    }
                    other => {
                        let v = sql(other, params);
                        return format!("(instr({hay}, {v}) > 0)");
                    }
                };
                let p = bind(Param::Text(pattern), params);
                format!("({hay} LIKE {p} ESCAPE '\\')")
            }
            "year" => format!("CAST(substr({}, 1, 4) AS INTEGER)", sql(&args[0], params)),
            "month" => format!("CAST(substr({}, 6, 2) AS INTEGER)", sql(&args[0], params)),
            "day" => format!("CAST(substr({}, 9, 2) AS INTEGER)", sql(&args[0], params)),
            "tolower" => format!("lower({})", sql(&args[0], params)),
            _ => format!("upper({})", sql(&args[0], params)),
        },
    }
}

/// The SQL of one page, its parameters (?1 = the organisation), and the page's row limit.
fn page_sql(set: &EntitySet, q: &Query, org_id: &str) -> (String, Vec<Param>, usize) {
    let props: Vec<&odata::Prop> = if q.select.is_empty() {
        set.props.iter().collect()
    } else {
        q.select.clone()
    };
    let cols: Vec<String> = props
        .iter()
        .map(|p| format!("{} AS \"{}\"", column(set, p), p.name))
        .collect();
    let mut params = vec![Param::Text(org_id.into())];
    let src = source(set);
    let mut sql = format!(
        "SELECT {} FROM {} WHERE {}",
        cols.join(", "),
        src.table,
        src.scope
    );
    if let Some(f) = &q.filter {
        let _ = write!(sql, " AND ({})", predicate(set, f, &mut params));
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
fn count_sql(set: &EntitySet, q: &Query, org_id: &str) -> (String, Vec<Param>) {
    let mut params = vec![Param::Text(org_id.into())];
    let src = source(set);
    let mut sql = format!(
        "SELECT COUNT(*) AS n FROM {} WHERE {}",
        src.table, src.scope
    );
    if let Some(f) = &q.filter {
        let _ = write!(sql, " AND ({})", predicate(set, f, &mut params));
    }
    (sql, params)
}

fn order_by(set: &EntitySet, q: &Query) -> String {
    let key = set.prop(set.key).expect("the key is a property");
    let mut parts: Vec<String> = q
        .orderby
        .iter()
        .map(|(p, desc)| format!("{} {}", column(set, p), if *desc { "DESC" } else { "ASC" }))
        .collect();
    // Stable paging: the key always breaks ties.
    if !q.orderby.iter().any(|(p, _)| p.name == key.name) {
        parts.push(format!("{} ASC", column(set, key)));
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

    fn sql(f: &str) -> (String, Vec<Param>) {
        let assets = set("Assets").unwrap();
        let e = crate::odata::parse_filter(assets, f).unwrap();
        let mut params = Vec::new();
        let s = predicate(assets, &e, &mut params);
        assert_eq!(
            params.len(),
            e.bound_values(),
            "the domain counts what is bound"
        );
        (s, params)
    }

    #[test]
    fn every_set_and_property_is_stored_somewhere() {
        for s in crate::odata::SETS {
            let src = source(s);
            assert_eq!(src.columns.len(), s.props.len(), "{}", s.name);
            for p in s.props {
                assert!(!column(s, p).is_empty());
            }
        }
    }

    #[test]
    fn comparisons_logic_and_parentheses() {
        let (s, p) = sql("Category eq 'laptop' and (AvoidedKgCo2e gt 100 or not (RamGb le 8))");
        assert_eq!(
            s,
            "((category = ?1) AND ((avoided_kg_co2e > ?2) OR (NOT (ram_gb <= ?3))))"
        );
        assert_eq!(
            p,
            vec![
                Param::Text("laptop".into()),
                Param::Real(100.0),
                Param::Real(8.0)
            ]
        );
    }

    #[test]
    fn functions_dates_in_and_null() {
        let (s, p) = sql(
            "contains(Model,'50%') and startswith(Manufacturer,'Dell') and year(ErasedAt) eq 2026",
        );
        assert!(s.contains("model LIKE ?1 ESCAPE '\\'"), "{s}");
        assert_eq!(p[0], Param::Text("%50\\%%".into()));
        assert!(s.contains("CAST(substr(erased_at, 1, 4) AS INTEGER) = ?3"));
        let (s, p) = sql("ImportedAt ge 2026-01-01T00:00:00Z and ImportedAt lt 2026-02-01");
        assert_eq!(
            p,
            vec![
                Param::Text("2026-01-01T00:00:00.000Z".into()),
                Param::Text("2026-02-01T00:00:00.000Z".into())
            ]
        );
        assert!(s.contains("imported_at >= ?1"));
        let (s, _) =
            sql("Category in ('laptop', 'desktop') and Serial eq null and ProductId ne null");
        assert!(
            s.contains("category IN (?1, ?2)")
                && s.contains("serial IS NULL")
                && s.contains("product_id IS NOT NULL"),
            "{s}"
        );
        let (_, p) = sql("Model eq 'O''Brien'");
        assert_eq!(p, vec![Param::Text("O'Brien".into())]);
    }

    #[test]
    fn injection_is_data_not_sql() {
        let (s, p) = sql("Model eq 'x'') OR 1=1 --'");
        assert_eq!(s, "(model = ?1)");
        assert_eq!(p, vec![Param::Text("x') OR 1=1 --".into())]);
    }

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
        assert_eq!(params, vec![Param::Text("org_1".into())]);
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
