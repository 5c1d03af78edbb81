//! The one error type of the API, rendered as RFC 9457 `application/problem+json`.
//!
//! Every failure a client can see is an [`ApiError`]: the edge layer never builds an error
//! body by hand. `code` is stable and snake_case (clients branch on it); `errors[]` names
//! every bad field of a request at once, so a client can fix them all in one round trip.

use serde_json::{json, Map, Value};

/// Base of the `type` URI of every problem; the page documents the code.
pub const PROBLEM_TYPE_BASE: &str = "https://carbontrace.cloud/problems/";

pub use crate::validation::FieldError;

/// A problem the API answers with. Build it with the constructors below.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra members for the body (e.g. `allowed` methods, `remaining` quota).
    pub extensions: Map<String, Value>,
    /// Extra response headers (e.g. `Allow`, `Retry-After`, `WWW-Authenticate`).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(
        status: u16,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            extensions: Map::new(),
            headers: Vec::new(),
        }
    }

    /// The same problem with one more response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 400: a parser bound was passed (nesting depth, element or token count, length). The
    /// problem names the field and the bound, so a client knows what to cut.
    pub fn limit_exceeded(field: &str, what: &str, limit: usize) -> Self {
        let mut e = Self::new(
            400,
            "limit_exceeded",
            "Limit exceeded",
            format!("{field}: more than {limit} {what}"),
        );
        e.errors.push(FieldError::new(field, e.detail.clone()));
        e.extensions.insert("limit".into(), json!(limit));
        e
    }

    /// 422: the body parsed but fields are invalid. `errors` must name each of them.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut e = Self::new(422, "validation_failed", "Invalid request", detail);
        e.errors = errors;
        e
    }

    /// 400: the body is not JSON, or not the JSON shape expected.
    pub fn malformed_json(detail: impl Into<String>) -> Self {
        let mut e = Self::new(400, "malformed_json", "Malformed JSON body", detail);
        e.errors.push(FieldError::new("body", e.detail.clone()));
        e
    }

    pub fn bad_request(code: &'static str, field: &str, detail: impl Into<String>) -> Self {
        let mut e = Self::new(400, code, "Bad request", detail);
        e.errors.push(FieldError::new(field, e.detail.clone()));
        e
    }

    pub fn payload_too_large(limit_bytes: usize) -> Self {
        let mut e = Self::new(
            413,
            "payload_too_large",
            "Request body too large",
            format!("The request body exceeds {limit_bytes} bytes."),
        );
        e.errors.push(FieldError::new("body", e.detail.clone()));
        e.extensions
            .insert("limit_bytes".into(), json!(limit_bytes));
        e
    }

    pub fn unsupported_media_type(got: &str) -> Self {
        let mut e = Self::new(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            format!("Send the body as application/json, not `{got}`."),
        );
        e.errors
            .push(FieldError::new("Content-Type", e.detail.clone()));
        e
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, "not_found", "Not found", detail)
    }

    pub fn method_not_allowed(method: &str, allowed: &[&str]) -> Self {
        let allow = allowed.join(", ");
        let mut e = Self::new(
            405,
            "method_not_allowed",
            "Method not allowed",
            format!("{method} is not allowed here; use {allow}."),
        );
        e.extensions.insert("allowed".into(), json!(allowed));
        e.headers.push(("Allow", allow));
        e
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        let mut e = Self::new(401, code, "Unauthorized", detail);
        e.headers
            .push(("WWW-Authenticate", "Bearer realm=\"carbontrace\"".into()));
        e
    }

    pub fn service_unavailable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(503, code, "Service unavailable", detail)
    }

    /// 429: the plan's cap on open jobs of one kind is reached.
    pub fn too_many_jobs(
        plan: crate::limits::Plan,
        kind: crate::job::Kind,
        open: usize,
        cap: usize,
    ) -> Self {
        Self::new(
            429,
            "too_many_jobs",
            "Too many jobs",
            format!(
                "The {} plan allows {cap} {} at once and {open} are queued or running; retry when one is done.",
                plan.name(),
                kind.table()
            ),
        )
        .with_extension("limit", json!("open_jobs"))
        .with_extension("max_open_jobs", json!(cap))
        .with_header("Retry-After", "30")
    }

    /// 400: an endpoint the sandbox does not serve (`what` names it, e.g. "Reports").
    pub fn sandbox_not_supported(what: &str) -> Self {
        Self::new(
            400,
            "sandbox_not_supported",
            "Not available in the sandbox",
            format!("{what} are not available with test keys (the sandbox stores nothing); use a live key."),
        )
    }

    /// 503: the jobs queue refused a message (nothing was left half-created).
    pub fn queue_unavailable() -> Self {
        Self::service_unavailable(
            "queue_unavailable",
            "The job queue is unavailable; retry shortly.",
        )
    }

    /// 500: something on our side failed. The detail is safe to show; the cause is logged.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, "internal_error", "Internal error", detail)
    }

    pub fn with_extension(mut self, key: &str, value: Value) -> Self {
        self.extensions.insert(key.into(), value);
        self
    }

    /// The problem+json body. `request_id` ties it to the `X-Request-Id` header and the logs.
    pub fn body(&self, request_id: &str) -> Value {
        let mut body = Map::new();
        body.insert(
            "type".into(),
            json!(format!("{PROBLEM_TYPE_BASE}{}", self.code)),
        );
        body.insert("title".into(), json!(self.title));
        body.insert("status".into(), json!(self.status));
        body.insert("detail".into(), json!(self.detail));
        body.insert("code".into(), json!(self.code));
        body.insert("request_id".into(), json!(request_id));
        if !self.errors.is_empty() {
            body.insert("errors".into(), json!(self.errors));
        }
        for (k, v) in &self.extensions {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_rfc9457_members_and_extensions() {
        let e = ApiError::validation(vec![
            FieldError::new("use.country", "unknown country `XX`"),
            FieldError::new("specs.screen_size_in", "must be between 1 and 120"),
        ]);
        let b = e.body("req_1");
        assert_eq!(b["status"], 422);
        assert_eq!(b["code"], "validation_failed");
        assert_eq!(
            b["type"],
            "https://carbontrace.cloud/problems/validation_failed"
        );
        assert_eq!(b["request_id"], "req_1");
        assert_eq!(b["errors"][1]["field"], "specs.screen_size_in");
        assert_eq!(b["detail"], "2 fields are invalid");
    }

    #[test]
    fn method_not_allowed_sets_allow_header() {
        let e = ApiError::method_not_allowed("DELETE", &["GET", "HEAD"]);
        assert_eq!(e.status, 405);
        assert_eq!(e.headers, vec![("Allow", "GET, HEAD".to_string())]);
        assert_eq!(e.body("r")["allowed"][1], "HEAD");
    }
}
