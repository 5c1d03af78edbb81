//! One asset of an organisation's fleet: what a caller sends (validated into [`AssetInput`],
//! every bad field named at once) and the footprint computed when it is written, **pinned**
//! ([`Pinned`]) to the methodology and factor-set versions used, so a year's inventory never
//! moves because the factors did (a restatement recomputes it on request instead).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lca::input::{DeviceInput, ProductRef, UseInput};
use crate::lca::{Engine, Source};
use crate::validation::{epoch_day, unknown_fields, FieldError};
use crate::version::METHODOLOGY_VERSION;

/// What becomes of a device at the end of its life here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndOfLife {
    Reuse,
    Recycle,
    Landfill,
    Unknown,
}

impl EndOfLife {
    pub fn parse(s: &str) -> Option<EndOfLife> {
        Some(match s {
            "reuse" => EndOfLife::Reuse,
            "recycle" => EndOfLife::Recycle,
            "landfill" => EndOfLife::Landfill,
            "unknown" => EndOfLife::Unknown,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            EndOfLife::Reuse => "reuse",
            EndOfLife::Recycle => "recycle",
            EndOfLife::Landfill => "landfill",
            EndOfLife::Unknown => "unknown",
        }
    }
}

/// Owned (the organisation bought it) or leased for a term (days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    Owned,
    Leased { start: i64, end: i64 },
}

/// An asset as sent, validated. Dates are days since 1970-01-01.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetInput {
    pub serial: String,
    pub asset_tag: Option<String>,
    pub name: Option<String>,
    pub product_id: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub mpn: Option<String>,
    pub category: Option<String>,
    pub purchase_date: i64,
    pub retired_date: Option<i64>,
    pub end_of_life: EndOfLife,
    pub ownership: Ownership,
    /// Canonical grid code (checked against the factor set); `WW` when not given.
    pub country: String,
    pub yearly_kwh: Option<f64>,
    pub purchase_cost: Option<f64>,
    pub currency: Option<String>,
    pub expected_lifetime_years: Option<f64>,
}

/// Longest text field of an asset.
pub const MAX_TEXT: usize = 200;

/// The fields of an asset as sent (also the names of the columns that store them).
pub const FIELDS: &[&str] = &[
    "serial",
    "asset_tag",
    "name",
    "product_id",
    "brand",
    "model",
    "mpn",
    "category",
    "purchase_date",
    "retired_date",
    "end_of_life",
    "ownership",
    "lease_start",
    "lease_end",
    "country",
    "yearly_kwh",
    "purchase_cost",
    "currency",
    "expected_lifetime_years",
];

/// Reads one JSON object's fields, collecting every error.
struct Fields<'a> {
    o: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Fields<'_> {
    fn text(&mut self, name: &str) -> Option<String> {
        match self.o.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= MAX_TEXT => {
                Some(s.trim().to_string())
            }
            Some(_) => {
                let msg = format!("a string of 1 to {MAX_TEXT} characters");
                self.errors.push(FieldError::new(name, msg));
                None
            }
        }
    }

    fn date(&mut self, name: &str) -> Option<i64> {
        let text = self.text(name)?;
        let day = epoch_day(&text);
        if day.is_none() {
            let msg = format!("a calendar date YYYY-MM-DD, not `{text}`");
            self.errors.push(FieldError::new(name, msg));
        }
        day
    }

    fn number(&mut self, name: &str, range: (f64, f64), unit: &str) -> Option<f64> {
        match self.o.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n))
                if n.as_f64()
                    .is_some_and(|v| v.is_finite() && v >= range.0 && v <= range.1) =>
            {
                n.as_f64()
            }
            Some(_) => {
                let msg = format!("a number from {} to {} {unit}", range.0, range.1);
                self.errors.push(FieldError::new(name, msg));
                None
            }
        }
    }

    fn fail(&mut self, name: &str, msg: impl Into<String>) {
        self.errors.push(FieldError::new(name, msg));
    }
}

