//! Factor-set management (admin token): `PUT /admin/factor-sets/{version}` stores a factor-set
//! document in KV and activates it; `DELETE /admin/factor-sets/active` returns to the
//! compiled-in set. Other isolates pick the change up within `state::REFRESH_MS`.

use serde_json::json;
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::ApiError;
use crate::edge::bindings;
use crate::edge::state;
use crate::factors::FactorSet;

pub async fn put(rc: &mut RequestCtx, version: &str) -> Result<Response, ApiError> {
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
    let kv = rc.env.kv(bindings::KV).step("put_factor_set: opening KV")?;
    kv.put(&state::set_key(version), text)
        .step("factor set: storing it in KV")?
        .execute()
        .await
        .step("factor set: storing it in KV")?;
    kv.put(state::ACTIVE_KEY, version)
        .step("factor set: activating it in KV")?
        .execute()
        .await
        .step("factor set: activating it in KV")?;
    state::invalidate();
    http::json(
        200,
        &json!({ "active_factor_set_version": version, "grid_factors": set.grid.len(), "categories": set.categories.len() }),
    )
}

/// `DELETE /admin/factor-sets/active`: back to the built-in set (the only one deletable).
pub async fn delete(rc: &mut RequestCtx, version: &str) -> Result<Response, ApiError> {
    if version != "active" {
        return Err(ApiError::not_found(format!(
            "only `active` can be deleted (returns to the built-in set), not `{version}`"
        )));
    }
    reset_factor_set(rc).await
}

async fn reset_factor_set(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let kv = rc
        .env
        .kv(bindings::KV)
        .step("reset_factor_set: opening KV")?;
    kv.delete(state::ACTIVE_KEY)
        .await
        .step("reset_factor_set: deleting from KV")?;
    state::invalidate();
    http::json(
        200,
        &json!({ "active_factor_set_version": FactorSet::builtin().version }),
    )
}
