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

/// Neighbours averaged.
const K: usize = 5;
/// Distance weights (chosen by cross-validation; see the README's model table).
const W_BRAND: f64 = 1.0;
const W_REGION: f64 = 0.5;
const W_SCREEN: f64 = 1.0;
const W_WEIGHT: f64 = 1.0;
const W_YEAR: f64 = 0.5;
const W_KWH: f64 = 1.0;
const W_LIFETIME: f64 = 1.0;
/// Added to distances before inverting them, so an exact twin does not take all the weight.
const SOFTENING: f64 = 0.05;

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

/// One training product, with its features pre-transformed.
#[derive(Debug, Clone)]
struct Row {
    brand: String,
    region: Option<String>,
    ln_screen: Option<f64>,
    ln_weight: Option<f64>,
    year: Option<f64>,
    ln_kwh: Option<f64>,
    ln_lifetime: Option<f64>,
    ln_embodied: f64,
}

/// An embodied-footprint estimate with its neighbours' evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub embodied_kg: f64,
    /// Catalogue products nearest to the query (ids), nearest first.
    pub neighbours: Vec<String>,
    /// Relative band (low, high multipliers) from leave-one-out residuals of the category.
    pub band: (f64, f64),
}

/// The fitted model.
#[derive(Debug, Clone, Default)]
pub struct Model {
    rows: HashMap<String, Vec<(Row, String)>>,
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
        let products: Vec<&Product> = products.into_iter().filter(|p| trains_on(p)).collect();
        let mut m = Model::default();

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
                brand: p.brand.to_lowercase(),
                region: p.use_location.clone(),
                ln_screen: ln(p.screen_size_in),
                ln_weight: ln(p.weight_kg),
                year: p.report_year.map(f64::from),
                ln_kwh: ln(p.yearly_kwh),
                ln_lifetime: ln(p.lifetime_years),
                ln_embodied: embodied.ln(),
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
                    let q = row_query(row);
                    m.nearest(rows, &q, Some(i))
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
        let fq = FeatureQuery {
            brand: q.brand.map(str::to_lowercase),
            region: q.region.map(str::to_string),
            ln_screen: ln(q.screen_size_in),
            ln_weight: ln(q.weight_kg),
            year: q.release_year,
            ln_kwh: ln(q.yearly_kwh),
            ln_lifetime: ln(q.lifetime_years),
        };
        let (ln_e, idx) = self.nearest(rows, &fq, None)?;
        Some(Estimate {
            embodied_kg: ln_e.exp(),
            neighbours: idx.iter().map(|&i| rows[i].1.clone()).collect(),
            band: self.bands.get(q.category).copied().unwrap_or((0.7, 1.4)),
        })
    }

    /// Weighted geometric mean of the K nearest rows' embodied footprints, and their indices.
    fn nearest(
        &self,
        rows: &[(Row, String)],
        q: &FeatureQuery,
        skip: Option<usize>,
    ) -> Option<(f64, Vec<usize>)> {
        let mut best: [(f64, usize); K] = [(f64::INFINITY, usize::MAX); K];
        for (i, (row, _)) in rows.iter().enumerate() {
            if Some(i) == skip {
                continue;
            }
            let d = distance(q, row);
            if d < best[K - 1].0 {
                let mut j = K - 1;
                while j > 0 && best[j - 1].0 > d {
                    best[j] = best[j - 1];
                    j -= 1;
                }
                best[j] = (d, i);
            }
        }
        let (mut wsum, mut acc) = (0.0, 0.0);
        let mut idx = Vec::with_capacity(K);
        for &(d, i) in best.iter().filter(|(_, i)| *i != usize::MAX) {
            let w = 1.0 / (SOFTENING + d);
            wsum += w;
            acc += w * rows[i].0.ln_embodied;
            idx.push(i);
        }
        (wsum > 0.0).then(|| (acc / wsum, idx))
    }
}

struct FeatureQuery {
    brand: Option<String>,
    region: Option<String>,
    ln_screen: Option<f64>,
    ln_weight: Option<f64>,
    year: Option<f64>,
    ln_kwh: Option<f64>,
    ln_lifetime: Option<f64>,
}

fn row_query(r: &Row) -> FeatureQuery {
    FeatureQuery {
        brand: Some(r.brand.clone()),
        region: r.region.clone(),
        ln_screen: r.ln_screen,
        ln_weight: r.ln_weight,
        year: r.year,
        ln_kwh: r.ln_kwh,
        ln_lifetime: r.ln_lifetime,
    }
}

/// Attribute distance; a value known on one side only costs half its weight.
fn distance(q: &FeatureQuery, r: &Row) -> f64 {
    fn term(w: f64, a: Option<f64>, b: Option<f64>) -> f64 {
        match (a, b) {
            (Some(a), Some(b)) => w * (a - b).abs(),
            (None, None) => 0.0,
            _ => w * 0.5,
        }
    }
    let mut d = 0.0;
    if q.brand.as_deref() != Some(r.brand.as_str()) {
        d += W_BRAND;
    }
    if q.region != r.region {
        d += W_REGION;
    }
    d += term(W_SCREEN, q.ln_screen, r.ln_screen);
    d += term(W_WEIGHT, q.ln_weight, r.ln_weight);
    d += term(W_YEAR, q.year.map(|y| y / 5.0), r.year.map(|y| y / 5.0));
    d += term(W_KWH, q.ln_kwh, r.ln_kwh);
    d += term(W_LIFETIME, q.ln_lifetime, r.ln_lifetime);
    d
}
