//! What a domain module says about bad input: [`FieldError`] names one bad field and why.
//!
//! It lives here, below the HTTP layer, so that parsers and engines (`lca`, `catalog`,
//! `blancco`, `odata`) can report every bad field without depending on `api`; the API's one
//! error type (`api::problem::ApiError`) carries a list of them into a 4xx problem.

use serde::Serialize;

/// One bad input field: a JSON-pointer-like dotted path (`use.country`, `devices[3].category`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

use serde_json::{Map, Value};

/// A member path: `key` at the top level, `at.key` below it.
pub fn path(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// Every member of `o` that is not one of `known`, as an error naming it and what is
/// expected (the one check of unknown fields that every parser uses).
pub fn unknown_fields(o: &Map<String, Value>, known: &[&str], at: &str) -> Vec<FieldError> {
    o.keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| {
            FieldError::new(
                path(at, k),
                format!("unknown field; expected one of: {}", known.join(", ")),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let v = json!({"a": 1, "b": 2, "c": 3});
        let errs = unknown_fields(v.as_object().unwrap(), &["a"], "use");
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["use.b", "use.c"]);
        assert_eq!(errs[0].message, "unknown field; expected one of: a");
        assert!(unknown_fields(v.as_object().unwrap(), &["a", "b", "c"], "").is_empty());
    }
}
