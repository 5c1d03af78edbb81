//! Computes a [`Footprint`] from a validated [`DeviceInput`].
//!
//! Two paths:
//! - **catalogue product** (`source: manufacturer_pcf`): production, transport and end of
//!   life from the published PCF; the use phase is the published one while the request keeps
//!   the published assumptions, and is recomputed with this API's grid factors as soon as the
//!   country, lifetime or yearly energy differ;
//! - **model** (`source: model`): the attribute model estimates the embodied footprint; the
//!   use phase is yearly kWh × lifetime × grid intensity.
//!
//! Use-phase grid intensity: a country (or region) given by the caller reads this API's grid
//! factors. Manufacturers' PCFs used their own, often higher, intensities for the regions they
//! name (WW, EU, US, NA, ASIA); a model estimate for such a region, or with no country at all,
//! uses the intensity those PCFs imply, so the estimate is comparable with published figures.
//! Either way the assumption and its source are listed.

use crate::catalog::{Catalogue, Product, Resolution};
use crate::factors::{Category, FactorSet};
use crate::validation::FieldError;
use crate::version::METHODOLOGY_VERSION;

use super::footprint::{
    round2, Assumption, Breakdown, Footprint, Ignored, Methodology, ProductSummary, Provenance,
    Source, Uncertainty, Value,
};
use super::input::{DeviceInput, Specs};
use super::model::{Model, Query, Spec, UseBasis, RANGE_CONFIDENCE};

/// Relative half-width used for a published PCF whose manufacturer states no error margin
/// (PAIA-based PCFs report relative standard deviations of 14–23% for Dell).
const DEFAULT_PCF_ERROR: f64 = 0.2;
/// Regions manufacturers' PCFs name for their use phase.
const PCF_REGIONS: [&str; 5] = ["WW", "EU", "US", "NA", "ASIA"];

/// Everything a calculation reads: one factor set, the catalogue and the fitted model.
#[derive(Clone, Copy)]
pub struct Engine<'a> {
    pub factors: &'a FactorSet,
    pub catalogue: &'a Catalogue,
    pub model: &'a Model,
}

/// Use-phase inputs after defaults.
struct UsePlan {
    country: String,
    country_src: Provenance,
    lifetime: f64,
    lifetime_src: Provenance,
    kwh: Option<(f64, Provenance, Option<String>)>,
}

impl Engine<'static> {
    /// The engine over the compiled-in factor set, catalogue and model.
    pub fn builtin() -> Engine<'static> {
        Engine {
            factors: FactorSet::builtin(),
            catalogue: Catalogue::builtin(),
            model: Model::builtin(),
        }
    }
}

impl<'a> Engine<'a> {
    /// The footprint of one device, or the fields that make it impossible (unknown product).
    pub fn footprint(&self, input: &DeviceInput) -> Result<Footprint, Vec<FieldError>> {
        match self.find_product(input)? {
            Some(p) => Ok(self.catalogue_footprint(p, input)),
            None => self.model_footprint(input),
        }
    }

