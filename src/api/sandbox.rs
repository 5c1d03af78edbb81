//! Sandbox (`ct_test_` keys): deterministic answers from `fixtures/sandbox/`, no calculation,
//! nothing stored. Requests are still validated, so integrators can test their error paths.

use serde_json::Value;
use std::sync::OnceLock;

const FOOTPRINT: &str = include_str!("../../fixtures/sandbox/footprint.json");
const SAVINGS: &str = include_str!("../../fixtures/sandbox/savings.json");
const IDENTIFY: &str = include_str!("../../fixtures/sandbox/identify.json");
const SEARCH: &str = include_str!("../../fixtures/sandbox/search.json");

fn parsed(cell: &'static OnceLock<Value>, text: &str) -> &'static Value {
    cell.get_or_init(|| serde_json::from_str(text).expect("sandbox fixtures are valid JSON"))
}

pub fn footprint() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    parsed(&V, FOOTPRINT)
}

/// The savings fixture, for the scenario asked.
pub fn savings(scenario: &str) -> Value {
    static V: OnceLock<Value> = OnceLock::new();
    let mut v = parsed(&V, SAVINGS).clone();
    v["scenario"] = Value::String(scenario.to_string());
    v["new_device"] = footprint().clone();
    v
}

pub fn identify() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    parsed(&V, IDENTIFY)
}

pub fn search() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    parsed(&V, SEARCH)
}

/// The fixed fleet inventory (`inventory::sandbox`) as rows, read exactly like stored ones.
pub fn inventory_rows() -> &'static [crate::store::inventory::Row] {
    use crate::inventory::sandbox::{assets, WRITTEN_AT};
    static ROWS: OnceLock<Vec<crate::store::inventory::Row>> = OnceLock::new();
    ROWS.get_or_init(|| {
        assets()
            .iter()
            .map(|(id, a, p)| crate::store::inventory::Row::of(id, a, p, WRITTEN_AT))
            .collect()
    })
}

/// A body marked as the sandbox's (`"_sandbox": true`).
pub fn mark(mut v: Value) -> Value {
    if let Value::Object(o) = &mut v {
        o.insert("_sandbox".into(), Value::Bool(true));
    }
    v
}
