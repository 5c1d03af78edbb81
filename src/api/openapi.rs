//! The OpenAPI 3.1 document, kept as a JSON file beside this module and compiled in, so
//! serving it costs nothing and it is reviewed like code. A native test checks that every
//! route of the table is documented; the end-to-end suite validates it with a real validator.

/// The document, served verbatim by `GET /api/v1/openapi.json`.
pub const DOCUMENT: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::routes::templates;

    #[test]
    fn every_route_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("openapi.json parses");
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
}
