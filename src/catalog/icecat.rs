//! Icecat's JSON product API: request URLs, and its answers turned into the engine's inputs
//! (category, display diagonal, RAM, storage, weight, typical power). Pure: the HTTP call
//! and the KV cache live in the edge layer.
//!
//! Rule from Icecat's behaviour: a 4xx other than 429 means "not found"; 429 and 5xx mean
//! "try again later"; a 200 whose body is not the expected JSON is malformed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Icecat's live JSON API.
pub const DEFAULT_BASE_URL: &str = "https://live.icecat.biz/api";

/// What to look up: Icecat lookups are exact only.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Gtin(String),
    BrandCode { brand: String, code: String },
}

impl Lookup {
    /// The KV cache key of this lookup: exactly the fields the request sends (encoded as in
    /// its URL), so an answer is only ever read back for the same question. A normalised key
    /// would let one tenant's lookup of `6F8G7EA-ABU` answer another's `6F8G7EA#ABU`, which
    /// Icecat may resolve differently.
    pub fn cache_key(&self) -> String {
        match self {
            Lookup::Gtin(g) => format!("icecat:v2:gtin:{}", encode(g)),
            Lookup::BrandCode { brand, code } => {
                format!("icecat:v2:bc:{}:{}", encode(brand), encode(code))
            }
        }
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The request URL (English, so feature names parse).
pub fn request_url(base: &str, username: &str, lookup: &Lookup) -> String {
    let what = match lookup {
        Lookup::Gtin(g) => format!("GTIN={}", encode(g)),
        Lookup::BrandCode { brand, code } => {
            format!("Brand={}&ProductCode={}", encode(brand), encode(code))
        }
    };
    format!("{base}?UserName={}&Language=en&{what}", encode(username))
}

/// Specs of a product as Icecat describes it, mapped to the engine's vocabulary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IcecatProduct {
    pub icecat_id: Option<i64>,
    pub brand: Option<String>,
    pub name: Option<String>,
    pub mpn: Option<String>,
    pub gtins: Vec<String>,
    pub icecat_category: Option<String>,
    /// The API's category, where Icecat's maps to one.
    pub category: Option<String>,
    pub screen_size_in: Option<f64>,
    pub memory_gb: Option<f64>,
    pub storage_gb: Option<f64>,
    pub weight_kg: Option<f64>,
    pub typical_power_w: Option<f64>,
    pub release_year: Option<f64>,
}

/// What an Icecat answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Found(Box<IcecatProduct>),
    NotFound,
    /// 429 or 5xx: do not cache, answer from the catalogue with a warning.
    Transient(String),
    /// Not the JSON we expect.
    Malformed(String),
}

/// Icecat category names → API categories.
fn map_category(name: &str) -> Option<&'static str> {
    let n = name.to_lowercase();
    Some(match () {
        _ if n.contains("notebook") || n.contains("laptop") || n.contains("chromebook") => "laptop",
        _ if n.contains("thin client") => "thin_client",
        _ if n.contains("workstation") => "workstation",
        _ if n.contains("pc") || n.contains("desktop") || n.contains("all-in-one") => "desktop",
        _ if n.contains("monitor") || n.contains("display") => "monitor",
        _ if n.contains("server") => "server",
        _ if n.contains("tablet") => "tablet",
        _ if n.contains("smartphone") || n.contains("mobile phone") => "smartphone",
        _ if n.contains("printer") || n.contains("multifunctional") => "printer",
        _ => return None,
    })
}

/// A number and its unit from text such as `16 GB`, `1.8 kg`, `39.6 cm (15.6")`.
fn number_unit(text: &str) -> Option<(f64, String)> {
    // A diagonal in inches inside parentheses wins: `39.6 cm (15.6")`.
    if let (Some(open), Some(close)) = (text.find('('), text.find("\")")) {
        if open < close {
            if let Ok(v) = text[open + 1..close].trim().parse::<f64>() {
                return Some((v, "in".into()));
            }
        }
    }
    let t = text.trim();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(t.len());
    let v: f64 = t[..end].replace(',', ".").parse().ok()?;
    Some((v, t[end..].trim().to_lowercase()))
}

fn feature_value(f: &Value) -> Option<(f64, String)> {
    let sign = f["Feature"]["Measure"]["Sign"]
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    for key in ["RawValue", "Value"] {
        if let Some(s) = f[key].as_str() {
            if let Ok(v) = s.trim().parse::<f64>() {
                return Some((v, sign.clone()));
            }
        }
    }
    number_unit(f["PresentationValue"].as_str()?)
}

fn to_gb(v: f64, unit: &str, binary_mb: bool) -> Option<f64> {
    Some(match unit.trim_end_matches('.') {
        "tb" => v * 1000.0,
        "gb" | "" => v,
        "mb" if binary_mb => v / 1024.0,
        "mb" => v / 1000.0,
        _ => return None,
    })
}

