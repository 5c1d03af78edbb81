//! The CloudEvents 1.0 of PACT v3 `POST /3/events` (structured mode,
//! `application/cloudevents+json`): a footprint was published, a footprint is requested, a
//! request was fulfilled or rejected. [`parse`] validates an incoming event entirely (a
//! malformed event is a 400 before anything is done with it).

use serde_json::Value;

use super::filter::Query;

pub const PUBLISHED: &str = "org.wbcsd.pact.ProductFootprint.PublishedEvent.3";
pub const REQUEST_CREATED: &str = "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3";
pub const REQUEST_FULFILLED: &str = "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3";
pub const REQUEST_REJECTED: &str = "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3";

/// Most footprint ids one event names, and most footprints one fulfilment carries.
pub const MAX_PFS: usize = 100;
const MAX_TEXT: usize = 2000;

/// A valid incoming event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub source: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Published {
        pf_ids: Vec<String>,
    },
    RequestCreated {
        query: Query,
        comment: Option<String>,
    },
    RequestFulfilled {
        request_event_id: String,
        pfs: Vec<Value>,
    },
    RequestRejected {
        request_event_id: String,
        code: String,
        message: String,
    },
}

impl Kind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Published { .. } => PUBLISHED,
            Kind::RequestCreated { .. } => REQUEST_CREATED,
            Kind::RequestFulfilled { .. } => REQUEST_FULFILLED,
            Kind::RequestRejected { .. } => REQUEST_REJECTED,
        }
    }
}

/// Whether `s` is a UUID (`8-4-4-4-12` hex digits, any case).
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn string<'a>(v: &'a Value, field: &str) -> Result<&'a str, String> {
    v[field]
        .as_str()
        .filter(|s| !s.is_empty() && s.len() <= MAX_TEXT)
        .ok_or_else(|| format!("`{field}`: a non-empty string of at most {MAX_TEXT} bytes"))
}

