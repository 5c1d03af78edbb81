//! The product catalogue: every product of the published PCF data set with its specs,
//! published footprint, stage shares and published assumptions (ODbL 1.0, see `factors/`).

pub mod icecat;
pub mod identify;
pub mod search;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

const CATALOGUE_JSON: &str = include_str!("../../factors/catalogue.json");

/// One catalogue product, as derived from `pcf_published.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub brand: String,
    pub name: String,
    pub category: String,
    /// Workplace, Datacenter or Home.
    pub segment: String,
    pub total_kg: f64,
    pub share_production: Option<f64>,
    pub share_transport: Option<f64>,
    pub share_use: Option<f64>,
    pub share_eol: Option<f64>,
    pub yearly_kwh: Option<f64>,
    pub lifetime_years: Option<f64>,
    /// Use location of the PCF as one of our codes (EU, US, WW, NA, ASIA).
    pub use_location: Option<String>,
    pub assembly_location: Option<String>,
    pub weight_kg: Option<f64>,
    pub screen_size_in: Option<f64>,
    pub memory_gb: Option<f64>,
    /// Total stated storage (SSD + HDD), GB.
    pub storage_gb: Option<f64>,
    /// Flash and spinning storage as parsed from `hard_drive` (0 = stated absent), GB.
    #[serde(default)]
    pub ssd_gb: Option<f64>,
    #[serde(default)]
    pub hdd_gb: Option<f64>,
    pub hard_drive: Option<String>,
    pub cpu_count: Option<f64>,
    pub report_date: Option<String>,
    pub report_year: Option<u16>,
    pub source_url: String,
    /// Error margin the manufacturer states (0 often means not given).
    pub error_ratio: Option<f64>,
    pub server_type: Option<String>,
    /// Grid intensity (kg/kWh) the manufacturer implicitly used for the use phase.
    pub implied_kg_per_kwh: Option<f64>,
    pub quality_flags: Vec<String>,
}

#[derive(Deserialize)]
struct CatalogueDoc {
    version: String,
    source: String,
    licence: String,
    products: Vec<Product>,
}

/// The catalogue, indexed by id and by normalised brand + name.
pub struct Catalogue {
    pub version: String,
    pub source: String,
    pub licence: String,
    pub products: Vec<Product>,
    by_id: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

/// What a brand + model lookup found.
#[derive(Debug, PartialEq)]
pub enum Resolution<'a> {
    One(&'a Product),
    /// Several products carry that name (families sharing one footprint, configurations).
    Ambiguous(Vec<&'a Product>),
    NotFound,
}

/// Lowercase letters and digits only: "Latitude 5420" and "latitude-5420" meet.
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Catalogue {
    /// The compiled-in catalogue, parsed once per process (warmed at isolate start).
    pub fn builtin() -> &'static Catalogue {
        static CAT: OnceLock<Catalogue> = OnceLock::new();
        CAT.get_or_init(|| {
            let doc: CatalogueDoc =
                serde_json::from_str(CATALOGUE_JSON).expect("factors/catalogue.json is valid");
            Self::from_products(doc.version, doc.source, doc.licence, doc.products)
        })
    }

    pub fn from_products(
        version: String,
        source: String,
        licence: String,
        products: Vec<Product>,
    ) -> Self {
        let by_id = products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in products.iter().enumerate() {
            by_name
                .entry(normalise(&format!("{}{}", p.brand, p.name)))
                .or_default()
                .push(i);
        }
        Catalogue {
            version,
            source,
            licence,
            products,
            by_id,
            by_name,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Product> {
        self.by_id.get(id).map(|&i| &self.products[i])
    }

    /// Find a product by brand and model name (exact after normalisation; the model may
    /// repeat the brand).
    pub fn resolve(&self, brand: &str, model: &str) -> Resolution<'_> {
        let b = normalise(brand);
        let m = normalise(model);
        let m = m.strip_prefix(&b).unwrap_or(&m);
        match self.by_name.get(&format!("{b}{m}")) {
            Some(ids) if ids.len() == 1 => Resolution::One(&self.products[ids[0]]),
            Some(ids) => Resolution::Ambiguous(ids.iter().map(|&i| &self.products[i]).collect()),
            None => Resolution::NotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_loads_every_published_product() {
        let c = Catalogue::builtin();
        assert_eq!(c.products.len(), 978);
        let p = c
            .get("apple--13-inch-macbook-air-m1-cpu-256gb-2020")
            .expect("by id");
        assert_eq!(p.category, "laptop");
        assert_eq!(p.total_kg, 161.0);
        assert_eq!(p.storage_gb, Some(256.0));
    }

    #[test]
    fn resolves_brand_and_model_spellings() {
        let c = Catalogue::builtin();
        let p = c
            .get("apple--13-inch-macbook-air-m1-cpu-256gb-2020")
            .unwrap();
        for (brand, model) in [
            ("Apple", "13-inch MacBook Air (M1 CPU) 256GB - 2020"),
            ("apple", "13 inch macbook air m1 cpu 256gb 2020"),
            ("APPLE", "Apple 13-inch MacBook Air (M1 CPU) 256GB - 2020"),
        ] {
            assert_eq!(
                c.resolve(brand, model),
                Resolution::One(p),
                "{brand} {model}"
            );
        }
        assert_eq!(c.resolve("Apple", "Newton"), Resolution::NotFound);
    }
}
