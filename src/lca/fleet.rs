//! Fleet analysis for reports: totals, breakdowns by stage, category and country, data
//! quality, hotspots, and levers quantified with the engine and the savings formula.

use crate::lca::uncertainty::{combine, DeviceRange, SHARED};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::input::{parse_device, DeviceInput};
use super::savings::{savings, SavingsInput, Scenario};
use super::{round2, Breakdown, Engine, Footprint, Source};
use crate::factors::FactorSet;
use crate::validation::FieldError;

/// One device of the fleet, computed.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceLine {
    pub index: usize,
    pub label: String,
    pub category: String,
    pub country: String,
    pub source: Source,
    pub total_kg: f64,
    pub breakdown: Breakdown,
    pub low_kg: f64,
    pub high_kg: f64,
    /// The confidence of the device's own range.
    pub confidence: f64,
}

/// A lever: what it changes and what it saves.
#[derive(Debug, Clone, Serialize)]
pub struct Lever {
    pub name: String,
    pub description: String,
    pub saving_kg: f64,
    pub share_of_total: f64,
}

/// The analysis of a fleet.
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    pub devices: Vec<DeviceLine>,
    /// Devices that could not be computed: (index, reason).
    pub skipped: Vec<(usize, String)>,
    pub total_kg: f64,
    pub low_kg: f64,
    pub high_kg: f64,
    pub stages: Breakdown,
    pub by_category: Vec<(String, usize, f64)>,
    pub by_country: Vec<(String, usize, f64)>,
    pub published_share: f64,
    pub levers: Vec<Lever>,
    pub factor_set_version: String,
}

fn label(f: &Footprint) -> String {
    match &f.product {
        Some(p) => [p.brand.as_deref(), p.name.as_deref()]
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join(" "),
        None => String::new(),
    }
}

fn sorted(map: BTreeMap<String, (usize, f64)>) -> Vec<(String, usize, f64)> {
    let mut v: Vec<_> = map
        .into_iter()
        .map(|(k, (n, kg))| (k, n, round2(kg)))
        .collect();
    v.sort_by(|a, b| b.2.total_cmp(&a.2));
    v
}

/// The grid the "move use to a lower-carbon grid" lever moves to.
pub const LOW_CARBON_GRID: &str = "SE";

/// One device of a fleet, parsed once: a footprint request that passed every check, or the
/// reasons it did not (the report lists it as skipped). This is what a report's job reads
/// back, serialised, so its devices are never validated twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Nearly every device is `Parsed`: boxing it would allocate per device for the rare
// `Invalid` one's sake.
#[allow(clippy::large_enum_variant)]
pub enum FleetDevice {
    Parsed(DeviceInput),
    Invalid(Vec<FieldError>),
}

/// Parse footprint request bodies into fleet devices, each named `devices[i]`.
pub fn parse_fleet(devices: &[Value], factors: &FactorSet) -> Vec<FleetDevice> {
    devices
        .iter()
        .enumerate()
        .map(
            |(i, d)| match parse_device(d, &format!("devices[{i}]"), factors) {
                Ok(input) => FleetDevice::Parsed(input),
                Err(errors) => FleetDevice::Invalid(errors),
            },
        )
        .collect()
}

