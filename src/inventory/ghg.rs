//! The inventory of a reporting year: each asset's pinned footprint allocated to GHG Protocol
//! scopes and Scope 3 categories by the rules below ([`RULES`], also answered with every
//! inventory), with 90% ranges and the ESRS E1-6 primary-data share. Pure: the assets, the
//! organisation's settings and the period come in; the figures go out.
//!
//! Sources: GHG Protocol Corporate Standard and Scope 2 Guidance (dual reporting); Corporate
//! Value Chain (Scope 3) Standard and its Technical Guidance, categories 1, 2, 5 and 8; ESRS E1
//! (Delegated Regulation (EU) 2023/2772), E1-6 §44–§55 and AR 39–55; ISO 14064-1:2018 for the
//! amortised (management) view.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::asset::{EndOfLife, Ownership, Pinned};
use crate::lca::round2;
use crate::lca::uncertainty::{combine, DeviceRange, SHARED};
use crate::validation::{civil_date, civil_from_days, days_from_civil};

/// The accounting rules, as every inventory states them.
pub const RULES: &str = "GHG view (GHG Protocol): the embodied footprint (production and transport) of an owned asset falls entirely in its purchase year, in Scope 3 Category 2 (capital goods) when capitalised and Category 1 (purchased goods) otherwise; without a capitalisation threshold every owned asset is Category 2, and an asset without a purchase cost is treated as capitalised. Use-phase electricity of every asset in service (owned or leased: operational control) is Scope 2, yearly use x days in service in the period / days in the period; location-based with the country's grid factor, market-based with the organisation's contractual factor for the country, equal to location-based where none is set. The end of life of an owned asset retired in the period is Scope 3 Category 5, except reuse (the device is not waste). A leased asset has no Category 1 or 2: its embodied footprint is spread over the lease term by days, in Category 8 (optional in the Standard). Amortised view (ISO 14064-1 style management accounting): an owned asset's embodied footprint is spread linearly by days over its expected lifetime from purchase; what remains when it is retired early falls in the retirement period; Scope 2, Category 5 and Category 8 as in the GHG view. Over an asset's whole life both views sum to the same total. Each figure's 90% range combines the assets' ranges with a shared methodology component (errors of one model are correlated), not a naive sum. Primary data share (ESRS E1-6): the share of the Scope 3 total from assets whose embodied figure is a manufacturer's or supplier's PCF. Avoided emissions from reuse are reported beside the inventory, never subtracted from it.";

/// How embodied emissions are allocated to periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    Ghg,
    Amortised,
}

impl View {
    pub fn parse(s: &str) -> Option<View> {
        match s {
            "ghg" => Some(View::Ghg),
            "amortised" | "amortized" => Some(View::Amortised),
            _ => None,
        }
    }
}

/// An organisation's accounting settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// First month of the reporting year (1: the calendar year).
    pub fiscal_year_start_month: u32,
    /// Purchases at or above it (in their own currency) are capitalised (Category 2); below it,
    /// expensed (Category 1). `None`: every owned asset is capitalised.
    pub capitalisation_threshold: Option<f64>,
    /// Market-based factors (kg CO2e per kWh) by grid code.
    pub market_factors: BTreeMap<String, f64>,
}

