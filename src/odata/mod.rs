//! OData v4 read-only feed: the entity model, CSDL `$metadata`, and query options parsed
//! into SQL with bound parameters (never string-built from the request). Pure; the edge
//! layer runs the SQL on D1.

pub mod filter;
pub mod model;
pub mod proof;
pub mod serve;

use std::fmt::Write as _;

pub use filter::{key_filter, parse_filter, Expr};
pub use model::{set, Edm, EntitySet, Prop, QueryError, SETS};

/// Rows per server-driven page.
pub const PAGE_SIZE: usize = 1000;

pub const NAMESPACE: &str = "CarbonTrace";

/// The CSDL document (XML: Tableau needs it).
pub fn metadata() -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">\n<edmx:DataServices>\n",
    );
    let _ = writeln!(
        x,
        "<Schema Namespace=\"{NAMESPACE}\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">"
    );
    for s in SETS {
        let _ = writeln!(x, "<EntityType Name=\"{}\">", s.entity_type);
        let _ = writeln!(x, "<Key><PropertyRef Name=\"{}\"/></Key>", s.key);
        for p in s.props {
            let nullable = if p.name == s.key {
                " Nullable=\"false\""
            } else {
                ""
            };
            let _ = writeln!(
                x,
                "<Property Name=\"{}\" Type=\"{}\"{nullable}/>",
                p.name,
                p.edm.name()
            );
        }
        x.push_str("</EntityType>\n");
    }
    x.push_str("<EntityContainer Name=\"Default\">\n");
    for s in SETS {
        let _ = writeln!(
            x,
            "<EntitySet Name=\"{}\" EntityType=\"{NAMESPACE}.{}\"/>",
            s.name, s.entity_type
        );
    }
    x.push_str("</EntityContainer>\n</Schema>\n</edmx:DataServices>\n</edmx:Edmx>\n");
    x
}

/// Parsed query options.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub select: Vec<&'static Prop>,
    pub filter: Option<Expr>,
    pub orderby: Vec<(&'static Prop, bool)>,
    pub top: Option<usize>,
    pub skip: usize,
    pub count: bool,
    /// Rows already served by earlier pages (from `$skiptoken`).
    pub offset: usize,
}

/// Parse the query options of a request on `set`. Unknown `$` options are refused;
/// other parameters (like `api_key`) are ignored.
/// Longest value of one query option, and most options in one request.
pub const MAX_OPTION_LEN: usize = 4096;
pub const MAX_OPTIONS: usize = 32;
/// Most items in `$select` or `$orderby`.
pub const MAX_ITEMS: usize = 32;

pub fn parse_query(
    set: &'static EntitySet,
    pairs: &[(String, String)],
) -> Result<Query, QueryError> {
    let mut q = Query::default();
    if pairs.len() > MAX_OPTIONS {
        return Err(QueryError::new(
            "query",
            format!("more than {MAX_OPTIONS} query options (limit)"),
        ));
    }
    for (k, v) in pairs {
        if v.len() > MAX_OPTION_LEN {
            return Err(QueryError::new(
                k,
                format!("longer than {MAX_OPTION_LEN} bytes (limit)"),
            ));
        }
        if matches!(k.as_str(), "$select" | "$orderby") && v.split(',').count() > MAX_ITEMS {
            return Err(QueryError::new(
                k,
                format!("more than {MAX_ITEMS} items (limit)"),
            ));
        }
        match k.as_str() {
            "$select" => {
                for name in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if name == "*" {
                        q.select.clear();
                        break;
                    }
                    let p = set.prop(name).ok_or_else(|| {
                        QueryError::new(
                            "$select",
                            format!("unknown property `{name}` of {}", set.name),
                        )
                    })?;
                    q.select.push(p);
                }
            }
            "$filter" => q.filter = Some(parse_filter(set, v)?),
            "$orderby" => {
                for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let mut parts = item.split_whitespace();
                    let name = parts.next().unwrap_or("");
                    let p = set.prop(name).ok_or_else(|| {
                        QueryError::new(
                            "$orderby",
                            format!("unknown property `{name}` of {}", set.name),
                        )
                    })?;
                    let desc = match parts.next() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(other) => {
                            return Err(QueryError::new(
                                "$orderby",
                                format!("expected asc or desc after {name}, found `{other}`"),
                            ))
                        }
                    };
                    q.orderby.push((p, desc));
                }
            }
            "$top" => {
                q.top = Some(
                    v.parse()
                        .map_err(|_| QueryError::new("$top", "must be a non-negative integer"))?,
                )
            }
            "$skip" => {
                q.skip = v
                    .parse()
                    .map_err(|_| QueryError::new("$skip", "must be a non-negative integer"))?
            }
            "$count" => {
                q.count = match v.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(QueryError::new("$count", "must be true or false")),
                }
            }
            "$format" if v != "json" && !v.starts_with("application/json") => {
                return Err(QueryError::new("$format", "only json is served"));
            }
            "$format" => {}
            "$skiptoken" => {
                q.offset = decode_skiptoken(v).ok_or_else(|| {
                    QueryError::new("$skiptoken", "not a token this service issued")
                })?
            }
            other if other.starts_with('$') => {
                return Err(QueryError::new(
                    other,
                    format!("the query option {other} is not supported by this read-only feed"),
                ))
            }
            _ => {}
        }
    }
    Ok(q)
}

