//! The route table: one row per endpoint (method, path template, who may call it, which
//! handler answers). Adding an endpoint is one row here, its handler, its store function and
//! its OpenAPI entry (README, "Adding an endpoint").
//!
//! The table is pure, so `resolve` is tested natively and a 404 (no such path) and a 405 (path
//! exists, wrong method) are told apart in one place. The handler column is compiled on wasm32
//! only, into `dispatch`, the one `match` from a route to its handler.

use super::access::Access;
use super::problem::ApiError;
use crate::version::{BASE_PATH, JWKS_PATH};

/// The path parameters a route matched (the segments under `{name}`), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<String>);

impl Params {
    /// The first parameter (`{id}`, `{org_id}`, `{version}`): every route with one has one.
    pub fn id(&self) -> &str {
        self.0.first().map(String::as_str).unwrap_or_default()
    }

    pub fn all(&self) -> &[String] {
        &self.0
    }
}

/// Declares `Route`, the table `resolve` reads, `Route::access` and (wasm32) `dispatch` from
/// one list of rows: `Variant: Access "METHOD" "template" => handler call;`. A template
/// starting with `/` is at the origin root; the others are under `BASE_PATH`; `{name}` matches
/// one segment. The handler call names the request context and the parameters by the two
/// identifiers given in `dispatch(rc, p)`.
macro_rules! routes {
    (
        dispatch($rc:ident, $p:ident);
        $( $variant:ident : $access:ident $method:literal $template:expr => $call:expr; )+
    ) => {
        /// Every endpoint the worker serves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Route { $( $variant ),+ }

        /// (method, template, route), in table order.
        const TABLE: &[(&str, &str, Route)] = &[ $( ($method, $template, Route::$variant) ),+ ];

        impl Route {
            /// Who may call the route, and whether it counts against a plan.
            pub fn access(self) -> Access {
                match self { $( Route::$variant => Access::$access ),+ }
            }
        }

        /// Calls the route's handler: the one place a route meets its code.
        #[cfg(target_arch = "wasm32")]
        pub(crate) async fn dispatch(
            route: Route,
            $p: Params,
            $rc: &mut super::http::RequestCtx,
        ) -> Result<worker::Response, ApiError> {
            #[allow(unused_imports)]
            use super::{
                account, account_links, admin, asset_import, assets, blancco, certificates, docs, exports, factor_sets,
                footprint, health, integrations, inventory, keys, members, odata, products, reference,
                pact, pact_host, reports, savings, signing_keys, usage, verify,
            };
            match route { $( Route::$variant => $call.await ),+ }
        }
    };
}

