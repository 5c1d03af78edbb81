//! The attribute model for products without a published PCF.
//!
//! Chosen by 10-fold cross-validation over the published PCFs (see `tests` below and the
//! README): a distance-weighted k-nearest-neighbour estimate of the *embodied* footprint
//! (production + transport + end of life) within the device's category, over what a user can
//! know (brand, screen size, weight, release year, yearly kWh, lifetime, use region), plus a
//! use phase from yearly kWh × lifetime × grid intensity. Per-category ridge regressions on
//! the same attributes cross-validated worse (median error 15% against 9%): products come in
//! families, and neighbours capture a family's footprint better than a global slope.
//!
//! Fitting is a single pass over the catalogue plus a leave-one-out pass for the uncertainty
//! bands (milliseconds), done once per isolate.

use std::collections::HashMap;

use crate::catalog::Product;

/// Most neighbours a model may average.
const MAX_K: usize = 12;

/// The model's hyperparameters. The defaults were chosen by 10-fold cross-validation
/// (`cargo test --test model_cv -- --ignored --nocapture` reruns the search).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Neighbours averaged (at most 12).
    pub k: usize,
    /// Added to distances before inverting them, so an exact twin does not take all the weight.
    pub softening: f64,
    /// Distance of a different brand, and of a different use region.
    pub w_brand: f64,
    pub w_region: f64,
    /// Weights of ln screen, ln weight, year / 5, ln kWh, ln lifetime.
    pub weights: [f64; FEATURES],
}

impl Default for Params {
    fn default() -> Self {
        Params {
            k: 6,
            softening: 0.01,
            w_brand: 1.0,
            w_region: 1.0,
            weights: [2.0, 0.5, 2.0, 0.5, 2.0],
        }
    }
}

/// What the model knows about a device.
#[derive(Debug, Clone, Default)]
pub struct Query<'a> {
    pub category: &'a str,
    pub brand: Option<&'a str>,
    /// PCF use region (WW, EU, US, NA, ASIA) or country code.
    pub region: Option<&'a str>,
    pub screen_size_in: Option<f64>,
    pub weight_kg: Option<f64>,
    pub release_year: Option<f64>,
    pub yearly_kwh: Option<f64>,
    pub lifetime_years: Option<f64>,
}

/// Numeric features, transformed and weighted so that distance is a plain L1 sum:
/// ln screen, ln weight, year / 5, ln kWh, ln lifetime. NaN = unknown.
const FEATURES: usize = 5;

/// One training product, with its features pre-transformed and its brand and region interned
/// (the distance loop compares integers, not strings).
#[derive(Debug, Clone)]
struct Row {
    brand: u32,
    region: u32,
    features: [f64; FEATURES],
    ln_embodied: f64,
    /// Share of the use phase in the published total (as published, or as derived).
    use_share: f64,
}

/// Interned strings: 0 means "unknown" and matches nothing.
#[derive(Debug, Clone, Default)]
struct Interner(HashMap<String, u32>);

impl Interner {
    fn intern(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s else { return 0 };
        let next = self.0.len() as u32 + 1;
        *self.0.entry(s.to_lowercase()).or_insert(next)
    }

    /// Look up without adding: an unseen value gets an id no row has.
    fn find(&self, s: Option<&str>) -> u32 {
        s.and_then(|s| self.0.get(&s.to_lowercase()).copied())
            .unwrap_or(u32::MAX)
    }
}

fn features(
    w: &[f64; FEATURES],
    screen: Option<f64>,
    weight: Option<f64>,
    year: Option<f64>,
    kwh: Option<f64>,
    life: Option<f64>,
) -> [f64; FEATURES] {
    let f = |v: Option<f64>| v.unwrap_or(f64::NAN);
    [
        f(ln(screen)) * w[0],
        f(ln(weight)) * w[1],
        f(year.map(|y| y / 5.0)) * w[2],
        f(ln(kwh)) * w[3],
        f(ln(life)) * w[4],
    ]
}

/// An embodied-footprint estimate with its neighbours' evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub embodied_kg: f64,
    /// The neighbours' (weighted) use share of their published totals: what the use phase
    /// of a device like this typically weighs when its yearly energy is unknown.
    pub use_share: f64,
    /// Catalogue products nearest to the query (ids), nearest first.
    pub neighbours: Vec<String>,
    /// Relative band (low, high multipliers) from leave-one-out residuals of the category.
    pub band: (f64, f64),
}

