//! Parse, don't validate: a footprint request body (JSON) becomes a [`DeviceInput`] whose every
//! field is known to be in range, or a list naming every bad field at once.
//!
//! Parsing goes through `serde_json::Value` by hand rather than derive: serde stops at the
//! first error, and clients deserve all of them, with paths like `devices[3].use.country`.
//! The parsed types do derive serde, for what is stored once parsed (a report's fleet, read
//! back by its job without being validated again).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::factors::FactorSet;
use crate::validation::{path, unknown_fields, FieldError};

/// Identifies a catalogue product, or names a product the catalogue may not hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductRef {
    pub id: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub mpn: Option<String>,
    pub gtin: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Specs {
    pub screen_size_in: Option<f64>,
    pub memory_gb: Option<f64>,
    pub ssd_gb: Option<f64>,
    pub hdd_gb: Option<f64>,
    pub weight_kg: Option<f64>,
    pub cpu_count: Option<f64>,
    pub release_year: Option<f64>,
    pub assembly_location: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UseInput {
    /// Canonical grid code (alpha-2 or region code), already checked against the factor set.
    pub country: Option<String>,
    pub lifetime_years: Option<f64>,
    pub yearly_kwh: Option<f64>,
    pub average_power_w: Option<f64>,
    pub hours_per_year: Option<f64>,
}

/// A footprint request that passed every check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceInput {
    pub category: Option<String>,
    pub product: Option<ProductRef>,
    pub specs: Specs,
    pub usage: UseInput,
}

/// Accepted ranges: wide enough for any real device, narrow enough to catch unit mistakes
/// (a 900-inch screen, a 300-year lifetime).
pub mod limits {
    pub const SCREEN_IN: (f64, f64) = (1.0, 120.0);
    pub const MEMORY_GB: (f64, f64) = (0.0, 65_536.0);
    pub const STORAGE_GB: (f64, f64) = (0.0, 10_000_000.0);
    pub const WEIGHT_KG: (f64, f64) = (0.005, 5_000.0);
    pub const CPU_COUNT: (f64, f64) = (1.0, 64.0);
    pub const RELEASE_YEAR: (f64, f64) = (1990.0, 2030.0);
    pub const LIFETIME_YEARS: (f64, f64) = (0.25, 30.0);
    pub const YEARLY_KWH: (f64, f64) = (0.0, 200_000.0);
    pub const AVERAGE_POWER_W: (f64, f64) = (0.0, 50_000.0);
    pub const HOURS_PER_YEAR: (f64, f64) = (0.0, 8_784.0);
}

struct Reader<'a> {
    prefix: &'a str,
    errors: Vec<FieldError>,
}

impl Reader<'_> {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .push(FieldError::new(path(self.prefix, field), message));
    }

    /// An optional object member; anything but an object or null is an error.
    fn object<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        name: &str,
    ) -> Option<&'v Map<String, Value>> {
        match obj.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                self.fail(name, "must be an object");
                None
            }
        }
    }

    fn unknown_fields(&mut self, obj: &Map<String, Value>, at: &str, known: &[&str]) {
        let at = path(self.prefix, at);
        self.errors
            .extend(unknown_fields(obj, known, at.trim_end_matches('.')));
    }

    fn number(
        &mut self,
        obj: &Map<String, Value>,
        at: &str,
        name: &str,
        (lo, hi): (f64, f64),
        unit: &str,
    ) -> Option<f64> {
        let field = format!("{at}.{name}");
        match obj.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(v) if v.is_finite() && v >= lo && v <= hi => Some(v),
                _ => {
                    self.fail(&field, format!("must be between {lo} and {hi} {unit}"));
                    None
                }
            },
            Some(_) => {
                self.fail(&field, format!("must be a number ({unit})"));
                None
            }
        }
    }

    fn string(
        &mut self,
        obj: &Map<String, Value>,
        at: &str,
        name: &str,
        max_len: usize,
    ) -> Option<String> {
        let field = if at.is_empty() {
            name.to_string()
        } else {
            format!("{at}.{name}")
        };
        match obj.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.fail(&field, "must not be empty");
                None
            }
            Some(Value::String(s)) if s.chars().count() > max_len => {
                self.fail(&field, format!("must be at most {max_len} characters"));
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(_) => {
                self.fail(&field, "must be a string");
                None
            }
        }
    }
}

