//! What a certificate states, validated and computed (pure, tested natively): the request
//! (a `POST /footprint` or `POST /savings` body), the result the engine gives for it, and the
//! asset it is about; and the verdict of a verification.

use serde_json::{Map, Value};

use crate::lca::input::parse_device;
use crate::lca::savings::{parse_savings, savings};
use crate::lca::Engine;
use crate::validation::{unknown_fields, FieldError};

/// Asset identifiers a certificate may carry.
const ASSET_FIELDS: [&str; 3] = ["serial", "asset_tag", "owner_reference"];

/// What a certificate states: its kind, the request as given, the computed result, the asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub kind: &'static str,
    pub request: Value,
    pub result: Value,
    pub asset: Value,
}

impl Statement {
    /// The figure a certificate is about: the footprint's total, or the avoided emissions.
    pub fn total_kg(&self) -> f64 {
        let key = if self.kind == "savings" {
            "avoided_kg_co2e"
        } else {
            "total_kg_co2e"
        };
        self.result[key].as_f64().unwrap_or(0.0)
    }
}

/// Validate a `POST /certificates` body and compute what it certifies, with the active
/// engine; every bad field is named (paths prefixed `footprint.` or `savings.`).
pub fn statement(body: &Value, engine: &Engine) -> Result<Statement, Vec<FieldError>> {
    let Value::Object(o) = body else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut errors = unknown_fields(o, &["footprint", "savings", "asset"], "");
    let mut asset = Map::new();
    match o.get("asset") {
        None | Some(Value::Null) => {}
        Some(Value::Object(a)) => {
            for (k, v) in a {
                match v {
                    _ if !ASSET_FIELDS.contains(&k.as_str()) => errors.push(FieldError::new(
                        format!("asset.{k}"),
                        format!(
                            "unknown field; expected one of: {}",
                            ASSET_FIELDS.join(", ")
                        ),
                    )),
                    Value::String(s) if !s.trim().is_empty() && s.chars().count() <= 200 => {
                        asset.insert(k.clone(), Value::String(s.trim().into()));
                    }
                    _ => errors.push(FieldError::new(
                        format!("asset.{k}"),
                        "must be a string of 1 to 200 characters",
                    )),
                }
            }
        }
        Some(_) => errors.push(FieldError::new("asset", "must be an object")),
    }
    let (kind, request) = match (o.get("footprint"), o.get("savings")) {
        (Some(f), None) => ("footprint", f.clone()),
        (None, Some(s)) => ("savings", s.clone()),
        _ => {
            errors.push(FieldError::new(
                "footprint",
                "give exactly one of `footprint` (a POST /footprint body) or `savings` (a POST /savings body)",
            ));
            return Err(errors);
        }
    };
    let result = if kind == "footprint" {
        let input = parse_device(&request, "footprint", engine.factors);
        match input {
            Ok(input) => match engine.footprint(&input) {
                Ok(f) => serde_json::to_value(f).ok(),
                Err(e) => {
                    errors.extend(
                        e.into_iter()
                            .map(|e| FieldError::new(format!("footprint.{}", e.field), e.message)),
                    );
                    None
                }
            },
            Err(e) => {
                errors.extend(e);
                None
            }
        }
    } else {
        match parse_savings(&request, engine.factors) {
            Ok(input) => match engine.footprint(&input.device) {
                Ok(new_device) => {
                    let grid = new_device.grid_kg_per_kwh();
                    serde_json::to_value(savings(&input, new_device, grid)).ok()
                }
                Err(e) => {
                    errors.extend(e.into_iter().map(|e| {
                        FieldError::new(format!("savings.device.{}", e.field), e.message)
                    }));
                    None
                }
            },
            Err(e) => {
                errors.extend(
                    e.into_iter()
                        .map(|e| FieldError::new(format!("savings.{}", e.field), e.message)),
                );
                None
            }
        }
    };
    match result {
        Some(result) if errors.is_empty() => Ok(Statement {
            kind,
            request,
            result,
            asset: Value::Object(asset),
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn engine() -> Engine<'static> {
        Engine::builtin()
    }

    #[test]
    fn a_footprint_and_a_savings_statement_are_computed() {
        let e = engine();
        let s = statement(
            &json!({"footprint": {"category": "laptop"}, "asset": {"serial": " SN1 "}}),
            &e,
        )
        .unwrap();
        assert_eq!(s.kind, "footprint");
        assert_eq!(s.asset, json!({"serial": "SN1"}));
        assert!(s.total_kg() > 0.0);
        let s = statement(
            &json!({"savings": {"device": {"category": "laptop"}, "scenario": "reuse"}}),
            &e,
        )
        .unwrap();
        assert_eq!(s.kind, "savings");
        assert_eq!(s.total_kg(), s.result["avoided_kg_co2e"].as_f64().unwrap());
    }

    #[test]
    fn every_bad_field_is_named_with_its_path() {
        let e = engine();
        let errs = statement(
            &json!({"footprint": {"category": "toaster"}, "asset": {"colour": "red", "serial": ""}, "x": 1}),
            &e,
        )
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in ["x", "asset.colour", "asset.serial", "footprint.category"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let errs = statement(&json!({"footprint": {}, "savings": {}}), &e).unwrap_err();
        assert_eq!(errs[0].field, "footprint");
        assert_eq!(statement(&json!([]), &e).unwrap_err()[0].field, "body");
    }
}
