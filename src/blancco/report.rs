//! Blancco erasure reports, as the Management Portal exports them (XML `<root><report>…` with
//! `<entries name>`/`<entry name type>`, or JSON where every group is an array of single-key
//! objects), normalised into one tree and read into what the footprint engine needs.
//! Pure: the upload handler and the cloud pull live in the edge layer.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde::Serialize;
use serde_json::{Map, Value};

/// Most reports accepted in one upload.
pub const MAX_REPORTS: usize = 500;

/// What a report says about a device.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ErasedDevice {
    pub document_id: String,
    pub manufacturer: Option<String>,
    pub model: String,
    pub serial: Option<String>,
    pub chassis_type: Option<String>,
    /// The API's category, from the chassis type.
    pub category: Option<String>,
    pub ram_gb: Option<f64>,
    pub storage_gb: Option<f64>,
    pub disks: usize,
    pub erasure_states: Vec<String>,
    pub erasure_standard: Option<String>,
    pub erased_at: Option<String>,
    pub custom_fields: Map<String, Value>,
}

impl ErasedDevice {
    /// Reusable only when every erasure succeeded.
    pub fn erased(&self) -> bool {
        !self.erasure_states.is_empty()
            && self
                .erasure_states
                .iter()
                .all(|s| s.eq_ignore_ascii_case("successful"))
    }
}

/// Insert into a group; a repeated child makes the member one flat array of every value
/// (never an array nested in an array: a value's depth is bounded by the document's, not by
/// how often a child repeats).
fn insert(map: &mut Map<String, Value>, key: String, value: Value) {
    match map.get_mut(&key) {
        None => {
            map.insert(key, value);
        }
        Some(Value::Array(a)) => a.push(value),
        Some(existing) => {
            let prev = existing.take();
            *existing = Value::Array(vec![prev, value]);
        }
    }
}

fn typed(text: &str, ty: Option<&str>) -> Value {
    match ty {
        Some("uint" | "int" | "integer" | "long") => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| text.into()),
        Some("bool" | "boolean") => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            t => t.into(),
        },
        _ => Value::String(text.to_string()),
    }
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16)
            .ok()
            .and_then(char::from_u32),
        n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
        _ => None,
    }
}

/// Deepest element nesting accepted (Blancco reports use about ten levels).
pub const MAX_XML_DEPTH: usize = 64;
/// Most elements in one upload (about 200 per report, at most 500 reports, and room).
pub const MAX_XML_ELEMENTS: usize = 250_000;

/// Why an XML upload was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// Not well-formed, or not an export (the message says where).
    Malformed(String),
    /// Past one of the parser's bounds: which, and its value.
    Limit { what: &'static str, limit: usize },
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XmlError::Malformed(m) => f.write_str(m),
            XmlError::Limit { what, limit } => write!(f, "more than {limit} {what}"),
        }
    }
}

impl From<String> for XmlError {
    fn from(m: String) -> Self {
        XmlError::Malformed(m)
    }
}

