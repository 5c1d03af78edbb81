//! A report request (`POST /reports`): its validation, kept here, below the HTTP layer, so
//! that it is tested natively. A fleet report's devices are parsed here, once: the job reads
//! the parsed fleet back ([`StoredFleet`]) and never validates text again. A `ghg_inventory`
//! report names a reporting year and a view of the organisation's fleet inventory
//! ([`InventoryRequest`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fleet::{parse_fleet, FleetDevice};
use crate::factors::FactorSet;
use crate::inventory::ghg::View;
use crate::validation::{unknown_fields, FieldError};

/// Most devices in one report (a request's, or an organisation's stored assets).
pub const MAX_DEVICES: usize = 10_000;

/// A report request, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub kind: String,
    pub title: String,
    pub period: Option<String>,
    /// `devices`, `assets` (the stored erasures and certificates) or `inventory`.
    pub source: &'static str,
    /// The request's devices, parsed (empty unless `source` is `devices`).
    pub devices: Vec<FleetDevice>,
    /// A `ghg_inventory` report's year and view.
    pub inventory: Option<InventoryRequest>,
}

/// What a `ghg_inventory` report accounts for (stored with the request, read by the job).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InventoryRequest {
    pub year: i64,
    pub view: View,
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
    let mut errors = unknown_fields(
        o,
        &[
            "type", "title", "devices", "source", "period", "year", "view",
        ],
        "",
    );
    let kind = match o.get("type").and_then(Value::as_str) {
        Some(t @ ("sustainability" | "hotspot" | "ghg_inventory")) => t.to_string(),
        _ => {
            errors.push(FieldError::new(
                "type",
                "required: sustainability, hotspot or ghg_inventory",
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
    if kind == "ghg_inventory" {
        let inventory = inventory_request(o, &mut errors);
        for f in ["devices", "source"] {
            if o.contains_key(f) {
                errors.push(FieldError::new(
                    f,
                    "a ghg_inventory report reads the organisation's fleet inventory: give `year` (and `view`) instead",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let inventory = inventory.expect("no errors: the year was read");
        return Ok(NewReport {
            title: title.unwrap_or_else(|| format!("GHG inventory {}", inventory.year)),
            kind,
            period: period.or_else(|| Some(inventory.year.to_string())),
            source: "inventory",
            devices: Vec::new(),
            inventory: Some(inventory),
        });
    }
    for f in ["year", "view"] {
        if o.contains_key(f) {
            errors.push(FieldError::new(f, "only for a ghg_inventory report"));
        }
    }
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
        inventory: None,
    })
}

/// A `ghg_inventory` report's `year` (required, 1990 to 2100) and `view` (`ghg` by default).
fn inventory_request(
    o: &serde_json::Map<String, Value>,
    errors: &mut Vec<FieldError>,
) -> Option<InventoryRequest> {
    let year = match o.get("year").and_then(Value::as_i64) {
        Some(y) if (1990..=2100).contains(&y) => Some(y),
        _ => {
            errors.push(FieldError::new(
                "year",
                "required: a reporting year, 1990 to 2100",
            ));
            None
        }
    };
    let view = match o.get("view") {
        None | Some(Value::Null) => Some(View::Ghg),
        Some(v) => match v.as_str().and_then(View::parse) {
            Some(v) => Some(v),
            None => {
                errors.push(FieldError::new("view", "one of: ghg, amortised"));
                None
            }
        },
    };
    Some(InventoryRequest {
        year: year?,
        view: view?,
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

    #[test]
    fn a_ghg_inventory_report_names_a_year_and_a_view_and_nothing_of_a_fleet() {
        let r = parse_(json!({"type": "ghg_inventory", "year": 2025})).unwrap();
        assert_eq!(
            (r.source, r.period.as_deref(), r.title.as_str()),
            ("inventory", Some("2025"), "GHG inventory 2025")
        );
        assert_eq!(
            r.inventory,
            Some(InventoryRequest {
                year: 2025,
                view: View::Ghg
            })
        );
        let r =
            parse_(json!({"type": "ghg_inventory", "year": 2024, "view": "amortised"})).unwrap();
        assert_eq!(r.inventory.unwrap().view, View::Amortised);
        let fields = |body: Value| -> Vec<String> {
            parse_(body)
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(fields(json!({"type": "ghg_inventory"})), ["year"]);
        assert_eq!(
            fields(json!({"type": "ghg_inventory", "year": 1800, "view": "x", "source": "assets"})),
            ["year", "view", "source"]
        );
        assert_eq!(
            fields(json!({"type": "hotspot", "year": 2025, "source": "assets"})),
            ["year"]
        );
    }
}
