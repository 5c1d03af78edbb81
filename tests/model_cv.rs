//! Nested cross-validation of the attribute model on the published PCFs: each product is
//! estimated, through the same engine the API runs, by a model that never saw it and whose
//! hyperparameters were chosen without it (an inner cross-validation on the outer training
//! folds only), from what a user can know (category, brand, specs, release year, yearly kWh,
//! lifetime, use region). Reports per category the median error, the shares within ±5% and
//! ±20%, and how often the 90% range holds the published total and how wide it is; fails if
//! any of them regresses past the floors below.
//!
//! `cargo test --release --test model_cv -- --nocapture` prints the table in the README.
//! `cargo test --release --test model_cv -- --ignored --nocapture` reruns the full
//! hyperparameter search on all products (what `Params::default()` holds).

use carbontrace::catalog::{Catalogue, Product, Resolution};
use carbontrace::factors::FactorSet;
use carbontrace::lca::input::{DeviceInput, ProductRef, Specs, UseInput};
use std::collections::BTreeMap;
use std::collections::HashMap;

use carbontrace::lca::model::{Model, ParamSet, Params, MIN_OWN_FIT};
use carbontrace::lca::{Engine, Source};

/// Floors: the accuracy issue 15 asks for (measured when they were set: 6.8% median error,
/// 41.1% within ±5%, 80.3% within ±20%, servers 2.4%, 92% coverage, median range ±29%; see
/// the README); a change must not regress past them.
const MAX_MEDIAN_ERROR: f64 = 0.07;
const MIN_WITHIN_20: f64 = 0.80;
const MIN_WITHIN_5: f64 = 0.40;
const MAX_SERVER_MEDIAN_ERROR: f64 = 0.20;
/// The range says 90%: cross-validated coverage may not fall under 88%, overall or in any
/// category with `MIN_OWN_FIT` products or more…
const MIN_COVERAGE: f64 = 0.88;
/// …and may not buy it by widening: median relative width (high − low) ÷ total, overall.
const MAX_MEDIAN_WIDTH: f64 = 0.70;

const OUTER_FOLDS: usize = 10;