/// Parse an XML export into report trees (one per `<report>`). Bounded: nesting depth,
/// element count and report count are checked as the document is read, so a hostile upload
/// stops early with [`XmlError::Limit`].
pub fn parse_xml(xml: &str) -> Result<Vec<Value>, XmlError> {
    let mut reader = Reader::from_str(xml);
    // Stack of open elements: (key, attributes type, children, text).
    struct Open {
        key: String,
        ty: Option<String>,
        children: Map<String, Value>,
        text: String,
        is_report: bool,
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut reports = Vec::new();
    let mut elements = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| {
            XmlError::Malformed(format!(
                "malformed XML at byte {}: {e}",
                reader.buffer_position()
            ))
        })?;
        match event {
            Event::Start(e) => {
                elements += 1;
                if elements > MAX_XML_ELEMENTS {
                    return Err(XmlError::Limit {
                        what: "XML elements",
                        limit: MAX_XML_ELEMENTS,
                    });
                }
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(XmlError::Limit {
                        what: "levels of XML nesting",
                        limit: MAX_XML_DEPTH,
                    });
                }
                let tag = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
                let mut name = None;
                let mut ty = None;
                for a in e.attributes().flatten() {
                    let v = a
                        .unescape_value()
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    match a.key.as_ref() {
                        b"name" => name = Some(v),
                        b"type" => ty = Some(v),
                        _ => {}
                    }
                }
                let key = match (&*tag, name) {
                    ("entries" | "entry", Some(n)) => n,
                    _ => tag.clone(),
                };
                stack.push(Open {
                    key,
                    ty,
                    children: Map::new(),
                    text: String::new(),
                    is_report: tag == "report",
                });
            }
            Event::Empty(_) => {}
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.decode().map_err(|e| e.to_string())?);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let name = String::from_utf8_lossy(&r).to_string();
                    top.text
                        .push(entity(&name).ok_or_else(|| format!("unknown XML entity &{name};"))?);
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(XmlError::Malformed(
                        "malformed XML: unbalanced end tag".into(),
                    ));
                };
                let value = if done.children.is_empty() {
                    typed(done.text.trim(), done.ty.as_deref())
                } else {
                    Value::Object(done.children)
                };
                if done.is_report {
                    if reports.len() >= MAX_REPORTS {
                        return Err(XmlError::Limit {
                            what: "reports in one upload",
                            limit: MAX_REPORTS,
                        });
                    }
                    reports.push(value);
                } else if let Some(parent) = stack.last_mut() {
                    insert(&mut parent.children, done.key, value);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed(format!(
            "malformed XML: <{}> is never closed",
            stack.last().map(|o| o.key.as_str()).unwrap_or("?")
        )));
    }
    if reports.is_empty() {
        return Err(XmlError::Malformed("no <report> element found".into()));
    }
    Ok(reports)
}