    /// Resolve `product` against the catalogue. `Ok(None)`: not a catalogue product, but a
    /// category is given, so the model answers.
    pub fn find_product(
        &self,
        input: &DeviceInput,
    ) -> Result<Option<&'a Product>, Vec<FieldError>> {
        let Some(p) = &input.product else {
            return Ok(None);
        };
        if let Some(id) = &p.id {
            return match self.catalogue.get(id) {
                Some(prod) => Ok(Some(prod)),
                None => Err(vec![FieldError::new(
                    "product.id",
                    format!("no catalogue product `{id}`; find ids with /products/search"),
                )]),
            };
        }
        if let (Some(brand), Some(model)) = (&p.brand, &p.model) {
            match self.catalogue.resolve(brand, model) {
                Resolution::One(prod) => return Ok(Some(prod)),
                Resolution::Ambiguous(many) => {
                    let ids: Vec<&str> = many.iter().take(5).map(|p| p.id.as_str()).collect();
                    return Err(vec![FieldError::new(
                        "product.model",
                        format!(
                            "matches {} catalogue products; give product.id, one of: {}",
                            many.len(),
                            ids.join(", ")
                        ),
                    )]);
                }
                Resolution::NotFound if input.category.is_some() => return Ok(None),
                Resolution::NotFound => {
                    return Err(vec![FieldError::new(
                        "product.model",
                        format!(
                        "`{brand} {model}` is not in the catalogue; give a category to estimate it"
                    ),
                    )])
                }
            }
        }
        if input.category.is_none() {
            return Err(vec![FieldError::new(
                "category",
                "required: product.mpn or product.gtin alone cannot be resolved here (use /products/identify)",
            )]);
        }
        Ok(None)
    }

    fn category(&self, id: &str) -> &'a Category {
        self.factors
            .category(id)
            .or_else(|| self.factors.categories.first())
            .expect("a factor set has categories")
    }

    fn grid(&self, code: &str) -> f64 {
        self.factors
            .grid(code)
            .or_else(|| self.factors.grid("WW"))
            .map(|g| g.kg_per_kwh())
            .unwrap_or(0.475)
    }

    /// Lifetime, country and yearly energy: provided, else from `published`, else defaults.
    fn use_plan(
        &self,
        input: &DeviceInput,
        cat: &Category,
        published: Option<&Product>,
    ) -> UsePlan {
        let u = &input.usage;
        let (country, country_src) =
            match (&u.country, published.and_then(|p| p.use_location.as_ref())) {
                (Some(c), _) => (c.clone(), Provenance::Provided),
                (None, Some(loc)) => (loc.clone(), Provenance::Catalogue),
                (None, None) => ("WW".to_string(), Provenance::CategoryDefault),
            };
        let (lifetime, lifetime_src) =
            match (u.lifetime_years, published.and_then(|p| p.lifetime_years)) {
                (Some(l), _) => (l, Provenance::Provided),
                (None, Some(l)) => (l, Provenance::Catalogue),
                (None, None) => (cat.lifetime_years, Provenance::CategoryDefault),
            };
        let kwh = if let Some(k) = u.yearly_kwh {
            Some((k, Provenance::Provided, None))
        } else if let Some(w) = u.average_power_w {
            let hours = u.hours_per_year.unwrap_or(8760.0);
            let note = format!("{w} W × {hours} h/year");
            Some((w * hours / 1000.0, Provenance::Derived, Some(note)))
        } else {
            published
                .and_then(|p| p.yearly_kwh)
                .map(|k| (k, Provenance::Catalogue, None))
        };
        UsePlan {
            country,
            country_src,
            lifetime,
            lifetime_src,
            kwh,
        }
    }

    fn catalogue_footprint(&self, p: &'a Product, input: &DeviceInput) -> Footprint {
        let cat = self.category(&p.category);
        let mut assumptions = Vec::with_capacity(8);
        let mut defaulted = Vec::new();
        let mut warnings = Vec::new();

        // Published stages. Missing shares: the use share takes the category's typical value,
        // the non-use remainder splits as the category's does.
        let (use_share, use_share_src) = match p.share_use {
            Some(s) => (s, Provenance::Catalogue),
            None => (cat.use_share, Provenance::CategoryDefault),
        };
        let published = match (p.share_production, p.share_transport, p.share_eol) {
            (Some(pr), Some(tr), Some(eol)) if p.share_use.is_some() => {
                let sum = pr + tr + eol + use_share;
                let k = p.total_kg / sum;
                Breakdown {
                    production_kg: pr * k,
                    transport_kg: tr * k,
                    use_kg: use_share * k,
                    end_of_life_kg: eol * k,
                }
            }
            _ => {
                let non_use = p.total_kg * (1.0 - use_share);
                let s = cat.nonuse_split;
                Breakdown {
                    production_kg: non_use * s.production,
                    transport_kg: non_use * s.transport,
                    use_kg: p.total_kg * use_share,
                    end_of_life_kg: non_use * s.end_of_life,
                }
            }
        };
        if use_share_src == Provenance::CategoryDefault {
            assumptions.push(Assumption {
                name: "use_share",
                value: Value::Number(use_share),
                unit: None,
                source: Provenance::CategoryDefault,
                note: Some("the PCF does not publish its stage shares".into()),
            });
        }

        let plan = self.use_plan(input, cat, Some(p));
        let pub_country = p.use_location.as_deref().unwrap_or("WW");
        let pub_life = p.lifetime_years.unwrap_or(cat.lifetime_years);
        let changed = plan.country != pub_country
            || (plan.lifetime - pub_life).abs() > 1e-9
            || matches!(&plan.kwh, Some((k, src, _)) if *src != Provenance::Catalogue && p.yearly_kwh.is_none_or(|pk| (pk - k).abs() > 1e-9));

        let mut stages = published;
        let mut kwh_used = plan.kwh.clone();
        if changed {
            let g = self.grid(&plan.country);
            let kwh = match &plan.kwh {
                Some(k) => k.clone(),
                None => {
                    // No published kWh: the published use phase and the published region's
                    // intensity in this API's factors imply one.
                    let k = published.use_kg / (pub_life * self.grid(pub_country));
                    (
                        k,
                        Provenance::Derived,
                        Some(format!(
                            "published use phase ÷ ({pub_life} years × {pub_country} grid)"
                        )),
                    )
                }
            };
            stages.use_kg = kwh.0 * plan.lifetime * g;
            assumptions.push(grid_assumption(
                &plan.country,
                g,
                Provenance::FactorSet,
                None,
            ));
            kwh_used = Some(kwh);
            warnings.push(
                "use phase recomputed with this API's grid factors because the country, lifetime or energy differ from the published PCF"
                    .to_string(),
            );
        } else if let Some(g) = p.implied_kg_per_kwh {
            assumptions.push(grid_assumption(
                pub_country,
                g,
                Provenance::Catalogue,
                Some("intensity implied by the published PCF".into()),
            ));
        }
        push_use_assumptions(&mut assumptions, &mut defaulted, &plan, kwh_used);
        if p.quality_flags
            .iter()
            .any(|f| f.contains("outlier") || f.contains("suspect") || f.contains("implausible"))
        {
            warnings.push(format!(
                "the source data flags this PCF: {}",
                p.quality_flags.join(", ")
            ));
        }
        if let Some(note) = &cat.use_note {
            warnings.push(note.clone());
        }

        let total = stages.total();
        let err = p.error_ratio.filter(|e| *e > 0.0 && *e <= 1.0);
        let (rel, method) = match err {
            Some(e) => (e, "manufacturer-stated error margin"),
            None => (
                DEFAULT_PCF_ERROR,
                "published PCF without a stated margin: ±20% (PAIA-typical)",
            ),
        };
        Footprint {
            product: Some(ProductSummary {
                id: Some(p.id.clone()),
                brand: Some(p.brand.clone()),
                name: Some(p.name.clone()),
                source_url: Some(p.source_url.clone()),
            }),
            category: p.category.clone(),
            total_kg_co2e: round2(total),
            breakdown: stages.rounded(),
            uncertainty: Uncertainty {
                low_kg: round2(total * (1.0 - rel)),
                high_kg: round2(total * (1.0 + rel)),
                confidence: 0.9,
                method,
            },
            source: Source::ManufacturerPcf,
            assumptions,
            defaulted,
            ignored: given_specs(&input.specs)
                .map(|field| Ignored {
                    field,
                    reason:
                        "the product's published PCF is used as published: specs do not change it"
                            .into(),
                })
                .collect(),
            warnings,
            methodology: self.methodology(),
        }
    }

    fn model_footprint(&self, input: &DeviceInput) -> Result<Footprint, Vec<FieldError>> {
        let cat_id = input
            .category
            .as_deref()
            .ok_or_else(|| vec![FieldError::new("category", "required")])?;
        let cat = self.category(cat_id);
        let brand = input.product.as_ref().and_then(|p| p.brand.as_deref());
        let mut plan = self.use_plan(input, cat, None);
        let mut assumptions = Vec::with_capacity(8);
        let mut defaulted = Vec::new();
        let mut warnings = Vec::new();

        let region = (plan.country_src == Provenance::Provided).then_some(plan.country.as_str());
        let q = Query {
            category: cat_id,
            brand,
            name: input.product.as_ref().and_then(|p| p.model.as_deref()),
            region,
            screen_size_in: input.specs.screen_size_in,
            weight_kg: input.specs.weight_kg,
            release_year: input.specs.release_year,
            yearly_kwh: plan.kwh.as_ref().map(|k| k.0),
            lifetime_years: (plan.lifetime_src == Provenance::Provided).then_some(plan.lifetime),
            memory_gb: input.specs.memory_gb,
            ssd_gb: input.specs.ssd_gb,
            hdd_gb: input.specs.hdd_gb,
            cpu_count: input.specs.cpu_count,
        };
        let estimate = self.model.estimate(&q);
        let (embodied, band, method) = match &estimate {
            Some(e) if e.pooled => (e.prediction.embodied_kg, e.band, RANGE_POOLED),
            Some(e) => (e.prediction.embodied_kg, e.band, RANGE_OWN),
            None => {
                warnings.push(format!(
                    "no published PCF of a {cat_id} to learn from: category median used"
                ));
                (
                    cat.total_kg * (1.0 - cat.use_share),
                    (0.5, 1.5),
                    "category median ±50% (no published PCF of the category to calibrate on)",
                )
            }
        };
        if let Some(e) = &estimate {
            assumptions.push(Assumption {
                name: "embodied_kg",
                value: Value::Number(round2(embodied)),
                unit: Some("kg CO2e"),
                source: Provenance::Model,
                note: Some(format!(
                    "nearest published PCFs: {}",
                    e.neighbours.join(", ")
                )),
            });
        }

        // Grid intensity: this API's factor for a country the caller names; for a PCF region
        // (or none), the intensity manufacturers' PCFs imply there, where known.
        let conv_region = if plan.country_src == Provenance::Provided {
            Some(plan.country.as_str())
        } else {
            None
        };
        let convention = match conv_region {
            Some(c) if !PCF_REGIONS.contains(&c) => None,
            r => self.model.convention(cat_id, brand, r),
        };
        let (g, g_src, g_note) = match convention {
            Some(g) => (
                g,
                Provenance::PcfConvention,
                Some(format!(
                    "median grid intensity implied by published PCFs for {}; this API's own factor for {} is {:.3} kg/kWh",
                    conv_region.unwrap_or("WW"),
                    plan.country,
                    self.grid(&plan.country)
                )),
            ),
            None => (self.grid(&plan.country), Provenance::FactorSet, None),
        };

        if plan.kwh.is_none() {
            // Yearly energy unknown: the nearest published PCFs' use phase per year (with a
            // lifetime given) or use share implies it; without neighbours, the typical use
            // share of the brand's (or category's) published PCFs.
            let given_life = (plan.lifetime_src == Provenance::Provided).then_some(plan.lifetime);
            let (use_kg, how) = match &estimate {
                Some(e) => {
                    let (use_kg, basis) = e.prediction.use_phase(given_life);
                    let how = match basis {
                        UseBasis::PerYear(upy) => format!(
                            "use phase {upy:.1} kg CO2e per year of the nearest published {cat_id} PCFs"
                        ),
                        UseBasis::Share(share) => format!(
                            "use share {:.0}% of the nearest published {cat_id} PCFs",
                            share * 100.0
                        ),
                    };
                    (use_kg, how)
                }
                None => {
                    let share = self
                        .model
                        .use_share(cat_id, brand)
                        .unwrap_or(cat.use_share)
                        .clamp(0.0, 0.95);
                    (
                        embodied * share / (1.0 - share),
                        format!(
                            "typical use share {:.0}% of published {cat_id} PCFs",
                            share * 100.0
                        ),
                    )
                }
            };
            let kwh = use_kg / (plan.lifetime * g);
            plan.kwh = Some((kwh, Provenance::Derived, Some(how)));
            defaulted.push("use.yearly_kwh");
        }
        let kwh = plan.kwh.clone().map(|k| k.0).unwrap_or(cat.yearly_kwh);
        let split = cat.nonuse_split;
        let stages = Breakdown {
            production_kg: embodied * split.production,
            transport_kg: embodied * split.transport,
            use_kg: kwh * plan.lifetime * g,
            end_of_life_kg: embodied * split.end_of_life,
        };
        assumptions.push(grid_assumption(&plan.country, g, g_src, g_note));
        let kwh_used = plan.kwh.clone();
        push_use_assumptions(&mut assumptions, &mut defaulted, &plan, kwh_used);
        if input.specs.screen_size_in.is_none()
            && matches!(cat_id, "laptop" | "monitor" | "tablet" | "smartphone")
        {
            defaulted.push("specs.screen_size_in");
        }
        if input.specs.weight_kg.is_none() {
            defaulted.push("specs.weight_kg");
        }
        if let Some(note) = &cat.use_note {
            warnings.push(note.clone());
        }

        let ignored: Vec<Ignored> = given_specs(&input.specs)
            .filter_map(|field| {
                let reason = match Spec::ALL.into_iter().find(|s| s.field() == field) {
                    Some(spec) => self.model.ignored(cat_id, spec)?,
                    None => "assembly location does not enter the model: published PCFs include their own transport, and few state where they were assembled".into(),
                };
                Some(Ignored { field, reason })
            })
            .collect();

        let total = stages.total();
        Ok(Footprint {
            product: input.product.as_ref().map(|p| ProductSummary {
                id: None,
                brand: p.brand.clone(),
                name: p.model.clone(),
                source_url: None,
            }),
            category: cat_id.to_string(),
            total_kg_co2e: round2(total),
            breakdown: stages.rounded(),
            uncertainty: Uncertainty {
                low_kg: round2(total * band.0),
                high_kg: round2(total * band.1),
                confidence: RANGE_CONFIDENCE,
                method,
            },
            source: Source::Model,
            assumptions,
            defaulted,
            ignored,
            warnings,
            methodology: self.methodology(),
        })
    }

    fn methodology(&self) -> Methodology {
        Methodology {
            version: METHODOLOGY_VERSION,
            factor_set_version: self.factors.version.clone(),
            approach: "ISO 14067 / GHG Protocol product lifecycle, PAIA-aligned streamlined LCA",
        }
    }
}

