//! Avoided emissions of reuse, refurbishment and lifetime extension against buying new
//! (ITU-T L.1410 part II comparison; WBCSD avoided-emissions guidance): reported apart from
//! footprints and never netted against them.
//!
//! `avoided = d × E_new × (L_second / L_new) − (E_refurb + E_parts + E_logistics + E_erasure)`
//! where `E_new` is the displaced new device's production and distribution footprint, `d` the
//! displacement rate, `L_second` the extra years of use and `L_new` the new device's lifetime.
//! Recycling is the baseline: it avoids no new device (0).

use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::input::{parse_device, DeviceInput};
use super::{round2, Assumption, Footprint, Provenance, Value};
use crate::factors::FactorSet;
use crate::validation::{unknown_fields, FieldError};

/// Share of the new device's production that replacement parts (battery, keyboard, storage)
/// cost in a refurbishment.
pub const REFURB_PARTS_SHARE: f64 = 0.05;
/// Electricity of a refurbishment (cleaning, testing, repair), kWh.
pub const REFURB_KWH: f64 = 2.0;
/// Electricity of a certified data erasure, kWh (about an hour at 50 W).
pub const ERASURE_KWH: f64 = 0.05;
/// Reverse logistics cost as a share of the new device's outbound transport (returns travel
/// regionally, not from the assembly site).
pub const REVERSE_LOGISTICS_SHARE: f64 = 0.5;
/// Default displacement rate: not every reused device stops a purchase (rebound).
pub const DEFAULT_DISPLACEMENT: f64 = 0.8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    Reuse,
    Refurbish,
    LifetimeExtension,
    Recycling,
}

impl Scenario {
    pub const ALL: [&'static str; 4] = ["reuse", "refurbish", "lifetime_extension", "recycling"];

    fn parse(s: &str) -> Option<Scenario> {
        Some(match s {
            "reuse" => Scenario::Reuse,
            "refurbish" | "refurbishment" => Scenario::Refurbish,
            "lifetime_extension" => Scenario::LifetimeExtension,
            "recycling" => Scenario::Recycling,
            _ => return None,
        })
    }
}

/// A validated savings request.
#[derive(Debug, Clone, PartialEq)]
pub struct SavingsInput {
    pub device: DeviceInput,
    pub scenario: Scenario,
    pub extra_years: Option<f64>,
    pub displacement_rate: Option<f64>,
}

/// Parse `{"device": {...}, "scenario": "...", "extra_years": n, "displacement_rate": d}`.
pub fn parse_savings(v: &Json, factors: &FactorSet) -> Result<SavingsInput, Vec<FieldError>> {
    let Json::Object(obj) = v else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut errors = unknown_fields(
        obj,
        &["device", "scenario", "extra_years", "displacement_rate"],
        "",
    );
    let scenario = match obj.get("scenario") {
        Some(Json::String(s)) => Scenario::parse(s).or_else(|| {
            errors.push(FieldError::new(
                "scenario",
                format!(
                    "unknown scenario `{s}`; one of: {}",
                    Scenario::ALL.join(", ")
                ),
            ));
            None
        }),
        None | Some(Json::Null) => {
            errors.push(FieldError::new(
                "scenario",
                format!("required; one of: {}", Scenario::ALL.join(", ")),
            ));
            None
        }
        Some(_) => {
            errors.push(FieldError::new("scenario", "must be a string"));
            None
        }
    };
    let device = match obj.get("device") {
        None | Some(Json::Null) => {
            errors.push(FieldError::new(
                "device",
                "required: the device as in POST /footprint",
            ));
            None
        }
        Some(d) => match parse_device(d, "device", factors) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.extend(e);
                None
            }
        },
    };
    let extra_years = number(obj, "extra_years", (0.0, 20.0), &mut errors);
    let displacement_rate = number(obj, "displacement_rate", (0.0, 1.0), &mut errors);
    match (device, scenario) {
        (Some(device), Some(scenario)) if errors.is_empty() => Ok(SavingsInput {
            device,
            scenario,
            extra_years,
            displacement_rate,
        }),
        _ => Err(errors),
    }
}

fn number(
    obj: &Map<String, Json>,
    name: &str,
    (lo, hi): (f64, f64),
    errors: &mut Vec<FieldError>,
) -> Option<f64> {
    match obj.get(name) {
        None | Some(Json::Null) => None,
        Some(Json::Number(n)) => match n.as_f64() {
            Some(v) if (lo..=hi).contains(&v) => Some(v),
            _ => {
                errors.push(FieldError::new(
                    name,
                    format!("must be between {lo} and {hi}"),
                ));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new(name, "must be a number"));
            None
        }
    }
}

