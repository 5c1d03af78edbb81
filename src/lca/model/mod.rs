//! The attribute model for products without a published PCF.
//!
//! Chosen by cross-validation over the published PCFs (`tests/model_cv.rs`, nested so the
//! README's figures are not optimistic):
//! - **Embodied footprint** (production + transport + end of life): a distance-weighted
//!   k-nearest-neighbour estimate within the device's category over what a user can know
//!   (brand, model-name family, screen size, weight, release year, yearly kWh, lifetime, use
//!   region; weights half sharp, half smooth, see `WEIGHT_POWER`), plus a
//!   **component term** for memory, SSD, HDD and CPU count: each neighbour's footprint is moved
//!   by β · (ln(1 + x_query) − ln(1 + x_neighbour)), β fitted per category on the neighbours'
//!   leave-one-out residuals and kept only where the published PCFs show a significant,
//!   positive effect. Per-category ridge regressions on the same attributes cross-validated
//!   worse (median error 15% against 9%): products come in families, and neighbours capture a
//!   family's footprint better than a global slope.
//! - **Use phase**: yearly kWh × lifetime × the grid intensity manufacturers' PCFs imply for
//!   that category, brand and region (servers' PCFs imply about twice a laptop's); with no
//!   kWh but a lifetime, the neighbours' use phase per year times that lifetime (their use
//!   share would give a 3-year and a 5-year laptop the same use phase); with neither, the
//!   neighbours' use share.
//! - **A 90% range** by split-conformal prediction: the lower and upper quantiles (with the
//!   finite-sample correction) of the leave-one-out errors of published *totals*, per category
//!   with 30 or more products and apart for devices with and without a known yearly energy,
//!   pooled over the smaller categories.
//!
//! Every spec the API accepts either counts for a category or is reported back as ignored
//! with the reason ([`Model::ignored`]). Fitting is a few leave-one-out passes (milliseconds),
//! done once per isolate.
//!
//! Here: fitting, conventions, calibration and the public API. `category` is one category's
//! k-NN and component slopes, `names` the model-name tokens, `conformal` the range
//! multipliers, `params` the hyperparameters and features, `prediction` what the neighbours
//! say (embodied, use phase) and the shared numeric helpers.

mod category;
mod conformal;
mod names;
mod params;
mod prediction;

use std::collections::HashMap;

use crate::catalog::Product;
use category::{components, features, CategoryFit, Row, Truth, COMPONENTS, MIN_COMPONENT_ROWS};
use conformal::conformal_band;
use names::{name_tokens, Interner};
pub use params::{ParamSet, Params};
use prediction::median;
pub use prediction::{Prediction, UseBasis};

/// Categories with at least this many products get their own hyperparameters and range
/// calibration; smaller ones share the default hyperparameters and one pooled calibration set.
pub const MIN_OWN_FIT: usize = 30;
/// Coverage the range states.
pub const RANGE_CONFIDENCE: f64 = 0.9;
/// A distance feature counts for a category when at least this share of its products state it.
const MIN_FEATURE_SHARE: f64 = 0.2;

/// A device spec the model may weigh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Spec {
    ScreenSize,
    Weight,
    ReleaseYear,
    Memory,
    Ssd,
    Hdd,
    CpuCount,
}

impl Spec {
    pub const ALL: [Spec; 7] = [
        Spec::ScreenSize,
        Spec::Weight,
        Spec::ReleaseYear,
        Spec::Memory,
        Spec::Ssd,
        Spec::Hdd,
        Spec::CpuCount,
    ];

