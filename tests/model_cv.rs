//! 10-fold cross-validation of the attribute model on the published PCFs: each product is
//! estimated by a model that never saw it, from what a user can know (category, brand, specs,
//! release year, yearly kWh, lifetime, use region), through the same engine the API runs.
//! Fails if the error regresses past the floors below. `cargo test --test model_cv -- --nocapture`
//! prints the per-category table published in the README.

use std::collections::BTreeMap;

use carbontrace::catalog::{Catalogue, Product};
use carbontrace::factors::FactorSet;
use carbontrace::lca::input::{DeviceInput, ProductRef, Specs, UseInput};
use carbontrace::lca::model::{trains_on, Model, Params};
use carbontrace::lca::Engine;

/// Floors: measured 7.8% median and 76% within ±20% (8.5% / 76% with other fold assignments)
/// when set; a change must not regress past them.
const MAX_MEDIAN_ERROR: f64 = 0.09;
const MIN_WITHIN_20: f64 = 0.74;
const FOLDS: usize = 10;
/// Changes which products share a fold (the hyperparameters were searched with "").
const SALT: &str = "";

fn query(p: &Product) -> DeviceInput {
    DeviceInput {
        category: Some(p.category.clone()),
        // Brand only: naming the model would find the product itself in the catalogue.
        product: Some(ProductRef {
            brand: Some(p.brand.clone()),
            ..Default::default()
        }),
        specs: Specs {
            screen_size_in: p.screen_size_in,
            weight_kg: p.weight_kg,
            release_year: p.report_year.map(f64::from),
            ..Default::default()
        },
        usage: UseInput {
            country: p.use_location.clone(),
            lifetime_years: p.lifetime_years,
            yearly_kwh: p.yearly_kwh,
            ..Default::default()
        },
    }
}

/// Deterministic fold of a product (FNV-1a of its id).
fn fold(id: &str) -> usize {
    let h = format!("{SALT}{id}")
        .bytes()
        .fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
    (h % FOLDS as u64) as usize
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Absolute relative errors per category of a 10-fold cross-validation.
fn cross_validate(params: Params) -> BTreeMap<String, Vec<f64>> {
    let catalogue = Catalogue::builtin();
    let factors = FactorSet::builtin();
    let products: Vec<&Product> = catalogue.products.iter().filter(|p| trains_on(p)).collect();
    let mut errors: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for k in 0..FOLDS {
        let model = Model::fit_with(
            products.iter().copied().filter(|p| fold(&p.id) != k),
            params,
        );
        let engine = Engine {
            factors,
            catalogue,
            model: &model,
        };
        for p in products.iter().filter(|p| fold(&p.id) == k) {
            let f = engine.footprint(&query(p)).expect("model answers");
            errors
                .entry(p.category.clone())
                .or_default()
                .push((f.total_kg_co2e - p.total_kg).abs() / p.total_kg);
        }
    }
    errors
}

/// (median error, share within ±20%) over every product.
fn summary(errors: &BTreeMap<String, Vec<f64>>) -> (f64, f64) {
    let mut all: Vec<f64> = errors.values().flatten().copied().collect();
    let within = all.iter().filter(|e| **e <= 0.2).count() as f64 / all.len() as f64;
    (median(&mut all), within)
}

#[test]
fn cross_validated_error_stays_under_the_floor() {
    let errors = cross_validate(Params::default());
    let (med, within) = summary(&errors);
    let n: usize = errors.values().map(Vec::len).sum();
    println!("| category | products | median abs error | within ±20% |");
    println!("|---|---|---|---|");
    let mut rows: Vec<_> = errors.into_iter().collect();
    rows.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    for (cat, mut v) in rows {
        let w = v.iter().filter(|e| **e <= 0.2).count() as f64 / v.len() as f64;
        println!(
            "| {cat} | {} | {:.1}% | {:.0}% |",
            v.len(),
            median(&mut v) * 100.0,
            w * 100.0
        );
    }
    println!(
        "| **all** | {n} | {:.1}% | {:.0}% |",
        med * 100.0,
        within * 100.0
    );
    assert!(
        med <= MAX_MEDIAN_ERROR,
        "median error {med:.3} above floor {MAX_MEDIAN_ERROR}"
    );
    assert!(
        within >= MIN_WITHIN_20,
        "within ±20% {within:.3} below floor {MIN_WITHIN_20}"
    );
}

/// Coordinate search of the hyperparameters by cross-validated share within ±20% (then
/// median error). Slow-ish (a few seconds); run by hand when the data or the model change.
#[test]
#[ignore]
fn search_hyperparameters() {
    let score = |p: Params| {
        let (med, within) = summary(&cross_validate(p));
        (within - med, med, within)
    };
    let mut best = Params::default();
    let mut best_score = score(best);
    println!(
        "start {best:?} -> median {:.3}, within {:.3}",
        best_score.1, best_score.2
    );
    for _round in 0..2 {
        for k in [3, 4, 5, 6, 8] {
            let p = Params { k, ..best };
            let s = score(p);
            if s.0 > best_score.0 {
                (best, best_score) = (p, s);
            }
        }
        for softening in [0.01, 0.05, 0.1, 0.3] {
            let p = Params { softening, ..best };
            let s = score(p);
            if s.0 > best_score.0 {
                (best, best_score) = (p, s);
            }
        }
        for w_brand in [0.25, 0.5, 1.0, 2.0] {
            let p = Params { w_brand, ..best };
            let s = score(p);
            if s.0 > best_score.0 {
                (best, best_score) = (p, s);
            }
        }
        for w_region in [0.0, 0.25, 0.5, 1.0, 2.0] {
            let p = Params { w_region, ..best };
            let s = score(p);
            if s.0 > best_score.0 {
                (best, best_score) = (p, s);
            }
        }
        for i in 0..5 {
            for w in [0.0, 0.25, 0.5, 1.0, 2.0, 4.0] {
                let mut weights = best.weights;
                weights[i] = w;
                let p = Params { weights, ..best };
                let s = score(p);
                if s.0 > best_score.0 {
                    (best, best_score) = (p, s);
                }
            }
        }
        println!(
            "round: {best:?} -> median {:.3}, within {:.3}",
            best_score.1, best_score.2
        );
    }
}