/// Normalise the JSON form: arrays of single-key objects become maps (repeated keys become
/// arrays of objects), `@type` keys are dropped.
pub fn normalise_json(v: &Value) -> Value {
    match v {
        Value::Array(items)
            if !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_object().is_some_and(|o| o.len() == 1)) =>
        {
            let mut map = Map::new();
            for item in items {
                if let Some((k, v)) = item.as_object().and_then(|o| o.iter().next()) {
                    if k != "@type" {
                        insert(&mut map, k.clone(), normalise_json(v));
                    }
                }
            }
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.iter().map(normalise_json).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| k.as_str() != "@type")
                .map(|(k, v)| (k.clone(), normalise_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Report trees of a JSON upload: `{"reports": [...]}`, an array of reports, or one report.
pub fn json_reports(v: &Value) -> Vec<Value> {
    let list: Vec<&Value> = match v {
        Value::Object(o) if o.contains_key("reports") => o["reports"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    list.into_iter()
        .map(|r| {
            normalise_json(if r.get("report").is_some() {
                &r["report"]
            } else {
                r
            })
        })
        .collect()
}

/// A value or each item of an array of values.
fn each(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// SMBIOS chassis type (and, for mobiles, the model) → API category.
pub fn category(chassis: &str, model: &str) -> Option<&'static str> {
    let c = chassis.to_lowercase();
    Some(match c.as_str() {
        "notebook" | "laptop" | "convertible" | "portable" | "sub notebook" | "detachable" => {
            "laptop"
        }
        "desktop"
        | "low profile desktop"
        | "mini tower"
        | "mini pc"
        | "all in one"
        | "space-saving" => "desktop",
        "server"
        | "rack mount chassis"
        | "main server chassis"
        | "multi-system chassis"
        | "blade" => "server",
        // "Tower" is a server in the production mapping we follow, though it can be a desktop.
        "tower" => "server",
        "tablet" => "tablet",
        "mobile device" | "mobile" => {
            let m = model.to_lowercase();
            if m.contains("ipad") || m.contains("tab") {
                "tablet"
            } else {
                "smartphone"
            }
        }
        _ => return None,
    })
}

/// Read one report tree.
pub fn extract(report: &Value) -> Result<ErasedDevice, String> {
    let data = &report["blancco_data"];
    if !data.is_object() {
        return Err("not a Blancco report (no blancco_data)".into());
    }
    let document_id = text(&data["description"]["document_id"])
        .ok_or("the report has no description.document_id")?;
    let hw = &data["blancco_hardware_report"];
    let system = &hw["system"];
    let model = text(&system["model"])
        .ok_or_else(|| format!("report {document_id} has no system.model"))?;
    let chassis = text(&system["chassis_type"]);
    let disks: Vec<&Value> = each(&hw["disks"]["disk"]);
    let storage: f64 = disks
        .iter()
        .filter_map(|d| number(&d["capacity"]))
        .sum::<f64>()
        / 1e9;
    let erasures: Vec<&Value> = each(&data["blancco_erasure_report"]["erasures"]["erasure"]);
    let states: Vec<String> = erasures
        .iter()
        .map(|e| text(&e["state"]).unwrap_or_else(|| "unknown".into()))
        .collect();
    Ok(ErasedDevice {
        category: chassis
            .as_deref()
            .and_then(|c| category(c, &model))
            .map(str::to_string),
        manufacturer: text(&system["manufacturer"]),
        serial: text(&system["serial"]),
        chassis_type: chassis,
        ram_gb: number(&hw["memory"]["total_memory"])
            .map(|b| (b / 1_073_741_824.0 * 100.0).round() / 100.0),
        storage_gb: (storage > 0.0).then_some((storage * 10.0).round() / 10.0),
        disks: disks.len(),
        erasure_standard: erasures
            .iter()
            .find_map(|e| text(&e["erasure_standard_name"])),
        erased_at: erasures.iter().filter_map(|e| text(&e["end_time"])).max(),
        erasure_states: states,
        custom_fields: report["user_data"]["fields"]
            .as_object()
            .cloned()
            .unwrap_or_default(),
        model,
        document_id,
    })
}

/// Brand names as the catalogue spells them ("Dell Inc." → "Dell", "HP Inc." → "HP").
pub fn brand(manufacturer: &str) -> String {
    let m = manufacturer.trim();
    let lower = m.to_lowercase();
    for (prefix, name) in [
        ("dell", "Dell"),
        ("hewlett", "HP"),
        ("hp", "HP"),
        ("lenovo", "Lenovo"),
        ("apple", "Apple"),
        ("microsoft", "Microsoft"),
        ("samsung", "Samsung"),
        ("google", "Google"),
    ] {
        if lower.starts_with(prefix) {
            return name.to_string();
        }
    }
    m.trim_end_matches(" Inc.")
        .trim_end_matches(" Inc")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{within, Rng};

    /// Depth of a JSON value, without recursion (so the check itself cannot overflow).
    fn depth(v: &Value) -> usize {
        let mut max = 0;
        let mut stack = vec![(v, 1)];
        while let Some((v, d)) = stack.pop() {
            max = max.max(d);
            match v {
                Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
                Value::Object(o) => stack.extend(o.values().map(|x| (x, d + 1))),
                _ => {}
            }
        }
        max
    }

    #[test]
    fn a_repeated_child_is_one_flat_array() {
        let xml = format!(
            "<root><report><a>0</a>{}</report></root>",
            "<a>1</a>".repeat(20_000)
        );
        let reports = within(2000, "20,000 repeats", || parse_xml(&xml)).unwrap();
        let a = reports[0]["a"].as_array().unwrap();
        assert_eq!(a.len(), 20_001);
        assert!(a.iter().all(Value::is_string));
        assert_eq!(depth(&reports[0]), 3);
        // Serialising and dropping it is flat work too.
        assert!(serde_json::to_string(&reports).unwrap().len() > 20_000);
    }

    #[test]
    fn parser_bounds_answer_with_the_limit() {
        let deep = format!(
            "<root><report>{}x{}</report></root>",
            "<a>".repeat(MAX_XML_DEPTH + 10),
            "</a>".repeat(MAX_XML_DEPTH + 10)
        );
        assert!(matches!(
            parse_xml(&deep),
            Err(XmlError::Limit {
                limit: MAX_XML_DEPTH,
                ..
            })
        ));
        let many = format!(
            "<root><report>{}</report></root>",
            "<a/><b></b>".repeat(MAX_XML_ELEMENTS)
        );
        assert!(matches!(
            within(5000, "250,000 elements", || parse_xml(&many)),
            Err(XmlError::Limit {
                limit: MAX_XML_ELEMENTS,
                ..
            })
        ));
        let reports = "<report><a>1</a></report>".repeat(MAX_REPORTS + 1);
        assert!(matches!(
            parse_xml(&format!("<root>{reports}</root>")),
            Err(XmlError::Limit {
                limit: MAX_REPORTS,
                ..
            })
        ));
    }

    #[test]
    fn random_and_adversarial_documents_never_panic_and_stay_shallow() {
        let pieces = [
            "<report>",
            "</report>",
            "<a>",
            "</a>",
            "<b x='1'>",
            "</b>",
            "<entries name=\"e\">",
            "</entries>",
            "<entry name=\"n\" type=\"uint\">",
            "</entry>",
            "1",
            "text",
            "&amp;",
            "&bogus;",
            "&#x1F600;",
            "&#99999999;",
            "<![CDATA[<x>]]>",
            "<!-- c -->",
            "<",
            ">",
            "'",
            "\"",
            "é",
            "<root>",
            "</root>",
            "<?xml version=\"1.0\"?>",
            "<c/>",
        ];
        let mut rng = Rng::new(0xB1A2C0);
        within(20_000, "2,000 random documents", || {
            for _ in 0..2000 {
                let len = rng.below(400);
                let doc = rng.text(&pieces, len);
                if let Ok(reports) = parse_xml(&doc) {
                    for r in &reports {
                        assert!(depth(r) <= MAX_XML_DEPTH + 2, "too deep from {doc:?}");
                    }
                }
            }
        });
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/fixtures/blancco/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn reads_xml_reports() {
        let reports = parse_xml(&fixture("laptop.xml")).unwrap();
        assert_eq!(reports.len(), 1);
        let d = extract(&reports[0]).unwrap();
        assert_eq!(d.model, "Latitude 5420");
        assert_eq!(d.manufacturer.as_deref(), Some("Dell Inc."));
        assert_eq!(d.category.as_deref(), Some("laptop"));
        assert_eq!(d.ram_gb, Some(16.0));
        assert_eq!(d.storage_gb, Some(256.1));
        assert!(d.erased());
        assert_eq!(d.custom_fields["Order Number"], "PO-123 & co");
        assert_eq!(brand("Dell Inc."), "Dell");
    }

    #[test]
    fn reads_json_reports_with_repeated_children() {
        let v: Value = serde_json::from_str(&fixture("batch.json")).unwrap();
        let reports = json_reports(&v);
        let devices: Vec<_> = reports.iter().map(extract).collect();
        let server = devices
            .iter()
            .flatten()
            .find(|d| d.category.as_deref() == Some("server"))
            .expect("a server");
        assert_eq!(server.disks, 2);
        assert_eq!(server.storage_gb, Some(1920.0));
        let phone = devices
            .iter()
            .flatten()
            .find(|d| d.category.as_deref() == Some("smartphone"))
            .expect("a phone");
        assert_eq!(phone.manufacturer.as_deref(), Some("Apple"));
        let failed = devices
            .iter()
            .flatten()
            .find(|d| !d.erased())
            .expect("a failed erasure");
        assert!(failed.erasure_states.iter().any(|s| s == "Failed"));
        assert!(devices
            .iter()
            .any(|d| d.as_ref().is_err_and(|e| e.contains("system.model"))));
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        assert!(parse_xml(&fixture("malformed.xml")).is_err());
        assert!(parse_xml("<root></root>").is_err());
        assert!(parse_xml("<root><report><blancco_data>").is_err());
    }

    #[test]
    fn chassis_types() {
        assert_eq!(category("Mini Tower", ""), Some("desktop"));
        assert_eq!(category("Rack Mount Chassis", ""), Some("server"));
        assert_eq!(category("Mobile Device", "iPad Air"), Some("tablet"));
        assert_eq!(category("Toaster", ""), None);
    }
}