routes! {
    dispatch(rc, p);
    Health:                   Public        "GET"    "health"                             => health::get(rc);
    Jwks:                     Public        "GET"    JWKS_PATH                            => docs::jwks(rc);
    ReferenceCountries:       Public        "GET"    "reference/countries"                => reference::get(rc, reference::Doc::Countries);
    ReferenceGridFactors:     Public        "GET"    "reference/grid-factors"             => reference::get(rc, reference::Doc::GridFactors);
    ReferenceCategories:      Public        "GET"    "reference/categories"               => reference::get(rc, reference::Doc::Categories);
    Footprint:                Metered       "POST"   "footprint"                          => footprint::single(rc);
    FootprintBatch:           Metered       "POST"   "footprint/batch"                    => footprint::batch(rc);
    Savings:                  Metered       "POST"   "savings"                            => savings::create(rc);
    ProductSearch:            Metered       "GET"    "products/search"                    => products::search(rc);
    ProductIdentify:          Metered       "POST"   "products/identify"                  => products::identify(rc);
    Product:                  Metered       "GET"    "products/{id}"                      => products::get(rc, p.id());
    CertificateCreate:        Keyed         "POST"   "certificates"                       => certificates::create(rc);
    CertificateList:          Keyed         "GET"    "certificates"                       => certificates::list(rc);
    Certificate:              Keyed         "GET"    "certificates/{id}"                  => certificates::get(rc, p.id());
    CertificateRevoke:        Keyed         "DELETE" "certificates/{id}"                  => certificates::revoke(rc, p.id());
    CertificateVerify:        PublicMetered "GET"    "certificates/{id}/verify"           => verify::verify(rc, p.id());
    ReportCreate:             Keyed         "POST"   "reports"                            => reports::create(rc);
    ReportList:               Keyed         "GET"    "reports"                            => reports::list(rc);
    Report:                   Keyed         "GET"    "reports/{id}"                       => reports::get(rc, p.id());
    BlanccoCredentialsGet:    Keyed         "GET"    "integrations/blancco"               => integrations::get(rc);
    BlanccoCredentialsPut:    OrgAdmin      "PUT"    "integrations/blancco"               => integrations::put(rc);
    BlanccoCredentialsDelete: OrgAdmin      "DELETE" "integrations/blancco"               => integrations::delete(rc);
    BlanccoSync:              Keyed         "POST"   "integrations/blancco/sync"          => blancco::sync(rc);
    BlanccoJob:               Keyed         "GET"    "integrations/blancco/sync/{id}"     => blancco::job_status(rc, p.id());
    ExportCreate:             Keyed         "POST"   "exports"                            => exports::create(rc);
    Export:                   Keyed         "GET"    "exports/{id}"                       => exports::get(rc, p.id());
    ExportDelete:             Keyed         "DELETE" "exports/{id}"                       => exports::delete(rc, p.id());
    ODataService:             Enterprise    "GET"    "odata"                              => odata::serve(rc, p.all());
    ODataSet:                 Enterprise    "GET"    "odata/{resource}"                   => odata::serve(rc, p.all());
    ODataMetadata:            Enterprise    "GET"    "odata/{resource}/{sub}"             => odata::serve(rc, p.all());
    Usage:                    Identified    "GET"    "usage"                              => usage::get(rc);
    UsageHistory:             Identified    "GET"    "usage/history"                      => usage::history(rc);
    AssetCreate:              Keyed         "POST"   "assets"                             => assets::create(rc);
    AssetList:                Keyed         "GET"    "assets"                             => assets::list(rc);
    AssetImport:              Keyed         "POST"   "assets/import"                      => asset_import::create(rc);
    AssetImportJob:           Keyed         "GET"    "assets/import/{id}"                 => asset_import::status(rc, p.id());
    Asset:                    Keyed         "GET"    "assets/{id}"                        => assets::get(rc, p.id());
    AssetPatch:               Keyed         "PATCH"  "assets/{id}"                        => assets::patch(rc, p.id());
    AssetDelete:              Keyed         "DELETE" "assets/{id}"                        => assets::delete(rc, p.id());
    Inventory:                Keyed         "GET"    "inventory"                          => inventory::get(rc);
    InventorySettings:        Keyed         "GET"    "inventory/settings"                 => inventory::get_settings(rc);
    InventorySettingsPut:     OrgAdmin      "PUT"    "inventory/settings"                 => inventory::put_settings(rc);
    KeyCreate:                OrgAdmin      "POST"   "keys"                               => keys::create(rc);
    KeyList:                  OrgAdmin      "GET"    "keys"                               => keys::list(rc);
    KeyRevoke:                OrgAdmin      "DELETE" "keys/{id}"                          => keys::revoke(rc, p.id());
    KeyRoll:                  OrgAdmin      "POST"   "keys/{id}/roll"                     => keys::roll(rc, p.id());
    AuthSignup:               PublicMetered "POST"   "auth/signup"                        => account::signup(rc);
    AuthLogin:                PublicMetered "POST"   "auth/login"                         => account::login(rc);
    AuthLogout:               Session       "POST"   "auth/logout"                        => account::logout(rc);
    AuthMe:                   Session       "GET"    "auth/me"                            => account::me(rc);
    AuthPassword:             Session       "POST"   "auth/password"                      => account::change_password(rc);
    AuthVerifyEmail:          Session       "POST"   "auth/verify-email"                  => account_links::verify_email(rc);
    AuthAcceptInvite:         PublicMetered "POST"   "auth/accept-invite"                 => account_links::accept_invite(rc);
    MemberList:               Session       "GET"    "members"                            => members::list(rc);
    MemberInvite:             Owner         "POST"   "members/invites"                    => members::invite(rc);
    MemberInviteRevoke:       Owner         "DELETE" "members/invites/{id}"               => members::revoke_invite(rc, p.id());
    MemberRemove:             Owner         "DELETE" "members/{id}"                       => members::remove(rc, p.id());
    AdminVerifyUser:          Admin         "POST"   "admin/users/{email}/verify"         => account_links::admin_verify(rc, p.id());
    PactToken:                PublicMetered "POST"   "/pact/auth/token"                   => pact_host::token(rc);
    PactOpenIdConfiguration:  Public        "GET"    "/pact/.well-known/openid-configuration" => pact_host::openid_configuration(rc);
    PactFootprints:           Pact          "GET"    "/pact/3/footprints"                 => pact_host::list(rc);
    PactFootprint:            Pact          "GET"    "/pact/3/footprints/{id}"            => pact_host::get(rc, p.id());
    PactEvents:               Pact          "POST"   "/pact/3/events"                     => pact_host::events(rc);
    PactClientCreate:         OrgAdmin      "POST"   "pact/clients"                       => pact::create_client(rc);
    PactClientList:           OrgAdmin      "GET"    "pact/clients"                       => pact::list_clients(rc);
    PactClientRevoke:         OrgAdmin      "DELETE" "pact/clients/{id}"                  => pact::revoke_client(rc, p.id());
    PactProfilePut:           OrgAdmin      "PUT"    "pact/profile"                       => pact::put_profile(rc);
    PactProfile:              Keyed         "GET"    "pact/profile"                       => pact::get_profile(rc);
    PactPublish:              Keyed         "POST"   "pact/footprints"                    => pact::publish(rc);
    AdminCreateKey:           Admin         "POST"   "admin/keys"                         => admin::create_key(rc);
    AdminRevokeKey:           Admin         "DELETE" "admin/keys/{id}"                    => admin::revoke_key(rc, p.id());
    AdminVerifyAudit:         Admin         "GET"    "admin/orgs/{org_id}/audit/verify"   => admin::verify_audit(rc, p.id());
    AdminPutFactorSet:        Admin         "PUT"    "admin/factor-sets/{version}"        => factor_sets::put(rc, p.id());
    AdminDeleteFactorSet:     Admin         "DELETE" "admin/factor-sets/{version}"        => factor_sets::delete(rc, p.id());
    AdminDistrustSigningKey:  Admin         "POST"   "admin/signing-keys/{kid}/distrust"  => signing_keys::distrust(rc, p.id());
}