/// Validate an asset body (a `PATCH` is the stored asset's fields with the patch's laid over
/// them, validated whole).
pub fn parse(
    body: &Value,
    factors: &crate::factors::FactorSet,
) -> Result<AssetInput, Vec<FieldError>> {
    let Value::Object(o) = body else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut f = Fields {
        o,
        errors: unknown_fields(o, FIELDS, ""),
    };
    let serial = f.text("serial");
    if serial.is_none() && !f.errors.iter().any(|e| e.field == "serial") {
        f.fail("serial", "required: the device's serial number");
    }
    let purchase_date = f.date("purchase_date");
    if purchase_date.is_none() && !f.errors.iter().any(|e| e.field == "purchase_date") {
        f.fail("purchase_date", "required: YYYY-MM-DD");
    }
    let retired_date = f.date("retired_date");
    if let (Some(p), Some(r)) = (purchase_date, retired_date) {
        if r < p {
            f.fail("retired_date", "before the purchase date");
        }
    }
    let end_of_life = match f.text("end_of_life") {
        None => EndOfLife::Unknown,
        Some(e) => EndOfLife::parse(&e).unwrap_or_else(|| {
            f.fail("end_of_life", "one of: reuse, recycle, landfill, unknown");
            EndOfLife::Unknown
        }),
    };
    let ownership = match f.text("ownership").as_deref() {
        None | Some("owned") => {
            for field in ["lease_start", "lease_end"] {
                if o.get(field).is_some_and(|v| !v.is_null()) {
                    f.fail(field, "only for `ownership: leased`");
                }
            }
            Ownership::Owned
        }
        Some("leased") => {
            let (start, end) = (f.date("lease_start"), f.date("lease_end"));
            match (start, end) {
                (Some(s), Some(e)) if e > s => Ownership::Leased { start: s, end: e },
                (Some(_), Some(_)) => {
                    f.fail("lease_end", "after lease_start");
                    Ownership::Owned
                }
                _ => {
                    for (field, v) in [("lease_start", start), ("lease_end", end)] {
                        if v.is_none() && !f.errors.iter().any(|e| e.field == field) {
                            f.fail(field, "required for a leased asset: YYYY-MM-DD");
                        }
                    }
                    Ownership::Owned
                }
            }
        }
        Some(_) => {
            f.fail("ownership", "one of: owned, leased");
            Ownership::Owned
        }
    };
    let country = match f.text("country") {
        None => "WW".to_string(),
        Some(c) => match factors.grid(&c) {
            Some(g) => g.code.clone(),
            None => {
                f.fail(
                    "country",
                    format!("unknown country `{c}`; see /reference/countries"),
                );
                String::new()
            }
        },
    };
    let category = f.text("category");
    if let Some(c) = category
        .as_deref()
        .filter(|c| factors.category(c).is_none())
    {
        f.fail(
            "category",
            format!("unknown category `{c}`; see /reference/categories"),
        );
    }
    let yearly_kwh = f.number("yearly_kwh", (0.0, 200_000.0), "kWh");
    let purchase_cost = f.number("purchase_cost", (0.0, 1e9), "in `currency`");
    let currency = f.text("currency").map(|c| c.to_ascii_uppercase());
    if currency
        .as_deref()
        .is_some_and(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        f.fail("currency", "an ISO 4217 code, e.g. EUR");
    }
    if purchase_cost.is_some() && currency.is_none() {
        f.fail("currency", "required with purchase_cost");
    }
    let expected_lifetime_years = f.number("expected_lifetime_years", (0.25, 30.0), "years");
    let (product_id, brand, model, mpn) = (
        f.text("product_id"),
        f.text("brand"),
        f.text("model"),
        f.text("mpn"),
    );
    if product_id.is_none()
        && category.is_none()
        && (brand.is_none() || model.is_none() && mpn.is_none())
    {
        f.fail(
            "category",
            "give product_id, or brand with model or mpn, or category",
        );
    }
    match (serial, purchase_date, f.errors.is_empty()) {
        (Some(serial), Some(purchase_date), true) => Ok(AssetInput {
            serial,
            asset_tag: f.text("asset_tag"),
            name: f.text("name"),
            product_id,
            brand,
            model,
            mpn,
            category,
            purchase_date,
            retired_date,
            end_of_life,
            ownership,
            country,
            yearly_kwh,
            purchase_cost,
            currency,
            expected_lifetime_years,
        }),
        _ => Err(f.errors),
    }
}

