//! Asset lists as people already keep them, into asset bodies (`inventory::asset::parse`
//! validates each): CarbonTrace's own columns, Snipe-IT (its CSV export and `GET
//! /api/v1/hardware` rows), Microsoft Intune / Graph `managedDevice` rows and Boavizta G4IT's
//! physical-equipment CSV. Pure and bounded: at most [`MAX_ROWS`] rows and [`MAX_FIELD`]
//! bytes a field, a CSV parsed without recursion, every refusal naming its row.

use serde_json::{json, Map, Value};

use crate::validation::FieldError;

/// Most rows one synchronous import takes.
pub const MAX_ROWS: usize = 1_000;
/// Longest field of a CSV row.
pub const MAX_FIELD: usize = 2_000;
/// Most columns of a CSV row.
pub const MAX_COLUMNS: usize = 100;

/// Where a list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CarbonTrace,
    SnipeIt,
    Intune,
    G4it,
}

impl Format {
    pub fn parse(s: &str) -> Option<Option<Format>> {
        Some(match s {
            "auto" => None,
            "carbontrace" => Some(Format::CarbonTrace),
            "snipeit" => Some(Format::SnipeIt),
            "intune" => Some(Format::Intune),
            "g4it" => Some(Format::G4it),
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::CarbonTrace => "carbontrace",
            Format::SnipeIt => "snipeit",
            Format::Intune => "intune",
            Format::G4it => "g4it",
        }
    }
}

/// One row's problem: its number (1 = the first data row) and the field.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

impl RowError {
    pub fn of(row: usize, e: FieldError) -> RowError {
        RowError {
            row,
            field: e.field,
            message: e.message,
        }
    }
}

/// Split CSV text into rows of fields (RFC 4180: quoted fields, doubled quotes, CRLF or LF),
/// with `sep` between fields.
pub fn csv_rows(text: &str, sep: char) -> Result<Vec<Vec<String>>, FieldError> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let too_long = || FieldError::new("body", format!("a field longer than {MAX_FIELD} bytes"));
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
        } else {
            match c {
                '"' if field.is_empty() => quoted = true,
                c if c == sep => row.push(std::mem::take(&mut field)),
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                _ => field.push(c),
            }
        }
        if field.len() > MAX_FIELD {
            return Err(too_long());
        }
        if row.len() > MAX_COLUMNS {
            return Err(FieldError::new(
                "body",
                format!("more than {MAX_COLUMNS} columns"),
            ));
        }
        if rows.len() > MAX_ROWS + 1 {
            return Err(FieldError::new(
                "body",
                format!("more than {MAX_ROWS} rows (limit)"),
            ));
        }
    }
    if quoted {
        return Err(FieldError::new("body", "a quoted field is not closed"));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows.retain(|r| r.iter().any(|f| !f.trim().is_empty()));
    Ok(rows)
}

/// The serial's column in each format's CSV: a header naming none of them is not an asset list.
const SERIAL_COLUMNS: [&str; 5] = [
    "serial",
    "Serial",
    "serialNumber",
    "Serial number",
    "nomEquipementPhysique",
];

/// CSV rows as objects keyed by the header row.
fn records(text: &str) -> Result<Vec<Map<String, Value>>, FieldError> {
    let first = text.lines().next().unwrap_or("");
    let sep = if first.matches(';').count() > first.matches(',').count() {
        ';'
    } else {
        ','
    };
    let mut rows = csv_rows(text, sep)?.into_iter();
    // An empty file is an empty import.
    let Some(header) = rows.next() else {
        return Ok(Vec::new());
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    if !header.iter().any(|h| SERIAL_COLUMNS.contains(&h.as_str())) {
        return Err(FieldError::new(
            "body",
            format!(
                "the header row names no serial column (one of: {})",
                SERIAL_COLUMNS.join(", ")
            ),
        ));
    }
    Ok(rows
        .map(|r| {
            header
                .iter()
                .zip(r)
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(h, v)| (h.clone(), Value::String(v.trim().to_string())))
                .collect()
        })
        .collect())
}