/// What a user would send: brand and model name (the model name unless it names a training
/// product: a few families publish one footprint under one name), specs and use.
fn query(p: &Product, catalogue: &Catalogue) -> DeviceInput {
    let named = matches!(catalogue.resolve(&p.brand, &p.name), Resolution::NotFound);
    DeviceInput {
        category: Some(p.category.clone()),
        product: Some(ProductRef {
            brand: Some(p.brand.clone()),
            model: named.then(|| p.name.clone()),
            ..Default::default()
        }),
        specs: Specs {
            screen_size_in: p.screen_size_in,
            weight_kg: p.weight_kg,
            release_year: p.report_year.map(f64::from),
            memory_gb: p.memory_gb,
            ssd_gb: p.ssd_gb,
            hdd_gb: p.hdd_gb,
            cpu_count: p.cpu_count,
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

/// Deterministic fold of a product (FNV-1a of salt + id).
fn fold(salt: &str, id: &str, folds: usize) -> usize {
    let h = format!("{salt}{id}")
        .bytes()
        .fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
    (h % folds as u64) as usize
}

/// One held-out product's result.
#[derive(Clone)]
struct Outcome {
    id: String,
    /// Estimated and published totals (kg CO2e).
    estimate: f64,
    published: f64,
    /// |estimate − published| ÷ published.
    error: f64,
    /// Published total inside the 90% range.
    covered: bool,
    /// (high − low) ÷ estimate.
    width: f64,
}

type ByCategory = BTreeMap<String, Vec<Outcome>>;

/// Estimate `test` with a model fitted on `train`.
fn evaluate(train: &[&Product], test: &[&Product], params: &ParamSet, out: &mut ByCategory) {
    let model = Model::fit_with(train.iter().copied(), params);
    // The catalogue holds the training products only: a held-out product is unknown to it.
    let catalogue = Catalogue::from_products(
        String::new(),
        String::new(),
        String::new(),
        train.iter().map(|p| (*p).clone()).collect(),
    );
    let engine = Engine {
        factors: FactorSet::builtin(),
        catalogue: &catalogue,
        model: &model,
    };
    for p in test {
        // A category the training folds never saw has nothing to learn from: not scored.
        if !train.iter().any(|t| t.category == p.category) {
            continue;
        }
        let f = engine
            .footprint(&query(p, &catalogue))
            .expect("model answers");
        assert!(
            matches!(f.source, Source::Model),
            "{} found in training",
            p.id
        );
        let total = f.total_kg_co2e;
        out.entry(p.category.clone()).or_default().push(Outcome {
            id: p.id.clone(),
            estimate: total,
            published: p.total_kg,
            error: (total - p.total_kg).abs() / p.total_kg,
            covered: f.uncertainty.low_kg <= p.total_kg && p.total_kg <= f.uncertainty.high_kg,
            width: (f.uncertainty.high_kg - f.uncertainty.low_kg) / total,
        });
    }
}

/// K-fold cross-validation of fixed hyperparameters.
fn cross_validate(
    products: &[&Product],
    params: &ParamSet,
    folds: usize,
    salt: &str,
) -> ByCategory {
    let mut out = ByCategory::new();
    for k in 0..folds {
        let (test, train): (Vec<&Product>, Vec<&Product>) =
            products.iter().partition(|p| fold(salt, &p.id, folds) == k);
        evaluate(&train, &test, params, &mut out);
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median error, within ±5%, within ±20%, coverage, median width.
struct Summary {
    n: usize,
    median: f64,
    within_5: f64,
    within_20: f64,
    coverage: f64,
    width: f64,
}

fn summarise<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Summary {
    let v: Vec<&Outcome> = outcomes.into_iter().collect();
    let n = v.len();
    let share = |f: &dyn Fn(&Outcome) -> bool| v.iter().filter(|o| f(o)).count() as f64 / n as f64;
    Summary {
        n,
        median: median(v.iter().map(|o| o.error).collect()),
        within_5: share(&|o| o.error <= 0.05),
        within_20: share(&|o| o.error <= 0.2),
        coverage: share(&|o| o.covered),
        width: median(v.iter().map(|o| o.width).collect()),
    }
}

/// What the search maximises: share within ±20% plus share within ±5%, minus median error.
fn score<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> f64 {
    let s = summarise(outcomes);
    s.within_20 + s.within_5 - s.median
}

/// Leave-one-out errors of a model fitted on `products` (one fit, no engine): the inner loop.
fn leave_one_out(products: &[&Product], params: &ParamSet) -> ByCategory {
    let mut out = ByCategory::new();
    for (cat, error) in Model::fit_with(products.iter().copied(), params).loo_errors() {
        out.entry(cat.to_string()).or_default().push(Outcome {
            id: String::new(),
            estimate: f64::NAN,
            published: f64::NAN,
            error,
            covered: false,
            width: 0.0,
        });
    }
    out
}

/// Coordinate search of the hyperparameters on `products`, scored by `evaluate`, for each
/// category with `MIN_OWN_FIT` products or more on its own and for the smaller ones together
/// (`default`). Categories do not share neighbours, so one evaluation scores a candidate for
/// every group at once.
fn search(
    products: &[&Product],
    rounds: usize,
    evaluate: impl Fn(&ParamSet) -> ByCategory,
) -> ParamSet {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for p in products {
        *counts.entry(p.category.as_str()).or_default() += 1;
    }
    let own: Vec<String> = counts
        .iter()
        .filter(|(_, n)| **n >= MIN_OWN_FIT)
        .map(|(c, _)| c.to_string())
        .collect();
    // Group scores: each own category, then "" for the pooled small ones.
    let scores = |outcomes: &ByCategory| -> HashMap<String, f64> {
        let mut s: HashMap<String, f64> = own
            .iter()
            .filter_map(|c| Some((c.clone(), score(outcomes.get(c)?))))
            .collect();
        let small = outcomes
            .iter()
            .filter(|(c, _)| !own.contains(c))
            .flat_map(|(_, v)| v);
        s.insert(String::new(), score(small));
        s
    };
    let mut best: HashMap<String, Params> = own
        .iter()
        .chain([&String::new()])
        .map(|c| (c.clone(), Params::default()))
        .collect();
    let set_of = |groups: &HashMap<String, Params>| ParamSet {
        default: groups[""],
        by_category: groups
            .iter()
            .filter(|(c, _)| !c.is_empty())
            .map(|(c, p)| (c.clone(), *p))
            .collect(),
    };
    let mut best_scores = scores(&evaluate(&set_of(&best)));
    let mut consider = |change: &dyn Fn(Params) -> Params, best: &mut HashMap<String, Params>| {
        let candidate: HashMap<String, Params> =
            best.iter().map(|(c, p)| (c.clone(), change(*p))).collect();
        let s = scores(&evaluate(&set_of(&candidate)));
        for (group, score) in s {
            if score > best_scores[&group] {
                best_scores.insert(group.clone(), score);
                best.insert(group.clone(), candidate[&group]);
            }
        }
    };
    for _ in 0..rounds {
        for k in [3, 4, 5, 6, 8] {
            consider(&|p| Params { k, ..p }, &mut best);
        }
        for softening in [0.01, 0.05, 0.1, 0.3] {
            consider(&|p| Params { softening, ..p }, &mut best);
        }
        for w_brand in [0.25, 0.5, 1.0, 2.0] {
            consider(&|p| Params { w_brand, ..p }, &mut best);
        }
        for w_region in [0.0, 0.5, 1.0, 2.0] {
            consider(&|p| Params { w_region, ..p }, &mut best);
        }
        for w_name in [0.0, 0.5, 1.0, 2.0, 4.0] {
            consider(&|p| Params { w_name, ..p }, &mut best);
        }
        for i in 0..5 {
            for w in [0.0, 0.5, 1.0, 2.0, 4.0] {
                consider(
                    &|p| {
                        let mut weights = p.weights;
                        weights[i] = w;
                        Params { weights, ..p }
                    },
                    &mut best,
                );
            }
        }
    }
    set_of(&best)
}

fn all_products() -> Vec<&'static Product> {
    Catalogue::builtin()
        .products
        .iter()
        .filter(|p| p.total_kg > 0.0)
        .collect()
}

fn print_table(outcomes: &ByCategory) {
    println!("| category | products | median abs error | within ±5% | within ±20% | 90% range holds | median range width |");
    println!("|---|---|---|---|---|---|---|");
    let row = |name: &str, s: Summary| {
        println!(
            "| {name} | {} | {:.1}% | {:.1}% | {:.1}% | {:.1}% | ±{:.0}% |",
            s.n,
            s.median * 100.0,
            s.within_5 * 100.0,
            s.within_20 * 100.0,
            s.coverage * 100.0,
            s.width * 50.0
        )
    };
    let mut cats: Vec<_> = outcomes.iter().collect();
    cats.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    for (cat, v) in cats {
        row(cat, summarise(v));
    }
    row("**all**", summarise(outcomes.values().flatten()));
}

/// Every held-out estimate, for looking at the errors product by product:
/// `target/model_cv.csv` (id, category, published, estimate, error, covered).
fn write_outcomes(outcomes: &ByCategory) {
    let mut csv = String::from("id,category,published_kg,estimate_kg,error,covered\n");
    for (cat, v) in outcomes {
        for o in v {
            csv.push_str(&format!(
                "{},{cat},{},{:.2},{:.4},{}\n",
                o.id, o.published, o.estimate, o.error, o.covered
            ));
        }
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/model_cv.csv");
    std::fs::write(path, csv).expect("target/ is writable");
}

/// Nested cross-validation with the outer folds drawn by `salt`.
fn nested(products: &[&Product], salt: &str) -> ByCategory {
    let mut outcomes = ByCategory::new();
    for k in 0..OUTER_FOLDS {
        let (test, train): (Vec<&Product>, Vec<&Product>) = products
            .iter()
            .partition(|p| fold(salt, &p.id, OUTER_FOLDS) == k);
        let params = search(&train, 2, |p| leave_one_out(&train, p));
        evaluate(&train, &test, &params, &mut outcomes);
    }
    outcomes
}

/// The nested cross-validation repeated over other fold draws: how much of a change in the
/// README's figures is the draw rather than the model (run by hand when comparing models).
#[test]
#[ignore]
fn repeated_nested_cross_validation() {
    let products = all_products();
    let mut all = Vec::new();
    let mut per_category = Vec::new();
    for salt in ["", "a", "b", "c"] {
        let outcomes = nested(&products, salt);
        let s = summarise(outcomes.values().flatten());
        println!(
            "draw {salt:?}: median {:.2}% ±5% {:.1}% ±20% {:.1}% coverage {:.1}% width ±{:.1}%",
            s.median * 100.0,
            s.within_5 * 100.0,
            s.within_20 * 100.0,
            s.coverage * 100.0,
            s.width * 50.0
        );
        for (cat, v) in &outcomes {
            per_category.extend(v.iter().map(|o| (cat.clone(), o.clone())));
        }
        all.extend(outcomes.into_values().flatten());
    }
    let s = summarise(&all);
    println!(
        "all draws: median {:.2}% ±5% {:.1}% ±20% {:.1}% coverage {:.1}% width ±{:.1}%",
        s.median * 100.0,
        s.within_5 * 100.0,
        s.within_20 * 100.0,
        s.coverage * 100.0,
        s.width * 50.0
    );
    // Coverage by category with 30+ products, over all draws.
    let mut by_cat: BTreeMap<String, Vec<Outcome>> = BTreeMap::new();
    for (cat, o) in per_category {
        by_cat.entry(cat).or_default().push(o);
    }
    for (cat, v) in by_cat.iter().filter(|(_, v)| v.len() >= 4 * MIN_OWN_FIT) {
        let s = summarise(v);
        println!(
            "  {cat}: coverage {:.1}% width ±{:.1}%",
            s.coverage * 100.0,
            s.width * 50.0
        );
    }
}

/// The figures the README publishes: nested cross-validation (10 outer folds; on each outer
/// training set a two-round search scored by leave-one-out errors within that set picks the
/// hyperparameters, then the held-out fold goes through the engine).
#[test]
fn nested_cross_validation_meets_the_floors() {
    let outcomes = nested(&all_products(), "");
    print_table(&outcomes);
    write_outcomes(&outcomes);
    let model = Model::builtin();
    for cat in outcomes.keys() {
        if let Some(slopes) = model
            .component_slopes(cat)
            .filter(|s| s.iter().any(Option::is_some))
        {
            println!("{cat}: slopes (memory, SSD, HDD, CPUs) {slopes:?}");
        }
    }

    let all = summarise(outcomes.values().flatten());
    assert!(
        all.median <= MAX_MEDIAN_ERROR,
        "median error {:.3}",
        all.median
    );
    assert!(all.within_20 >= MIN_WITHIN_20, "±20% {:.3}", all.within_20);
    assert!(all.within_5 >= MIN_WITHIN_5, "±5% {:.3}", all.within_5);
    assert!(all.coverage >= MIN_COVERAGE, "coverage {:.3}", all.coverage);
    assert!(all.width <= MAX_MEDIAN_WIDTH, "width {:.3}", all.width);
    let servers = summarise(&outcomes["server"]);
    assert!(
        servers.median <= MAX_SERVER_MEDIAN_ERROR,
        "server median error {:.3}",
        servers.median
    );
    for (cat, v) in &outcomes {
        if v.len() >= MIN_OWN_FIT {
            let s = summarise(v);
            assert!(
                s.coverage >= MIN_COVERAGE,
                "{cat}: the 90% range holds {:.3} of published totals",
                s.coverage
            );
        }
    }
}

/// The full search on every product: what `Params::default()` should hold. Run by hand when
/// the data or the model change.
#[test]
#[ignore]
fn search_hyperparameters() {
    let products = all_products();
    let best = search(&products, 2, |p| {
        cross_validate(&products, p, OUTER_FOLDS, "")
    });
    println!("best: {best:#?}");
    print_table(&cross_validate(&products, &best, OUTER_FOLDS, ""));
}
