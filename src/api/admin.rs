//! Admin routes (admin token): factor-set management.
//!
//! `PUT /admin/factor-sets/{version}` stores a factor-set document in KV and activates it;
//! `DELETE /admin/factor-sets/active` returns to the compiled-in set. Other isolates pick the
//! change up within `state::REFRESH_MS`.

use serde_json::json;
use worker::Response;

use super::auth;
use super::http::{self, RequestCtx};
use super::problem::ApiError;
use super::state;
use crate::edge::bindings;
use crate::factors::FactorSet;

pub async fn put_factor_set(rc: &mut RequestCtx, version: &str) -> Result<Response, ApiError> {
    auth::require_admin(rc)?;
    let body: serde_json::Value = rc.json_body().await?;
    let text = body.to_string();
    let set = FactorSet::from_json(&text)
        .map_err(|e| ApiError::bad_request("invalid_factor_set", "body", e))?;
    if set.version != version {
        return Err(ApiError::bad_request(
            "version_mismatch",
            "version",
            format!(
                "the document's version `{}` differs from the path's `{version}`",
                set.version
            ),
        ));
    }
    let kv = rc.env.kv(bindings::KV).map_err(http::edge_error)?;
    kv.put(&state::set_key(version), text)
        .map_err(http::edge_error)?
        .execute()
        .await
        .map_err(http::edge_error)?;
    kv.put(state::ACTIVE_KEY, version)
        .map_err(http::edge_error)?
        .execute()
        .await
        .map_err(http::edge_error)?;
    state::invalidate();
    http::json(
        200,
        &json!({ "active_factor_set_version": version, "grid_factors": set.grid.len(), "categories": set.categories.len() }),
    )
}

pub async fn reset_factor_set(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    auth::require_admin(rc)?;
    let kv = rc.env.kv(bindings::KV).map_err(http::edge_error)?;
    kv.delete(state::ACTIVE_KEY)
        .await
        .map_err(http::edge_error)?;
    state::invalidate();
    http::json(
        200,
        &json!({ "active_factor_set_version": FactorSet::builtin().version }),
    )
}