impl Settings {
    /// Validate `{"fiscal_year_start_month", "capitalisation_threshold", "market_factors"}`
    /// (market factors in kg CO2e per kWh by grid code, checked with `known_grid`).
    pub fn parse(
        body: &serde_json::Value,
        known_grid: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, Vec<crate::validation::FieldError>> {
        use crate::validation::{unknown_fields, FieldError};
        use serde_json::Value;
        let Value::Object(o) = body else {
            return Err(vec![FieldError::new("body", "must be a JSON object")]);
        };
        let mut errors = unknown_fields(
            o,
            &[
                "fiscal_year_start_month",
                "capitalisation_threshold",
                "market_factors",
            ],
            "",
        );
        let month = match o.get("fiscal_year_start_month") {
            None | Some(Value::Null) => 1,
            // A JSON number: `4.0` is as whole as `4`.
            Some(v) => match v
                .as_f64()
                .filter(|m| m.fract() == 0.0 && (1.0..=12.0).contains(m))
            {
                Some(m) => m as u32,
                None => {
                    errors.push(FieldError::new(
                        "fiscal_year_start_month",
                        "a month, 1 to 12",
                    ));
                    1
                }
            },
        };
        let threshold = match o.get("capitalisation_threshold") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_f64().filter(|t| t.is_finite() && *t >= 0.0) {
                Some(t) => Some(t),
                None => {
                    errors.push(FieldError::new(
                        "capitalisation_threshold",
                        "a non-negative number",
                    ));
                    None
                }
            },
        };
        let mut market_factors = BTreeMap::new();
        match o.get("market_factors") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) if m.len() <= 300 => {
                for (code, v) in m {
                    let field = format!("market_factors.{code}");
                    match (
                        known_grid(code),
                        v.as_f64()
                            .filter(|f| f.is_finite() && (0.0..=2.0).contains(f)),
                    ) {
                        (Some(c), Some(f)) => {
                            market_factors.insert(c, f);
                        }
                        (None, _) => {
                            errors.push(FieldError::new(field, "an unknown country or region"))
                        }
                        (_, None) => errors.push(FieldError::new(field, "kg CO2e per kWh, 0 to 2")),
                    }
                }
            }
            Some(_) => errors.push(FieldError::new(
                "market_factors",
                "an object of at most 300 grid codes to kg CO2e per kWh",
            )),
        }
        if errors.is_empty() {
            Ok(Settings {
                fiscal_year_start_month: month,
                capitalisation_threshold: threshold,
                market_factors,
            })
        } else {
            Err(errors)
        }
    }
}

/// A reporting period: days since 1970-01-01, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub year: i64,
    pub start: i64,
    pub end: i64,
}

impl Period {
    /// Reporting year `year`, starting on the first day of `start_month` (named by the year it
    /// starts in).
    pub fn year(year: i64, start_month: u32) -> Period {
        let m = i64::from(start_month.clamp(1, 12));
        Period {
            year,
            start: days_from_civil(year, m, 1),
            end: days_from_civil(year + 1, m, 1),
        }
    }

    /// The reporting year a day falls in.
    pub fn containing(day: i64, start_month: u32) -> Period {
        let (y, m, _) = civil_from_days(day);
        let year = if m >= i64::from(start_month.clamp(1, 12)) {
            y
        } else {
            y - 1
        };
        Period::year(year, start_month)
    }

    pub fn days(&self) -> i64 {
        self.end - self.start
    }

    pub fn contains(&self, day: i64) -> bool {
        (self.start..self.end).contains(&day)
    }

    /// Days of `[from, to)` inside the period.
    pub fn overlap(&self, from: i64, to: i64) -> i64 {
        (to.min(self.end) - from.max(self.start)).max(0)
    }
}

/// A stored asset as the accounting reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub id: String,
    pub serial: String,
    pub name: Option<String>,
    pub country: String,
    pub purchase_date: i64,
    pub retired_date: Option<i64>,
    pub end_of_life: EndOfLife,
    pub ownership: Ownership,
    pub purchase_cost: Option<f64>,
    pub pinned: Pinned,
}

impl Asset {
    /// The days it is in service: from purchase (or the lease's start) to retirement (or the
    /// lease's end), `to` exclusive; open-ended while in service.
    pub fn in_service(&self) -> (i64, i64) {
        let (mut from, mut to) = (self.purchase_date, self.retired_date.unwrap_or(i64::MAX));
        if let Ownership::Leased { start, end } = self.ownership {
            from = from.max(start);
            to = to.min(end);
        }
        (from, to.max(from))
    }

    fn capitalised(&self, s: &Settings) -> bool {
        match (s.capitalisation_threshold, self.purchase_cost) {
            (Some(t), Some(c)) => c >= t,
            _ => true,
        }
    }

    /// The days of its expected lifetime.
    fn life_days(&self) -> i64 {
        ((self.pinned.lifetime_years * 365.25).round() as i64).max(1)
    }
}

/// One asset's figures in a period (kg CO2e).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Allocation {
    pub scope2_location: f64,
    pub scope2_market: f64,
    pub cat1: f64,
    pub cat2: f64,
    pub cat5: f64,
    pub cat8: f64,
    pub in_service_days: i64,
}

impl Allocation {
    pub fn scope3(&self) -> f64 {
        self.cat1 + self.cat2 + self.cat5 + self.cat8
    }

    /// Location-based total.
    pub fn total(&self) -> f64 {
        self.scope2_location + self.scope3()
    }
}

