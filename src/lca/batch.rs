//! `POST /footprint/batch` below the HTTP layer: the request's shape and the plan's batch
//! limit, then every device computed on its own (one bad device fails alone) and the fleet's
//! total with its 90% range. Pure, so the rules are tested natively; the handler meters,
//! calls [`compute`] and writes the answer.

use serde_json::Value;

use super::uncertainty::{combine, DeviceRange, SHARED};
use super::{input::parse_device, round2, Engine, Footprint};
use crate::validation::{unknown_fields, FieldError};

/// Why a batch request is refused as a whole.
#[derive(Debug, PartialEq)]
pub enum Refused {
    /// The body is not `{"devices": [ … ]}` with at least one device.
    Invalid(Vec<FieldError>),
    /// More devices than the plan's batch limit.
    TooLarge { count: usize, limit: usize },
}

/// The devices of a batch request, within `limit`.
pub fn devices(body: &Value, limit: usize) -> Result<&[Value], Refused> {
    let invalid =
        |field: &str, message: &str| Err(Refused::Invalid(vec![FieldError::new(field, message)]));
    let Value::Object(o) = body else {
        return invalid("body", "must be a JSON object");
    };
    let unknown = unknown_fields(o, &["devices"], "");
    if !unknown.is_empty() {
        return Err(Refused::Invalid(unknown));
    }
    match o.get("devices") {
        Some(Value::Array(d)) if d.is_empty() => {
            invalid("devices", "must hold at least one device")
        }
        Some(Value::Array(d)) if d.len() > limit => Err(Refused::TooLarge {
            count: d.len(),
            limit,
        }),
        Some(Value::Array(d)) => Ok(d),
        Some(_) => invalid("devices", "must be an array"),
        None => invalid("devices", "required: an array of footprint requests"),
    }
}

/// One device's outcome.
#[derive(Debug)]
pub enum Outcome {
    Computed(Box<Footprint>),
    /// Valid, and not computed: a sandbox answers its fixture.
    Sandboxed,
    /// Every bad field of this device, named `devices[i].…`.
    Invalid(Vec<FieldError>),
}

/// The batch computed: one outcome per device, in order, and the fleet's figures.
#[derive(Debug)]
pub struct Batch {
    pub outcomes: Vec<Outcome>,
    pub failed: usize,
    /// The sum of the computed totals (and of the fixture's, for sandboxed devices).
    pub total_kg: f64,
    /// The fleet's 90% range: independent errors plus a shared methodology component, not the
    /// sum of the devices' ranges.
    pub range_kg: [f64; 2],
}

/// Compute every device. `sandbox_total` is the fixture's total when the caller is in the
/// sandbox: valid devices are then checked but not computed.
pub fn compute(engine: &Engine, devices: &[Value], sandbox_total: Option<f64>) -> Batch {
    let mut outcomes = Vec::with_capacity(devices.len());
    let mut ranges = Vec::with_capacity(devices.len());
    let (mut failed, mut total) = (0, 0.0);
    for (i, device) in devices.iter().enumerate() {
        let prefix = format!("devices[{i}]");
        let outcome = parse_device(device, &prefix, engine.factors).and_then(|input| {
            if sandbox_total.is_some() {
                return Ok(None);
            }
            engine.footprint(&input).map(Some).map_err(|errs| {
                errs.into_iter()
                    .map(|e| FieldError::new(format!("{prefix}.{}", e.field), e.message))
                    .collect()
            })
        });
        outcomes.push(match outcome {
            Ok(Some(f)) => {
                total += f.total_kg_co2e;
                ranges.push(DeviceRange {
                    total: f.total_kg_co2e,
                    low: f.uncertainty.low_kg,
                    high: f.uncertainty.high_kg,
                    confidence: f.uncertainty.confidence,
                });
                Outcome::Computed(Box::new(f))
            }
            Ok(None) => {
                total += sandbox_total.unwrap_or(0.0);
                Outcome::Sandboxed
            }
            Err(errors) => {
                failed += 1;
                Outcome::Invalid(errors)
            }
        });
    }
    let (_, low, high) = combine(&ranges, SHARED);
    Batch {
        outcomes,
        failed,
        total_kg: round2(total),
        range_kg: [round2(low), round2(high)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_request_is_checked_as_a_whole() {
        let body = json!({"devices": [{"category": "laptop"}, {"category": "monitor"}]});
        assert_eq!(devices(&body, 2).unwrap().len(), 2);
        assert_eq!(
            devices(&body, 1),
            Err(Refused::TooLarge { count: 2, limit: 1 })
        );
        let field = |b: Value| match devices(&b, 10) {
            Err(Refused::Invalid(e)) => e[0].field.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(field(json!([1])), "body");
        assert_eq!(field(json!({"devices": []})), "devices");
        assert_eq!(field(json!({"devices": {}})), "devices");
        assert_eq!(field(json!({})), "devices");
        assert_eq!(field(json!({"devices": [{}], "x": 1})), "x");
    }

    #[test]
    fn a_bad_device_fails_alone_and_the_range_is_the_fleets() {
        let engine = Engine::builtin();
        let devices = vec![
            json!({"category": "laptop"}),
            json!({"category": "toaster"}),
            json!({"category": "monitor", "use": {"country": "FR"}}),
        ];
        let b = compute(&engine, &devices, None);
        assert_eq!((b.outcomes.len(), b.failed), (3, 1));
        let Outcome::Invalid(e) = &b.outcomes[1] else {
            panic!("the toaster is refused")
        };
        assert_eq!(e[0].field, "devices[1].category");
        let sum: f64 = b
            .outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Computed(f) => Some(f.total_kg_co2e),
                _ => None,
            })
            .sum();
        assert!((b.total_kg - sum).abs() < 0.01);
        assert!(b.range_kg[0] < b.total_kg && b.total_kg < b.range_kg[1]);
        // The fleet's range is narrower than the sum of the devices' ranges.
        let widths: f64 = b
            .outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Computed(f) => Some(f.uncertainty.high_kg - f.uncertainty.low_kg),
                _ => None,
            })
            .sum();
        assert!(b.range_kg[1] - b.range_kg[0] < widths);
        // In the sandbox valid devices are checked, not computed.
        let s = compute(&engine, &devices, Some(100.0));
        assert!(matches!(s.outcomes[0], Outcome::Sandboxed));
        assert_eq!((s.failed, s.total_kg), (1, 200.0));
    }
}
