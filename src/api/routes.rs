//! The route table: which endpoint a method and path name. Pure, so it is tested natively,
//! and so a 404 (no such path) and a 405 (path exists, wrong method) are told apart in one place.

use super::problem::ApiError;
use crate::version::BASE_PATH;

/// Every endpoint the worker serves. Path parameters are carried in the variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    OpenApi,
    /// `GET /.well-known/jwks.json`, at the origin root (where JOSE tooling looks).
    Jwks,
    Footprint,
    FootprintBatch,
    Savings,
    ReferenceCountries,
    ReferenceGridFactors,
    ReferenceCategories,
    Usage,
    ProductSearch,
    ProductIdentify,
    Product(String),
    CertificateCreate,
    Certificate(String),
    CertificateRevoke(String),
    CertificateVerify(String),
    ReportCreate,
    Report(String),
    BlanccoSync,
    BlanccoJob(String),
    BlanccoCredentialsGet,
    BlanccoCredentialsPut,
    BlanccoCredentialsDelete,
    ExportCreate,
    Export(String),
    ExportDelete(String),
    OData(Vec<String>),
    KeyCreate,
    KeyList,
    KeyRevoke(String),
    KeyRoll(String),
    AdminPutFactorSet(String),
    AdminDeleteFactorSet(String),
    AdminCreateKey,
    AdminRevokeKey(String),
    AdminVerifyAudit(String),
}

/// Builds the route from the path parameters (the segments matched by `{name}`).
type Build = fn(&[&str]) -> Route;

/// One row of the table: a path pattern (`{name}` matches one segment) and what each method maps to.
struct Entry {
    pattern: &'static [&'static str],
    methods: &'static [(&'static str, Build)],
}

const TABLE: &[Entry] = &[
    Entry {
        pattern: &["health"],
        methods: &[("GET", |_| Route::Health)],
    },
    Entry {
        pattern: &["openapi.json"],
        methods: &[("GET", |_| Route::OpenApi)],
    },
    Entry {
        pattern: &["footprint"],
        methods: &[("POST", |_| Route::Footprint)],
    },
    Entry {
        pattern: &["footprint", "batch"],
        methods: &[("POST", |_| Route::FootprintBatch)],
    },
    Entry {
        pattern: &["savings"],
        methods: &[("POST", |_| Route::Savings)],
    },
    Entry {
        pattern: &["reference", "countries"],
        methods: &[("GET", |_| Route::ReferenceCountries)],
    },
    Entry {
        pattern: &["reference", "grid-factors"],
        methods: &[("GET", |_| Route::ReferenceGridFactors)],
    },
    Entry {
        pattern: &["reference", "categories"],
        methods: &[("GET", |_| Route::ReferenceCategories)],
    },
    Entry {
        pattern: &["products", "search"],
        methods: &[("GET", |_| Route::ProductSearch)],
    },
    Entry {
        pattern: &["products", "identify"],
        methods: &[("POST", |_| Route::ProductIdentify)],
    },
    Entry {
        pattern: &["products", "{id}"],
        methods: &[("GET", |p| Route::Product(p[0].to_string()))],
    },
    Entry {
        pattern: &["certificates"],
        methods: &[("POST", |_| Route::CertificateCreate)],
    },
    Entry {
        pattern: &["certificates", "{id}"],
        methods: &[
            ("GET", |p| Route::Certificate(p[0].to_string())),
            ("DELETE", |p| Route::CertificateRevoke(p[0].to_string())),
        ],
    },
    Entry {
        pattern: &["certificates", "{id}", "verify"],
        methods: &[("GET", |p| Route::CertificateVerify(p[0].to_string()))],
    },
    Entry {
        pattern: &["reports"],
        methods: &[("POST", |_| Route::ReportCreate)],
    },
    Entry {
        pattern: &["reports", "{id}"],
        methods: &[("GET", |p| Route::Report(p[0].to_string()))],
    },
    Entry {
        pattern: &["integrations", "blancco"],
        methods: &[
            ("GET", |_| Route::BlanccoCredentialsGet),
            ("PUT", |_| Route::BlanccoCredentialsPut),
            ("DELETE", |_| Route::BlanccoCredentialsDelete),
        ],
    },
    Entry {
        pattern: &["integrations", "blancco", "sync"],
        methods: &[("POST", |_| Route::BlanccoSync)],
    },
    Entry {
        pattern: &["integrations", "blancco", "sync", "{id}"],
        methods: &[("GET", |p| Route::BlanccoJob(p[0].to_string()))],
    },
    Entry {
        pattern: &["exports"],
        methods: &[("POST", |_| Route::ExportCreate)],
    },
    Entry {
        pattern: &["exports", "{id}"],
        methods: &[
            ("GET", |p| Route::Export(p[0].to_string())),
            ("DELETE", |p| Route::ExportDelete(p[0].to_string())),
        ],
    },
    Entry {
        pattern: &["odata"],
        methods: &[("GET", |_| Route::OData(Vec::new()))],
    },
    Entry {
        pattern: &["odata", "{resource}"],
        methods: &[("GET", |p| {
            Route::OData(p.iter().map(|s| s.to_string()).collect())
        })],
    },
    Entry {
        pattern: &["odata", "{resource}", "{sub}"],
        methods: &[("GET", |p| {
            Route::OData(p.iter().map(|s| s.to_string()).collect())
        })],
    },
    Entry {
        pattern: &["usage"],
        methods: &[("GET", |_| Route::Usage)],
    },
    Entry {
        pattern: &["keys"],
        methods: &[("POST", |_| Route::KeyCreate), ("GET", |_| Route::KeyList)],
    },
    Entry {
        pattern: &["keys", "{id}"],
        methods: &[("DELETE", |p| Route::KeyRevoke(p[0].to_string()))],
    },
    Entry {
        pattern: &["keys", "{id}", "roll"],
        methods: &[("POST", |p| Route::KeyRoll(p[0].to_string()))],
    },
    Entry {
        pattern: &["admin", "keys"],
        methods: &[("POST", |_| Route::AdminCreateKey)],
    },
    Entry {
        pattern: &["admin", "keys", "{id}"],
        methods: &[("DELETE", |p| Route::AdminRevokeKey(p[0].to_string()))],
    },
    Entry {
        pattern: &["admin", "orgs", "{org_id}", "audit", "verify"],
        methods: &[("GET", |p| Route::AdminVerifyAudit(p[0].to_string()))],
    },
    Entry {
        pattern: &["admin", "factor-sets", "{version}"],
        methods: &[
            ("PUT", |p| Route::AdminPutFactorSet(p[0].to_string())),
            ("DELETE", |p| Route::AdminDeleteFactorSet(p[0].to_string())),
        ],
    },
];