    /// The request field.
    pub fn field(self) -> &'static str {
        match self {
            Spec::ScreenSize => "specs.screen_size_in",
            Spec::Weight => "specs.weight_kg",
            Spec::ReleaseYear => "specs.release_year",
            Spec::Memory => "specs.memory_gb",
            Spec::Ssd => "specs.ssd_gb",
            Spec::Hdd => "specs.hdd_gb",
            Spec::CpuCount => "specs.cpu_count",
        }
    }

    /// Where it lives: a distance feature or a component term.
    fn slot(self) -> Slot {
        match self {
            Spec::ScreenSize => Slot::Feature(0),
            Spec::Weight => Slot::Feature(1),
            Spec::ReleaseYear => Slot::Feature(2),
            Spec::Memory => Slot::Component(0),
            Spec::Ssd => Slot::Component(1),
            Spec::Hdd => Slot::Component(2),
            Spec::CpuCount => Slot::Component(3),
        }
    }
}

enum Slot {
    Feature(usize),
    Component(usize),
}

/// What the model knows about a device.
#[derive(Debug, Clone, Default)]
pub struct Query<'a> {
    pub category: &'a str,
    pub brand: Option<&'a str>,
    /// The model name the caller gives ("Latitude 5430"): its family tokens find siblings.
    pub name: Option<&'a str>,
    /// PCF use region (WW, EU, US, NA, ASIA) or country code.
    pub region: Option<&'a str>,
    pub screen_size_in: Option<f64>,
    pub weight_kg: Option<f64>,
    pub release_year: Option<f64>,
    pub yearly_kwh: Option<f64>,
    pub lifetime_years: Option<f64>,
    pub memory_gb: Option<f64>,
    pub ssd_gb: Option<f64>,
    pub hdd_gb: Option<f64>,
    pub cpu_count: Option<f64>,
}

/// An estimate with its neighbours' evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub prediction: Prediction,
    /// Catalogue products nearest to the query (ids), nearest first.
    pub neighbours: Vec<String>,
    /// Multipliers (low, high) of the predicted *total* for a 90% range.
    pub band: (f64, f64),
    /// Whether the band comes from the pooled calibration set of small categories.
    pub pooled: bool,
}

/// The fitted model.
#[derive(Debug, Clone, Default)]
pub struct Model {
    params: ParamSet,
    fits: HashMap<String, CategoryFit>,
    brands: Interner,
    regions: Interner,
    tokens: Interner,
    /// Implied grid intensity by (category, brand, region), (category, region), (brand, region)
    /// and region.
    conventions: HashMap<(String, String, String), f64>,
    category_conventions: HashMap<(String, String), f64>,
    brand_conventions: HashMap<(String, String), f64>,
    region_conventions: HashMap<String, f64>,
    use_shares: HashMap<(String, String), f64>,
    category_use_shares: HashMap<String, f64>,
}

fn medians<K: std::hash::Hash + Eq>(m: HashMap<K, Vec<f64>>) -> HashMap<K, f64> {
    m.into_iter()
        .filter_map(|(k, v)| Some((k, median(v)?)))
        .collect()
}