/// Avoided emissions, with the terms of the formula.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavingsBreakdown {
    pub displaced_production_kg: f64,
    pub refurbishment_kg: f64,
    pub replacement_parts_kg: f64,
    pub reverse_logistics_kg: f64,
    pub erasure_kg: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Savings {
    pub scenario: Scenario,
    pub avoided_kg_co2e: f64,
    pub avoided_kg_co2e_per_year: f64,
    pub breakdown: SavingsBreakdown,
    pub formula: &'static str,
    pub label: &'static str,
    pub assumptions: Vec<Assumption>,
    pub defaulted: Vec<&'static str>,
    /// The footprint of the new device that reuse displaces (reported, never netted).
    pub new_device: Footprint,
}

/// Compute the avoided emissions of `input.scenario` given the footprint of a new device.
pub fn savings(input: &SavingsInput, new_device: Footprint, grid_kg_per_kwh: f64) -> Savings {
    let b = &new_device.breakdown;
    let life_new = new_device.number("lifetime_years").unwrap_or(4.0);
    let mut defaulted = Vec::new();
    let mut assumptions = Vec::new();
    let e_new = b.production_kg + b.transport_kg;

    let (d_default, years_default) = match input.scenario {
        Scenario::LifetimeExtension => (1.0, 1.0),
        _ => (DEFAULT_DISPLACEMENT, (life_new / 2.0).max(1.0)),
    };
    let d = input.displacement_rate.unwrap_or_else(|| {
        defaulted.push("displacement_rate");
        d_default
    });
    let years = input.extra_years.unwrap_or_else(|| {
        defaulted.push("extra_years");
        years_default
    });
    let src = |given: bool| {
        if given {
            Provenance::Provided
        } else {
            Provenance::MethodologyDefault
        }
    };
    assumptions.push(Assumption {
        name: "displacement_rate",
        value: Value::Number(d),
        unit: None,
        source: src(input.displacement_rate.is_some()),
        note: Some("share of reused devices that replace a purchase (rebound)".into()),
    });
    assumptions.push(Assumption {
        name: "extra_years",
        value: Value::Number(years),
        unit: Some("years"),
        source: src(input.extra_years.is_some()),
        note: Some(match input.scenario {
            Scenario::LifetimeExtension => "years the owner keeps the device longer".into(),
            _ => {
                format!("second-life years; default half the new device's {life_new}-year lifetime")
            }
        }),
    });
    assumptions.push(Assumption {
        name: "new_device_lifetime_years",
        value: Value::Number(life_new),
        unit: Some("years"),
        source: Provenance::Derived,
        note: Some("lifetime of the displaced new device (from its footprint)".into()),
    });

    let zero = SavingsBreakdown {
        displaced_production_kg: 0.0,
        refurbishment_kg: 0.0,
        replacement_parts_kg: 0.0,
        reverse_logistics_kg: 0.0,
        erasure_kg: 0.0,
    };
    let terms = match input.scenario {
        Scenario::Recycling => zero,
        Scenario::LifetimeExtension => SavingsBreakdown {
            displaced_production_kg: d * e_new * years / life_new,
            ..zero
        },
        Scenario::Reuse | Scenario::Refurbish => {
            let refurb = input.scenario == Scenario::Refurbish;
            SavingsBreakdown {
                displaced_production_kg: d * e_new * years / life_new,
                refurbishment_kg: if refurb {
                    REFURB_KWH * grid_kg_per_kwh
                } else {
                    0.0
                },
                replacement_parts_kg: if refurb {
                    REFURB_PARTS_SHARE * b.production_kg
                } else {
                    0.0
                },
                reverse_logistics_kg: REVERSE_LOGISTICS_SHARE * b.transport_kg,
                erasure_kg: ERASURE_KWH * grid_kg_per_kwh,
            }
        }
    };
    let avoided = terms.displaced_production_kg
        - terms.refurbishment_kg
        - terms.replacement_parts_kg
        - terms.reverse_logistics_kg
        - terms.erasure_kg;
    Savings {
        scenario: input.scenario,
        avoided_kg_co2e: round2(avoided),
        avoided_kg_co2e_per_year: if years > 0.0 {
            round2(avoided / years)
        } else {
            0.0
        },
        breakdown: SavingsBreakdown {
            displaced_production_kg: round2(terms.displaced_production_kg),
            refurbishment_kg: round2(terms.refurbishment_kg),
            replacement_parts_kg: round2(terms.replacement_parts_kg),
            reverse_logistics_kg: round2(terms.reverse_logistics_kg),
            erasure_kg: round2(terms.erasure_kg),
        },
        formula: "d × E_new × (L_second / L_new) − (E_refurb + E_parts + E_logistics + E_erasure)",
        label: "avoided emissions: not an offset, not deductible from an emissions inventory",
        assumptions,
        defaulted,
        new_device,
    }
}
