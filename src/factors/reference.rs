//! Bodies of the public Reference endpoints, built once per factor set (they only change when
//! the set does), each with a strong ETag over its bytes.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::FactorSet;

/// A precomputed JSON body and its ETag.
#[derive(Debug, Clone)]
pub struct Body {
    pub json: String,
    pub etag: String,
}

impl Body {
    pub fn new(json: String) -> Body {
        let digest = Sha256::digest(json.as_bytes());
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        Body {
            etag: format!("\"{hex}\""),
            json,
        }
    }
}

/// The three Reference documents of one factor set.
#[derive(Debug, Clone)]
pub struct ReferenceBodies {
    pub countries: Body,
    pub grid_factors: Body,
    pub categories: Body,
}

fn grid_entry(f: &FactorSet, g: &super::GridFactor) -> serde_json::Value {
    json!({
        "code": g.code,
        "alpha3": g.alpha3,
        "name": g.name,
        "kind": g.kind,
        "g_co2e_per_kwh": g.g_co2e_per_kwh,
        "kg_co2e_per_kwh": (g.kg_per_kwh() * 1e6).round() / 1e6,
        "year": g.year,
        "source": f.grid_source,
        "emission_factor_type": "lifecycle",
        "is_estimated": g.note.is_some(),
        "note": g.note,
    })
}

/// `GET /reference/grid-factors?country=…`: one entry, or `None` for an unknown code.
pub fn grid_factor(f: &FactorSet, code: &str) -> Option<Body> {
    let g = f.grid(code)?;
    Some(Body::new(
        json!({
            "factor_set_version": f.version,
            "licence": f.grid_licence,
            "data": [grid_entry(f, g)],
        })
        .to_string(),
    ))
}

impl ReferenceBodies {
    pub fn build(f: &FactorSet) -> ReferenceBodies {
        let countries: Vec<_> = f
            .grid
            .iter()
            .map(|g| {
                json!({
                    "code": g.code, "alpha3": g.alpha3, "name": g.name, "kind": g.kind,
                    "grid_g_co2e_per_kwh": g.g_co2e_per_kwh, "year": g.year,
                })
            })
            .collect();
        let grid: Vec<_> = f.grid.iter().map(|g| grid_entry(f, g)).collect();
        let cats: Vec<_> = f
            .categories
            .iter()
            .map(|c| {
                json!({
                    "id": c.id, "label": c.label, "catalogue_products": c.products,
                    "defaults": {
                        "lifetime_years": c.lifetime_years,
                        "yearly_kwh": c.yearly_kwh,
                        "use_share": c.use_share,
                        "nonuse_split": c.nonuse_split,
                        "total_kg_co2e": c.total_kg,
                        "typical_specs": c.typical,
                    },
                    "note": c.use_note,
                })
            })
            .collect();
        ReferenceBodies {
            countries: Body::new(
                json!({"factor_set_version": f.version, "count": countries.len(), "data": countries}).to_string(),
            ),
            grid_factors: Body::new(
                json!({
                    "factor_set_version": f.version, "source": f.grid_source, "licence": f.grid_licence,
                    "unit": "g CO2e/kWh", "count": grid.len(), "data": grid,
                })
                .to_string(),
            ),
            categories: Body::new(
                json!({
                    "factor_set_version": f.version,
                    "source": "medians of published PCFs (Boavizta environmental-footprint-data, ODbL 1.0)",
                    "count": cats.len(), "data": cats,
                })
                .to_string(),
            ),
        }
    }
}

/// Whether an `If-None-Match` header value matches `etag` (`*`, lists, weak validators).
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.trim() == "*"
        || if_none_match
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json_with_stable_etags() {
        let f = FactorSet::builtin();
        let a = ReferenceBodies::build(f);
        let b = ReferenceBodies::build(f);
        assert_eq!(a.countries.etag, b.countries.etag);
        assert_ne!(a.countries.etag, a.categories.etag);
        let v: serde_json::Value = serde_json::from_str(&a.grid_factors.json).unwrap();
        assert_eq!(v["count"].as_u64().unwrap() as usize, f.grid.len());
        let fr = grid_factor(f, "FRA").unwrap();
        assert!(fr.json.contains("\"code\":\"FR\""));
        assert!(grid_factor(f, "ZZ").is_none());
    }

    #[test]
    fn if_none_match_forms() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\", \"x\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}