/// Every (method, path template under `BASE_PATH`) the table serves, for the OpenAPI
/// completeness test. (`GET /openapi.json` itself is a static asset: `openapi.rs`.)
pub fn templates() -> Vec<(&'static str, String)> {
    TABLE
        .iter()
        .filter(|(_, t, _)| !t.starts_with('/'))
        .map(|(m, t, _)| (*m, format!("/{t}")))
        .collect()
}

/// Resolve a request to its route and path parameters. HEAD is served wherever GET is (the
/// edge drops the body).
pub fn resolve(method: &str, path: &str) -> Result<(Route, Params), ApiError> {
    // Templates starting with `/` are matched against the whole path, the others against
    // what follows BASE_PATH.
    let (rooted, rest) = match path.strip_prefix(BASE_PATH) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => (false, rest),
        _ => (true, path),
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let lookup = if method == "HEAD" { "GET" } else { method };
    let mut allowed: Vec<&str> = Vec::new();
    let mut matched: Option<&str> = None;
    for (m, template, route) in TABLE {
        if template.starts_with('/') != rooted || matched.is_some_and(|t| t != *template) {
            continue;
        }
        let Some(params) = matches(template, &segments) else {
            continue;
        };
        if *m == lookup {
            return Ok((*route, params));
        }
        matched = Some(template);
        allowed.push(m);
    }
    if matched.is_none() {
        return Err(not_found(path));
    }
    if allowed.contains(&"GET") {
        allowed.push("HEAD");
    }
    allowed.push("OPTIONS");
    Err(ApiError::method_not_allowed(method, &allowed))
}

