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