/// Where an asset's embodied figure comes from (ESRS E1-6's primary data: not `model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureSource {
    /// A manufacturer's published PCF (the catalogue).
    Catalogue,
    /// Estimated by the model.
    Model,
    /// A supplier's primary data.
    Supplier,
}

impl FigureSource {
    pub fn name(self) -> &'static str {
        match self {
            FigureSource::Catalogue => "catalogue",
            FigureSource::Model => "model",
            FigureSource::Supplier => "supplier",
        }
    }

    pub fn parse(s: &str) -> FigureSource {
        match s {
            "catalogue" => FigureSource::Catalogue,
            "supplier" => FigureSource::Supplier,
            _ => FigureSource::Model,
        }
    }

    /// Primary data in the sense of ESRS E1-6.
    pub fn primary(self) -> bool {
        self != FigureSource::Model
    }
}

/// An asset's footprint as computed when it was written, and what it was computed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pinned {
    pub category: String,
    pub product_id: Option<String>,
    pub production_kg: f64,
    pub transport_kg: f64,
    /// Location-based: `kwh_per_year` × the country's grid factor.
    pub use_kg_per_year: f64,
    pub end_of_life_kg: f64,
    /// The lifecycle total the range belongs to, and its 90% range.
    pub total_kg: f64,
    pub low_kg: f64,
    pub high_kg: f64,
    pub confidence: f64,
    pub source: FigureSource,
    pub kwh_per_year: f64,
    pub grid_kg_per_kwh: f64,
    pub lifetime_years: f64,
    pub methodology_version: String,
    pub factor_set: String,
}

impl Pinned {
    /// Production and transport: what the GHG Protocol calls cradle-to-gate.
    pub fn embodied_kg(&self) -> f64 {
        self.production_kg + self.transport_kg
    }
}