/// The fitted model.
#[derive(Debug, Clone, Default)]
pub struct Model {
    params: Params,
    rows: HashMap<String, Vec<(Row, String)>>,
    brands: Interner,
    regions: Interner,
    conventions: HashMap<(String, String), f64>,
    region_conventions: HashMap<String, f64>,
    use_shares: HashMap<(String, String), f64>,
    category_use_shares: HashMap<String, f64>,
    bands: HashMap<String, (f64, f64)>,
}

fn ln(v: Option<f64>) -> Option<f64> {
    v.filter(|x| *x > 0.0).map(f64::ln)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Whether a product can teach the model: printers' published use phases include paper and
/// toner, which no device attribute predicts.
pub fn trains_on(p: &Product) -> bool {
    p.category != "printer" && p.total_kg > 0.0
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
        Self::fit_with(products, Params::default())
    }

    /// Fit with given hyperparameters (cross-validation searches them).
    pub fn fit_with<'a>(products: impl IntoIterator<Item = &'a Product>, params: Params) -> Model {
        let products: Vec<&Product> = products.into_iter().filter(|p| trains_on(p)).collect();
        let mut m = Model {
            params: Params {
                k: params.k.clamp(1, MAX_K),
                ..params
            },
            ..Model::default()
        };

        // The grid intensity each manufacturer implicitly used, per use region.
        let mut conv: HashMap<(String, String), Vec<f64>> = HashMap::new();
        let mut region_conv: HashMap<String, Vec<f64>> = HashMap::new();
        let mut shares: HashMap<(String, String), Vec<f64>> = HashMap::new();
        let mut cat_shares: HashMap<String, Vec<f64>> = HashMap::new();
        for p in &products {
            let region = p.use_location.clone().unwrap_or_else(|| "WW".into());
            if let Some(g) = p.implied_kg_per_kwh.filter(|g| *g > 0.05 && *g < 5.0) {
                conv.entry((p.brand.to_lowercase(), region.clone()))
                    .or_default()
                    .push(g);
                if g < 1.5 {
                    region_conv.entry(region).or_default().push(g);
                }
            }
            if let Some(s) = p.share_use {
                shares
                    .entry((p.category.clone(), p.brand.to_lowercase()))
                    .or_default()
                    .push(s);
                cat_shares.entry(p.category.clone()).or_default().push(s);
            }
        }
        m.conventions = conv
            .into_iter()
            .filter_map(|(k, v)| Some((k, median(v)?)))
            .collect();
        m.region_conventions = region_conv
            .into_iter()
            .filter_map(|(k, v)| Some((k, median(v)?)))
            .collect();
        m.use_shares = shares
            .into_iter()
            .filter_map(|(k, v)| Some((k, median(v)?)))
            .collect();
        m.category_use_shares = cat_shares
            .into_iter()
            .filter_map(|(k, v)| Some((k, median(v)?)))
            .collect();

        // Embodied footprint of each product: from its published use share, else by removing
        // the use phase its kWh and lifetime imply, else with the typical use share.
        for p in &products {
            let region = p.use_location.as_deref();
            let embodied = if let Some(s) = p.share_use {
                p.total_kg * (1.0 - s)
            } else if let (Some(kwh), Some(life)) = (p.yearly_kwh, p.lifetime_years) {
                p.total_kg - kwh * life * m.convention(Some(&p.brand), region).unwrap_or(0.4)
            } else {
                p.total_kg * (1.0 - m.use_share(&p.category, Some(&p.brand)).unwrap_or(0.3))
            };
            if embodied <= 0.0 {
                continue;
            }
            let row = Row {
                brand: m.brands.intern(Some(&p.brand)),
                region: m.regions.intern(p.use_location.as_deref()),
                features: features(
                    &m.params.weights,
                    p.screen_size_in,
                    p.weight_kg,
                    p.report_year.map(f64::from),
                    p.yearly_kwh,
                    p.lifetime_years,
                ),
                ln_embodied: embodied.ln(),
                use_share: 1.0 - embodied / p.total_kg,
            };
            m.rows
                .entry(p.category.clone())
                .or_default()
                .push((row, p.id.clone()));
        }

        // Uncertainty bands: leave-one-out residuals (ln actual − ln predicted), 10th–90th pct.
        let mut bands = HashMap::new();
        for (cat, rows) in &m.rows {
            let mut residuals: Vec<f64> = (0..rows.len())
                .filter_map(|i| {
                    let (row, _) = &rows[i];
                    m.nearest(rows, row, Some(i))
                        .map(|(ln_e, _)| row.ln_embodied - ln_e)
                })
                .collect();
            if residuals.len() >= 5 {
                residuals.sort_by(f64::total_cmp);
                let lo = quantile(&residuals, 0.1).min(-0.05);
                let hi = quantile(&residuals, 0.9).max(0.05);
                bands.insert(cat.clone(), (lo.exp(), hi.exp()));
            }
        }
        m.bands = bands;
        m
    }

    /// The grid intensity (kg/kWh) manufacturers' PCFs imply for a brand and use region: the
    /// brand's own convention where known, else the region's, else none.
    pub fn convention(&self, brand: Option<&str>, region: Option<&str>) -> Option<f64> {
        let region = region.unwrap_or("WW");
        brand
            .and_then(|b| {
                self.conventions
                    .get(&(b.to_lowercase(), region.to_string()))
            })
            .or_else(|| self.region_conventions.get(region))
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

    /// Estimate the embodied footprint of a device; `None` when the category has no data.
    pub fn estimate(&self, q: &Query) -> Option<Estimate> {
        let rows = self.rows.get(q.category)?;
        let fq = Row {
            brand: self.brands.find(q.brand),
            // No region given: 0, which no row with a region matches (as "unknown").
            region: if q.region.is_some() {
                self.regions.find(q.region)
            } else {
                0
            },
            features: features(
                &self.params.weights,
                q.screen_size_in,
                q.weight_kg,
                q.release_year,
                q.yearly_kwh,
                q.lifetime_years,
            ),
            ln_embodied: 0.0,
            use_share: 0.0,
        };
        let (ln_e, idx) = self.nearest(rows, &fq, None)?;
        let weights: f64 = idx.iter().map(|&(_, w)| w).sum();
        let use_share = idx
            .iter()
            .map(|&(i, w)| w * rows[i].0.use_share)
            .sum::<f64>()
            / weights;
        let idx: Vec<usize> = idx.into_iter().map(|(i, _)| i).collect();
        Some(Estimate {
            embodied_kg: ln_e.exp(),
            use_share,
            neighbours: idx.iter().map(|&i| rows[i].1.clone()).collect(),
            band: self.bands.get(q.category).copied().unwrap_or((0.7, 1.4)),
        })
    }

    /// Weighted geometric mean of the K nearest rows' embodied footprints, and their indices.
    fn nearest(
        &self,
        rows: &[(Row, String)],
        q: &Row,
        skip: Option<usize>,
    ) -> Option<(f64, Vec<(usize, f64)>)> {
        let k = self.params.k;
        let mut best: [(f64, usize); MAX_K] = [(f64::INFINITY, usize::MAX); MAX_K];
        for (i, (row, _)) in rows.iter().enumerate() {
            if Some(i) == skip {
                continue;
            }
            let d = distance(&self.params, q, row);
            if d < best[k - 1].0 {
                let mut j = k - 1;
                while j > 0 && best[j - 1].0 > d {
                    best[j] = best[j - 1];
                    j -= 1;
                }
                best[j] = (d, i);
            }
        }
        let (mut wsum, mut acc) = (0.0, 0.0);
        let mut idx = Vec::with_capacity(k);
        for &(d, i) in best[..k].iter().filter(|(_, i)| *i != usize::MAX) {
            let w = 1.0 / (self.params.softening + d);
            wsum += w;
            acc += w * rows[i].0.ln_embodied;
            idx.push((i, w));
        }
        (wsum > 0.0).then(|| (acc / wsum, idx))
    }
}

/// Attribute distance: brand and region mismatches, plus the L1 distance of the weighted
/// features; a value known on one side only costs half its weight.
fn distance(p: &Params, q: &Row, r: &Row) -> f64 {
    let mut d = 0.0;
    if q.brand != r.brand {
        d += p.w_brand;
    }
    if q.region != r.region {
        d += p.w_region;
    }
    for ((a, b), w) in q.features.iter().zip(&r.features).zip(p.weights) {
        d += match (a.is_nan(), b.is_nan()) {
            (false, false) => (a - b).abs(),
            (true, true) => 0.0,
            _ => 0.5 * w,
        };
    }
    d
}