/// The range of a model estimate: split-conformal, see `lca::model`.
const RANGE_OWN: &str = "90% split-conformal interval from the model's leave-one-out errors on published totals of this category (devices with and without a known yearly energy calibrated apart)";
const RANGE_POOLED: &str = "90% split-conformal interval from the model's leave-one-out errors on published totals, pooled over categories with fewer than 30 products";

/// The fields of `specs` the caller gave.
fn given_specs(specs: &Specs) -> impl Iterator<Item = &'static str> {
    let given = [
        specs.screen_size_in,
        specs.weight_kg,
        specs.release_year,
        specs.memory_gb,
        specs.ssd_gb,
        specs.hdd_gb,
        specs.cpu_count,
    ];
    Spec::ALL
        .into_iter()
        .zip(given)
        .filter(|(_, v)| v.is_some())
        .map(|(s, _)| s.field())
        .chain(
            specs
                .assembly_location
                .as_ref()
                .map(|_| "specs.assembly_location"),
        )
}

fn grid_assumption(
    code: &str,
    kg_per_kwh: f64,
    source: Provenance,
    note: Option<String>,
) -> Assumption {
    Assumption {
        name: "grid_intensity",
        value: Value::Number((kg_per_kwh * 10_000.0).round() / 10_000.0),
        unit: Some("kg CO2e/kWh"),
        source,
        note: note.or_else(|| Some(format!("use location {code}"))),
    }
}

fn push_use_assumptions(
    out: &mut Vec<Assumption>,
    defaulted: &mut Vec<&'static str>,
    plan: &UsePlan,
    kwh: Option<(f64, Provenance, Option<String>)>,
) {
    out.push(Assumption {
        name: "country",
        value: Value::Text(plan.country.clone()),
        unit: None,
        source: plan.country_src,
        note: None,
    });
    if plan.country_src == Provenance::CategoryDefault {
        defaulted.push("use.country");
    }
    out.push(Assumption {
        name: "lifetime_years",
        value: Value::Number(plan.lifetime),
        unit: Some("years"),
        source: plan.lifetime_src,
        note: None,
    });
    if plan.lifetime_src == Provenance::CategoryDefault {
        defaulted.push("use.lifetime_years");
    }
    if let Some((k, src, note)) = kwh {
        out.push(Assumption {
            name: "yearly_kwh",
            value: Value::Number(round2(k)),
            unit: Some("kWh/year"),
            source: src,
            note,
        });
    }
}
