//! Published documents: `GET /.well-known/jwks.json` (every Ed25519 key that ever signed a
//! certificate or an OData proof, as a JWK Set, so anyone can verify them offline). The
//! OpenAPI document is a static asset (`openapi.rs`).

use worker::Response;

use super::http;
use super::problem::ApiError;

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