/// Analyse a fleet of parsed devices.
pub fn analyse(engine: &Engine, devices: &[FleetDevice]) -> Fleet {
    let mut lines = Vec::new();
    let mut skipped = Vec::new();
    let mut inputs: Vec<(&DeviceInput, Footprint)> = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        let outcome = match d {
            FleetDevice::Parsed(input) => engine.footprint(input).map(|f| (input, f)),
            FleetDevice::Invalid(errors) => Err(errors.clone()),
        };
        match outcome {
            Ok((input, f)) => {
                let l = label(&f);
                lines.push(DeviceLine {
                    index: i,
                    label: if l.is_empty() {
                        format!("{} #{}", f.category, i + 1)
                    } else {
                        l
                    },
                    category: f.category.clone(),
                    country: f.text("country").unwrap_or_else(|| "WW".into()),
                    source: f.source,
                    total_kg: f.total_kg_co2e,
                    breakdown: f.breakdown,
                    low_kg: f.uncertainty.low_kg,
                    high_kg: f.uncertainty.high_kg,
                    confidence: f.uncertainty.confidence,
                });
                inputs.push((input, f));
            }
            Err(errors) => skipped.push((
                i,
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    }
    let mut stages = Breakdown::default();
    let mut by_cat: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    let mut by_country: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    let mut published = 0usize;
    for l in &lines {
        stages.production_kg += l.breakdown.production_kg;
        stages.transport_kg += l.breakdown.transport_kg;
        stages.use_kg += l.breakdown.use_kg;
        stages.end_of_life_kg += l.breakdown.end_of_life_kg;
        let c = by_cat.entry(l.category.clone()).or_default();
        c.0 += 1;
        c.1 += l.total_kg;
        let c = by_country.entry(l.country.clone()).or_default();
        c.0 += 1;
        c.1 += l.total_kg;
        if l.source == Source::ManufacturerPcf {
            published += 1;
        }
    }
    let total = stages.total();

    // Levers, each computed device by device with the engine and the savings formula.
    let (mut extend, mut greener, mut reuse) = (0.0, 0.0, 0.0);
    for (input, f) in &inputs {
        let life = f.number("lifetime_years").unwrap_or(4.0);
        let grid = f.grid_kg_per_kwh();
        // One more year of use: a year's share of a replacement's production is not spent.
        // The use phase is left out: the replacement would draw about as much power.
        extend += savings(
            &SavingsInput {
                device: (*input).clone(),
                scenario: Scenario::LifetimeExtension,
                extra_years: Some(1.0),
                displacement_rate: Some(1.0),
            },
            f.clone(),
            grid,
        )
        .avoided_kg_co2e;
        // Same use, on a low-carbon grid.
        let mut moved = (*input).clone();
        moved.usage.country = Some(LOW_CARBON_GRID.into());
        if moved.usage.yearly_kwh.is_none() {
            moved.usage.yearly_kwh = f.number("yearly_kwh");
        }
        if moved.usage.lifetime_years.is_none() {
            moved.usage.lifetime_years = Some(life);
        }
        if let Ok(m) = engine.footprint(&moved) {
            greener += (f.breakdown.use_kg - m.breakdown.use_kg).max(0.0);
        }
        // Reuse at end of life instead of replacing with new.
        reuse += savings(
            &SavingsInput {
                device: (*input).clone(),
                scenario: Scenario::Reuse,
                extra_years: None,
                displacement_rate: None,
            },
            f.clone(),
            grid,
        )
        .avoided_kg_co2e;
    }
    let share = |kg: f64| if total > 0.0 { kg / total } else { 0.0 };
    let mut levers = vec![
        Lever {
            name: "Extend lifetimes by one year".into(),
            description: "Keep every device one year longer: a year's share of a replacement's production is not spent (use phase assumed equal).".into(),
            saving_kg: round2(extend.max(0.0)),
            share_of_total: share(extend.max(0.0)),
        },
        Lever {
            name: format!("Use on a low-carbon grid ({LOW_CARBON_GRID})"),
            description: "Same devices, same energy, powered by a low-carbon grid (or a matching renewable supply).".into(),
            saving_kg: round2(greener),
            share_of_total: share(greener),
        },
        Lever {
            name: "Reuse instead of replace".into(),
            description: "Send devices to a second life (refurbished, resold) rather than recycling them: avoided emissions of the new devices displaced.".into(),
            saving_kg: round2(reuse.max(0.0)),
            share_of_total: share(reuse.max(0.0)),
        },
    ];
    levers.sort_by(|a, b| b.saving_kg.total_cmp(&a.saving_kg));
    // The fleet's range: independent device errors plus a shared methodology component
    // (`lca::uncertainty`), not the sum of the devices' ranges.
    let ranges: Vec<DeviceRange> = lines
        .iter()
        .map(|l| DeviceRange {
            total: l.total_kg,
            low: l.low_kg,
            high: l.high_kg,
            confidence: l.confidence,
        })
        .collect();
    let (_, low, high) = combine(&ranges, SHARED);
    Fleet {
        published_share: if lines.is_empty() {
            0.0
        } else {
            published as f64 / lines.len() as f64
        },
        devices: lines,
        skipped,
        total_kg: round2(total),
        low_kg: round2(low),
        high_kg: round2(high),
        stages: Breakdown {
            production_kg: round2(stages.production_kg),
            transport_kg: round2(stages.transport_kg),
            use_kg: round2(stages.use_kg),
            end_of_life_kg: round2(stages.end_of_life_kg),
        },
        by_category: sorted(by_cat),
        by_country: sorted(by_country),
        levers,
        factor_set_version: engine.factors.version.clone(),
    }
}

impl Fleet {
    /// The stage that dominates, and its share.
    pub fn dominant_stage(&self) -> (&'static str, f64) {
        let s = &self.stages;
        let stages = [
            ("production", s.production_kg),
            ("transport", s.transport_kg),
            ("use", s.use_kg),
            ("end of life", s.end_of_life_kg),
        ];
        let (name, kg) =
            stages.iter().copied().fold(
                ("production", f64::MIN),
                |a, b| if b.1 > a.1 { b } else { a },
            );
        (
            name,
            if self.total_kg > 0.0 {
                kg / self.total_kg
            } else {
                0.0
            },
        )
    }

    /// Devices by footprint, largest first.
    pub fn top(&self, n: usize) -> Vec<&DeviceLine> {
        let mut v: Vec<&DeviceLine> = self.devices.iter().collect();
        v.sort_by(|a, b| b.total_kg.total_cmp(&a.total_kg));
        v.truncate(n);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn totals_are_the_sum_of_the_devices_and_levers_are_ranked() {
        let engine = Engine::builtin();
        let devices = vec![
            json!({"product": {"id": "dell--latitude-5420"}}),
            json!({"category": "desktop", "use": {"country": "PL"}}),
            json!({"category": "toaster"}),
            json!({"category": "monitor", "use": {"country": "FR"}}),
        ];
        let f = analyse(&engine, &parse_fleet(&devices, engine.factors));
        assert_eq!(f.devices.len(), 3);
        assert_eq!(f.skipped.len(), 1);
        assert_eq!(f.skipped[0].0, 2);
        let sum: f64 = f.devices.iter().map(|d| d.total_kg).sum();
        assert!((f.total_kg - sum).abs() < 0.05, "{} vs {sum}", f.total_kg);
        assert!((f.published_share - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(f.by_category.iter().map(|c| c.1).sum::<usize>(), 3);
        assert!(f
            .levers
            .windows(2)
            .all(|w| w[0].saving_kg >= w[1].saving_kg));
        assert!(f.levers.iter().all(|l| l.saving_kg > 0.0), "{:?}", f.levers);
        // The Polish desktop's use phase moves most on a low-carbon grid.
        assert!(
            f.levers
                .iter()
                .find(|l| l.name.contains("grid"))
                .unwrap()
                .saving_kg
                > 50.0
        );
        assert!(f.low_kg <= f.total_kg && f.total_kg <= f.high_kg);
    }
}