/// The rows of a JSON document: an array, or the list inside Snipe-IT's `{rows}` or Graph's
/// `{value}`.
fn json_rows(v: Value) -> Result<Vec<Map<String, Value>>, FieldError> {
    let shape = || {
        FieldError::new(
            "body",
            "an array of rows, or one of {\"rows\": […]}, {\"value\": […]}",
        )
    };
    let list = match v {
        Value::Array(a) => a,
        Value::Object(mut o) => {
            let mut lists = ["rows", "value", "assets"]
                .iter()
                .filter_map(|k| o.remove(*k));
            match (lists.next(), lists.next()) {
                (Some(Value::Array(a)), None) => a,
                _ => return Err(shape()),
            }
        }
        _ => return Err(shape()),
    };
    if list.len() > MAX_ROWS {
        return Err(FieldError::new(
            "body",
            format!("more than {MAX_ROWS} rows (limit)"),
        ));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Value::Object(o) => Ok(o),
            _ => Err(FieldError::new(
                "body",
                format!("row {} is not an object", i + 1),
            )),
        })
        .collect()
}

/// Which format a first row looks like.
fn detect(first: &Map<String, Value>) -> Format {
    let has = |k: &str| first.contains_key(k);
    if has("serialNumber") || has("deviceName") || has("enrolledDateTime") {
        Format::Intune
    } else if has("nomEquipementPhysique") || has("dateAchat") || has("paysDUtilisation") {
        Format::G4it
    } else if has("Asset Tag") || has("Serial") || has("model_number") || has("Model No.") {
        Format::SnipeIt
    } else {
        Format::CarbonTrace
    }
}

/// A text member, or a nested `{name}` / `{date}` one (Snipe-IT's API nests them).
fn text(r: &Map<String, Value>, keys: &[&str]) -> Option<Value> {
    keys.iter().find_map(|k| match r.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(Value::String(s.trim().to_string())),
        Value::Number(n) => Some(Value::String(n.to_string())),
        Value::Object(o) => ["name", "date"]
            .iter()
            .find_map(|f| o.get(*f).and_then(Value::as_str))
            .map(|s| Value::String(s.to_string())),
        _ => None,
    })
}

