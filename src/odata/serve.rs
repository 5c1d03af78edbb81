//! What an OData request asks for, and the bodies that answer it: the path and query options
//! planned into a [`Plan`] (or the OData error to answer), and the service document, an entity
//! and a page shaped from the store's rows. Pure, so the feed's rules (paths, keys, paging,
//! `nextLink`) are tested natively; the handler reads the rows, records the read and signs.

use serde_json::{json, Map, Value};

use super::filter::key_filter;
use super::model::{set, Edm, EntitySet, SETS};
use super::{context, encode_skiptoken, parse_query, Query, QueryError};

/// A request the feed refuses, in OData's error format.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub error: QueryError,
}

fn not_found(target: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        status: 404,
        code: "NotFound",
        error: QueryError::new(target, message),
    }
}

fn bad_request(error: QueryError) -> Refusal {
    Refusal {
        status: 400,
        code: "BadRequest",
        error,
    }
}

/// What the request reads.
#[derive(Debug)]
pub enum Plan {
    /// The service document (`/odata`).
    Service,
    /// The CSDL (`/odata/$metadata`).
    Metadata,
    /// One entity by key (`/odata/Set('id')`): the query holds the key's filter and `$top=1`.
    Entity {
        set: &'static EntitySet,
        query: Query,
        key: String,
    },
    /// `/odata/Set/$count`.
    Count {
        set: &'static EntitySet,
        query: Query,
    },
    /// A page of `/odata/Set`.
    Page {
        set: &'static EntitySet,
        query: Query,
    },
}

/// Plan a request from its path segments after `/odata` and its query pairs (both decoded).
pub fn plan(segments: &[String], pairs: &[(String, String)]) -> Result<Plan, Refusal> {
    let (name, sub) = match segments {
        [] => return Ok(Plan::Service),
        [m] if m == "$metadata" => return Ok(Plan::Metadata),
        [name] => (name, None),
        [name, sub] => (name, Some(sub.as_str())),
        _ => return Err(not_found("path", "no such OData resource")),
    };
    let (set_name, key) = match name.split_once('(') {
        Some((s, rest)) => (s, Some(rest.trim_end_matches(')').to_string())),
        None => (name.as_str(), None),
    };
    let es =
        set(set_name).ok_or_else(|| not_found("path", format!("no entity set `{set_name}`")))?;
    let is_count = match sub {
        None => false,
        Some("$count") => true,
        Some(other) => {
            return Err(not_found(
                "path",
                format!("no resource `{other}` under {set_name}"),
            ))
        }
    };
    let mut query = parse_query(es, pairs).map_err(bad_request)?;
    match key {
        Some(k) => {
            // The key is one literal (quoted text or a number), never an expression.
            let f =
                key_filter(es, &k).map_err(|e| bad_request(QueryError::new("key", e.message)))?;
            query.filter = Some(f);
            query.top = Some(1);
            Ok(Plan::Entity {
                set: es,
                query,
                key: k,
            })
        }
        None if is_count => Ok(Plan::Count { set: es, query }),
        None => Ok(Plan::Page { set: es, query }),
    }
}

/// The service document: every entity set.
pub fn service_document(base: &str) -> Value {
    let value: Vec<Value> = SETS
        .iter()
        .map(|s| json!({ "name": s.name, "kind": "EntitySet", "url": s.name }))
        .collect();
    json!({ "@odata.context": format!("{base}/$metadata"), "value": value })
}

/// Shape a stored row: booleans as booleans, in the property order of the set.
pub fn shape(set: &EntitySet, mut row: Map<String, Value>) -> Value {
    let mut out = Map::new();
    for p in set.props {
        if let Some(v) = row.remove(p.name) {
            let v = match (p.edm, &v) {
                (Edm::Boolean, Value::Number(n)) => Value::Bool(n.as_f64().unwrap_or(0.0) != 0.0),
                _ => v,
            };
            out.insert(p.name.to_string(), v);
        }
    }
    Value::Object(out)
}

