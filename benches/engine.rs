//! Engine throughput, natively, one core: `cargo bench --bench engine`.
//! Plain `Instant` loops (no criterion: nothing to download, and the figures we publish are
//! throughput, not nanosecond confidence intervals).

use std::hint::black_box;
use std::time::Instant;

use carbontrace::catalog::search::{Filter, SearchIndex};
use carbontrace::catalog::Catalogue;
use carbontrace::factors::FactorSet;
use carbontrace::lca::input::{parse_device, DeviceInput};
use carbontrace::lca::Engine;
use serde_json::json;

fn bench(name: &str, inputs: &[DeviceInput], engine: Engine) {
    // Warm up, then run for about a second.
    for i in inputs.iter().take(1000) {
        black_box(engine.footprint(i).ok());
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < 1.0 {
        for i in inputs {
            black_box(engine.footprint(black_box(i)).ok());
        }
        n += inputs.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<48} {:>12.0} footprints/s  ({:.2} µs each)",
        n as f64 / secs,
        secs * 1e6 / n as f64
    );
}

/// What an isolate does at start (`#[event(start)]` → `edge::state::warm`), timed once, first
/// thing in the process: parse the factor set and catalogue, fit the model, build the search
/// index and the Reference bodies. The wasm build runs the same code, somewhat slower.
fn cold_start() {
    use carbontrace::factors::reference::ReferenceBodies;
    use carbontrace::lca::model::Model;
    let t = Instant::now();
    let factors = FactorSet::builtin();
    let t_factors = t.elapsed();
    let _ = Catalogue::builtin();
    let t_catalogue = t.elapsed();
    let _ = Model::builtin();
    let t_model = t.elapsed();
    let _ = SearchIndex::builtin();
    let t_index = t.elapsed();
    let _ = black_box(ReferenceBodies::build(factors));
    let total = t.elapsed();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "isolate start (native): {:.1} ms = factor set {:.1} + catalogue {:.1} + model {:.1} + search index {:.1} + Reference bodies {:.1}",
        ms(total),
        ms(t_factors),
        ms(t_catalogue - t_factors),
        ms(t_model - t_catalogue),
        ms(t_index - t_model),
        ms(total - t_index)
    );
}

fn main() {
    cold_start();
    let engine = Engine::builtin();
    let factors = FactorSet::builtin();
    let catalogue = Catalogue::builtin();
    let parse = |v: serde_json::Value| parse_device(&v, "", factors).unwrap();

    let by_id: Vec<DeviceInput> = catalogue
        .products
        .iter()
        .map(|p| parse(json!({"product": {"id": p.id}})))
        .collect();
    bench("catalogue product, published assumptions", &by_id, engine);

    let recomputed: Vec<DeviceInput> = catalogue
        .products
        .iter()
        .map(|p| {
            parse(json!({"product": {"id": p.id}, "use": {"country": "FR", "lifetime_years": 6}}))
        })
        .collect();
    bench(
        "catalogue product, use phase recomputed",
        &recomputed,
        engine,
    );

    let model: Vec<DeviceInput> = catalogue
        .products
        .iter()
        .filter(|p| p.category != "printer")
        .map(|p| {
            parse(json!({"category": p.category, "product": {"brand": p.brand},
                "specs": {"screen_size_in": p.screen_size_in, "weight_kg": p.weight_kg},
                "use": {"country": "DE", "yearly_kwh": p.yearly_kwh, "lifetime_years": p.lifetime_years}}))
        })
        .collect();
    bench("model estimate (k-NN over the category)", &model, engine);

    let start = Instant::now();
    let mut n = 0;
    while start.elapsed().as_secs_f64() < 1.0 {
        for p in catalogue.products.iter().take(200) {
            let v = json!({"category": p.category, "use": {"country": "US", "lifetime_years": 4}});
            black_box(parse_device(&v, "", factors).ok());
            n += 1;
        }
    }
    println!(
        "{:<48} {:>12.0} parses/s",
        "request validation (parse_device)",
        n as f64 / start.elapsed().as_secs_f64()
    );

    // Search: every catalogue name as a query (lower case, and with a typo), latency percentiles.
    let idx = SearchIndex::builtin();
    let mut queries: Vec<String> = catalogue
        .products
        .iter()
        .map(|p| format!("{} {}", p.brand, p.name).to_lowercase())
        .collect();
    queries.extend(
        catalogue
            .products
            .iter()
            .map(|p| p.name.replacen('a', "", 1)),
    );
    queries.extend(
        [
            "latitude 5420",
            "LAT5420",
            "optiplx 7090",
            "thinkpad x1 carbon",
        ]
        .map(String::from),
    );
    let mut lat = Vec::with_capacity(queries.len());
    for q in &queries {
        let t = Instant::now();
        black_box(idx.search(catalogue, black_box(q), &Filter::default(), 10));
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize];
    println!(
        "{:<48} p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs over {} queries",
        "product search (native)",
        pct(0.5),
        pct(0.99),
        lat[lat.len() - 1],
        lat.len()
    );

    inventory_year();
}

/// A reporting year of a 10,000- and a 100,000-asset fleet (the sandbox's twelve assets, with
/// their dates spread over three years): the accounting alone, without storage.
fn inventory_year() {
    use carbontrace::inventory::ghg::{inventory, Asset, Period, Settings, View};
    use carbontrace::inventory::sandbox;
    let base: Vec<Asset> = sandbox::assets()
        .iter()
        .map(|(id, a, p)| {
            carbontrace::store::inventory::Row::of(id, a, p, sandbox::WRITTEN_AT)
                .accounting()
                .expect("a fixture asset is accounted for")
        })
        .collect();
    for n in [10_000usize, 100_000] {
        let fleet: Vec<Asset> = (0..n)
            .map(|i| {
                let mut a = base[i % base.len()].clone();
                a.id = format!("ast_{i:06}");
                a.purchase_date += (i % 1000) as i64;
                a
            })
            .collect();
        let settings = Settings::default();
        let t = Instant::now();
        let runs = if n > 10_000 { 3 } else { 20 };
        for _ in 0..runs {
            black_box(inventory(
                &fleet,
                &Period::year(2024, 1),
                View::Ghg,
                &settings,
            ));
        }
        println!(
            "{:<48} {:>9.2} ms a year",
            format!("inventory of {n} assets (accounting only)"),
            t.elapsed().as_secs_f64() * 1000.0 / runs as f64
        );
    }
}