/// A number member, from a JSON number or text (`1,234.50`, `1 234,50 €`).
fn number(r: &Map<String, Value>, keys: &[&str]) -> Option<Value> {
    keys.iter().find_map(|k| match r.get(*k)? {
        Value::Number(n) => Some(Value::Number(n.clone())),
        Value::String(s) => {
            let cleaned: String = s
                .chars()
                .filter(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-'))
                .collect();
            let normal = if cleaned.contains('.') {
                cleaned.replace(',', "")
            } else {
                cleaned.replace(',', ".")
            };
            normal
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(|v| json!(v))
        }
        _ => None,
    })
}

/// The first ten characters of a date-time (`2025-03-01T10:00:00Z` → `2025-03-01`).
fn date(v: Option<Value>) -> Option<Value> {
    v.and_then(|v| {
        v.as_str()
            .map(|s| Value::String(s.chars().take(10).collect()))
    })
}

/// Snipe-IT category names → CarbonTrace categories.
fn category(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    Some(match () {
        _ if n.contains("laptop") || n.contains("notebook") => "laptop",
        _ if n.contains("desktop") || n.contains("tower") || n.contains("pc") => "desktop",
        _ if n.contains("monitor")
            || n.contains("display")
            || n.contains("ecran")
            || n.contains("écran") =>
        {
            "monitor"
        }
        _ if n.contains("server") || n.contains("serveur") => "server",
        _ if n.contains("phone") || n.contains("smartphone") || n.contains("mobile") => {
            "smartphone"
        }
        _ if n.contains("tablet") || n.contains("tablette") => "tablet",
        _ if n.contains("printer") || n.contains("imprimante") => "printer",
        _ if n.contains("switch")
            || n.contains("router")
            || n.contains("network")
            || n.contains("réseau") =>
        {
            "network"
        }
        _ => return None,
    })
}

/// One row of `format` as an asset body, and a note when a field was inferred.
fn map(format: Format, r: &Map<String, Value>) -> Map<String, Value> {
    let mut a = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            a.insert(k.into(), v);
        }
    };
    match format {
        Format::CarbonTrace => {
            for (k, v) in r {
                let v = match (k.as_str(), v) {
                    (
                        "yearly_kwh" | "purchase_cost" | "expected_lifetime_years",
                        Value::String(_),
                    ) => number(r, &[k.as_str()]),
                    _ => Some(v.clone()),
                };
                put(k, v);
            }
        }
        Format::SnipeIt => {
            put("serial", text(r, &["serial", "Serial"]));
            put("asset_tag", text(r, &["asset_tag", "Asset Tag"]));
            put("name", text(r, &["name", "Asset Name", "Name"]));
            put("brand", text(r, &["manufacturer", "Manufacturer"]));
            put("model", text(r, &["model", "Model"]));
            put(
                "mpn",
                text(r, &["model_number", "Model No.", "Model Number"]),
            );
            let cat = text(r, &["category", "Category"]);
            put(
                "category",
                cat.as_ref()
                    .and_then(|c| c.as_str())
                    .and_then(category)
                    .map(Value::from),
            );
            put(
                "purchase_date",
                date(text(r, &["purchase_date", "Purchase Date"])),
            );
            let cost = number(r, &["purchase_cost", "Purchase Cost"]);
            if cost.is_some() {
                let currency = text(r, &["currency", "Currency"]);
                put("currency", currency.or(Some(Value::from("EUR"))));
            }
            put("purchase_cost", cost);
        }
        Format::Intune => {
            put("serial", text(r, &["serialNumber", "Serial number"]));
            put("name", text(r, &["deviceName", "Device name"]));
            put("brand", text(r, &["manufacturer", "Manufacturer"]));
            put("model", text(r, &["model", "Model"]));
            // Intune has no purchase date: enrolment is the in-service date (flagged).
            put(
                "purchase_date",
                date(text(r, &["enrolledDateTime", "Enrollment date"])),
            );
            let os = text(r, &["operatingSystem", "OS"])
                .and_then(|v| v.as_str().map(str::to_ascii_lowercase));
            let cat = match os.as_deref() {
                Some(o) if o.contains("ios") || o.contains("android") => "smartphone",
                Some(o) if o.contains("ipad") => "tablet",
                _ => "laptop",
            };
            put("category", Some(Value::from(cat)));
        }
        Format::G4it => {
            put("serial", text(r, &["nomEquipementPhysique"]));
            put("name", text(r, &["nomEquipementPhysique"]));
            put("model", text(r, &["modele"]));
            let kind = text(r, &["type"]);
            put(
                "category",
                kind.as_ref()
                    .and_then(|c| c.as_str())
                    .and_then(category)
                    .map(Value::from),
            );
            put("purchase_date", date(text(r, &["dateAchat"])));
            put("retired_date", date(text(r, &["dateRetrait"])));
            put(
                "country",
                text(r, &["paysDUtilisation"]).and_then(|c| {
                    c.as_str()
                        .map(|s| Value::from(country_from_name(s).unwrap_or(s)))
                }),
            );
            put("yearly_kwh", number(r, &["consoElecAnnuelle"]));
        }
    }
    a
}

/// G4IT writes countries by French name.
fn country_from_name(name: &str) -> Option<&'static str> {
    Some(match name.trim().to_lowercase().as_str() {
        "france" => "FR",
        "allemagne" => "DE",
        "espagne" => "ES",
        "italie" => "IT",
        "belgique" => "BE",
        "pays-bas" => "NL",
        "royaume-uni" => "GB",
        "irlande" => "IE",
        "suède" | "suede" => "SE",
        "pologne" => "PL",
        "portugal" => "PT",
        "suisse" => "CH",
        "etats-unis" | "états-unis" => "US",
        "inde" => "IN",
        "chine" => "CN",
        _ => return None,
    })
}

