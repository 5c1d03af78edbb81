//! One category's fit: its training rows, the k-nearest-neighbour estimate over them, and the
//! component slopes fitted on the neighbours' leave-one-out residuals.

use super::names::jaccard;
use super::params::{Params, FEATURES, MAX_K};
use super::prediction::{ln, median, Prediction};

/// Neighbour weights: half from 1 ÷ (softening + distance)^WEIGHT_POWER, where the nearest
/// product decides most, half from 1 ÷ (softening + distance), where the others still count.
/// Chosen by the repeated nested cross-validation (4 fold draws; median error, within ±20%):
/// inverse distance alone 7.32%, 79.0%; the sixth power alone 6.36%, 79.9% (an odd nearest
/// product decides alone); the even mix 6.80%, 80.7%. Searching the power per category like
/// the other hyperparameters overfit.
const WEIGHT_POWER: i32 = 6;
/// A component term needs this many products of the category that state the component.
pub(super) const MIN_COMPONENT_ROWS: usize = 8;
/// A component term is kept when its slope is this many standard errors above zero.
pub(super) const MIN_T: f64 = 2.0;

/// Components of the component term: ln(1 + memory GB), ln(1 + SSD GB), ln(1 + HDD GB),
/// ln(1 + CPUs). NaN = unknown.
pub(super) const COMPONENTS: usize = 4;

/// One training product, with its features pre-transformed and its brand and region interned
/// (the distance loop compares integers, not strings).
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) brand: u32,
    pub(super) region: u32,
    /// Name tokens (interned, sorted); empty: no name.
    pub(super) tokens: Vec<u32>,
    pub(super) features: [f64; FEATURES],
    pub(super) components: [f64; COMPONENTS],
    pub(super) ln_embodied: f64,
    /// Share of the use phase in the published total (as published, or as derived).
    pub(super) use_share: f64,
    /// ln of the use phase per year of lifetime (kg CO2e), where the PCF states its use phase
    /// (a share or a yearly kWh) and its lifetime; NaN otherwise.
    pub(super) ln_use_per_year: f64,
}

/// What a training product teaches beyond its features: its published total and the use
/// phase the engine would compute for it from its own kWh and lifetime.
#[derive(Debug, Clone)]
pub(super) struct Truth {
    pub(super) id: String,
    pub(super) total_kg: f64,
    pub(super) use_kg: Option<f64>,
    pub(super) lifetime_years: Option<f64>,
}

/// Everything fitted for one category.
#[derive(Debug, Clone, Default)]
pub(super) struct CategoryFit {
    pub(super) params: Params,
    pub(super) rows: Vec<Row>,
    pub(super) truths: Vec<Truth>,
    /// Slope of each component term (ln embodied per ln(1 + x)); None: no significant effect.
    pub(super) beta: [Option<f64>; COMPONENTS],
    /// Median ln(1 + x) of the rows that state each component: stands in for a neighbour that
    /// does not state it.
    pub(super) typical: [f64; COMPONENTS],
    /// How many rows state each feature and each component.
    pub(super) known_features: [usize; FEATURES],
    pub(super) known_components: [usize; COMPONENTS],
    /// Each row's leave-one-out neighbours (they do not depend on the component slopes).
    pub(super) loo: Vec<Vec<(usize, f64)>>,
    /// Leave-one-out ln(published total ÷ predicted total), sorted.
    pub(super) residuals: Vec<f64>,
    /// Multipliers of the predicted total for the 90% range, without and with a known yearly
    /// energy, and whether they come from the pooled calibration set.
    pub(super) bands: [(f64, f64); 2],
    pub(super) pooled: bool,
}

