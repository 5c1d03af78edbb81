//! The OpenAPI 3.1 document, kept as a JSON file beside this module and reviewed like code.
//! It is served as a static asset at `/api/v1/openapi.json` (`scripts/build.sh` copies it
//! into `build/assets`, its headers are in `docs/site/_headers`): 224 KB that the worker's
//! wasm does not carry (34 KB of its gzip budget) and no request pays CPU for. The route
//! table's tests check that every route is documented; the end-to-end suite validates the
//! served document with a real validator.

/// The document, for the native tests.
#[cfg(test)]
pub const DOCUMENT: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    use super::*;

    /// Postman and the docs' console need an example for every request body.
    #[test]
    fn every_request_body_has_an_example() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        let has = |s: &serde_json::Value| -> bool {
            let s = match s["$ref"].as_str() {
                Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
                None => s,
            };
            s.get("example").is_some() || s.get("examples").is_some()
        };
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(content) = op["requestBody"]["content"].as_object() else {
                    continue;
                };
                for (media, c) in content {
                    assert!(
                        c.get("example").is_some()
                            || c.get("examples").is_some()
                            || has(&c["schema"]),
                        "{method} {path} ({media}) has no example"
                    );
                }
            }
        }
    }

    /// The enums the document states are the ones the worker enforces (`scripts/contract.sh`
    /// checks the rest of the document against the running worker).
    #[test]
    fn country_and_category_enums_match_the_factor_set() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        let listed = |name: &str| -> std::collections::BTreeSet<String> {
            doc["components"]["schemas"][name]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} has an enum"))
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        let f = crate::factors::FactorSet::builtin();
        let mut codes = std::collections::BTreeSet::new();
        for g in &f.grid {
            codes.insert(g.code.clone());
            codes.extend(g.alpha3.clone());
        }
        assert_eq!(listed("CountryCode"), codes);
        for c in listed("CountryCode") {
            assert!(f.grid(&c).is_some(), "{c} resolves");
        }
        let cats: std::collections::BTreeSet<String> =
            f.category_ids().into_iter().map(String::from).collect();
        assert_eq!(listed("CategoryId"), cats);
        let ids: std::collections::BTreeSet<String> = crate::catalog::Catalogue::builtin()
            .products
            .iter()
            .map(|p| p.id.clone())
            .collect();
        assert_eq!(listed("CatalogueProductId"), ids);
    }
}