/// One entity, with its context.
pub fn entity(base: &str, set: &EntitySet, row: Map<String, Value>) -> Value {
    let mut v = shape(set, row);
    v["@odata.context"] = json!(format!("{base}/$metadata#{}/$entity", set.name));
    v
}

/// A page: `rows` as read (up to `limit + 1`: one more than served tells that more remain),
/// the count if asked for, and `@odata.nextLink` from `next_link(skiptoken)` while rows remain
/// and the client's `$top` is not reached. Returns the body and the rows served.
pub fn page(
    base: &str,
    set: &EntitySet,
    q: &Query,
    mut rows: Vec<Map<String, Value>>,
    limit: usize,
    count: Option<u64>,
    next_link: impl FnOnce(&str) -> String,
) -> (Value, usize) {
    let more = rows.len() > limit && q.top.is_none_or(|t| q.offset + limit < t);
    rows.truncate(limit);
    let n = rows.len();
    let mut b = Map::new();
    b.insert("@odata.context".into(), json!(context(base, set, q)));
    if let Some(c) = count {
        b.insert("@odata.count".into(), json!(c));
    }
    b.insert(
        "value".into(),
        Value::Array(rows.into_iter().map(|r| shape(set, r)).collect()),
    );
    if more {
        b.insert(
            "@odata.nextLink".into(),
            json!(next_link(&encode_skiptoken(q.offset + n))),
        );
    }
    (Value::Object(b), n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn paths_plan_to_what_they_read() {
        assert!(matches!(plan(&[], &[]), Ok(Plan::Service)));
        assert!(matches!(
            plan(&segs(&["$metadata"]), &[]),
            Ok(Plan::Metadata)
        ));
        let p = plan(&segs(&["Calculations"]), &[("$top".into(), "5".into())]).unwrap();
        assert!(
            matches!(p, Plan::Page { set, query } if set.name == "Calculations" && query.top == Some(5))
        );
        assert!(matches!(
            plan(&segs(&["Calculations", "$count"]), &[]),
            Ok(Plan::Count { .. })
        ));
        let Ok(Plan::Entity { query, key, .. }) = plan(&segs(&["Calculations('c1')"]), &[]) else {
            panic!("a key is an entity")
        };
        assert_eq!((key.as_str(), query.top), ("'c1'", Some(1)));
        assert!(query.filter.is_some());
    }

    #[test]
    fn what_is_refused_and_how() {
        let status = |s: &[&str], q: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = q
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            plan(&segs(s), &pairs).unwrap_err().status
        };
        assert_eq!(status(&["Nope"], &[]), 404);
        assert_eq!(status(&["Calculations", "x"], &[]), 404);
        assert_eq!(status(&["a", "b", "c"], &[]), 404);
        assert_eq!(status(&["Calculations"], &[("$top", "-1")]), 400);
        assert_eq!(status(&["Calculations(1 or 1 eq 1)"], &[]), 400);
    }

    #[test]
    fn a_page_links_to_the_next_only_while_rows_remain() {
        let Plan::Page { set, query } = plan(&segs(&["Calculations"]), &[]).unwrap() else {
            panic!()
        };
        let rows = |n: usize| -> Vec<Map<String, Value>> {
            (0..n)
                .map(|i| {
                    let mut m = Map::new();
                    m.insert(set.props[0].name.into(), json!(format!("r{i}")));
                    m
                })
                .collect()
        };
        let (body, n) = page("b", set, &query, rows(3), 2, Some(9), |t| {
            format!("next?{t}")
        });
        assert_eq!(n, 2);
        assert_eq!(body["value"].as_array().unwrap().len(), 2);
        assert_eq!(body["@odata.count"], 9);
        assert_eq!(
            body["@odata.nextLink"],
            format!("next?{}", encode_skiptoken(2))
        );
        let (body, n) = page("b", set, &query, rows(2), 2, None, |_| unreachable!());
        assert_eq!(n, 2);
        assert!(body.get("@odata.nextLink").is_none() && body.get("@odata.count").is_none());
        assert_eq!(
            service_document("b")["value"].as_array().unwrap().len(),
            SETS.len()
        );
    }
}