/// The parameters (percent-decoded), if `template` matches the path's segments.
fn matches(template: &str, segments: &[&str]) -> Option<Params> {
    let mut params = Vec::new();
    let mut parts = template.split('/').filter(|s| !s.is_empty());
    for segment in segments {
        match parts.next()? {
            p if p.starts_with('{') => params.push(percent_decode(segment)),
            p if p == *segment => {}
            _ => return None,
        }
    }
    parts.next().is_none().then_some(Params(params))
}

/// Decode `%XX` escapes of a path segment (invalid escapes are kept as sent).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
        let none = Params::default;
        for (method, path, route, params) in [
            ("GET", "/api/v1/health", Route::Health, none()),
            ("HEAD", "/api/v1/health/", Route::Health, none()),
            (
                "POST",
                "/api/v1/footprint/batch",
                Route::FootprintBatch,
                none(),
            ),
            (
                "PUT",
                "/api/v1/admin/factor-sets/2027.1",
                Route::AdminPutFactorSet,
                Params(vec!["2027.1".into()]),
            ),
        ] {
            assert_eq!(
                resolve(method, path),
                Ok((route, params)),
                "{method} {path}"
            );
        }
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
    fn parameters_and_the_origin_root() {
        let (route, p) = resolve("GET", "/api/v1/certificates/cert_1/verify").unwrap();
        assert_eq!((route, p.id()), (Route::CertificateVerify, "cert_1"));
        let (_, p) = resolve("GET", "/api/v1/admin/orgs/org_1%3Atest/audit/verify").unwrap();
        assert_eq!(p.id(), "org_1:test", "parameters are percent-decoded, once");
        let (_, p) = resolve("GET", "/api/v1/products/a%2Fb%2541").unwrap();
        assert_eq!(p.id(), "a/b%41");
        let (route, p) = resolve("GET", "/api/v1/odata/Calculations/$count").unwrap();
        assert_eq!(route, Route::ODataMetadata);
        assert_eq!(p.all(), ["Calculations", "$count"]);
        assert_eq!(resolve("GET", JWKS_PATH).unwrap().0, Route::Jwks);
        assert_eq!(resolve("POST", JWKS_PATH).unwrap_err().status, 405);
        // The origin-root template is not also served under the base path, and a path that
        // only starts with the base path's characters is not under it.
        assert_eq!(
            resolve("GET", "/api/v1/.well-known/jwks.json")
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(resolve("GET", "/api/v1health").unwrap_err().status, 404);
        // The first template that matches decides: `products/search` is not a product id.
        assert_eq!(
            resolve("POST", "/api/v1/products/search")
                .unwrap_err()
                .headers[0]
                .1,
            "GET, HEAD, OPTIONS"
        );
    }

    #[test]
    fn every_route_is_documented() {
        let doc: serde_json::Value =
            serde_json::from_str(super::super::openapi::DOCUMENT).expect("openapi.json parses");
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
        for (method, path) in templates() {
            let op = &doc["paths"][&path][method.to_ascii_lowercase()];
            assert!(
                op.is_object(),
                "{method} {path} is missing from openapi.json"
            );
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
        }
    }

    #[test]
    fn templates_list_every_method() {
        let t = templates();
        assert!(t.contains(&("GET", "/health".to_string())));
    }
}
