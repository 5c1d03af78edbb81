//! The same numbers in wasm as natively. [`figures`] computes what the API's figures and
//! proofs come from: the engine over the whole catalogue, the model's estimates for a fixed
//! set of devices, a fleet's range, canonical JSON (RFC 8785), Ed25519 signatures, the ZIP
//! writer and both PDF writers (as SHA-256 of their bytes).
//!
//! Natively (`cargo test --test wasm_numbers`, part of `cargo test`) they are written to
//! `target/figures-native.json`. Compiled to wasm32 and run on Node by `wasm-bindgen-test`
//! (scripts/test.sh: `cargo test --target wasm32-unknown-unknown --test wasm_numbers`), the
//! test computes them again in wasm and compares with that file, included at build time:
//! the first difference is reported by its path (`catalogue.dell--latitude-5420.total`).

use carbontrace::catalog::Catalogue;
use carbontrace::certs::jcs::canonicalize;
use carbontrace::certs::signing::{verify, KeyPair};
use carbontrace::export::zip;
use carbontrace::lca::fleet::{analyse, parse_fleet};
use carbontrace::lca::input::parse_device;
use carbontrace::lca::Engine;
use carbontrace::pdf;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Devices the model answers (no catalogue product): every spec and use input exercised.
fn model_devices() -> Vec<Value> {
    let mut out = Vec::new();
    for cat in [
        "laptop",
        "desktop",
        "monitor",
        "server",
        "smartphone",
        "tablet",
        "thin_client",
        "printer",
    ] {
        out.push(json!({ "category": cat }));
        out.push(json!({ "category": cat, "product": { "brand": "Dell", "model": "Latitude 5430" },
            "specs": { "screen_size_in": 14, "weight_kg": 1.4, "release_year": 2022, "memory_gb": 32, "ssd_gb": 512 },
            "use": { "country": "FR", "lifetime_years": 5 } }));
        out.push(json!({ "category": cat, "product": { "brand": "Lenovo" },
            "specs": { "memory_gb": 64, "hdd_gb": 2000, "cpu_count": 2 },
            "use": { "country": "EU", "yearly_kwh": 120 } }));
    }
    out
}

fn figures() -> Value {
    let engine = Engine::builtin();
    let factors = engine.factors;

    let mut catalogue = Map::new();
    for p in &Catalogue::builtin().products {
        let input = parse_device(&json!({ "product": { "id": p.id } }), "", factors).unwrap();
        let f = engine.footprint(&input).unwrap();
        catalogue.insert(
            p.id.clone(),
            json!([
                f.total_kg_co2e,
                f.breakdown,
                f.uncertainty.low_kg,
                f.uncertainty.high_kg
            ]),
        );
    }
    let devices = model_devices();
    let model: Vec<Value> = devices
        .iter()
        .map(|d| {
            let input = parse_device(d, "", factors).unwrap();
            serde_json::to_value(engine.footprint(&input).unwrap()).unwrap()
        })
        .collect();
    let fleet = analyse(&engine, &parse_fleet(&devices, factors));

    let sample = json!({ "b": [1e21, 0.1, -0.0, 1.5e-7, 123456789012345680.0], "a": "é\u{1F600}\n\"", "c": { "z": null, "y": true } });
    let key = KeyPair::parse("t1:9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        .unwrap();
    let message = canonicalize(&sample);
    let signature = key.sign(message.as_bytes());
    assert!(verify(&key.public_x(), message.as_bytes(), &signature));

    let archive = zip::store(&[
        ("a.json".to_string(), br#"{"x":1}"#.to_vec()),
        ("dir/b.csv".to_string(), b"id,kg\n1,2.5\n".repeat(1000)),
    ]);
    let doc = json!({ "certificate_id": "cert_0000000000000001", "kind": "footprint",
        "result": model[1], "issued_at": "2026-11-30T00:00:00Z" });
    let canonical = canonicalize(&doc);
    let certificate = pdf::certificate::render(
        &canonical,
        &doc,
        &sha256(canonical.as_bytes()),
        &key.sign(canonical.as_bytes()),
        "t1",
        "https://carbontrace.cloud/api/v1/certificates/cert_0000000000000001/verify",
    );
    let report = pdf::report::render(
        &pdf::report::ReportMeta {
            id: "rep_1",
            kind: "sustainability",
            title: "Fleet",
            org: "Acme",
            generated_at: "2026-11-30T00:00:00Z",
            period: Some("2026"),
            methodology_version: carbontrace::version::METHODOLOGY_VERSION,
        },
        &fleet,
    );

    json!({
        "catalogue": catalogue,
        "model": model,
        "fleet": { "total": fleet.total_kg, "low": fleet.low_kg, "high": fleet.high_kg, "devices": fleet.devices.len() },
        "jcs": message,
        "ed25519": { "public": key.public_x(), "signature": signature },
        "zip": sha256(&archive),
        "pdf_certificate": sha256(&certificate),
        "pdf_report": sha256(&report),
    })
}

/// The first path where two figure documents differ.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (u, v) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if let Some(d) = first_difference(u, v, &format!("{path}.{k}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn native_figures_are_written_for_the_wasm_run() {
    let f = figures();
    // Deterministic first: the wasm comparison means nothing otherwise.
    assert_eq!(first_difference(&f, &figures(), "figures"), None);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/figures-native.json");
    std::fs::write(path, serde_json::to_string_pretty(&f).unwrap()).unwrap();
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn wasm_computes_the_native_figures() {
    let native: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/figures-native.json"
    )))
    .expect("run the native tests first (cargo test --test wasm_numbers)");
    let wasm = figures();
    assert_eq!(
        first_difference(&native, &wasm, "figures"),
        None,
        "native vs wasm"
    );
    assert!(native["catalogue"].as_object().unwrap().len() > 900);
}