/// Every (method, path template) the table serves, for the OpenAPI completeness test.
pub fn templates() -> Vec<(&'static str, String)> {
    TABLE
        .iter()
        .flat_map(|e| {
            let path = format!("/{}", e.pattern.join("/"));
            e.methods.iter().map(move |(m, _)| (*m, path.clone()))
        })
        .collect()
}

/// Resolve a request. HEAD is served wherever GET is (the edge drops the body).
/// Where the published signing keys are, at the origin root.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

pub fn resolve(method: &str, path: &str) -> Result<Route, ApiError> {
    if path == JWKS_PATH {
        return match method {
            "GET" | "HEAD" => Ok(Route::Jwks),
            _ => Err(ApiError::method_not_allowed(
                method,
                &["GET", "HEAD", "OPTIONS"],
            )),
        };
    }
    let Some(rest) = path.strip_prefix(BASE_PATH) else {
        return Err(not_found(path));
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let lookup = if method == "HEAD" { "GET" } else { method };
    for entry in TABLE {
        if !matches(entry.pattern, &segments) {
            continue;
        }
        let params: Vec<&str> = entry
            .pattern
            .iter()
            .zip(&segments)
            .filter(|(p, _)| p.starts_with('{'))
            .map(|(_, s)| *s)
            .collect();
        if let Some((_, build)) = entry.methods.iter().find(|(m, _)| *m == lookup) {
            return Ok(build(&params));
        }
        let mut allowed: Vec<&str> = entry.methods.iter().map(|(m, _)| *m).collect();
        if allowed.contains(&"GET") {
            allowed.push("HEAD");
        }
        allowed.push("OPTIONS");
        return Err(ApiError::method_not_allowed(method, &allowed));
    }
    Err(not_found(path))
}

fn matches(pattern: &[&str], segments: &[&str]) -> bool {
    pattern.len() == segments.len()
        && pattern
            .iter()
            .zip(segments)
            .all(|(p, s)| p.starts_with('{') || p == s)
}

fn not_found(path: &str) -> ApiError {
    ApiError::not_found(format!(
        "No route matches `{path}`. See {BASE_PATH}/openapi.json for every endpoint."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_known_routes() {
        assert_eq!(resolve("GET", "/api/v1/health"), Ok(Route::Health));
        assert_eq!(resolve("HEAD", "/api/v1/health/"), Ok(Route::Health));
        assert_eq!(resolve("GET", "/api/v1/openapi.json"), Ok(Route::OpenApi));
        assert_eq!(
            resolve("POST", "/api/v1/footprint/batch"),
            Ok(Route::FootprintBatch)
        );
        assert_eq!(
            resolve("PUT", "/api/v1/admin/factor-sets/2027.1"),
            Ok(Route::AdminPutFactorSet("2027.1".into()))
        );
    }

    #[test]
    fn unknown_path_is_404_and_wrong_method_is_405() {
        assert_eq!(resolve("GET", "/api/v1/nope").unwrap_err().status, 404);
        assert_eq!(resolve("GET", "/health").unwrap_err().status, 404);
        assert_eq!(resolve("GET", "/api/v2/health").unwrap_err().status, 404);
        let e = resolve("DELETE", "/api/v1/health").unwrap_err();
        assert_eq!(e.status, 405);
        assert_eq!(e.headers[0].1, "GET, HEAD, OPTIONS");
        let e = resolve("GET", "/api/v1/footprint").unwrap_err();
        assert_eq!(e.headers[0].1, "POST, OPTIONS");
    }

    #[test]
    fn templates_list_every_method() {
        let t = templates();
        assert!(t.contains(&("GET", "/health".to_string())));
        assert!(t.contains(&("GET", "/openapi.json".to_string())));
    }
}