/// Validate an event; `Err` says what is wrong with it.
pub fn parse(v: &Value) -> Result<Event, String> {
    if !v.is_object() {
        return Err("the body: a CloudEvents 1.0 event (a JSON object)".into());
    }
    if v["specversion"] != "1.0" {
        return Err("`specversion`: \"1.0\"".into());
    }
    let id = string(v, "id")?.to_string();
    let source = string(v, "source")?.to_string();
    if !v["time"]
        .as_str()
        .is_some_and(crate::validation::is_rfc3339)
    {
        return Err("`time`: an RFC 3339 date-time".into());
    }
    let data = &v["data"];
    if !data.is_object() {
        return Err("`data`: an object".into());
    }
    let kind = match v["type"].as_str() {
        Some(PUBLISHED) => {
            let ids = data["pfIds"]
                .as_array()
                .filter(|a| !a.is_empty() && a.len() <= MAX_PFS)
                .ok_or_else(|| format!("`data.pfIds`: 1 to {MAX_PFS} footprint ids"))?;
            let pf_ids = ids
                .iter()
                .map(|i| i.as_str().filter(|s| is_uuid(s)).map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or("`data.pfIds`: UUIDs")?;
            Kind::Published { pf_ids }
        }
        Some(REQUEST_CREATED) => {
            let mut pairs: Vec<(String, String)> = Vec::new();
            for key in ["productId", "companyId", "geography", "classification"] {
                match &data[key] {
                    Value::Null => {}
                    Value::Array(a) => {
                        for x in a {
                            let s = x.as_str().ok_or_else(|| format!("`data.{key}`: strings"))?;
                            pairs.push((key.into(), s.into()));
                        }
                    }
                    _ => return Err(format!("`data.{key}`: an array of strings")),
                }
            }
            for key in ["validOn", "validAfter", "validBefore", "status"] {
                match &data[key] {
                    Value::Null => {}
                    Value::String(s) => pairs.push((key.into(), s.clone())),
                    _ => return Err(format!("`data.{key}`: a string")),
                }
            }
            let query = super::filter::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .map_err(|e| format!("`data`: {e}"))?;
            let comment = match &data["comment"] {
                Value::Null => None,
                Value::String(s) if s.len() <= MAX_TEXT => Some(s.clone()),
                _ => return Err(format!("`data.comment`: a string of at most {MAX_TEXT} bytes")),
            };
            Kind::RequestCreated { query, comment }
        }
        Some(REQUEST_FULFILLED) => {
            let request_event_id = string(data, "requestEventId")?.to_string();
            let pfs = data["pfs"]
                .as_array()
                .filter(|a| !a.is_empty() && a.len() <= MAX_PFS && a.iter().all(Value::is_object))
                .ok_or_else(|| format!("`data.pfs`: 1 to {MAX_PFS} ProductFootprints"))?
                .clone();
            Kind::RequestFulfilled { request_event_id, pfs }
        }
        Some(REQUEST_REJECTED) => {
            let request_event_id = string(data, "requestEventId")?.to_string();
            let error = &data["error"];
            Kind::RequestRejected {
                request_event_id,
                code: string(error, "code").map_err(|e| format!("`data.error`: {e}"))?.to_string(),
                message: string(error, "message").map_err(|e| format!("`data.error`: {e}"))?.to_string(),
            }
        }
        _ => {
            return Err(format!(
                "`type`: one of {PUBLISHED}, {REQUEST_CREATED}, {REQUEST_FULFILLED}, {REQUEST_REJECTED}"
            ))
        }
    };
    Ok(Event { id, source, kind })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An event as a sender makes it.
    fn envelope(kind: &str, id: &str, source: &str, time: &str, data: Value) -> Value {
        json!({ "type": kind, "specversion": "1.0", "id": id, "source": source, "time": time, "data": data })
    }

    fn ev(kind: &str, data: Value) -> Value {
        envelope(
            kind,
            "run-1/12",
            "https://buyer.example",
            "2026-12-02T10:00:00Z",
            data,
        )
    }

    #[test]
    fn every_type_is_read_and_a_malformed_one_named() {
        let p = parse(&ev(
            PUBLISHED,
            json!({"pfIds": ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"]}),
        ))
        .unwrap();
        assert_eq!(p.kind.type_name(), PUBLISHED);
        assert!(
            parse(&ev(PUBLISHED, json!({"pfIds": ["urn:gtin:4712345060507"]})))
                .unwrap_err()
                .contains("UUID")
        );
        assert!(parse(&ev(PUBLISHED, json!({"pfIds": []}))).is_err());
        let r = parse(&ev(
            REQUEST_CREATED,
            json!({"productId": ["urn:gtin:1"], "status": "Active", "comment": "please"}),
        ))
        .unwrap();
        match r.kind {
            Kind::RequestCreated { query, comment } => {
                assert_eq!(query.product_id, ["urn:gtin:1"]);
                assert_eq!(comment.as_deref(), Some("please"));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&ev(REQUEST_CREATED, json!({"productId": "urn:gtin:1"}))).is_err());
        assert!(parse(&ev(REQUEST_CREATED, json!({"validOn": "soon"}))).is_err());
        assert!(parse(&ev(
            REQUEST_FULFILLED,
            json!({"requestEventId": "x", "pfs": [{}]})
        ))
        .is_ok());
        assert!(parse(&ev(
            REQUEST_FULFILLED,
            json!({"requestEventId": "x", "pfs": []})
        ))
        .is_err());
        assert!(parse(&ev(
            REQUEST_REJECTED,
            json!({"requestEventId": "x", "error": {"code": "NotFound", "message": "none"}})
        ))
        .is_ok());
        assert!(parse(&ev(
            REQUEST_REJECTED,
            json!({"requestEventId": "x", "error": {}})
        ))
        .is_err());
        assert!(parse(&ev("org.example.Other", json!({})))
            .unwrap_err()
            .contains("type"));
        let mut bad = ev(
            PUBLISHED,
            json!({"pfIds": ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"]}),
        );
        bad["specversion"] = json!("0.3");
        assert!(parse(&bad).is_err());
        bad["specversion"] = json!("1.0");
        bad["time"] = json!("noon");
        assert!(parse(&bad).is_err());
        assert!(parse(&json!([])).is_err());
        assert!(is_uuid("3A6C14A7-4deb-498a-b5ea-16ce2535b576"));
        assert!(!is_uuid("3a6c14a7-4deb-498a-b5ea-16ce2535b57"));
    }
}