impl Model {
    /// The model fitted on the whole built-in catalogue, once per process (warmed at isolate
    /// start).
    pub fn builtin() -> &'static Model {
        static MODEL: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
        MODEL.get_or_init(|| Model::fit(&crate::catalog::Catalogue::builtin().products))
    }

    /// Fit on catalogue products (callers pass the training fold in cross-validation).
    pub fn fit<'a>(products: impl IntoIterator<Item = &'a Product>) -> Model {
        Self::fit_with(products, &ParamSet::chosen())
    }

    /// Fit with given hyperparameters (cross-validation searches them).
    pub fn fit_with<'a>(
        products: impl IntoIterator<Item = &'a Product>,
        params: &ParamSet,
    ) -> Model {
        let products: Vec<&Product> = products.into_iter().filter(|p| p.total_kg > 0.0).collect();
        let mut m = Model {
            params: params.clone(),
            ..Model::default()
        };
        m.fit_conventions(&products);

        // Embodied footprint of each product: from its published use share, else by removing
        // the use phase its kWh and lifetime imply, else with the typical use share.
        for p in &products {
            let region = p.use_location.as_deref();
            let implied_use = match (p.yearly_kwh, p.lifetime_years) {
                (Some(kwh), Some(life)) => m
                    .convention(&p.category, Some(&p.brand), region)
                    .map(|g| kwh * life * g),
                _ => None,
            };
            let stated_use = p
                .share_use
                .map(|s| p.total_kg * s)
                .or(implied_use)
                .filter(|u| *u > 0.0);
            let embodied = if let Some(s) = p.share_use {
                p.total_kg * (1.0 - s)
            } else if let Some(u) = implied_use {
                p.total_kg - u
            } else {
                p.total_kg * (1.0 - m.use_share(&p.category, Some(&p.brand)).unwrap_or(0.3))
            };
            if embodied <= 0.0 {
                continue;
            }
            let params = m.params.get(&p.category);
            let mut tokens: Vec<u32> = name_tokens(Some(&p.brand), &p.name)
                .iter()
                .map(|t| m.tokens.intern(Some(t)))
                .collect();
            tokens.sort_unstable();
            tokens.dedup();
            let row = Row {
                brand: m.brands.intern(Some(&p.brand)),
                region: m.regions.intern(p.use_location.as_deref()),
                tokens,
                features: features(
                    &params.weights,
                    p.screen_size_in,
                    p.weight_kg,
                    p.report_year.map(f64::from),
                    p.yearly_kwh,
                    p.lifetime_years,
                ),
                components: components(p.memory_gb, p.ssd_gb, p.hdd_gb, p.cpu_count),
                ln_embodied: embodied.ln(),
                use_share: 1.0 - embodied / p.total_kg,
                ln_use_per_year: match (stated_use, p.lifetime_years.filter(|l| *l > 0.0)) {
                    (Some(u), Some(life)) => (u / life).ln(),
                    _ => f64::NAN,
                },
            };
            let fit = m
                .fits
                .entry(p.category.clone())
                .or_insert_with(|| CategoryFit {
                    params,
                    ..CategoryFit::default()
                });
            fit.rows.push(row);
            fit.truths.push(Truth {
                id: p.id.clone(),
                total_kg: p.total_kg,
                use_kg: implied_use,
                lifetime_years: p.lifetime_years,
            });
        }

        for fit in m.fits.values_mut() {
            fit.fit_components();
        }
        m.calibrate();
        m
    }

    /// Grid intensities manufacturers implicitly used, per category, brand and region.
    fn fit_conventions(&mut self, products: &[&Product]) {
        let mut conv: HashMap<(String, String, String), Vec<f64>> = HashMap::new();
        let mut cat_conv: HashMap<(String, String), Vec<f64>> = HashMap::new();
        let mut brand_conv: HashMap<(String, String), Vec<f64>> = HashMap::new();
        let mut region_conv: HashMap<String, Vec<f64>> = HashMap::new();
        let mut shares: HashMap<(String, String), Vec<f64>> = HashMap::new();
        let mut cat_shares: HashMap<String, Vec<f64>> = HashMap::new();
        for p in products {
            let region = p.use_location.clone().unwrap_or_else(|| "WW".into());
            let brand = p.brand.to_lowercase();
            if let Some(g) = p.implied_kg_per_kwh.filter(|g| *g > 0.01 && *g < 100.0) {
                conv.entry((p.category.clone(), brand.clone(), region.clone()))
                    .or_default()
                    .push(g);
                cat_conv
                    .entry((p.category.clone(), region.clone()))
                    .or_default()
                    .push(g);
                // Across categories only what looks like electricity (printers' PCFs count
                // paper and toner as use).
                if g < 1.5 {
                    brand_conv
                        .entry((brand.clone(), region.clone()))
                        .or_default()
                        .push(g);
                    region_conv.entry(region).or_default().push(g);
                }
            }
            if let Some(s) = p.share_use {
                shares
                    .entry((p.category.clone(), brand))
                    .or_default()
                    .push(s);
                cat_shares.entry(p.category.clone()).or_default().push(s);
            }
        }
        self.conventions = medians(conv);
        self.category_conventions = medians(cat_conv);
        self.brand_conventions = medians(brand_conv);
        self.region_conventions = medians(region_conv);
        self.use_shares = medians(shares);
        self.category_use_shares = medians(cat_shares);
    }

    /// Leave-one-out total errors per category, then the conformal bands, apart for estimates
    /// with and without a known yearly energy (Mondrian conformal prediction: a server whose
    /// kWh is given is far better known than one whose use phase comes from a typical share):
    /// a group's own residuals when it has `MIN_OWN_FIT`, else its category's, else those of
    /// every small category pooled.
    fn calibrate(&mut self) {
        let mut pooled = Vec::new();
        let cats: Vec<String> = self.fits.keys().cloned().collect();
        for cat in &cats {
            let fit = &self.fits[cat];
            let mut residuals: Vec<(f64, bool)> = (0..fit.rows.len())
                .filter_map(|i| {
                    let p = fit.predict(&fit.rows[i].components, &fit.loo[i])?;
                    let truth = &fit.truths[i];
                    let use_kg = truth
                        .use_kg
                        .unwrap_or_else(|| p.use_phase(truth.lifetime_years).0);
                    let r = truth.total_kg.ln() - (p.embodied_kg + use_kg).ln();
                    Some((r, truth.use_kg.is_some()))
                })
                .collect();
            residuals.sort_by(|a, b| a.0.total_cmp(&b.0));
            let all: Vec<f64> = residuals.iter().map(|r| r.0).collect();
            let fit = self.fits.get_mut(cat).expect("listed");
            if all.len() < MIN_OWN_FIT {
                pooled.extend_from_slice(&all);
                fit.pooled = true;
            } else {
                for energy in [false, true] {
                    let group: Vec<f64> = residuals
                        .iter()
                        .filter(|r| r.1 == energy)
                        .map(|r| r.0)
                        .collect();
                    let own = if group.len() >= MIN_OWN_FIT {
                        &group
                    } else {
                        &all
                    };
                    fit.bands[usize::from(energy)] = conformal_band(own);
                }
            }
            fit.residuals = all;
        }
        pooled.sort_by(f64::total_cmp);
        let pooled_band = conformal_band(&pooled);
        for fit in self.fits.values_mut().filter(|f| f.pooled) {
            fit.bands = [pooled_band; 2];
        }
    }

    /// The grid intensity (kg/kWh) manufacturers' PCFs imply for a category, brand and use
    /// region: the most specific convention known, else none.
    pub fn convention(
        &self,
        category: &str,
        brand: Option<&str>,
        region: Option<&str>,
    ) -> Option<f64> {
        let region = region.unwrap_or("WW").to_string();
        let brand = brand.map(str::to_lowercase);
        brand
            .as_ref()
            .and_then(|b| {
                self.conventions
                    .get(&(category.to_string(), b.clone(), region.clone()))
            })
            .or_else(|| {
                self.category_conventions
                    .get(&(category.to_string(), region.clone()))
            })
            .or_else(|| {
                brand
                    .as_ref()
                    .and_then(|b| self.brand_conventions.get(&(b.clone(), region.clone())))
            })
            .or_else(|| self.region_conventions.get(&region))
            .copied()
    }

    /// Typical use share of published totals for a category (and brand, where known).
    pub fn use_share(&self, category: &str, brand: Option<&str>) -> Option<f64> {
        brand
            .and_then(|b| {
                self.use_shares
                    .get(&(category.to_string(), b.to_lowercase()))
            })
            .or_else(|| self.category_use_shares.get(category))
            .copied()
    }

    /// Whether a spec counts for a category: `None` if it does, else why not.
    pub fn ignored(&self, category: &str, spec: Spec) -> Option<String> {
        let Some(fit) = self.fits.get(category) else {
            return Some(format!(
                "no published {category} PCF to learn from: the category median is used"
            ));
        };
        let n = fit.rows.len();
        match spec.slot() {
            Slot::Feature(f) => {
                let known = fit.known_features[f];
                if fit.params.weights[f] == 0.0 {
                    Some("cross-validation gives it no weight in the model".into())
                } else if (known as f64) < MIN_FEATURE_SHARE * n as f64 || known < 5 {
                    Some(format!(
                        "only {known} of {n} published {category} PCFs state it: too few to weigh"
                    ))
                } else {
                    None
                }
            }
            Slot::Component(c) => {
                let known = fit.known_components[c];
                if fit.beta[c].is_some() {
                    None
                } else if known < MIN_COMPONENT_ROWS {
                    Some(format!(
                        "only {known} of {n} published {category} PCFs state it: too few to fit its effect"
                    ))
                } else {
                    Some(format!(
                        "the {known} published {category} PCFs that state it show no significant effect on the footprint"
                    ))
                }
            }
        }
    }

    /// Each training product's leave-one-out relative error (|predicted − published| ÷
    /// published total) by category: what an inner cross-validation scores hyperparameters on
    /// without refitting.
    pub fn loo_errors(&self) -> impl Iterator<Item = (&str, f64)> {
        self.fits.iter().flat_map(|(cat, fit)| {
            fit.residuals
                .iter()
                .map(move |r| (cat.as_str(), ((-r).exp() - 1.0).abs()))
        })
    }

    /// The component slopes of a category (memory, SSD, HDD, CPUs), for documentation.
    pub fn component_slopes(&self, category: &str) -> Option<[Option<f64>; COMPONENTS]> {
        self.fits.get(category).map(|f| f.beta)
    }

    /// Estimate a device; `None` when the category has no data.
    pub fn estimate(&self, q: &Query) -> Option<Estimate> {
        let fit = self.fits.get(q.category)?;
        // Tokens no product has cannot match, but still count in the union.
        let mut tokens: Vec<u32> = q
            .name
            .map(|n| name_tokens(q.brand, n))
            .unwrap_or_default()
            .iter()
            .map(|t| self.tokens.find(Some(t)))
            .collect();
        tokens.sort_unstable();
        let fq = Row {
            brand: self.brands.find(q.brand),
            tokens,
            // No region given: 0, which no row with a region matches (as "unknown").
            region: if q.region.is_some() {
                self.regions.find(q.region)
            } else {
                0
            },
            features: features(
                &fit.params.weights,
                q.screen_size_in,
                q.weight_kg,
                q.release_year,
                q.yearly_kwh,
                q.lifetime_years,
            ),
            components: components(q.memory_gb, q.ssd_gb, q.hdd_gb, q.cpu_count),
            ln_embodied: 0.0,
            use_share: 0.0,
            ln_use_per_year: f64::NAN,
        };
        let nb = fit.neighbours(&fq, None);
        Some(Estimate {
            prediction: fit.predict(&fq.components, &nb)?,
            neighbours: nb.iter().map(|&(i, _)| fit.truths[i].id.clone()).collect(),
            band: fit.bands[usize::from(q.yearly_kwh.is_some())],
            pooled: fit.pooled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_use_the_intensity_their_own_pcfs_imply() {
        let m = Model::builtin();
        let server = m.convention("server", Some("Dell"), Some("EU")).unwrap();
        let laptop = m.convention("laptop", Some("Dell"), Some("EU")).unwrap();
        assert!(server > 1.5 * laptop, "server {server} laptop {laptop}");
    }

    #[test]
    fn every_spec_counts_or_says_why_not() {
        let m = Model::builtin();
        for cat in [
            "laptop",
            "desktop",
            "monitor",
            "server",
            "smartphone",
            "tablet",
        ] {
            for spec in Spec::ALL {
                if let Some(why) = m.ignored(cat, spec) {
                    assert!(!why.is_empty());
                }
            }
        }
        // Servers publish memory for 39 of 45 products; the screen size never.
        assert!(m.ignored("server", Spec::ScreenSize).is_some());
        assert!(m.ignored("laptop", Spec::ScreenSize).is_none());
    }
}