/// The asset bodies of a file, in its rows' order, and the format read. `csv`: the body is
/// CSV text (else JSON). G4IT rows with `quantite` n > 1 become n assets (`<name>-1` …).
pub fn read(
    body: &str,
    csv: bool,
    format: Option<Format>,
) -> Result<(Format, Vec<Value>), FieldError> {
    let rows = if csv {
        records(body)?
    } else {
        let v: Value = serde_json::from_str(body)
            .map_err(|e| FieldError::new("body", format!("not JSON: {e}")))?;
        json_rows(v)?
    };
    let format = format.unwrap_or_else(|| rows.first().map(detect).unwrap_or(Format::CarbonTrace));
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let a = map(format, r);
        let copies = match format {
            Format::G4it => number(r, &["quantite"])
                .and_then(|q| q.as_f64())
                .unwrap_or(1.0),
            _ => 1.0,
        };
        if copies > 1.0 && copies <= 1_000.0 && copies.fract() == 0.0 {
            for i in 1..=copies as usize {
                let mut c = a.clone();
                if let Some(s) = c
                    .get("serial")
                    .and_then(Value::as_str)
                    .map(|s| format!("{s}-{i}"))
                {
                    c.insert("serial".into(), Value::from(s));
                }
                out.push(Value::Object(c));
            }
        } else {
            out.push(Value::Object(a));
        }
        if out.len() > MAX_ROWS {
            return Err(FieldError::new(
                "body",
                format!("more than {MAX_ROWS} assets (limit)"),
            ));
        }
    }
    Ok((format, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_separators_and_bounds() {
        let rows = csv_rows("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n1,2", ',').unwrap();
        assert_eq!(
            rows,
            vec![vec!["a", "b"], vec!["x, y", "say \"hi\""], vec!["1", "2"]]
        );
        assert!(csv_rows("\"open", ',').is_err());
        assert!(csv_rows(&"x".repeat(MAX_FIELD + 1), ',').is_err());
        let many = "a\n".repeat(MAX_ROWS + 5);
        assert!(csv_rows(&many, ',').unwrap_err().message.contains("rows"));
        assert!(csv_rows(&",".repeat(MAX_COLUMNS + 1), ',').is_err());
    }

    #[test]
    fn each_format_maps_to_assets() {
        let (f, a) = read("serial,category,purchase_date,purchase_cost,currency\nS1,laptop,2025-01-02,\"1,200.50\",EUR\n", true, None).unwrap();
        assert_eq!(f, Format::CarbonTrace);
        assert_eq!(a[0]["purchase_cost"], 1200.5);
        let snipe = r#"{"total": 1, "rows": [{"id": 7, "name": "Finance 12", "asset_tag": "A-12", "serial": "5CG1",
            "model": {"id": 3, "name": "EliteBook 840"}, "model_number": "6F6H1EA", "category": {"id": 2, "name": "Laptops"},
            "manufacturer": {"id": 1, "name": "HP"}, "purchase_date": {"date": "2024-05-06", "formatted": "06/05/2024"},
            "purchase_cost": "1,049.00"}]}"#;
        let (f, a) = read(snipe, false, None).unwrap();
        assert_eq!(f, Format::SnipeIt);
        assert_eq!(
            (
                a[0]["serial"].as_str(),
                a[0]["brand"].as_str(),
                a[0]["category"].as_str(),
                a[0]["purchase_date"].as_str()
            ),
            (Some("5CG1"), Some("HP"), Some("laptop"), Some("2024-05-06"))
        );
        assert_eq!(a[0]["purchase_cost"], 1049.0);
        let intune = r#"{"value": [{"deviceName": "LT-042", "manufacturer": "Dell Inc.", "model": "Latitude 5420",
            "serialNumber": "ABC123", "enrolledDateTime": "2023-09-14T08:12:00Z", "operatingSystem": "Windows"}]}"#;
        let (f, a) = read(intune, false, None).unwrap();
        assert_eq!(f, Format::Intune);
        assert_eq!(
            (a[0]["purchase_date"].as_str(), a[0]["category"].as_str()),
            (Some("2023-09-14"), Some("laptop"))
        );
        let g4it = "nomEquipementPhysique;modele;quantite;type;dateAchat;dateRetrait;paysDUtilisation;consoElecAnnuelle\n\
                    PC-1;OptiPlex 7090;2;Desktop;2022-01-10;;France;120,5\n";
        let (f, a) = read(g4it, true, None).unwrap();
        assert_eq!(f, Format::G4it);
        assert_eq!(a.len(), 2, "a quantity of 2 is two assets");
        assert_eq!(
            (a[1]["serial"].as_str(), a[1]["country"].as_str()),
            (Some("PC-1-2"), Some("FR"))
        );
        assert_eq!(a[0]["yearly_kwh"], 120.5);
        assert!(read("{}", false, None).is_err());
        assert!(
            read("null", true, None)
                .unwrap_err()
                .message
                .contains("serial column"),
            "a header without a serial column is not an asset list"
        );
        assert!(
            read("", true, None).unwrap().1.is_empty(),
            "an empty file is an empty import"
        );
        assert!(read("[1,2]", false, Some(Format::CarbonTrace))
            .unwrap_err()
            .message
            .contains("row 1"));
        assert!(
            read(r#"{"rows": [], "value": []}"#, false, None).is_err(),
            "one list, not two"
        );
    }
}
