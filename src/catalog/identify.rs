//! Product identification: brand + MPN, GTIN, or free text → the best catalogue match with a
//! confidence, the evidence, and ranked candidates. The catalogue carries names, not MPNs or
//! GTINs, so an MPN is matched as text within its brand, and a GTIN can only be resolved by
//! Icecat (the edge asks it when configured and the catalogue has no confident match).

use serde_json::{Map, Value};

use super::search::{Filter, Hit, SearchIndex};
use super::{normalise, Catalogue};
use crate::validation::{unknown_fields, FieldError};

/// Below this confidence a catalogue match is not trusted on its own.
pub const CONFIDENT: f64 = 0.6;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentifyInput {
    pub brand: Option<String>,
    pub mpn: Option<String>,
    pub gtin: Option<String>,
    pub text: Option<String>,
}

impl IdentifyInput {
    /// The exact lookup Icecat can answer, if any.
    pub fn icecat_lookup(&self) -> Option<super::icecat::Lookup> {
        if let Some(g) = &self.gtin {
            return Some(super::icecat::Lookup::Gtin(g.clone()));
        }
        match (&self.brand, &self.mpn) {
            (Some(b), Some(m)) => Some(super::icecat::Lookup::BrandCode {
                brand: b.clone(),
                code: m.clone(),
            }),
            _ => None,
        }
    }
}

/// Parse `{"brand", "mpn"}`, `{"gtin"}` or `{"text"}` (combinations allowed).
pub fn parse_identify(v: &Value) -> Result<IdentifyInput, Vec<FieldError>> {
    let Value::Object(o) = v else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut errors = unknown_fields(o, &["brand", "mpn", "gtin", "text"], "");
    let mut get = |name: &str, max: usize| -> Option<String> {
        match o.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= max => {
                Some(s.trim().to_string())
            }
            Some(Value::String(_)) => {
                errors.push(FieldError::new(
                    name,
                    format!("must be 1 to {max} characters"),
                ));
                None
            }
            Some(_) => {
                errors.push(FieldError::new(name, "must be a string"));
                None
            }
        }
    };
    let input = IdentifyInput {
        brand: get("brand", 100),
        mpn: get("mpn", 100),
        gtin: get("gtin", 14),
        text: get("text", 300),
    };
    if let Some(g) = &input.gtin {
        if !(8..=14).contains(&g.len()) || !g.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(FieldError::new(
                "gtin",
                "must be 8 to 14 digits (EAN/UPC/JAN)",
            ));
        }
    }
    if input.mpn.is_some() && input.brand.is_none() {
        errors.push(FieldError::new("brand", "required with mpn"));
    }
    if errors.is_empty() && input.gtin.is_none() && input.mpn.is_none() && input.text.is_none() {
        errors.push(FieldError::new("body", "give brand + mpn, gtin, or text"));
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

/// The catalogue's answer.
pub struct Identification<'a> {
    pub best: Option<(Hit<'a>, f64)>,
    pub candidates: Vec<Hit<'a>>,
}

impl Identification<'_> {
    pub fn confident(&self) -> bool {
        self.best.as_ref().is_some_and(|(_, c)| *c >= CONFIDENT)
    }
}

/// Identify in the catalogue.
pub fn identify<'a>(
    c: &'a Catalogue,
    idx: &SearchIndex,
    input: &IdentifyInput,
) -> Identification<'a> {
    let (query, brand) = match (&input.text, &input.mpn) {
        (Some(t), _) => (t.clone(), input.brand.clone()),
        (None, Some(m)) => (m.clone(), input.brand.clone()),
        (None, None) => {
            return Identification {
                best: None,
                candidates: Vec::new(),
            }
        }
    };
    let brand = brand.filter(|b| idx.knows_brand(b));
    let filter = Filter {
        category: None,
        brand: brand.as_deref(),
    };
    let hits = idx.search(c, &query, &filter, 6);
    let best = hits.first().map(|h| {
        let exact = normalise(&format!("{}{}", h.product.brand, h.product.name))
            == normalise(&format!("{}{query}", brand.as_deref().unwrap_or("")))
            || normalise(&h.product.name) == normalise(&query)
            || normalise(&format!("{}{}", h.product.brand, h.product.name)) == normalise(&query);
        // Confidence leans on how much of the product's name the query explains: extra
        // words in the query ("i5 16GB") say little against a match.
        let margin = hits.get(1).map(|s| h.score - s.score).unwrap_or(1.0);
        let base = 0.8 * h.name_coverage + 0.2 * h.query_coverage;
        let confidence = if exact {
            1.0
        } else if margin < 0.02 {
            base * 0.85
        } else {
            base
        };
        (h.clone(), (confidence * 1000.0).round() / 1000.0)
    });
    Identification {
        best,
        candidates: hits.into_iter().skip(1).collect(),
    }
}

/// A hit as JSON for the API.
pub fn hit_json(h: &Hit) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), h.product.id.clone().into());
    m.insert("brand".into(), h.product.brand.clone().into());
    m.insert("name".into(), h.product.name.clone().into());
    m.insert("category".into(), h.product.category.clone().into());
    m.insert("published_total_kg_co2e".into(), h.product.total_kg.into());
    m.insert("score".into(), ((h.score * 1000.0).round() / 1000.0).into());
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identifies_text_and_brand_mpn() {
        let c = Catalogue::builtin();
        let idx = SearchIndex::builtin();
        let r = identify(
            c,
            idx,
            &parse_identify(&json!({"text": "Dell Latitude 5420 i5 16GB"})).unwrap(),
        );
        let (best, conf) = r.best.as_ref().unwrap();
        assert_eq!(best.product.id, "dell--latitude-5420");
        assert!(conf >= &CONFIDENT, "{conf}");
        assert!(r.confident());
        let r = identify(
            c,
            idx,
            &parse_identify(&json!({"brand": "Dell", "mpn": "Latitude 5420"})).unwrap(),
        );
        assert_eq!(r.best.unwrap().1, 1.0);
        let r = identify(
            c,
            idx,
            &parse_identify(&json!({"text": "zzzz qqqq"})).unwrap(),
        );
        assert!(!r.confident());
    }

    #[test]
    fn validates_input() {
        let f = |v| {
            parse_identify(&v)
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(f(json!({})), vec!["body"]);
        assert_eq!(f(json!({"gtin": "12ab"})), vec!["gtin"]);
        assert_eq!(f(json!({"mpn": "X1"})), vec!["brand"]);
        assert_eq!(
            f(json!({"text": 3, "colour": "red"})),
            vec!["colour", "text"]
        );
        assert!(parse_identify(&json!({"gtin": "0196548461234"}))
            .unwrap()
            .icecat_lookup()
            .is_some());
    }
}
