//! A fleet report request (`POST /reports`): its validation, kept here, below the HTTP
//! layer, so that it is tested natively.

use serde_json::Value;

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
    pub devices: Vec<Value>,
}

/// Validate a `POST /reports` body, naming every bad field at once.
pub fn parse(body: &Value) -> Result<NewReport, Vec<FieldError>> {
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
            ("devices", d.clone())
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

    #[test]
    fn a_valid_request_gets_defaults() {
        let r = parse(&json!({"type": "hotspot", "devices": [{"category": "laptop"}]})).unwrap();
        assert_eq!(r.kind, "hotspot");
        assert_eq!(r.title, "Fleet hotspot analysis");
        assert_eq!(r.source, "devices");
        assert_eq!(r.devices.len(), 1);
        let r =
            parse(&json!({"type": "sustainability", "source": "assets", "title": " Q1 "})).unwrap();
        assert_eq!((r.source, r.title.as_str()), ("assets", "Q1"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let e =
            parse(&json!({"type": "pie", "title": "", "devices": [], "colour": 1})).unwrap_err();
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        for f in ["colour", "type", "title", "devices"] {
            assert!(fields.contains(&f), "{f} not named in {fields:?}");
        }
        let too_many = vec![json!({}); MAX_DEVICES + 1];
        let e = parse(&json!({"type": "hotspot", "devices": too_many})).unwrap_err();
        assert!(e[0].message.contains("10001"), "{:?}", e);
        assert_eq!(parse(&json!([1])).unwrap_err()[0].field, "body");
        let e =
            parse(&json!({"type": "hotspot", "devices": [{}], "source": "assets"})).unwrap_err();
        assert_eq!(e[0].field, "devices");
    }
}