/// Interpret an Icecat answer.
pub fn parse(status: u16, body: &str) -> Outcome {
    if status == 429 || status >= 500 {
        return Outcome::Transient(format!("Icecat answered {status}"));
    }
    if (400..500).contains(&status) {
        return Outcome::NotFound;
    }
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return Outcome::Malformed(format!("Icecat sent invalid JSON: {e}")),
    };
    match v["msg"].as_str() {
        Some(m) if m.eq_ignore_ascii_case("not found") => return Outcome::NotFound,
        Some("OK") => {}
        other => return Outcome::Malformed(format!("unexpected Icecat msg {other:?}")),
    }
    let data = &v["data"];
    let g = &data["GeneralInfo"];
    if !g.is_object() {
        return Outcome::Malformed("Icecat answer has no data.GeneralInfo".into());
    }
    let text = |v: &Value| v.as_str().map(str::to_string).filter(|s| !s.is_empty());
    let cat_name = text(&g["Category"]["Name"]["Value"]);
    let mut p = IcecatProduct {
        icecat_id: g["IcecatId"].as_i64(),
        brand: text(&g["Brand"]),
        name: text(&g["ProductName"]).or_else(|| text(&g["Title"])),
        mpn: text(&g["BrandPartCode"]),
        gtins: g["GTIN"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        category: cat_name
            .as_deref()
            .and_then(map_category)
            .map(str::to_string),
        icecat_category: cat_name,
        release_year: g["ReleaseDate"]
            .as_str()
            .and_then(|d| d.get(..4))
            .and_then(|y| y.parse().ok()),
        ..Default::default()
    };
    let groups = data["FeaturesGroups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for group in &groups {
        for f in group["Features"].as_array().into_iter().flatten() {
            let id = f["Feature"]["ID"].as_i64().unwrap_or(0);
            let name = f["Feature"]["Name"]["Value"]
                .as_str()
                .unwrap_or("")
                .to_lowercase();
            let Some((v, unit)) = feature_value(f) else {
                continue;
            };
            if id == 944 || name == "display diagonal" {
                p.screen_size_in = Some(if unit == "cm" { v / 2.54 } else { v });
            } else if [11381, 7861].contains(&id)
                || name == "internal memory"
                || name == "internal ram"
            {
                p.memory_gb = p.memory_gb.or(to_gb(v, &unit, true));
            } else if id == 7
                || name == "total storage capacity"
                || name == "hard drive capacity"
                || name == "ssd capacity"
            {
                p.storage_gb = p.storage_gb.or(to_gb(v, &unit, false));
            } else if name == "weight" {
                p.weight_kg = match unit.as_str() {
                    "g" => Some(v / 1000.0),
                    "kg" | "" => Some(v),
                    _ => p.weight_kg,
                };
            } else if name.starts_with("power consumption (typical)") {
                p.typical_power_w = Some(v);
            }
        }
    }
    Outcome::Found(Box::new(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIT: &str = include_str!("../../fixtures/icecat/notebook.json");

    #[test]
    fn maps_a_notebook() {
        let Outcome::Found(p) = parse(200, HIT) else {
            panic!("hit")
        };
        assert_eq!(p.category.as_deref(), Some("laptop"));
        assert_eq!(p.brand.as_deref(), Some("HP"));
        assert_eq!(p.screen_size_in, Some(14.0));
        assert_eq!(p.memory_gb, Some(16.0));
        assert_eq!(p.storage_gb, Some(512.0));
        assert_eq!(p.weight_kg, Some(1.36));
        assert_eq!(p.typical_power_w, Some(9.5));
        assert_eq!(p.release_year, Some(2022.0));
    }

    #[test]
    fn misses_transients_and_garbage() {
        assert_eq!(parse(404, r#"{"msg":"Not found"}"#), Outcome::NotFound);
        assert_eq!(parse(200, r#"{"msg":"Not found"}"#), Outcome::NotFound);
        assert!(matches!(parse(429, ""), Outcome::Transient(_)));
        assert!(matches!(parse(503, "oops"), Outcome::Transient(_)));
        assert!(matches!(parse(200, "<html>"), Outcome::Malformed(_)));
        assert!(matches!(
            parse(200, r#"{"msg":"OK","data":{}}"#),
            Outcome::Malformed(_)
        ));
    }

    #[test]
    fn units_and_urls() {
        assert_eq!(number_unit("39.6 cm (15.6\")"), Some((15.6, "in".into())));
        assert_eq!(number_unit("8192 MB"), Some((8192.0, "mb".into())));
        assert_eq!(to_gb(8192.0, "mb", true), Some(8.0));
        assert_eq!(to_gb(1.0, "tb", false), Some(1000.0));
        let u = request_url(
            "http://x/api",
            "open Icecat",
            &Lookup::BrandCode {
                brand: "HP".into(),
                code: "6F8G7EA#ABU".into(),
            },
        );
        assert_eq!(
            u,
            "http://x/api?UserName=open%20Icecat&Language=en&Brand=HP&ProductCode=6F8G7EA%23ABU"
        );
        assert_eq!(
            Lookup::Gtin("0196548461234".into()).cache_key(),
            "icecat:v2:gtin:0196548461234"
        );
        // Two questions Icecat may answer differently never share an answer.
        let bc = |code: &str| {
            Lookup::BrandCode {
                brand: "HP".into(),
                code: code.into(),
            }
            .cache_key()
        };
        assert_ne!(bc("6F8G7EA#ABU"), bc("6F8G7EA-ABU"));
        assert_ne!(bc("6F8G7EA#ABU"), bc("6F8G7EAABU"));
        assert_eq!(bc("6F8G7EA#ABU"), "icecat:v2:bc:HP:6F8G7EA%23ABU");
    }
}
