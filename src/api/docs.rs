//! Published documents: `GET /openapi.json` (the compiled-in OpenAPI document, verbatim) and
//! `GET /.well-known/jwks.json` (every Ed25519 key that ever signed a certificate or an
//! OData proof, as a JWK Set, so anyone can verify them offline).

use worker::Response;

use super::http;
use super::openapi::DOCUMENT;
use super::problem::ApiError;

pub async fn openapi() -> Result<Response, ApiError> {
    let mut resp = http::bytes(
        200,
        "application/json; charset=utf-8",
        DOCUMENT.as_bytes().to_vec(),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "public, max-age=300");
    Ok(resp)
}

pub async fn jwks(rc: &super::http::RequestCtx) -> Result<Response, ApiError> {
    use super::http::Step;
    let keys = crate::edge::signing::jwks(&rc.env)
        .await
        .step("jwks: reading the signing keys")?;
    let mut resp = http::json(200, &serde_json::json!({ "keys": keys }))?;
    http::set(
        resp.headers_mut(),
        "Content-Type",
        "application/jwk-set+json",
    );
    http::set(resp.headers_mut(), "Cache-Control", "public, max-age=300");
    Ok(resp)
}
