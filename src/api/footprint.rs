//! `POST /footprint` and `POST /footprint/batch`.

use serde::Serialize;
use serde_json::Value;
use worker::Response;

use super::http::{self, RequestCtx};
use super::problem::{ApiError, FieldError};
use super::{limiter, sandbox};
use crate::edge::state;
use crate::lca::batch::{self, Outcome, Refused};
use crate::lca::input::parse_device;
use crate::lca::uncertainty::FLEET_CONFIDENCE;
use crate::lca::Footprint;
use crate::limits::Plan;

pub async fn single(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let body: Value = rc.json_body().await?;
    let engine = state::active(&rc.env).await.engine();
    let input = parse_device(&body, "", engine.factors).map_err(ApiError::validation)?;
    if rc.caller.sandbox() {
        return http::json(200, sandbox::footprint());
    }
    let footprint = engine.footprint(&input).map_err(ApiError::validation)?;
    http::json(200, &footprint)
}

/// One batch result: a footprint, or the problem of that item alone.
#[derive(Serialize)]
#[serde(untagged)]
enum Item {
    Ok(Box<Footprint>),
    Fixture(&'static Value),
    Err { index: usize, error: Value },
}

#[derive(Serialize)]
struct Summary {
    count: usize,
    succeeded: usize,
    failed: usize,
    total_kg_co2e: f64,
    range_kg_co2e: [f64; 2],
    range_confidence: f64,
}

#[derive(Serialize)]
struct BatchResponse {
    results: Vec<Item>,
    summary: Summary,
    #[serde(rename = "_sandbox", skip_serializing_if = "std::ops::Not::not")]
    sandbox: bool,
}

pub async fn batch(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let plan = rc.caller.plan;
    let body: Value = rc.json_body().await?;
    let devices = batch::devices(&body, plan.batch_limit()).map_err(|refused| match refused {
        Refused::Invalid(errors) => ApiError::validation(errors),
        Refused::TooLarge { count, limit } => too_large(plan, count, limit),
    })?;
    // One request against the minute (taken by the gate), every device against the day.
    limiter::admit(rc, devices.len() as u64, None).await?;
    let engine = state::active(&rc.env).await.engine();
    let sandboxed = rc.caller.sandbox();
    let fixture = sandbox::footprint();
    let sandbox_total = sandboxed.then(|| fixture["total_kg_co2e"].as_f64().unwrap_or(0.0));
    let b = batch::compute(&engine, devices, sandbox_total);
    let count = b.outcomes.len();
    let results = b
        .outcomes
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            Outcome::Computed(f) => Item::Ok(f),
            Outcome::Sandboxed => Item::Fixture(fixture),
            Outcome::Invalid(errors) => Item::Err {
                index,
                error: ApiError::validation(errors).body(&rc.request_id),
            },
        })
        .collect();
    http::json(
        200,
        &BatchResponse {
            results,
            summary: Summary {
                count,
                succeeded: count - b.failed,
                failed: b.failed,
                total_kg_co2e: b.total_kg,
                range_kg_co2e: b.range_kg,
                range_confidence: FLEET_CONFIDENCE,
            },
            sandbox: sandboxed,
        },
    )
}

fn too_large(plan: Plan, count: usize, limit: usize) -> ApiError {
    let mut e = ApiError::new(
        413,
        "batch_too_large",
        "Batch too large",
        format!(
            "{count} devices exceed the {} plan's batch limit of {limit}; split the batch.",
            plan.name()
        ),
    )
    .with_extension("limit", limit.into())
    .with_extension("plan", plan.name().into());
    e.errors.push(FieldError::new(
        "devices",
        format!("at most {limit} devices"),
    ));
    e
}