/// Parse one device (a footprint body, or one item of a batch at `prefix`, e.g. `devices[3]`).
pub fn parse_device(
    value: &Value,
    prefix: &str,
    factors: &FactorSet,
) -> Result<DeviceInput, Vec<FieldError>> {
    let mut r = Reader {
        prefix,
        errors: Vec::new(),
    };
    let Value::Object(obj) = value else {
        let field = if prefix.is_empty() {
            "body".to_string()
        } else {
            prefix.to_string()
        };
        return Err(vec![FieldError::new(field, "must be a JSON object")]);
    };
    r.unknown_fields(obj, "", &["category", "product", "specs", "use"]);
    let mut input = DeviceInput::default();

    if let Some(cat) = r.string(obj, "", "category", 40) {
        let id = cat.to_ascii_lowercase().replace([' ', '-'], "_");
        if factors.category(&id).is_some() {
            input.category = Some(id);
        } else {
            r.fail(
                "category",
                format!(
                    "unknown category `{cat}`; one of: {}",
                    factors.category_ids().join(", ")
                ),
            );
        }
    }

    if let Some(p) = r.object(obj, "product") {
        r.unknown_fields(p, "product", &["id", "brand", "model", "mpn", "gtin"]);
        let product = ProductRef {
            id: r.string(p, "product", "id", 200),
            brand: r.string(p, "product", "brand", 100),
            model: r.string(p, "product", "model", 200),
            mpn: r.string(p, "product", "mpn", 100),
            gtin: r.string(p, "product", "gtin", 14),
        };
        if let Some(g) = &product.gtin {
            if !(8..=14).contains(&g.len()) || !g.bytes().all(|b| b.is_ascii_digit()) {
                r.fail("product.gtin", "must be 8 to 14 digits");
            }
        }
        input.product = Some(product);
    }

    if let Some(s) = r.object(obj, "specs") {
        use limits::*;
        r.unknown_fields(
            s,
            "specs",
            &[
                "screen_size_in",
                "memory_gb",
                "ssd_gb",
                "hdd_gb",
                "weight_kg",
                "cpu_count",
                "release_year",
                "assembly_location",
            ],
        );
        input.specs = Specs {
            screen_size_in: r.number(s, "specs", "screen_size_in", SCREEN_IN, "inches"),
            memory_gb: r.number(s, "specs", "memory_gb", MEMORY_GB, "GB"),
            ssd_gb: r.number(s, "specs", "ssd_gb", STORAGE_GB, "GB"),
            hdd_gb: r.number(s, "specs", "hdd_gb", STORAGE_GB, "GB"),
            weight_kg: r.number(s, "specs", "weight_kg", WEIGHT_KG, "kg"),
            cpu_count: r.number(s, "specs", "cpu_count", CPU_COUNT, "CPUs"),
            release_year: r.number(s, "specs", "release_year", RELEASE_YEAR, ""),
            assembly_location: r.string(s, "specs", "assembly_location", 40),
        };
        if let Some(c) = input.specs.cpu_count {
            if c.fract() != 0.0 {
                r.fail("specs.cpu_count", "must be a whole number");
            }
        }
    }

    if let Some(u) = r.object(obj, "use") {
        use limits::*;
        r.unknown_fields(
            u,
            "use",
            &[
                "country",
                "lifetime_years",
                "yearly_kwh",
                "average_power_w",
                "hours_per_year",
            ],
        );
        let country = r.string(u, "use", "country", 40).and_then(|c| match factors.grid(&c) {
            Some(g) => Some(g.code.clone()),
            None => {
                r.fail(
                    "use.country",
                    format!("unknown country or region `{c}`: use ISO 3166 alpha-2 or alpha-3, or a region code from /reference/countries"),
                );
                None
            }
        });
        input.usage = UseInput {
            country,
            lifetime_years: r.number(u, "use", "lifetime_years", LIFETIME_YEARS, "years"),
            yearly_kwh: r.number(u, "use", "yearly_kwh", YEARLY_KWH, "kWh/year"),
            average_power_w: r.number(u, "use", "average_power_w", AVERAGE_POWER_W, "W"),
            hours_per_year: r.number(u, "use", "hours_per_year", HOURS_PER_YEAR, "hours"),
        };
        if input.usage.yearly_kwh.is_some() && input.usage.average_power_w.is_some() {
            r.fail(
                "use.average_power_w",
                "give either yearly_kwh or average_power_w (with hours_per_year), not both",
            );
        }
        if input.usage.hours_per_year.is_some() && input.usage.average_power_w.is_none() {
            r.fail("use.hours_per_year", "needs use.average_power_w");
        }
    }

    let has_product = input
        .product
        .as_ref()
        .is_some_and(|p| p.id.is_some() || (p.brand.is_some() && p.model.is_some()));
    if input.category.is_none() && !has_product && r.errors.is_empty() {
        r.fail("category", "required unless product.id (or product.brand and product.model) names a catalogue product");
    }

    if r.errors.is_empty() {
        Ok(input)
    } else {
        Err(r.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<DeviceInput, Vec<FieldError>> {
        parse_device(&v, "", FactorSet::builtin())
    }

    fn fields(v: Value) -> Vec<String> {
        parse(v).unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn accepts_a_full_request() {
        let d = parse(json!({
            "category": "Laptop",
            "product": {"brand": "Dell", "model": "Latitude 5420"},
            "specs": {"screen_size_in": 14, "memory_gb": 16, "ssd_gb": 512, "weight_kg": 1.4, "release_year": 2021},
            "use": {"country": "deu", "lifetime_years": 5, "yearly_kwh": 20}
        }))
        .unwrap();
        assert_eq!(d.category.as_deref(), Some("laptop"));
        assert_eq!(d.usage.country.as_deref(), Some("DE"));
        assert_eq!(d.specs.screen_size_in, Some(14.0));
    }

    #[test]
    fn names_every_bad_field_at_once() {
        let f = fields(json!({
            "category": "toaster",
            "specs": {"screen_size_in": 900, "weight_kg": "heavy", "colour": "red"},
            "use": {"country": "XX", "lifetime_years": 300, "yearly_kwh": -1}
        }));
        for expected in [
            "category",
            "specs.screen_size_in",
            "specs.weight_kg",
            "specs.colour",
            "use.country",
            "use.lifetime_years",
            "use.yearly_kwh",
        ] {
            assert!(
                f.contains(&expected.to_string()),
                "{expected} missing from {f:?}"
            );
        }
    }

    #[test]
    fn prefixes_paths_for_batch_items() {
        let e = parse_device(
            &json!({"category": "laptop", "use": {"country": 3}}),
            "devices[2]",
            FactorSet::builtin(),
        )
        .unwrap_err();
        assert_eq!(e[0].field, "devices[2].use.country");
    }

    #[test]
    fn requires_a_category_or_product_and_consistent_energy_inputs() {
        assert_eq!(fields(json!({})), vec!["category"]);
        assert_eq!(fields(json!([1])), vec!["body"]);
        assert!(parse(json!({"product": {"id": "x"}})).is_ok());
        let f =
            fields(json!({"category": "laptop", "use": {"yearly_kwh": 10, "average_power_w": 5}}));
        assert_eq!(f, vec!["use.average_power_w"]);
        let f = fields(json!({"category": "laptop", "product": {"gtin": "12ab"}}));
        assert_eq!(f, vec!["product.gtin"]);
    }
}
