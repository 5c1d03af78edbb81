//! `POST /savings`: avoided emissions of reuse, refurbishment or lifetime extension.

use serde_json::Value;
use worker::Response;

use super::http::{self, RequestCtx};
use super::problem::ApiError;
use super::sandbox;
use crate::edge::state;
use crate::lca::savings::{parse_savings, savings};

pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let body: Value = rc.json_body().await?;
    let engine = state::active(&rc.env).await.engine();
    let input = parse_savings(&body, engine.factors).map_err(ApiError::validation)?;
    if rc.caller.sandbox() {
        return http::json(
            200,
            &sandbox::savings(body["scenario"].as_str().unwrap_or("reuse")),
        );
    }
    let new_device = engine.footprint(&input.device).map_err(|errs| {
        ApiError::validation(
            errs.into_iter()
                .map(|e| super::problem::FieldError::new(format!("device.{}", e.field), e.message))
                .collect(),
        )
    })?;
    // Refurbishment and erasure draw power where the device is handled: its use country.
    let grid = new_device.grid_kg_per_kwh();
    http::json(200, &savings(&input, new_device, grid))
}
