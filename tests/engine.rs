//! Native tests of the lifecycle engine over the whole built-in catalogue.

use carbontrace::catalog::Catalogue;
use carbontrace::factors::FactorSet;
use carbontrace::lca::input::{parse_device, DeviceInput, ProductRef, UseInput};
use carbontrace::lca::{Engine, Provenance, Source, Value};
use serde_json::json;

fn by_id(id: &str) -> DeviceInput {
    DeviceInput {
        product: Some(ProductRef {
            id: Some(id.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn assumption(f: &carbontrace::lca::Footprint, name: &str) -> Option<(f64, Provenance)> {
    f.assumptions
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| match a.value {
            Value::Number(n) => Some((n, a.source)),
            Value::Text(_) => None,
        })
}

#[test]
fn every_catalogue_product_is_within_5_percent_of_its_published_total() {
    let engine = Engine::builtin();
    let mut worst = (0.0f64, String::new());
    for p in &Catalogue::builtin().products {
        // Implicit published assumptions, then the same stated explicitly.
        let implicit = engine.footprint(&by_id(&p.id)).expect("catalogue product");
        let mut explicit_in = by_id(&p.id);
        explicit_in.usage = UseInput {
            country: p.use_location.clone(),
            lifetime_years: p.lifetime_years,
            yearly_kwh: p.yearly_kwh,
            ..Default::default()
        };
        let explicit = engine.footprint(&explicit_in).unwrap();
        for f in [&implicit, &explicit] {
            assert_eq!(f.source, Source::ManufacturerPcf);
            let err = (f.total_kg_co2e - p.total_kg).abs() / p.total_kg;
            if err > worst.0 {
                worst = (err, p.id.clone());
            }
            assert!(
                err <= 0.05,
                "{}: {} vs published {}",
                p.id,
                f.total_kg_co2e,
                p.total_kg
            );
        }
    }
    println!(
        "worst catalogue deviation: {:.4}% ({})",
        worst.0 * 100.0,
        worst.1
    );
}

#[test]
fn stages_add_up_to_the_total() {
    let engine = Engine::builtin();
    for p in Catalogue::builtin().products.iter().step_by(7) {
        let f = engine.footprint(&by_id(&p.id)).unwrap();
        let b = f.breakdown;
        let sum = b.production_kg + b.transport_kg + b.use_kg + b.end_of_life_kg;
        assert!(
            (sum - f.total_kg_co2e).abs() < 0.03,
            "{}: {sum} vs {}",
            p.id,
            f.total_kg_co2e
        );
        assert!(b.production_kg > 0.0 && b.use_kg >= 0.0 && b.transport_kg >= 0.0);
        assert!(
            f.uncertainty.low_kg <= f.total_kg_co2e && f.total_kg_co2e <= f.uncertainty.high_kg
        );
    }
}

#[test]
fn changing_country_or_lifetime_recomputes_only_the_use_phase_with_our_grid() {
    let engine = Engine::builtin();
    let factors = FactorSet::builtin();
    // A Dell product publishing its yearly kWh.
    let p = Catalogue::builtin()
        .products
        .iter()
        .find(|p| {
            p.brand == "Dell"
                && p.category == "laptop"
                && p.yearly_kwh.is_some()
                && p.share_use.is_some()
        })
        .unwrap();
    let base = engine.footprint(&by_id(&p.id)).unwrap();
    let mut fr = by_id(&p.id);
    fr.usage.country = Some("FR".into());
    fr.usage.lifetime_years = Some(6.0);
    let f = engine.footprint(&fr).unwrap();
    assert_eq!(f.breakdown.production_kg, base.breakdown.production_kg);
    assert_eq!(f.breakdown.transport_kg, base.breakdown.transport_kg);
    let expected = p.yearly_kwh.unwrap() * 6.0 * factors.grid("FR").unwrap().kg_per_kwh();
    assert!(
        (f.breakdown.use_kg - expected).abs() < 0.01,
        "{} vs {expected}",
        f.breakdown.use_kg
    );
    assert_eq!(
        assumption(&f, "grid_intensity").unwrap().1,
        Provenance::FactorSet
    );
    assert_eq!(
        assumption(&f, "lifetime_years").unwrap(),
        (6.0, Provenance::Provided)
    );
    // A coal-heavy grid costs more than a nuclear one.
    let mut pl = fr.clone();
    pl.usage.country = Some("PL".into());
    assert!(engine.footprint(&pl).unwrap().breakdown.use_kg > f.breakdown.use_kg * 5.0);
    // Doubling lifetime doubles the use phase.
    let mut fr12 = fr.clone();
    fr12.usage.lifetime_years = Some(12.0);
    let f12 = engine.footprint(&fr12).unwrap();
    assert!((f12.breakdown.use_kg - 2.0 * f.breakdown.use_kg).abs() < 0.02);
}

#[test]
fn a_category_alone_uses_and_reports_defaults() {
    let engine = Engine::builtin();
    let factors = FactorSet::builtin();
    for cat in factors.category_ids() {
        let input = parse_device(&json!({ "category": cat }), "", factors).unwrap();
        let f = engine.footprint(&input).unwrap();
        assert_eq!(f.source, Source::Model, "{cat}");
        assert!(f.total_kg_co2e > 0.0, "{cat}");
        assert!(
            f.defaulted.contains(&"use.country"),
            "{cat}: {:?}",
            f.defaulted
        );
        assert!(f.defaulted.contains(&"use.lifetime_years"));
        assert!(f.defaulted.contains(&"use.yearly_kwh"));
        let life = assumption(&f, "lifetime_years").unwrap();
        assert_eq!(
            life,
            (
                factors.category(cat).unwrap().lifetime_years,
                Provenance::CategoryDefault
            )
        );
        assert_eq!(f.methodology.factor_set_version, factors.version);
    }
}

#[test]
fn model_use_phase_is_kwh_times_lifetime_times_grid() {
    let engine = Engine::builtin();
    let factors = FactorSet::builtin();
    let input = parse_device(
        &json!({"category": "desktop", "use": {"country": "DE", "lifetime_years": 5, "average_power_w": 20, "hours_per_year": 2000}}),
        "",
        factors,
    )
    .unwrap();
    let f = engine.footprint(&input).unwrap();
    let g = factors.grid("DE").unwrap().kg_per_kwh();
    assert!((f.breakdown.use_kg - 40.0 * 5.0 * g).abs() < 0.01);
    assert_eq!(
        assumption(&f, "yearly_kwh").unwrap(),
        (40.0, Provenance::Derived)
    );
    assert!(f.defaulted.is_empty() || !f.defaulted.contains(&"use.yearly_kwh"));
    // Bigger screens cost more to make.
    let small = parse_device(
        &json!({"category": "monitor", "specs": {"screen_size_in": 19}}),
        "",
        factors,
    )
    .unwrap();
    let big = parse_device(
        &json!({"category": "monitor", "specs": {"screen_size_in": 34}}),
        "",
        factors,
    )
    .unwrap();
    assert!(
        engine.footprint(&big).unwrap().breakdown.production_kg
            > engine.footprint(&small).unwrap().breakdown.production_kg
    );
}

/// Without a yearly energy the use phase comes from the nearest PCFs' use per year, so a
/// longer life uses more (their use share of the total would give both lives the same). The
/// two lives find somewhat different neighbours (lifetime is also a distance feature), so the
/// use per year may differ a little.
#[test]
fn without_yearly_energy_the_use_phase_follows_the_lifetime_given() {
    let engine = Engine::builtin();
    let factors = FactorSet::builtin();
    let laptop = |years: f64| {
        let input = parse_device(
            &json!({"category": "laptop", "product": {"brand": "Lenovo", "model": "ThinkPad T14"},
                "specs": {"screen_size_in": 14, "weight_kg": 1.5, "release_year": 2020},
                "use": {"country": "US", "lifetime_years": years}}),
            "",
            factors,
        )
        .unwrap();
        engine.footprint(&input).unwrap()
    };
    let (short, long) = (laptop(3.0), laptop(5.0));
    assert!(short.defaulted.contains(&"use.yearly_kwh"));
    let (per_year_short, per_year_long) =
        (short.breakdown.use_kg / 3.0, long.breakdown.use_kg / 5.0);
    assert!(
        long.breakdown.use_kg > 1.2 * short.breakdown.use_kg,
        "3 years {} kg, 5 years {} kg",
        short.breakdown.use_kg,
        long.breakdown.use_kg
    );
    assert!(
        (per_year_long / per_year_short - 1.0).abs() < 0.3,
        "per year: {per_year_short} vs {per_year_long}"
    );
    let note = short
        .assumptions
        .iter()
        .find(|a| a.name == "yearly_kwh")
        .and_then(|a| a.note.clone())
        .unwrap_or_default();
    assert!(note.contains("per year"), "{note}");
}

#[test]
fn unknown_or_ambiguous_products_name_the_field() {
    let engine = Engine::builtin();
    let e = engine.footprint(&by_id("nope--nothing")).unwrap_err();
    assert_eq!(e[0].field, "product.id");
    let mut named = DeviceInput {
        product: Some(ProductRef {
            brand: Some("Acme".into()),
            model: Some("Rocket 1".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        engine.footprint(&named).unwrap_err()[0].field,
        "product.model"
    );
    // With a category, an unknown product is estimated by the model.
    named.category = Some("laptop".into());
    assert_eq!(engine.footprint(&named).unwrap().source, Source::Model);
}

/// Every spec the API accepts counts or says it doesn't: for a typical device of each
/// category, each spec at two values either moves the total or is listed in `ignored` with a
/// reason (the same body through the API in tests/e2e/footprint.test.mjs).
#[test]
fn every_spec_changes_the_total_or_is_listed_as_ignored() {
    let engine = Engine::builtin();
    let factors = FactorSet::builtin();
    // Two plausible values of each spec for the category (a 2.4 kg phone is not a phone).
    let specs = |cat: &str| -> [(&'static str, f64, f64); 7] {
        let (screen, weight, memory, ssd) = match cat {
            "smartphone" => ((6.1, 6.7), (0.17, 0.22), (4.0, 8.0), (128.0, 512.0)),
            "tablet" => ((10.2, 12.9), (0.45, 0.7), (4.0, 8.0), (64.0, 256.0)),
            "monitor" => ((23.8, 27.0), (4.5, 6.5), (8.0, 16.0), (256.0, 512.0)),
            "server" => ((15.6, 17.3), (18.0, 30.0), (32.0, 256.0), (480.0, 1920.0)),
            "desktop" => ((23.8, 27.0), (5.0, 8.0), (8.0, 32.0), (256.0, 1024.0)),
            "printer" => ((4.3, 7.0), (12.0, 20.0), (1.0, 2.0), (0.0, 32.0)),
            _ => ((13.3, 15.6), (1.3, 2.0), (8.0, 32.0), (256.0, 1024.0)),
        };
        [
            ("screen_size_in", screen.0, screen.1),
            ("weight_kg", weight.0, weight.1),
            ("release_year", 2019.0, 2022.0),
            ("memory_gb", memory.0, memory.1),
            ("ssd_gb", ssd.0, ssd.1),
            ("hdd_gb", 0.0, 2000.0),
            ("cpu_count", 1.0, 2.0),
        ]
    };
    let mut counted = 0;
    for cat in [
        "laptop",
        "desktop",
        "monitor",
        "server",
        "smartphone",
        "tablet",
        "printer",
    ] {
        for (field, a, b) in specs(cat) {
            let body = |v: f64| json!({"category": cat, "product": {"brand": "Dell"}, "specs": {field: v}});
            let run = |v: f64| {
                let input = parse_device(&body(v), "", factors).expect("valid");
                engine.footprint(&input).expect("model answers")
            };
            let (fa, fb) = (run(a), run(b));
            let path = format!("specs.{field}");
            let ignored = fb.ignored.iter().find(|i| i.field == path);
            if (fa.total_kg_co2e - fb.total_kg_co2e).abs() < 1e-9 {
                let why = ignored.unwrap_or_else(|| {
                    panic!(
                        "{cat}: {field} {a} → {b} leaves {} and is not listed as ignored",
                        fa.total_kg_co2e
                    )
                });
                assert!(!why.reason.is_empty());
            } else {
                counted += 1;
            }
            assert_eq!(
                fa.ignored.iter().any(|i| i.field == path),
                ignored.is_some(),
                "{cat}: {field} ignored at one value only"
            );
        }
    }
    // Memory, storage and CPU count move servers; screen and year move laptops.
    assert!(counted >= 12, "only {counted} spec changes moved a total");
}