pub(super) fn features(
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

pub(super) fn components(
    memory: Option<f64>,
    ssd: Option<f64>,
    hdd: Option<f64>,
    cpus: Option<f64>,
) -> [f64; COMPONENTS] {
    let z = |v: Option<f64>| v.filter(|x| *x >= 0.0).map_or(f64::NAN, f64::ln_1p);
    [z(memory), z(ssd), z(hdd), z(cpus)]
}

impl CategoryFit {
    /// The K nearest rows and their weights (summing to 1), nearest first.
    pub(super) fn neighbours(&self, q: &Row, skip: Option<usize>) -> Vec<(usize, f64)> {
        let params = &self.params;
        let k = params.k;
        let mut best: [(f64, usize); MAX_K] = [(f64::INFINITY, usize::MAX); MAX_K];
        for (i, row) in self.rows.iter().enumerate() {
            if Some(i) == skip {
                continue;
            }
            let d = distance(params, q, row);
            if d < best[k - 1].0 {
                let mut j = k - 1;
                while j > 0 && best[j - 1].0 > d {
                    best[j] = best[j - 1];
                    j -= 1;
                }
                best[j] = (d, i);
            }
        }
        let found = &best[..best[..k]
            .iter()
            .take_while(|(_, i)| *i != usize::MAX)
            .count()];
        let sharp = |d: f64| (params.softening + d).powi(-WEIGHT_POWER);
        let smooth = |d: f64| 1.0 / (params.softening + d);
        let sharp_total: f64 = found.iter().map(|&(d, _)| sharp(d)).sum();
        let smooth_total: f64 = found.iter().map(|&(d, _)| smooth(d)).sum();
        found
            .iter()
            .map(|&(d, i)| {
                (
                    i,
                    0.5 * sharp(d) / sharp_total + 0.5 * smooth(d) / smooth_total,
                )
            })
            .collect()
    }

    /// A neighbour's value of a component, or the category's typical one.
    pub(super) fn component(&self, i: usize, c: usize) -> f64 {
        let z = self.rows[i].components[c];
        if z.is_nan() {
            self.typical[c]
        } else {
            z
        }
    }

    /// Weighted geometric mean of the neighbours' embodied footprints, each moved by the
    /// component terms to the query's components; the neighbours' use share; and the weighted
    /// geometric mean of the use phase per year of those that state one.
    pub(super) fn predict(&self, q: &[f64; COMPONENTS], nb: &[(usize, f64)]) -> Option<Prediction> {
        if nb.is_empty() {
            return None;
        }
        let mut ln_e = 0.0;
        let mut share = 0.0;
        let (mut ln_upy, mut w_upy) = (0.0, 0.0);
        for &(i, w) in nb {
            let upy = self.rows[i].ln_use_per_year;
            if !upy.is_nan() {
                ln_upy += w * upy;
                w_upy += w;
            }
            let mut v = self.rows[i].ln_embodied;
            for (c, (beta, z)) in self.beta.iter().zip(q).enumerate() {
                if let (Some(b), false) = (beta, z.is_nan()) {
                    v += b * (z - self.component(i, c));
                }
            }
            ln_e += w * v;
            share += w * self.rows[i].use_share;
        }
        Some(Prediction {
            embodied_kg: ln_e.exp(),
            use_share: share.clamp(0.0, 0.95),
            use_per_year_kg: (w_upy > 0.5).then(|| (ln_upy / w_upy).exp()),
        })
    }

    /// Fit the component slopes one after the other on the leave-one-out residuals of the
    /// neighbour estimate: least squares through the origin of residual on the query-minus-
    /// neighbours component difference, kept when positive and at least `MIN_T` standard
    /// errors from zero (at most 1: doubling memory cannot more than double a footprint).
    pub(super) fn fit_components(&mut self) {
        for f in 0..FEATURES {
            self.known_features[f] = self.rows.iter().filter(|r| !r.features[f].is_nan()).count();
        }
        for c in 0..COMPONENTS {
            let known: Vec<f64> = self
                .rows
                .iter()
                .map(|r| r.components[c])
                .filter(|z| !z.is_nan())
                .collect();
            self.known_components[c] = known.len();
            self.typical[c] = median(known).unwrap_or(0.0);
        }
        self.loo = (0..self.rows.len())
            .map(|i| self.neighbours(&self.rows[i], Some(i)))
            .collect();
        let nbs = &self.loo;
        let mut residual: Vec<f64> = nbs
            .iter()
            .enumerate()
            .map(|(i, nb)| {
                self.rows[i].ln_embodied
                    - nb.iter()
                        .map(|&(j, w)| w * self.rows[j].ln_embodied)
                        .sum::<f64>()
            })
            .collect();
        for c in 0..COMPONENTS {
            if self.known_components[c] < MIN_COMPONENT_ROWS {
                continue;
            }
            let xs: Vec<(usize, f64)> = (0..self.rows.len())
                .filter(|&i| !self.rows[i].components[c].is_nan() && !nbs[i].is_empty())
                .map(|i| {
                    let around: f64 = nbs[i].iter().map(|&(j, w)| w * self.component(j, c)).sum();
                    (i, self.rows[i].components[c] - around)
                })
                .collect();
            let sxx: f64 = xs.iter().map(|(_, x)| x * x).sum();
            if sxx < 1e-6 || xs.len() < 3 {
                continue;
            }
            let beta = xs.iter().map(|&(i, x)| x * residual[i]).sum::<f64>() / sxx;
            let sse: f64 = xs
                .iter()
                .map(|&(i, x)| (residual[i] - beta * x).powi(2))
                .sum();
            let se = (sse / (xs.len() - 1) as f64 / sxx).sqrt();
            if beta > 0.0 && beta >= MIN_T * se {
                let beta = beta.min(1.0);
                self.beta[c] = Some(beta);
                for &(i, x) in &xs {
                    residual[i] -= beta * x;
                }
            }
        }
    }
}

/// Attribute distance: brand and region mismatches, plus the L1 distance of the weighted
/// features the query states; a stated value the product lacks costs half its weight.
fn distance(p: &Params, q: &Row, r: &Row) -> f64 {
    let mut d = 0.0;
    if q.brand != r.brand {
        d += p.w_brand;
    }
    // No region given (0): no preference, not a preference for products without one.
    if q.region != 0 && q.region != r.region {
        d += p.w_region;
    }
    if !q.tokens.is_empty() && p.w_name > 0.0 {
        d += p.w_name * (1.0 - jaccard(&q.tokens, &r.tokens));
    }
    for ((a, b), w) in q.features.iter().zip(&r.features).zip(p.weights) {
        d += match (a.is_nan(), b.is_nan()) {
            (false, false) => (a - b).abs(),
            // What the query does not say cannot prefer a product that does not say it either.
            (true, _) => 0.0,
            (false, true) => 0.5 * w,
        };
    }
    d
}
