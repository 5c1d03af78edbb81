//! `POST /footprint` and `POST /footprint/batch`.

use serde::Serialize;
use serde_json::Value;
use worker::Response;

use super::http::{self, RequestCtx};
use super::problem::{ApiError, FieldError};
use super::{limiter, sandbox};
use crate::edge::state;
use crate::lca::input::parse_device;
use crate::lca::uncertainty::{combine, DeviceRange, FLEET_CONFIDENCE, SHARED};
use crate::lca::{round2, Footprint};
use crate::validation::unknown_fields;

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
    /// The fleet's 90% range (`lca::uncertainty`: independent errors plus a shared
    /// methodology component), not the sum of the devices' ranges.
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
    let caller = rc.caller.clone();
    let body: Value = rc.json_body().await?;
    let devices = match &body {
        Value::Object(o) => {
            let unknown = unknown_fields(o, &["devices"], "");
            if !unknown.is_empty() {
                return Err(ApiError::validation(unknown));
            }
            match o.get("devices") {
                Some(Value::Array(d)) => d,
                Some(_) => {
                    return Err(ApiError::validation(vec![FieldError::new(
                        "devices",
                        "must be an array",
                    )]))
                }
                None => {
                    return Err(ApiError::validation(vec![FieldError::new(
                        "devices",
                        "required: an array of footprint requests",
                    )]))
                }
            }
        }
        _ => {
            return Err(ApiError::validation(vec![FieldError::new(
                "body",
                "must be a JSON object",
            )]))
        }
    };
    let limit = caller.plan.batch_limit();
    if devices.is_empty() {
        return Err(ApiError::validation(vec![FieldError::new(
            "devices",
            "must hold at least one device",
        )]));
    }
    if devices.len() > limit {
        let mut e = ApiError::new(
            413,
            "batch_too_large",
            "Batch too large",
            format!(
                "{} devices exceed the {} plan's batch limit of {limit}; split the batch.",
                devices.len(),
                caller.plan.name()
            ),
        )
        .with_extension("limit", limit.into())
        .with_extension("plan", caller.plan.name().into());
        e.errors.push(FieldError::new(
            "devices",
            format!("at most {limit} devices"),
        ));
        return Err(e);
    }

    // One request against the minute (taken by the gate), every device against the day.
    limiter::admit(rc, devices.len() as u64, None).await?;

    let engine = state::active(&rc.env).await.engine();
    let sandboxed = caller.sandbox();
    let mut results = Vec::with_capacity(devices.len());
    let (mut failed, mut total) = (0, 0.0);
    let mut ranges = Vec::with_capacity(devices.len());
    for (i, device) in devices.iter().enumerate() {
        let prefix = format!("devices[{i}]");
        let outcome = parse_device(device, &prefix, engine.factors).and_then(|input| {
            if sandboxed {
                return Ok(None);
            }
            engine.footprint(&input).map(Some).map_err(|errs| {
                errs.into_iter()
                    .map(|e| FieldError::new(format!("{prefix}.{}", e.field), e.message))
                    .collect()
            })
        });
        match outcome {
            Ok(Some(f)) => {
                total += f.total_kg_co2e;
                ranges.push(DeviceRange {
                    total: f.total_kg_co2e,
                    low: f.uncertainty.low_kg,
                    high: f.uncertainty.high_kg,
                    confidence: f.uncertainty.confidence,
                });
                results.push(Item::Ok(Box::new(f)));
            }
            Ok(None) => {
                let fixture = sandbox::footprint();
                total += fixture["total_kg_co2e"].as_f64().unwrap_or(0.0);
                results.push(Item::Fixture(fixture));
            }
            Err(errors) => {
                failed += 1;
                results.push(Item::Err {
                    index: i,
                    error: ApiError::validation(errors).body(&rc.request_id),
                });
            }
        }
    }
    let count = results.len();
    http::json(
        200,
        &BatchResponse {
            results,
            summary: Summary {
                count,
                succeeded: count - failed,
                failed,
                total_kg_co2e: round2(total),
                range_kg_co2e: {
                    let (_, low, high) = combine(&ranges, SHARED);
                    [round2(low), round2(high)]
                },
                range_confidence: FLEET_CONFIDENCE,
            },
            sandbox: sandboxed,
        },
    )
}