/// Compute and pin an asset's footprint with `engine`.
pub fn pin(engine: &Engine, a: &AssetInput) -> Result<Pinned, Vec<FieldError>> {
    let input = DeviceInput {
        category: a.category.clone(),
        product: (a.product_id.is_some() || a.brand.is_some()).then(|| ProductRef {
            id: a.product_id.clone(),
            brand: a.brand.clone(),
            model: a.model.clone(),
            mpn: a.mpn.clone(),
            gtin: None,
        }),
        specs: Default::default(),
        usage: UseInput {
            country: Some(a.country.clone()),
            lifetime_years: a.expected_lifetime_years,
            yearly_kwh: a.yearly_kwh,
            average_power_w: None,
            hours_per_year: None,
        },
    };
    let f = engine.footprint(&input)?;
    let grid = engine
        .factors
        .grid(&a.country)
        .map(|g| g.g_co2e_per_kwh / 1000.0)
        .unwrap_or_else(|| f.grid_kg_per_kwh());
    let kwh = f.number("yearly_kwh").unwrap_or(0.0);
    let lifetime = f
        .number("lifetime_years")
        .or(a.expected_lifetime_years)
        .unwrap_or(4.0);
    Ok(Pinned {
        category: f.category.clone(),
        product_id: f.product.as_ref().and_then(|p| p.id.clone()),
        production_kg: f.breakdown.production_kg,
        transport_kg: f.breakdown.transport_kg,
        use_kg_per_year: kwh * grid,
        end_of_life_kg: f.breakdown.end_of_life_kg,
        total_kg: f.total_kg_co2e,
        low_kg: f.uncertainty.low_kg,
        high_kg: f.uncertainty.high_kg,
        confidence: f.uncertainty.confidence,
        source: match f.source {
            Source::ManufacturerPcf => FigureSource::Catalogue,
            Source::Model => FigureSource::Model,
        },
        kwh_per_year: kwh,
        grid_kg_per_kwh: grid,
        lifetime_years: lifetime,
        methodology_version: METHODOLOGY_VERSION.to_string(),
        factor_set: engine.factors.version.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn factors() -> &'static crate::factors::FactorSet {
        crate::factors::FactorSet::builtin()
    }

    #[test]
    fn a_valid_asset_gets_its_defaults() {
        let a = parse(
            &json!({"serial": " SN1 ", "category": "laptop", "purchase_date": "2025-03-01"}),
            factors(),
        )
        .unwrap();
        assert_eq!(a.serial, "SN1");
        assert_eq!(
            (a.country.as_str(), a.end_of_life, a.ownership),
            ("WW", EndOfLife::Unknown, Ownership::Owned)
        );
        assert_eq!(a.purchase_date, epoch_day("2025-03-01").unwrap());
        let leased = parse(
            &json!({"serial": "L1", "category": "monitor", "purchase_date": "2024-01-01",
                    "ownership": "leased", "lease_start": "2024-01-01", "lease_end": "2027-01-01",
                    "country": "fr", "purchase_cost": 900, "currency": "eur"}),
            factors(),
        )
        .unwrap();
        assert!(matches!(leased.ownership, Ownership::Leased { .. }));
        assert_eq!(
            (leased.country.as_str(), leased.currency.as_deref()),
            ("FR", Some("EUR"))
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = parse(
            &json!({"purchase_date": "2025-02-30", "retired_date": "x", "end_of_life": "burn",
                    "ownership": "leased", "country": "XX", "category": "toaster",
                    "yearly_kwh": -1, "purchase_cost": 10, "colour": "red"}),
            factors(),
        )
        .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "colour",
            "serial",
            "purchase_date",
            "retired_date",
            "end_of_life",
            "lease_start",
            "lease_end",
            "country",
            "category",
            "yearly_kwh",
            "currency",
        ] {
            assert!(fields.contains(&f), "{f} not named in {fields:?}");
        }
        let e = parse(
            &json!({"serial": "S", "category": "laptop", "purchase_date": "2025-01-02", "retired_date": "2025-01-01"}),
            factors(),
        )
        .unwrap_err();
        assert_eq!(e[0].field, "retired_date");
        let e = parse(
            &json!({"serial": "S", "purchase_date": "2025-01-02"}),
            factors(),
        )
        .unwrap_err();
        assert_eq!(e[0].field, "category", "nothing says what the device is");
    }

    #[test]
    fn a_pinned_footprint_names_its_versions_and_source() {
        let engine = Engine::builtin();
        let a = parse(
            &json!({"serial": "S", "product_id": "dell--latitude-5420", "purchase_date": "2025-01-02", "country": "DE"}),
            engine.factors,
        )
        .unwrap();
        let p = pin(&engine, &a).unwrap();
        assert_eq!(p.source, FigureSource::Catalogue);
        assert_eq!(p.product_id.as_deref(), Some("dell--latitude-5420"));
        assert_eq!(p.factor_set, engine.factors.version);
        assert_eq!(p.methodology_version, METHODOLOGY_VERSION);
        let de = engine.factors.grid("DE").unwrap().g_co2e_per_kwh / 1000.0;
        assert!((p.use_kg_per_year - p.kwh_per_year * de).abs() < 1e-9);
        assert!(p.low_kg < p.total_kg && p.total_kg < p.high_kg);
        let m = pin(
            &engine,
            &parse(
                &json!({"serial": "S2", "category": "desktop", "purchase_date": "2025-01-02"}),
                engine.factors,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(m.source, FigureSource::Model);
        assert!(!m.source.primary() && p.source.primary());
    }
}