/// Allocate one asset to a period by the rules.
pub fn allocate(a: &Asset, p: &Period, view: View, s: &Settings) -> Allocation {
    let pin = &a.pinned;
    let (from, to) = a.in_service();
    let days = p.overlap(from, to);
    let share = days as f64 / p.days() as f64;
    let market = s
        .market_factors
        .get(&a.country)
        .map(|f| pin.kwh_per_year * f)
        .unwrap_or(pin.use_kg_per_year);
    let mut out = Allocation {
        scope2_location: pin.use_kg_per_year * share,
        scope2_market: market * share,
        in_service_days: days,
        ..Allocation::default()
    };
    let embodied = pin.embodied_kg();
    match a.ownership {
        Ownership::Leased { start, end } => {
            out.cat8 = embodied * p.overlap(start, end) as f64 / (end - start) as f64;
        }
        Ownership::Owned => {
            let allocated = match view {
                View::Ghg => {
                    if p.contains(a.purchase_date) {
                        embodied
                    } else {
                        0.0
                    }
                }
                View::Amortised => {
                    let life_end = a.purchase_date + a.life_days();
                    let written_off = a.retired_date.map_or(life_end, |r| r.min(life_end));
                    let per_day = embodied / a.life_days() as f64;
                    let mut v = per_day * p.overlap(a.purchase_date, written_off) as f64;
                    if let Some(r) = a.retired_date.filter(|r| *r < life_end && p.contains(*r)) {
                        v += per_day * (life_end - r) as f64;
                    }
                    v
                }
            };
            if a.capitalised(s) {
                out.cat2 = allocated;
            } else {
                out.cat1 = allocated;
            }
            if a.retired_date.is_some_and(|r| p.contains(r)) && a.end_of_life != EndOfLife::Reuse {
                out.cat5 = pin.end_of_life_kg;
            }
        }
    }
    out
}

/// A figure and its 90% range (kg CO2e).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figure {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

/// The contributions to one figure, each with its asset's range.
#[derive(Default)]
struct Tally(Vec<DeviceRange>);

impl Tally {
    fn add(&mut self, value: f64, pin: &Pinned) {
        if value == 0.0 {
            return;
        }
        let (lo, hi) = if pin.total_kg > 0.0 {
            (pin.low_kg / pin.total_kg, pin.high_kg / pin.total_kg)
        } else {
            (1.0, 1.0)
        };
        self.0.push(DeviceRange {
            total: value,
            low: value * lo,
            high: value * hi,
            confidence: pin.confidence,
        });
    }

