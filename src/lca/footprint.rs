//! What the engine answers: a footprint by lifecycle stage, its range, every assumption and
//! where it came from, the specs that did not count, and the versions that produced it.

use serde::Serialize;

/// Where an assumption came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Given in the request.
    Provided,
    /// From the product's published PCF.
    Catalogue,
    /// The category's default (median of published PCFs).
    CategoryDefault,
    /// Computed from other inputs (stated in the note).
    Derived,
    /// Estimated by the attribute model.
    Model,
    /// From this API's factor set (grid intensity).
    FactorSet,
    /// The grid intensity manufacturers' PCFs imply for that region.
    PcfConvention,
    /// A default of this API's methodology (documented in the README).
    MethodologyDefault,
}

/// A value an assumption takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Text(String),
}

/// One assumption behind a result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumption {
    pub name: &'static str,
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'static str>,
    pub source: Provenance,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where the figure as a whole comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    ManufacturerPcf,
    Model,
}

/// Kilograms of CO2e per lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Breakdown {
    pub production_kg: f64,
    pub transport_kg: f64,
    pub use_kg: f64,
    pub end_of_life_kg: f64,
}

impl Breakdown {
    pub fn total(&self) -> f64 {
        self.production_kg + self.transport_kg + self.use_kg + self.end_of_life_kg
    }

    pub(super) fn rounded(&self) -> Breakdown {
        Breakdown {
            production_kg: round2(self.production_kg),
            transport_kg: round2(self.transport_kg),
            use_kg: round2(self.use_kg),
            end_of_life_kg: round2(self.end_of_life_kg),
        }
    }
}

/// A range the true footprint is expected to fall in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uncertainty {
    pub low_kg: f64,
    pub high_kg: f64,
    /// Probability the range covers the true footprint (0.9: a 90% interval, calibrated for
    /// model estimates, the manufacturer's margin for published PCFs).
    pub confidence: f64,
    pub method: &'static str,
}

/// A given input that did not count, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ignored {
    pub field: &'static str,
    pub reason: String,
}

/// The product a result is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
}

/// Versions and standards behind a result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Methodology {
    pub version: &'static str,
    pub factor_set_version: String,
    pub approach: &'static str,
}

/// The footprint of one device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Footprint {
    pub product: Option<ProductSummary>,
    pub category: String,
    pub total_kg_co2e: f64,
    pub breakdown: Breakdown,
    pub uncertainty: Uncertainty,
    pub source: Source,
    pub assumptions: Vec<Assumption>,
    /// Names of the inputs that took a default, so a caller knows what to supply.
    pub defaulted: Vec<&'static str>,
    /// Inputs the caller gave that did not change the figure, each with the reason.
    pub ignored: Vec<Ignored>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub methodology: Methodology,
}

impl Footprint {
    /// A numeric assumption by name (`lifetime_years`, `yearly_kwh`, `grid_intensity`, …).
    pub fn number(&self, name: &str) -> Option<f64> {
        self.assumptions
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| match a.value {
                Value::Number(n) => Some(n),
                Value::Text(_) => None,
            })
    }

    /// A text assumption by name (`country`).
    pub fn text(&self, name: &str) -> Option<String> {
        self.assumptions
            .iter()
            .find(|a| a.name == name)
            .map(|a| match &a.value {
                Value::Number(n) => n.to_string(),
                Value::Text(t) => t.clone(),
            })
    }

    /// The grid intensity of the use phase (kg/kWh): where refurbishment and erasure of
    /// this device draw their power too.
    pub fn grid_kg_per_kwh(&self) -> f64 {
        self.number("grid_intensity").unwrap_or(0.475)
    }
}

pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
