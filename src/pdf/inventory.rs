//! The GHG inventory of a reporting year as a PDF (`POST /reports`, `type: ghg_inventory`):
//! the figures of `GET /inventory` laid out as a CSRD / GHG Protocol disclosure needs them
//! (Scope 2 both ways, the Scope 3 categories, ranges, the primary-data share), then what they
//! come from (categories, countries, largest assets), what was left out, the avoided emissions
//! beside them, and the rules.

use super::report::ReportMeta;
use super::{Doc, Font, A4, MARGIN};
use crate::inventory::ghg::{Figure, Inventory, View};

fn figure_row(label: &str, f: &Figure) -> Vec<String> {
    vec![
        label.to_string(),
        format!("{:.2}", f.value / 1000.0),
        format!("{:.2} - {:.2}", f.low / 1000.0, f.high / 1000.0),
        f.note.unwrap_or("").to_string(),
    ]
}

/// Render a reporting year's inventory.
pub fn render(m: &ReportMeta, inv: &Inventory) -> Vec<u8> {
    let mut d = Doc::new(&format!("{} ({})", m.title, m.id));
    let view = match inv.view {
        View::Ghg => "GHG Protocol view: embodied emissions in the year of purchase",
        View::Amortised => {
            "Amortised view (management accounting): embodied emissions spread over lifetimes"
        }
    };
    d.line(Font::Bold, 20.0, 0.0, m.title);
    d.line(
        Font::Regular,
        10.0,
        0.0,
        "GHG inventory of the IT fleet - CarbonTrace",
    );
    d.rule();
    d.field("Report ID", m.id);
    d.field("Organisation", m.org);
    d.field("Generated", m.generated_at);
    d.field(
        "Reporting year",
        &format!("{} ({} to {})", inv.year, inv.period.start, inv.period.end),
    );
    d.field("View", view);
    d.field(
        "Assets",
        &format!(
            "{} counted: {} purchased, {} retired, {} in service; {} excluded",
            inv.assets.counted,
            inv.assets.purchased,
            inv.assets.retired,
            inv.assets.in_service,
            inv.assets.excluded.len()
        ),
    );
    d.gap(6.0);
    d.line(
        Font::Bold,
        15.0,
        0.0,
        &format!(
            "Total: {:.2} t CO2e (location-based), {:.2} t CO2e (market-based)",
            inv.total.value / 1000.0,
            inv.total_market_based.value / 1000.0
        ),
    );
    d.line(
        Font::Regular,
        10.0,
        0.0,
        &format!(
            "90% range {:.2} - {:.2} t CO2e; primary data share of Scope 3 (ESRS E1-6): {:.1}%",
            inv.total.low / 1000.0,
            inv.total.high / 1000.0,
            inv.primary_data_share * 100.0
        ),
    );
    d.gap(6.0);
    d.line(Font::Bold, 11.0, 0.0, "By scope and category (t CO2e)");
    let s3 = &inv.scope3;
    d.table(
        &["Scope / category", "Value", "90% range", "Note"],
        &[165.0, 60.0, 95.0, A4.0 - 2.0 * MARGIN - 320.0],
        &[
            figure_row("Scope 2, location-based", &inv.scope2.location_based),
            figure_row("Scope 2, market-based", &inv.scope2.market_based),
            figure_row("Scope 3 Cat. 1, purchased goods", &s3.cat1_purchased_goods),
            figure_row("Scope 3 Cat. 2, capital goods", &s3.cat2_capital_goods),
            figure_row("Scope 3 Cat. 5, waste", &s3.cat5_waste),
            figure_row("Scope 3 Cat. 8, upstream leased", &s3.cat8_upstream_leased),
            figure_row("Scope 3, total", &s3.total),
            figure_row("Total (Scope 2 location + 3)", &inv.total),
        ],
    );
    d.gap(6.0);
    d.line(Font::Bold, 11.0, 0.0, "By category (kg CO2e)");
    let rows: Vec<(String, f64)> = inv
        .by_category
        .iter()
        .map(|g| (format!("{} ({})", g.key, g.count), g.value))
        .collect();
    d.bars(&rows, "kg CO2e", (0.20, 0.45, 0.70));
    d.line(Font::Bold, 11.0, 0.0, "By country of use (kg CO2e)");
    let rows: Vec<(String, f64)> = inv
        .by_country
        .iter()
        .take(12)
        .map(|g| (format!("{} ({})", g.key, g.count), g.value))
        .collect();
    d.bars(&rows, "kg CO2e", (0.30, 0.65, 0.32));
    d.line(Font::Bold, 11.0, 0.0, "Largest assets of the year");
    let rows: Vec<Vec<String>> = inv
        .top_assets
        .iter()
        .map(|a| {
            vec![
                a.serial.clone(),
                a.name.clone().unwrap_or_default(),
                a.category.clone(),
                format!("{:.2}", a.value),
            ]
        })
        .collect();
    d.table(
        &["Serial", "Name", "Category", "kg CO2e"],
        &[130.0, 190.0, 90.0, 70.0],
        &rows,
    );
    d.gap(6.0);
    d.line(
        Font::Bold,
        11.0,
        0.0,
        "Avoided emissions (reported beside, never subtracted)",
    );
    d.paragraph(
        Font::Regular,
        9.0,
        &format!(
            "{:.2} kg CO2e avoided by reuse after {} certified erasure(s) in the period. {}.",
            inv.avoided_emissions.value, inv.avoided_emissions.erasures, inv.avoided_emissions.note
        ),
    );
    if !inv.assets.excluded.is_empty() {
        d.gap(4.0);
        d.line(
            Font::Bold,
            10.0,
            0.0,
            &format!("Assets excluded ({})", inv.assets.excluded.len()),
        );
        for e in inv.assets.excluded.iter().take(50) {
            for l in super::wrap(
                &format!("{}: {}", e.id, e.reason),
                Font::Regular,
                8.5,
                A4.0 - 2.0 * MARGIN,
            ) {
                d.line(Font::Regular, 8.5, 0.0, &l);
            }
        }
    }
    d.gap(6.0);
    d.line(Font::Bold, 11.0, 0.0, "Rules and sources");
    d.paragraph(Font::Regular, 8.5, inv.methodology.rules);
    d.paragraph(
        Font::Regular,
        8.5,
        &format!(
            "Figures as pinned when each asset was written: methodology {}; factor sets {}. Sources: GHG Protocol \
             Corporate Standard, Scope 2 Guidance, Corporate Value Chain (Scope 3) Standard; ESRS E1 (Delegated \
             Regulation (EU) 2023/2772), E1-6; ISO 14064-1:2018. Grid factors: Our World in Data based on Ember \
             (2025) and Energy Institute (2024), CC BY 4.0. Product data: Boavizta, ODbL 1.0.",
            inv.methodology.versions.join(", "),
            inv.methodology.factor_sets.join(", ")
        ),
    );
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::ghg::{inventory, Period, Settings};

    #[test]
    fn an_empty_year_renders_and_names_its_figures() {
        let inv = inventory(&[], &Period::year(2025, 1), View::Ghg, &Settings::default());
        let meta = ReportMeta {
            id: "rep_1",
            kind: "ghg_inventory",
            title: "GHG inventory 2025",
            org: "Acme",
            generated_at: "2026-12-02T00:00:00Z",
            period: Some("2025"),
            methodology_version: "ct-lca-1.2",
        };
        let pdf = render(&meta, &inv);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        for needle in [
            "Scope 2, market-based",
            "Scope 3 Cat. 2, capital goods",
            "never subtracted",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
    }
}
