//! A fleet report request (`POST /reports`): its validation, kept here, below the HTTP
//! layer, so that it is tested natively. Each device is parsed here, once: the job reads the
//! parsed fleet back ([`StoredFleet`]) and never validates text again.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fleet::{parse_fleet, FleetDevice};
use crate::factors::FactorSet;
use crate::validation::{unknown_fields, FieldError};

/// Most devices in one report (a request's, or an organisation's stored assets).
pub const MAX_DEVICES: usize = 10_000;

/// A report request, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub kind: String,
    pub title: String,
    pub period: Option<String>,
    pub source: &'static str,
    /// The request's devices, parsed (empty for `source: assets`).
    pub devices: Vec<FleetDevice>,
}

/// What a report's job reads back from storage: its fleet, parsed when it was requested.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredFleet {
    pub devices: Vec<FleetDevice>,
}

/// Validate a `POST /reports` body, naming every bad field of the request at once. A device
/// that fails its own checks does not fail the request: it is kept as `Invalid` and listed
/// as skipped in the report.
pub fn parse(body: &Value, factors: &FactorSet) -> Result<NewReport, Vec<FieldError>> {
    let Value::Object(o) = body else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut errors = unknown_fields(o, &["type", "title", "devices", "source", "period"], "");
    let kind = match o.get("type").and_then(Value::as_str) {
        Some(t @ ("sustainability" | "hotspot")) => t.to_string(),
        _ => {
            errors.push(FieldError::new(
                "type",
                "required: sustainability or hotspot",
            ));
            String::new()
        }
    };
    let title = match o.get("title") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 120 => {
            Some(s.trim().to_string())
        }
        Some(_) => {
            errors.push(FieldError::new(
                "title",
                "must be a string of 1 to 120 characters",
            ));
            None
        }
    };
    let period = match o.get("period") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 60 => {
            Some(s.trim().to_string())
        }
        Some(_) => {
            errors.push(FieldError::new(
                "period",
                "must be a string of 1 to 60 characters (e.g. 2026 or 2026-Q1)",
            ));
            None
        }
    };
    let (source, devices) = match (o.get("devices"), o.get("source")) {
        (Some(Value::Array(d)), None) if !d.is_empty() && d.len() <= MAX_DEVICES => {
            ("devices", parse_fleet(d, factors))
        }
        (Some(Value::Array(d)), None) => {
            errors.push(FieldError::new(
                "devices",
                format!("must hold 1 to {MAX_DEVICES} devices (got {})", d.len()),
            ));
            ("devices", Vec::new())
        }
        (Some(_), None) => {
            errors.push(FieldError::new(
                "devices",
                "must be an array of footprint requests",
            ));
            ("devices", Vec::new())
        }
        (None, Some(Value::String(s))) if s == "assets" => ("assets", Vec::new()),
        (None, Some(_)) => {
            errors.push(FieldError::new(
                "source",
                "must be `assets` (the organisation's stored assets)",
            ));
            ("assets", Vec::new())
        }
        _ => {
            errors.push(FieldError::new(
                "devices",
                "give either `devices` (footprint requests) or `source: \"assets\"`",
            ));
            ("devices", Vec::new())
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let default_title = if kind == "hotspot" {
        "Fleet hotspot analysis"
    } else {
        "Fleet sustainability report"
    };
    Ok(NewReport {
        title: title.unwrap_or_else(|| default_title.into()),
        kind,
        period,
        source,
        devices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_(body: Value) -> Result<NewReport, Vec<FieldError>> {
        parse(&body, FactorSet::builtin())
    }

    #[test]
    fn devices_are_parsed_once_and_survive_storage() {
        let r = parse_(json!({"type": "hotspot", "devices": [
            {"category": "laptop", "use": {"country": "fr"}},
            {"category": "toaster"}
        ]}))
        .unwrap();
        let FleetDevice::Parsed(first) = &r.devices[0] else {
            panic!("the laptop parses")
        };
        assert_eq!(
            first.usage.country.as_deref(),
            Some("FR"),
            "canonical, once"
        );
        assert!(
            matches!(&r.devices[1], FleetDevice::Invalid(e) if e[0].field == "devices[1].category")
        );
        let stored = serde_json::to_string(&StoredFleet {
            devices: r.devices.clone(),
        })
        .unwrap();
        let back: StoredFleet = serde_json::from_str(&stored).unwrap();
        assert_eq!(back.devices, r.devices);
    }

    #[test]
    fn a_valid_request_gets_defaults() {
        let r = parse_(json!({"type": "hotspot", "devices": [{"category": "laptop"}]})).unwrap();
        assert_eq!(r.kind, "hotspot");
        assert_eq!(r.title, "Fleet hotspot analysis");
        assert_eq!(r.source, "devices");
        assert_eq!(r.devices.len(), 1);
        let r =
            parse_(json!({"type": "sustainability", "source": "assets", "title": " Q1 "})).unwrap();
        assert_eq!((r.source, r.title.as_str()), ("assets", "Q1"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let e =
            parse_(json!({"type": "pie", "title": "", "devices": [], "colour": 1})).unwrap_err();
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        for f in ["colour", "type", "title", "devices"] {
            assert!(fields.contains(&f), "{f} not named in {fields:?}");
        }
        let too_many = vec![json!({}); MAX_DEVICES + 1];
        let e = parse_(json!({"type": "hotspot", "devices": too_many})).unwrap_err();
        assert!(e[0].message.contains("10001"), "{:?}", e);
        assert_eq!(parse_(json!([1])).unwrap_err()[0].field, "body");
        let e =
            parse_(json!({"type": "hotspot", "devices": [{}], "source": "assets"})).unwrap_err();
        assert_eq!(e[0].field, "devices");
    }
}
