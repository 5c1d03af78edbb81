//! The factor set: grid carbon intensity per country and region, and per-category defaults.
//!
//! The default set is compiled in from `factors/*.json` (derived by `scripts/derive_factors.py`
//! from the reference data; sources and licences travel in the files). A newer set can be
//! stored in KV and replaces it at run time: [`FactorSet::from_json`] reads that document.
//! Every result names the version of the set it used.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

pub mod reference;

const GRID_JSON: &str = include_str!("../../factors/grid.json");
const CATEGORIES_JSON: &str = include_str!("../../factors/categories.json");

/// Grid carbon intensity of one country or region.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridFactor {
    /// ISO 3166-1 alpha-2 for countries; a region code (WW, EU, NA, ASIA, …) otherwise.
    pub code: String,
    pub alpha3: Option<String>,
    pub name: String,
    /// `country`, `region` or `world`.
    pub kind: String,
    pub g_co2e_per_kwh: f64,
    pub year: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_entity: Option<String>,
}

impl GridFactor {
    pub fn kg_per_kwh(&self) -> f64 {
        self.g_co2e_per_kwh / 1000.0
    }
}

/// How a category's non-use footprint splits between production, transport and end of life.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct NonUseSplit {
    pub production: f64,
    pub transport: f64,
    pub end_of_life: f64,
}

/// Typical specs of a category (medians of the catalogue).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct TypicalSpecs {
    pub weight_kg: Option<f64>,
    pub screen_size_in: Option<f64>,
    pub memory_gb: Option<f64>,
    pub storage_gb: Option<f64>,
}

/// Default assumptions of a device category.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Category {
    pub id: String,
    pub label: String,
    /// Catalogue products the defaults were derived from.
    pub products: u32,
    pub lifetime_years: f64,
    pub yearly_kwh: f64,
    /// Median share of the use phase in published totals.
    pub use_share: f64,
    pub nonuse_split: NonUseSplit,
    /// Median published total (kg CO2e): the estimate when nothing but the category is known.
    pub total_kg: f64,
    pub typical: TypicalSpecs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GridDoc {
    version: String,
    source: String,
    licence: String,
    entries: Vec<GridFactor>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CategoriesDoc {
    version: String,
    source: String,
    licence: String,
    categories: Vec<Category>,
}

/// A complete factor set, indexed for lookups.
#[derive(Debug, Clone)]
pub struct FactorSet {
    pub version: String,
    pub grid_source: String,
    pub grid_licence: String,
    pub grid: Vec<GridFactor>,
    pub categories: Vec<Category>,
    grid_index: HashMap<String, usize>,
    category_index: HashMap<String, usize>,
}

/// The document a replacement factor set is stored as in KV.
#[derive(Debug, Deserialize)]
struct FactorSetDoc {
    version: String,
    grid: GridDoc,
    categories: CategoriesDoc,
}

impl FactorSet {
    /// The compiled-in default set, parsed once per process (warmed at isolate start).
    pub fn builtin() -> &'static FactorSet {
        static SET: OnceLock<FactorSet> = OnceLock::new();
        SET.get_or_init(|| {
            let grid: GridDoc =
                serde_json::from_str(GRID_JSON).expect("factors/grid.json is valid");
            let cats: CategoriesDoc =
                serde_json::from_str(CATEGORIES_JSON).expect("factors/categories.json is valid");
            Self::assemble(grid.version.clone(), grid, cats)
        })
    }

    /// A replacement set from its JSON document (`{"version", "grid": {...}, "categories": {...}}`).
    pub fn from_json(text: &str) -> Result<FactorSet, String> {
        let doc: FactorSetDoc = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if doc.grid.entries.iter().all(|g| g.code != "WW") {
            return Err("a factor set needs a WW (world) grid factor".into());
        }
        if let Some(bad) = doc
            .grid
            .entries
            .iter()
            .find(|g| !(g.g_co2e_per_kwh.is_finite() && g.g_co2e_per_kwh > 0.0))
        {
            return Err(format!("grid factor of {} is not positive", bad.code));
        }
        Ok(Self::assemble(doc.version, doc.grid, doc.categories))
    }

    fn assemble(version: String, grid: GridDoc, cats: CategoriesDoc) -> FactorSet {
        let mut grid_index = HashMap::new();
        for (i, g) in grid.entries.iter().enumerate() {
            grid_index.insert(g.code.to_ascii_uppercase(), i);
            if let Some(a3) = &g.alpha3 {
                grid_index.insert(a3.to_ascii_uppercase(), i);
            }
        }
        // Spellings manufacturers' PCFs use for regions.
        for (alias, code) in [("NORTH AMERICA", "NA"), ("WORLD", "WW"), ("GLOBAL", "WW")] {
            if let Some(&i) = grid_index.get(code) {
                grid_index.insert(alias.to_string(), i);
            }
        }
        let category_index = cats
            .categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        FactorSet {
            version,
            grid_source: grid.source,
            grid_licence: grid.licence,
            grid: grid.entries,
            categories: cats.categories,
            grid_index,
            category_index,
        }
    }

    /// Grid factor of a country (alpha-2 or alpha-3) or region code, case-insensitive.
    pub fn grid(&self, code: &str) -> Option<&GridFactor> {
        let key = code.trim().to_ascii_uppercase();
        self.grid_index.get(&key).map(|&i| &self.grid[i])
    }

    pub fn category(&self, id: &str) -> Option<&Category> {
        self.category_index.get(id).map(|&i| &self.categories[i])
    }

    pub fn category_ids(&self) -> Vec<&str> {
        self.categories.iter().map(|c| c.id.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_set_has_countries_regions_and_categories() {
        let f = FactorSet::builtin();
        assert!(f.grid.len() > 200);
        let fr = f.grid("fr").expect("France by alpha-2");
        assert_eq!(f.grid("FRA").map(|g| &g.code), Some(&fr.code));
        assert!(fr.g_co2e_per_kwh < 100.0, "France is low-carbon");
        for region in ["WW", "EU", "NA", "ASIA", "North America"] {
            assert!(f.grid(region).is_some(), "{region}");
        }
        // Central African Republic's 0 g/kWh is treated as missing.
        assert!(f.grid("CF").unwrap().g_co2e_per_kwh > 0.0);
        for c in [
            "laptop",
            "desktop",
            "monitor",
            "server",
            "smartphone",
            "tablet",
            "thin_client",
            "workstation",
            "printer",
        ] {
            let cat = f.category(c).unwrap_or_else(|| panic!("category {c}"));
            assert!(cat.lifetime_years > 0.0 && cat.yearly_kwh > 0.0 && cat.total_kg > 0.0);
            let s = cat.nonuse_split;
            assert!((s.production + s.transport + s.end_of_life - 1.0).abs() < 1e-3);
        }
    }

    #[test]
    fn replacement_set_is_validated() {
        assert!(FactorSet::from_json("{}").is_err());
        let doc = format!(
            r#"{{"version":"x","grid":{},"categories":{}}}"#,
            GRID_JSON.trim(),
            CATEGORIES_JSON.trim()
        );
        let set = FactorSet::from_json(&doc).expect("a copy of the builtin set parses");
        assert_eq!(set.version, "x");
        assert!(set.grid("DE").is_some());
    }
}