    fn figure(&self) -> Figure {
        let (value, low, high) = combine(&self.0, SHARED);
        Figure {
            value: round2(value),
            low: round2(low),
            high: round2(high),
            note: None,
        }
    }
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Scope2 {
    pub location_based: Figure,
    pub market_based: Figure,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Scope3 {
    pub cat1_purchased_goods: Figure,
    pub cat2_capital_goods: Figure,
    pub cat5_waste: Figure,
    /// Optional in the Standard: the embodied footprint of leased assets.
    pub cat8_upstream_leased: Figure,
    pub total: Figure,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Counts {
    /// Assets with any figure or day of service in the period.
    pub counted: usize,
    pub purchased: usize,
    pub retired: usize,
    pub in_service: usize,
    /// Stored assets that could not be accounted for, and why (never silently dropped).
    pub excluded: Vec<Excluded>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Excluded {
    pub id: String,
    pub reason: String,
}

/// Emissions avoided in the period by reuse after a certified erasure (the Blancco
/// integration's devices erased in it): reported beside the inventory, never subtracted.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Avoided {
    pub value: f64,
    pub erasures: usize,
    pub note: &'static str,
}

impl Avoided {
    pub fn new(kg: f64, erasures: usize) -> Avoided {
        Avoided {
            value: round2(kg),
            erasures,
            note: "from reuse after certified erasure, devices erased in the period: reported beside the inventory, never subtracted from it (GHG Protocol)",
        }
    }
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Group {
    pub key: String,
    pub value: f64,
    pub count: usize,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct TopAsset {
    pub id: String,
    pub serial: String,
    pub name: Option<String>,
    pub category: String,
    pub value: f64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Methodology {
    pub versions: Vec<String>,
    pub factor_sets: Vec<String>,
    pub rules: &'static str,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct PeriodView {
    pub start: String,
    pub end: String,
}

/// A reporting year's inventory.
#[derive(Debug, Serialize, PartialEq)]
pub struct Inventory {
    pub year: i64,
    pub view: View,
    pub period: PeriodView,
    pub unit: &'static str,
    pub scope2: Scope2,
    pub scope3: Scope3,
    /// Scope 2 location-based plus Scope 3.
    pub total: Figure,
    pub total_market_based: Figure,
    pub primary_data_share: f64,
    pub assets: Counts,
    pub by_category: Vec<Group>,
    pub by_country: Vec<Group>,
    pub top_assets: Vec<TopAsset>,
    /// Set by the caller from the erasures of the period (`Avoided::new`).
    pub avoided_emissions: Avoided,
    pub methodology: Methodology,
}

/// How many of the largest assets an inventory names.
pub const TOP_ASSETS: usize = 10;

/// The inventory of `assets` for period `p`.
pub fn inventory(assets: &[Asset], p: &Period, view: View, s: &Settings) -> Inventory {
    let mut t: [Tally; 8] = Default::default();
    let (mut scope3, mut primary) = (0.0, 0.0);
    let mut counts = Counts {
        counted: 0,
        purchased: 0,
        retired: 0,
        in_service: 0,
        excluded: Vec::new(),
    };
    let mut by_cat: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    let mut by_country: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    let mut top: Vec<(f64, &Asset)> = Vec::new();
    let (mut versions, mut sets) = (BTreeSet::new(), BTreeSet::new());
    for a in assets {
        let al = allocate(a, p, view, s);
        let total = al.total();
        if total == 0.0 && al.in_service_days == 0 {
            continue;
        }
        let pin = &a.pinned;
        for (tally, v) in t.iter_mut().zip([
            al.scope2_location,
            al.scope2_market,
            al.cat1,
            al.cat2,
            al.cat5,
            al.cat8,
            al.scope3(),
            total,
        ]) {
            tally.add(v, pin);
        }
        scope3 += al.scope3();
        if pin.source.primary() {
            primary += al.scope3();
        }
        counts.counted += 1;
        counts.purchased += usize::from(p.contains(a.purchase_date));
        counts.retired += usize::from(a.retired_date.is_some_and(|r| p.contains(r)));
        counts.in_service += usize::from(al.in_service_days > 0);
        for (map, key) in [
            (&mut by_cat, pin.category.as_str()),
            (&mut by_country, a.country.as_str()),
        ] {
            let e = map.entry(key).or_default();
            e.0 += total;
            e.1 += 1;
        }
        top.push((total, a));
        versions.insert(pin.methodology_version.clone());
        sets.insert(pin.factor_set.clone());
    }
    let groups = |m: BTreeMap<&str, (f64, usize)>| {
        let mut v: Vec<Group> = m
            .into_iter()
            .map(|(k, (value, count))| Group {
                key: k.to_string(),
                value: round2(value),
                count,
            })
            .collect();
        v.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.key.cmp(&b.key)));
        v
    };
    top.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    let mut market = t[1].figure();
    if s.market_factors.is_empty() {
        market.note = Some("no contractual factors set: equal to location-based");
    }
    let total_market = {
        let mut m = Tally::default();
        m.0.extend(t[1].0.iter().copied());
        m.0.extend(t[6].0.iter().copied());
        m.figure()
    };
    Inventory {
        year: p.year,
        view,
        period: PeriodView {
            start: civil_date(p.start),
            end: civil_date(p.end - 1),
        },
        unit: "kg_co2e",
        scope2: Scope2 {
            location_based: t[0].figure(),
            market_based: market,
        },
        scope3: Scope3 {
            cat1_purchased_goods: t[2].figure(),
            cat2_capital_goods: t[3].figure(),
            cat5_waste: t[4].figure(),
            cat8_upstream_leased: Figure {
                note: Some("optional in the GHG Protocol Scope 3 Standard"),
                ..t[5].figure()
            },
            total: t[6].figure(),
        },
        total: t[7].figure(),
        total_market_based: total_market,
        primary_data_share: if scope3 > 0.0 {
            (primary / scope3 * 10_000.0).round() / 10_000.0
        } else {
            0.0
        },
        assets: counts,
        by_category: groups(by_cat),
        by_country: groups(by_country),
        top_assets: top
            .into_iter()
            .take(TOP_ASSETS)
            .map(|(v, a)| TopAsset {
                id: a.id.clone(),
                serial: a.serial.clone(),
                name: a.name.clone(),
                category: a.pinned.category.clone(),
                value: round2(v),
            })
            .collect(),
        avoided_emissions: Avoided::default(),
        methodology: Methodology {
            versions: versions.into_iter().collect(),
            factor_sets: sets.into_iter().collect(),
            rules: RULES,
        },
    }
}

/// One figure of a restatement: as pinned, recomputed with today's factors, and the change.
#[derive(Debug, Serialize, PartialEq)]
pub struct Restated {
    pub figure: &'static str,
    pub pinned: f64,
    pub current: f64,
    pub difference: f64,
}

/// The figures of an inventory by name, in the order reports list them.
pub fn figures(inv: &Inventory) -> [(&'static str, &Figure); 9] {
    [
        ("scope2.location_based", &inv.scope2.location_based),
        ("scope2.market_based", &inv.scope2.market_based),
        (
            "scope3.cat1_purchased_goods",
            &inv.scope3.cat1_purchased_goods,
        ),
        ("scope3.cat2_capital_goods", &inv.scope3.cat2_capital_goods),
        ("scope3.cat5_waste", &inv.scope3.cat5_waste),
        (
            "scope3.cat8_upstream_leased",
            &inv.scope3.cat8_upstream_leased,
        ),
        ("scope3.total", &inv.scope3.total),
        ("total", &inv.total),
        ("total_market_based", &inv.total_market_based),
    ]
}

/// What a base-year recalculation needs: each figure as pinned and as today's factors give it.
pub fn restatement(pinned: &Inventory, current: &Inventory) -> Vec<Restated> {
    figures(pinned)
        .into_iter()
        .zip(figures(current))
        .map(|((figure, p), (_, c))| Restated {
            figure,
            pinned: p.value,
            current: c.value,
            difference: round2(c.value - p.value),
        })
        .collect()
}

/// A CSV cell: quoted when it holds a separator, a quote or a line break, and never read as a
/// formula by a spreadsheet (a text starting with `=`, `+`, `-`, `@`, tab or carriage return
/// gets a leading `'`).
pub fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The inventory as CSV: one line per figure, then one per category and per country.
pub fn csv(inv: &Inventory) -> String {
    let mut out = String::from("section,name,value_kg_co2e,low_kg_co2e,high_kg_co2e,assets\n");
    for (name, f) in figures(inv) {
        out.push_str(&format!(
            "figure,{name},{},{},{},\n",
            f.value, f.low, f.high
        ));
    }
    for (section, groups) in [("category", &inv.by_category), ("country", &inv.by_country)] {
        for g in groups {
            out.push_str(&format!(
                "{section},{},{},,,{}\n",
                csv_cell(&g.key),
                g.value,
                g.count
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::asset::FigureSource;
    use crate::validation::epoch_day;

    fn day(s: &str) -> i64 {
        epoch_day(s).unwrap()
    }

    fn pinned(source: FigureSource) -> Pinned {
        Pinned {
            category: "laptop".into(),
            product_id: None,
            production_kg: 200.0,
            transport_kg: 10.0,
            use_kg_per_year: 36.5,
            end_of_life_kg: 2.0,
            total_kg: 360.0,
            low_kg: 300.0,
            high_kg: 450.0,
            confidence: 0.9,
            source,
            kwh_per_year: 73.0,
            grid_kg_per_kwh: 0.5,
            lifetime_years: 4.0,
            methodology_version: "ct-lca-1.2".into(),
            factor_set: "2026.11.2".into(),
        }
    }

    fn asset(id: &str, purchase: &str, retired: Option<&str>) -> Asset {
        Asset {
            id: id.into(),
            serial: id.to_uppercase(),
            name: None,
            country: "FR".into(),
            purchase_date: day(purchase),
            retired_date: retired.map(day),
            end_of_life: EndOfLife::Recycle,
            ownership: Ownership::Owned,
            purchase_cost: Some(1200.0),
            pinned: pinned(FigureSource::Model),
        }
    }

    #[test]
    fn settings_are_validated() {
        let known = |c: &str| (c.len() == 2).then(|| c.to_ascii_uppercase());
        let s = Settings::parse(
            &serde_json::json!({"fiscal_year_start_month": 4.0, "capitalisation_threshold": 1000, "market_factors": {"fr": 0.02}}),
            known,
        )
        .unwrap();
        assert_eq!(
            (s.fiscal_year_start_month, s.capitalisation_threshold),
            (4, Some(1000.0))
        );
        assert_eq!(s.market_factors.get("FR"), Some(&0.02));
        let e = Settings::parse(
            &serde_json::json!({"fiscal_year_start_month": 13, "capitalisation_threshold": -1,
                                "market_factors": {"XXX": 0.1, "DE": 9}, "x": 1}),
            known,
        )
        .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "x",
                "fiscal_year_start_month",
                "capitalisation_threshold",
                "market_factors.DE",
                "market_factors.XXX"
            ]
        );
    }

    #[test]
    fn csv_cells_cannot_be_formulas() {
        assert_eq!(csv_cell("laptop"), "laptop");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
    }

    #[test]
    fn periods_are_calendar_or_fiscal_years() {
        let p = Period::year(2025, 1);
        assert_eq!(
            (civil_date(p.start), p.days()),
            ("2025-01-01".to_string(), 365)
        );
        let f = Period::year(2024, 4);
        assert_eq!(
            (civil_date(f.start), civil_date(f.end - 1)),
            ("2024-04-01".into(), "2025-03-31".into())
        );
        assert_eq!(f.days(), 365);
        assert_eq!(Period::containing(day("2025-02-01"), 4), f);
        assert_eq!(Period::containing(day("2025-04-01"), 4).year, 2025);
    }

    #[test]
    fn ghg_view_puts_embodied_in_the_purchase_year_and_scope2_by_days() {
        let s = Settings::default();
        let a = asset("a", "2025-07-02", None);
        let y25 = allocate(&a, &Period::year(2025, 1), View::Ghg, &s);
        assert_eq!(y25.cat2, 210.0);
        assert_eq!(y25.in_service_days, 183);
        assert!((y25.scope2_location - 36.5 * 183.0 / 365.0).abs() < 1e-9);
        assert_eq!(
            y25.scope2_market, y25.scope2_location,
            "no contractual factor"
        );
        let y26 = allocate(&a, &Period::year(2026, 1), View::Ghg, &s);
        assert_eq!((y26.cat2, y26.scope2_location), (0.0, 36.5));
        // Below the capitalisation threshold: Category 1.
        let cheap = Settings {
            capitalisation_threshold: Some(1500.0),
            ..Settings::default()
        };
        let e = allocate(&a, &Period::year(2025, 1), View::Ghg, &cheap);
        assert_eq!((e.cat1, e.cat2), (210.0, 0.0));
        // Market-based from the organisation's factor for the country.
        let m = Settings {
            market_factors: [("FR".to_string(), 0.1)].into(),
            ..Settings::default()
        };
        let y26m = allocate(&a, &Period::year(2026, 1), View::Ghg, &m);
        assert!((y26m.scope2_market - 7.3).abs() < 1e-9);
    }

    #[test]
    fn end_of_life_and_leases() {
        let s = Settings::default();
        let p = Period::year(2025, 1);
        let mut a = asset("a", "2022-01-01", Some("2025-03-01"));
        assert_eq!(allocate(&a, &p, View::Ghg, &s).cat5, 2.0);
        a.end_of_life = EndOfLife::Reuse;
        assert_eq!(
            allocate(&a, &p, View::Ghg, &s).cat5,
            0.0,
            "reuse is not waste"
        );
        let mut l = asset("l", "2024-07-01", None);
        l.ownership = Ownership::Leased {
            start: day("2024-07-01"),
            end: day("2027-07-01"),
        };
        let y = allocate(&l, &p, View::Ghg, &s);
        assert_eq!((y.cat1, y.cat2), (0.0, 0.0));
        let lease_days = (day("2027-07-01") - day("2024-07-01")) as f64;
        assert!((y.cat8 - 210.0 * 365.0 / lease_days).abs() < 1e-9);
        assert_eq!(y.in_service_days, 365);
        // After the lease ends it is out of service.
        let after = allocate(&l, &Period::year(2028, 1), View::Ghg, &s);
        assert_eq!((after.in_service_days, after.cat8), (0, 0.0));
    }

    #[test]
    fn both_views_sum_to_the_same_total_over_a_whole_life() {
        let s = Settings::default();
        for (purchase, retired) in [
            ("2021-05-17", None),
            ("2021-05-17", Some("2023-02-10")),
            ("2021-05-17", Some("2029-12-31")),
            ("2021-12-31", Some("2021-12-31")),
        ] {
            let a = asset("a", purchase, retired);
            let sum = |view| -> f64 {
                (2020..2032)
                    .map(|y| allocate(&a, &Period::year(y, 1), view, &s).total())
                    .sum()
            };
            let (g, m) = (sum(View::Ghg), sum(View::Amortised));
            assert!((g - m).abs() < 1e-6, "{purchase} {retired:?}: {g} vs {m}");
            let am: f64 = (2020..2032)
                .map(|y| allocate(&a, &Period::year(y, 1), View::Amortised, &s).cat2)
                .sum();
            assert!(
                (am - 210.0).abs() < 1e-6,
                "the whole embodied footprint, once: {am}"
            );
        }
        // Amortised: a year's share while in service.
        let a = asset("a", "2024-01-01", None);
        let y = allocate(&a, &Period::year(2025, 1), View::Amortised, &s);
        assert!((y.cat2 - 210.0 * 365.0 / a.life_days() as f64).abs() < 1e-9);
    }

    #[test]
    fn an_inventory_is_the_sum_of_its_assets_with_a_combined_range() {
        let s = Settings::default();
        let p = Period::year(2025, 1);
        let mut assets: Vec<Asset> = (0..20)
            .map(|i| asset(&format!("a{i:02}"), "2025-01-01", None))
            .collect();
        assets[0].pinned.source = FigureSource::Catalogue;
        assets[1].retired_date = Some(day("2025-06-01"));
        assets.push(asset("old", "2019-01-01", Some("2020-01-01")));
        let inv = inventory(&assets, &p, View::Ghg, &s);
        let sum: f64 = assets
            .iter()
            .map(|a| allocate(a, &p, View::Ghg, &s).total())
            .sum();
        assert!((inv.total.value - round2(sum)).abs() < 0.011);
        assert_eq!(
            inv.assets.counted, 20,
            "the asset retired in 2020 is not in 2025"
        );
        assert_eq!((inv.assets.purchased, inv.assets.retired), (20, 1));
        assert_eq!(inv.scope3.cat2_capital_goods.value, 20.0 * 210.0);
        // The range is narrower than the naive sum of ranges, wider than one asset's share.
        let naive = inv.total.value * (450.0 - 300.0) / 360.0;
        let width = inv.total.high - inv.total.low;
        assert!(width < naive && width > naive / 20.0, "{width} vs {naive}");
        assert!(inv.total.low < inv.total.value && inv.total.value < inv.total.high);
        let primary = allocate(&assets[0], &p, View::Ghg, &s).scope3();
        let expected = primary / allocate(&assets[0], &p, View::Ghg, &s).scope3() / 20.0;
        assert!(
            (inv.primary_data_share - expected).abs() < 0.01,
            "{}",
            inv.primary_data_share
        );
        assert_eq!(
            inv.scope2.market_based.note,
            Some("no contractual factors set: equal to location-based")
        );
        assert_eq!(inv.by_category[0].count, 20);
        assert_eq!(inv.top_assets.len(), TOP_ASSETS);
        assert_eq!(inv.methodology.factor_sets, ["2026.11.2"]);
        assert_eq!(
            (inv.period.start.as_str(), inv.period.end.as_str()),
            ("2025-01-01", "2025-12-31")
        );
        let text = csv(&inv);
        assert!(text.starts_with("section,name,value_kg_co2e"));
        assert!(text.contains(&format!("figure,total,{},", inv.total.value)));
        // A restatement with other factors shows each figure's change.
        let mut bigger = assets.clone();
        for a in &mut bigger {
            a.pinned.production_kg *= 1.1;
        }
        let again = inventory(&bigger, &p, View::Ghg, &s);
        let r = restatement(&inv, &again);
        let cat2 = r
            .iter()
            .find(|r| r.figure == "scope3.cat2_capital_goods")
            .unwrap();
        assert!((cat2.difference - 20.0 * 20.0).abs() < 0.05, "{cat2:?}");
        assert_eq!(
            r.iter()
                .find(|r| r.figure == "scope2.location_based")
                .unwrap()
                .difference,
            0.0
        );
    }
}
