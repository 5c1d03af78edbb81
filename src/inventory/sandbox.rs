//! The sandbox's fixed fleet inventory (`fixtures/sandbox/inventory.json`): what test keys see
//! in `/assets`, `/inventory` and what their imports are compared with. Twelve assets over
//! 2023–2025, owned and leased, retired with each end of life, five countries, a catalogue
//! product and modelled ones. Pinned once per isolate with the compiled-in factor set, so
//! every answer is the same everywhere; nothing of it is stored.

use std::sync::OnceLock;

use super::asset::{parse, pin, AssetInput, Pinned};
use crate::lca::Engine;

const FIXTURE: &str = include_str!("../../fixtures/sandbox/inventory.json");

/// When the fixture's assets were "written".
pub const WRITTEN_AT: &str = "2026-01-01T00:00:00Z";

/// A fixture asset: its id, as sent, and its pinned footprint.
pub type FixtureAsset = (String, AssetInput, Pinned);

/// The fixture inventory, in its file's order (ids `ast_sandbox_01` …).
pub fn assets() -> &'static [FixtureAsset] {
    static ASSETS: OnceLock<Vec<FixtureAsset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let engine = Engine::builtin();
        let bodies: Vec<serde_json::Value> =
            serde_json::from_str(FIXTURE).expect("the sandbox inventory is valid JSON");
        bodies
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let input = parse(b, engine.factors).expect("a sandbox asset is valid");
                let pinned = pin(&engine, &input).expect("a sandbox asset can be pinned");
                (format!("ast_sandbox_{:02}", i + 1), input, pinned)
            })
            .collect()
    })
}

/// The fixture's assets with these serials, as sent (what a sandbox import is compared with).
pub fn by_serial(serials: &[&str]) -> std::collections::HashMap<String, AssetInput> {
    assets()
        .iter()
        .filter(|(_, a, _)| serials.contains(&a.serial.as_str()))
        .map(|(_, a, _)| (a.serial.clone(), a.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::asset::{EndOfLife, Ownership};

    #[test]
    fn the_fixture_is_a_varied_valid_fleet() {
        let a = assets();
        assert_eq!(a.len(), 12);
        let serials: std::collections::HashSet<_> = a.iter().map(|(_, i, _)| &i.serial).collect();
        assert_eq!(serials.len(), 12, "serials are unique");
        assert!(a
            .iter()
            .any(|(_, i, _)| matches!(i.ownership, Ownership::Leased { .. })));
        for eol in [EndOfLife::Reuse, EndOfLife::Recycle, EndOfLife::Landfill] {
            assert!(a
                .iter()
                .any(|(_, i, _)| i.retired_date.is_some() && i.end_of_life == eol));
        }
        assert!(
            a.iter().any(|(_, _, p)| p.source.primary()),
            "a catalogue PCF"
        );
        assert!(
            a.iter().any(|(_, _, p)| !p.source.primary()),
            "a modelled one"
        );
    }
}