pub fn encode_skiptoken(offset: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_skiptoken(t: &str) -> Option<usize> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}

/// The `@odata.context` of a response.
pub fn context(base: &str, set: &EntitySet, q: &Query) -> String {
    if q.select.is_empty() {
        format!("{base}/$metadata#{}", set.name)
    } else {
        let names: Vec<&str> = q.select.iter().map(|p| p.name).collect();
        format!("{base}/$metadata#{}({})", set.name, names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn option_lengths_and_item_counts_are_bounded() {
        let s = set("Assets").unwrap();
        let long = "a".repeat(MAX_OPTION_LEN + 1);
        assert!(parse_query(s, &pairs(&[("$filter", &long)]))
            .unwrap_err()
            .message
            .contains("limit"));
        let many = vec!["Model"; MAX_ITEMS + 1].join(",");
        for opt in ["$select", "$orderby"] {
            let e = parse_query(s, &pairs(&[(opt, &many)])).unwrap_err();
            assert_eq!(e.target, opt);
        }
        let options: Vec<(String, String)> = (0..=MAX_OPTIONS)
            .map(|i| (format!("x{i}"), "1".into()))
            .collect();
        assert!(parse_query(s, &options).is_err());
        // $skip past what 32 bits hold still pages (saturating), no overflow.
        let q = parse_query(
            s,
            &pairs(&[
                ("$skip", "4294967295"),
                ("$skiptoken", &encode_skiptoken(4000)),
            ]),
        )
        .unwrap();
        assert_eq!((q.skip, q.offset), (4_294_967_295, 4000));
    }

    #[test]
    fn metadata_has_keys_and_types() {
        let m = metadata();
        assert!(m.contains("<EntityType Name=\"Asset\">"));
        assert!(m.contains("<Key><PropertyRef Name=\"DocumentId\"/></Key>"));
        assert!(m.contains("<Property Name=\"ErasedAt\" Type=\"Edm.DateTimeOffset\"/>"));
        assert!(m.contains("<EntitySet Name=\"AuditLog\" EntityType=\"CarbonTrace.AuditEntry\"/>"));
        assert_eq!(m.matches("<Key>").count(), SETS.len());
    }

    #[test]
    fn bad_options_name_themselves() {
        let s = set("Assets").unwrap();
        assert_eq!(
            parse_query(s, &pairs(&[("$expand", "x")]))
                .unwrap_err()
                .target,
            "$expand"
        );
        assert_eq!(
            parse_query(s, &pairs(&[("$select", "Nope")]))
                .unwrap_err()
                .target,
            "$select"
        );
        assert_eq!(
            parse_query(s, &pairs(&[("$top", "-1")]))
                .unwrap_err()
                .target,
            "$top"
        );
        assert_eq!(
            parse_query(s, &pairs(&[("$skiptoken", "zz")]))
                .unwrap_err()
                .target,
            "$skiptoken"
        );
        assert!(parse_query(s, &pairs(&[("api_key", "k"), ("$format", "json")])).is_ok());
        let t = encode_skiptoken(3000);
        assert_eq!(
            parse_query(s, &pairs(&[("$skiptoken", &t)]))
                .unwrap()
                .offset,
            3000
        );
    }
}
