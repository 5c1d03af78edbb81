//! 10-fold cross-validation of the attribute model on the published PCFs: each product is
//! estimated by a model that never saw it, from what a user can know (category, brand, specs,
//! release year, yearly kWh, lifetime, use region), through the same engine the API runs.
//! Fails if the error regresses past the floors below. `cargo test --test model_cv -- --nocapture`
//! prints the per-category table published in the README.

use std::collections::BTreeMap;

use carbontrace::catalog::{Catalogue, Product};
use carbontrace::factors::FactorSet;
use carbontrace::lca::input::{DeviceInput, ProductRef, Specs, UseInput};
use carbontrace::lca::model::{trains_on, Model};
use carbontrace::lca::Engine;

/// Floors: measured 9.1% median and 71% within ±20% when set; a change must not regress past.
const MAX_MEDIAN_ERROR: f64 = 0.105;
const MIN_WITHIN_20: f64 = 0.68;
const FOLDS: usize = 10;

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
    let h = id.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    (h % FOLDS as u64) as usize
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn cross_validated_error_stays_under_the_floor() {
    let catalogue = Catalogue::builtin();
    let factors = FactorSet::builtin();
    let products: Vec<&Product> = catalogue.products.iter().filter(|p| trains_on(p)).collect();
    let mut errors: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for k in 0..FOLDS {
        let model = Model::fit(products.iter().copied().filter(|p| fold(&p.id) != k));
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
    let mut all: Vec<f64> = errors.values().flatten().copied().collect();
    let n = all.len();
    let within = all.iter().filter(|e| **e <= 0.2).count() as f64 / n as f64;
    let med = median(&mut all);
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
