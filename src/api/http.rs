//! HTTP glue shared by every handler: the request context, the one JSON response helper,
//! problem rendering, and the headers every response carries (the body is read in `body.rs`).

use serde::Serialize;
use worker::{Context, Env, Headers, Request, Response};

use super::problem::ApiError;

/// Headers browsers may read from a cross-origin response.
const EXPOSED_HEADERS: &str = "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, \
X-RateLimit-Plan, Retry-After, ETag, X-CarbonTrace-Mode, X-CarbonTrace-Verify-Cache, Location";
const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-Id, Accept";
const ALLOWED_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/// Everything a handler needs about the request it serves.
pub struct RequestCtx {
    pub req: Request,
    pub env: Env,
    pub ctx: Context,
    pub request_id: String,
    pub url: worker::Url,
    /// Set by the auth gate before the handler runs.
    pub caller: super::caller::Caller,
}

impl RequestCtx {
    /// Append to an audit chain (`org_id`: an organisation's live chain, or what
    /// `audit::chain` names for its test chain) before answering (see `edge::audit::append`:
    /// D1, else the jobs queue). The actor is `Caller::actor` (the key, the signed-in person, or `admin`). Should neither
    /// take the entry, the action has still happened, so the caller is answered and the
    /// failure logged loudly rather than turned into an error that invites a duplicate.
    pub async fn audit(
        &self,
        org_id: &str,
        action: &str,
        target: Option<&str>,
        details: serde_json::Value,
    ) {
        let actor = self.caller.actor();
        let record = crate::edge::audit::Record {
            org_id: org_id.into(),
            at: crate::edge::clock::now_iso(),
            actor,
            action: action.into(),
            target: target.map(str::to_string),
            details,
        };
        if let Err(e) = crate::edge::audit::append(&self.env, record).await {
            worker::console_error!("{}: audit entry {action} LOST: {e}", self.request_id);
        }
    }

    /// The client's rate-limit bucket: only `CF-Connecting-IP` is trusted (set by Cloudflare
    /// in production; `wrangler dev` passes the client's own, which the tests use).
    pub fn client_bucket(&self) -> String {
        crate::client::bucket(self.header("CF-Connecting-IP").as_deref())
    }

    /// Whose objects this request may touch: the caller's organisation in its key's mode.
    pub fn tenant(&self) -> Result<crate::store::Tenant, ApiError> {
        Ok(crate::store::Tenant {
            org_id: self.org_id()?,
            mode: self.caller.mode,
        })
    }

    /// The caller's organisation (keyed routes: the gate guarantees a key, so an org).
    pub fn org_id(&self) -> Result<String, ApiError> {
        self.caller
            .org_id
            .clone()
            .ok_or_else(|| ApiError::internal("keyed caller without org"))
    }

    /// The origin links point at: `PUBLIC_BASE_URL` when set, else the request's own.
    pub fn public_base(&self) -> String {
        self.env
            .var("PUBLIC_BASE_URL")
            .map(|v| v.to_string())
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| self.url.origin().ascii_serialization())
    }

    /// A query parameter, if present (first occurrence).
    pub fn query(&self, name: &str) -> Option<String> {
        self.url
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Whether the caller asks for a representation: `?format=<format>` (`json`, the default,
    /// or `format`), `?download=1` when `format` is `download` (`0` or absent: the status), or
    /// `media` in `Accept`. Any other value of the parameter is a 400 naming it.
    pub fn wants(&self, format: &str, media: &str) -> Result<bool, ApiError> {
        let (param, yes, no) = if format == "download" {
            ("download", "1", "0")
        } else {
            ("format", format, "json")
        };
        let by_query = match self.query(param) {
            None => false,
            Some(v) if v == yes => true,
            Some(v) if v == no => false,
            Some(v) => {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    param,
                    format!("`{v}` is not a value of `{param}`: one of {no}, {yes}"),
                ))
            }
        };
        Ok(by_query || self.header("Accept").is_some_and(|a| a.contains(media)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.req.headers().get(name).ok().flatten()
    }

    /// The bearer token of `Authorization`, if any.
    pub fn bearer(&self) -> Option<String> {
        let h = self.header("Authorization")?;
        let (scheme, token) = h.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string())
    }
}

/// The one JSON response helper.
pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(|e| ApiError::internal(e.to_string()))?;
    bytes(status, "application/json; charset=utf-8", body)
}

/// A response with a raw body and content type (JSON documents served verbatim, PDFs).
pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Result<Response, ApiError> {
    let mut resp = Response::from_bytes(body)
        .step("bytes: building a response")?
        .with_status(status);
    set(resp.headers_mut(), "Content-Type", content_type);
    Ok(resp)
}

