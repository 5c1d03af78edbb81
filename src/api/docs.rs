//! `GET /openapi.json`: the compiled-in OpenAPI document, served verbatim.

use worker::Response;

use super::http;
use super::openapi::DOCUMENT;
use super::problem::ApiError;

pub fn openapi() -> Result<Response, ApiError> {
    let mut resp = http::bytes(
        200,
        "application/json; charset=utf-8",
        DOCUMENT.as_bytes().to_vec(),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "public, max-age=300");
    Ok(resp)
}