/// Render a problem. Never fails: if the runtime cannot build a response we have nothing better.
pub fn problem(err: &ApiError, request_id: &str) -> worker::Result<Response> {
    let body = serde_json::to_vec(&err.body(request_id)).unwrap_or_default();
    let mut resp = Response::from_bytes(body)?.with_status(err.status);
    let h = resp.headers_mut();
    set(h, "Content-Type", "application/problem+json; charset=utf-8");
    for (name, value) in &err.headers {
        set(h, name, value);
    }
    Ok(resp)
}

/// An error on the PACT host, in PACT v3's error format (`{"code","message"}`; its codes:
/// BadRequest, AccessDenied, TokenExpired, NotFound, InternalError, NotImplemented), with the
/// status and headers of the problem it stands for.
pub fn pact_error(err: &ApiError) -> worker::Result<Response> {
    let code = match err.status {
        401 if err.code == "pact_token_expired" => "TokenExpired",
        403 => "AccessDenied",
        404 => "NotFound",
        501 => "NotImplemented",
        s if s >= 500 => "InternalError",
        _ => "BadRequest",
    };
    let body = serde_json::json!({ "code": code, "message": err.detail });
    let mut resp = Response::from_bytes(serde_json::to_vec(&body).unwrap_or_default())?
        .with_status(err.status);
    let h = resp.headers_mut();
    set(h, "Content-Type", "application/json");
    for (name, value) in &err.headers {
        set(h, name, value);
    }
    Ok(resp)
}

/// Headers every response carries, success or error.
pub fn finish(resp: &mut Response, request_id: &str, mode: &str) {
    let h = resp.headers_mut();
    set(h, "X-Request-Id", request_id);
    set(h, "X-CarbonTrace-Mode", mode);
    set(h, "Access-Control-Allow-Origin", "*");
    set(h, "Access-Control-Expose-Headers", EXPOSED_HEADERS);
    set(h, "Vary", "Origin");
}

/// The answer to a CORS preflight (`OPTIONS` on any path).
pub fn preflight() -> worker::Result<Response> {
    let mut resp = Response::empty()?.with_status(204);
    let h = resp.headers_mut();
    set(h, "Access-Control-Allow-Methods", ALLOWED_METHODS);
    set(h, "Access-Control-Allow-Headers", ALLOWED_HEADERS);
    set(h, "Access-Control-Max-Age", "86400");
    Ok(resp)
}

/// Set a header; a name or value the runtime rejects is a bug of ours, so it is only logged.
pub fn set(h: &mut Headers, name: &str, value: &str) {
    if let Err(e) = h.set(name, value) {
        worker::console_error!("could not set header {name}: {e}");
    }
}

/// A runtime failure (binding error, JS exception) as a 500 problem; the cause goes to the
/// log with the step that failed and where (the client sees only the request id).
#[track_caller]
pub fn edge_error(step: &str, e: impl std::fmt::Display) -> ApiError {
    let at = std::panic::Location::caller();
    worker::console_error!("{step} failed at {}:{}: {e}", at.file(), at.line());
    ApiError::internal("An internal error occurred; retry later or quote the request id.")
}

/// Name the step of a fallible runtime call: `d1.prepare(sql).step("report: reading the row")?`.
/// Its failure becomes a logged 500 (see [`edge_error`]).
pub trait Step<T> {
    fn step(self, what: &str) -> Result<T, ApiError>;
}

impl<T, E: std::fmt::Display> Step<T> for Result<T, E> {
    #[track_caller]
    fn step(self, what: &str) -> Result<T, ApiError> {
        match self {
            Ok(v) => Ok(v),
            Err(e) => Err(edge_error(what, e)),
        }
    }
}

/// A runtime error with no step named (`?` on a `worker::Result`): still logged, as a 500.
impl From<worker::Error> for ApiError {
    #[track_caller]
    fn from(e: worker::Error) -> Self {
        edge_error("runtime call", e)
    }
}

/// A storage failure with no step named (`?` on a `store::Result`): logged, as a 500.
impl From<crate::store::Error> for ApiError {
    #[track_caller]
    fn from(e: crate::store::Error) -> Self {
        edge_error("storage", e)
    }
}

/// A request id: the caller's own if it looks safe to echo, else a fresh one.
pub fn request_id(req: &Request) -> String {
    match req.headers().get("X-Request-Id").ok().flatten() {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            id
        }
        _ => format!("req_{}", crate::edge::random::hex_id(12)),
    }
}
