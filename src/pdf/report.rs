//! Fleet reports: sustainability (totals, breakdowns, per-device table, data quality) and
//! hotspot (what dominates and why, top devices, ranked levers). Charts are drawn in the PDF.

use super::{Doc, Font, A4, MARGIN};
use crate::lca::fleet::Fleet;
use crate::lca::Source;

/// What the report is.
pub struct ReportMeta<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub org: &'a str,
    pub generated_at: &'a str,
    pub period: Option<&'a str>,
    pub methodology_version: &'a str,
}

fn header(d: &mut Doc, m: &ReportMeta, f: &Fleet) {
    let kind = if m.kind == "hotspot" {
        "Hotspot analysis"
    } else {
        "Sustainability report"
    };
    d.line(Font::Bold, 20.0, 0.0, m.title);
    d.line(Font::Regular, 10.0, 0.0, &format!("{kind} - CarbonTrace"));
    d.rule();
    d.field("Report ID", m.id);
    d.field("Organisation", m.org);
    d.field("Generated", m.generated_at);
    if let Some(p) = m.period {
        d.field("Period", p);
    }
    d.field(
        "Devices",
        &format!("{} computed, {} skipped", f.devices.len(), f.skipped.len()),
    );
    d.gap(6.0);
    d.line(
        Font::Bold,
        15.0,
        0.0,
        &format!("Fleet footprint: {:.2} kg CO2e", f.total_kg),
    );
    d.line(
        Font::Regular,
        10.0,
        0.0,
        &format!(
            "Range {:.2} - {:.2} kg CO2e (90%: independent device errors plus a shared methodology share)",
            f.low_kg, f.high_kg
        ),
    );
    d.gap(4.0);
    d.line(Font::Bold, 11.0, 0.0, "By lifecycle stage");
    let st = &f.stages;
    d.stage_bar(&[
        ("Production", st.production_kg),
        ("Transport", st.transport_kg),
        ("Use", st.use_kg),
        ("End of life", st.end_of_life_kg),
    ]);
    d.gap(6.0);
}

fn quality(d: &mut Doc, m: &ReportMeta, f: &Fleet) {
    d.gap(6.0);
    d.line(
        Font::Bold,
        11.0,
        0.0,
        "Methodology, sources and data quality",
    );
    d.paragraph(
        Font::Regular,
        9.0,
        &format!(
            "Methodology {} (ISO 14067 / GHG Protocol product lifecycle, PAIA-aligned streamlined LCA), factor set {}. \
             {:.0}% of devices use their manufacturer's published PCF; {:.0}% are estimated by the attribute model \
             (cross-validated median error 7.8%). Grid factors: Our World in Data based on Ember (2025) and Energy \
             Institute (2024), CC BY 4.0. Product data: Boavizta environmental-footprint-data, ODbL 1.0.",
            m.methodology_version,
            f.factor_set_version,
            f.published_share * 100.0,
            (1.0 - f.published_share) * 100.0
        ),
    );
    if !f.skipped.is_empty() {
        d.gap(4.0);
        d.line(
            Font::Bold,
            10.0,
            0.0,
            &format!("Devices skipped ({})", f.skipped.len()),
        );
        for (i, why) in f.skipped.iter().take(50) {
            for l in super::wrap(
                &format!("#{}: {why}", i + 1),
                Font::Regular,
                8.5,
                A4.0 - 2.0 * MARGIN,
            ) {
                d.line(Font::Regular, 8.5, 0.0, &l);
            }
        }
    }
}

fn source(s: Source) -> &'static str {
    match s {
        Source::ManufacturerPcf => "PCF",
        Source::Model => "model",
    }
}

/// Render a report.
pub fn render(m: &ReportMeta, f: &Fleet) -> Vec<u8> {
    let mut d = Doc::new(&format!("{} ({})", m.title, m.id));
    header(&mut d, m, f);
    let cats: Vec<(String, f64)> = f
        .by_category
        .iter()
        .map(|(c, n, kg)| (format!("{c} ({n})"), *kg))
        .collect();
    let countries: Vec<(String, f64)> = f
        .by_country
        .iter()
        .take(12)
        .map(|(c, n, kg)| (format!("{c} ({n})"), *kg))
        .collect();
    if m.kind == "hotspot" {
        let (stage, share) = f.dominant_stage();
        d.line(Font::Bold, 11.0, 0.0, "What dominates, and why");
        let why = match stage {
            "production" => "making the devices: their number, screens and components outweigh the electricity they use",
            "use" => "electricity: long lifetimes, power-hungry devices or carbon-intensive grids",
            _ => "logistics and end of life, unusually",
        };
        d.paragraph(
            Font::Regular,
            10.0,
            &format!(
                "{:.0}% of the fleet's footprint is {stage} - {why}.",
                share * 100.0
            ),
        );
        if let Some((c, n, kg)) = f.by_category.first() {
            d.paragraph(
                Font::Regular,
                10.0,
                &format!(
                    "The largest category is {c}: {n} devices, {kg:.0} kg CO2e ({:.0}%).",
                    kg / f.total_kg.max(1e-9) * 100.0
                ),
            );
        }
        if let Some((c, n, kg)) = f.by_country.first() {
            d.paragraph(
                Font::Regular,
                10.0,
                &format!("The largest use location is {c}: {n} devices, {kg:.0} kg CO2e."),
            );
        }
        d.gap(4.0);
        d.line(Font::Bold, 11.0, 0.0, "Levers, ranked by effect");
        let lever_rows: Vec<(String, f64)> = f
            .levers
            .iter()
            .map(|l| (l.name.clone(), l.saving_kg))
            .collect();
        d.bars(&lever_rows, "kg CO2e saved", (0.30, 0.65, 0.32));
        for l in &f.levers {
            d.paragraph(
                Font::Regular,
                9.0,
                &format!(
                    "{}: {:.0} kg CO2e ({:.1}% of the footprint). {}",
                    l.name,
                    l.saving_kg,
                    l.share_of_total * 100.0,
                    l.description
                ),
            );
        }
        d.gap(4.0);
        d.line(Font::Bold, 11.0, 0.0, "Top devices by footprint");
        let rows: Vec<Vec<String>> = f
            .top(10)
            .iter()
            .map(|l| {
                vec![
                    format!("{}", l.index + 1),
                    l.label.clone(),
                    l.category.clone(),
                    l.country.clone(),
                    format!("{:.2}", l.total_kg),
                ]
            })
            .collect();
        d.table(
            &["#", "Device", "Category", "Country", "kg CO2e"],
            &[30.0, 220.0, 90.0, 60.0, 80.0],
            &rows,
        );
        d.gap(6.0);
        d.line(Font::Bold, 11.0, 0.0, "By category (kg CO2e)");
        d.bars(&cats, "kg CO2e", (0.16, 0.38, 0.62));
    } else {
        d.line(Font::Bold, 11.0, 0.0, "By category (kg CO2e)");
        d.bars(&cats, "kg CO2e", (0.16, 0.38, 0.62));
        d.gap(4.0);
        d.line(Font::Bold, 11.0, 0.0, "By use country (kg CO2e)");
        d.bars(&countries, "kg CO2e", (0.95, 0.61, 0.07));
        quality(&mut d, m, f);
        d.gap(6.0);
        d.line(Font::Bold, 11.0, 0.0, "Devices");
        let rows: Vec<Vec<String>> = f
            .devices
            .iter()
            .map(|l| {
                vec![
                    format!("{}", l.index + 1),
                    l.label.clone(),
                    l.category.clone(),
                    l.country.clone(),
                    source(l.source).into(),
                    format!("{:.1}", l.breakdown.production_kg),
                    format!("{:.1}", l.breakdown.use_kg),
                    format!("{:.2}", l.total_kg),
                ]
            })
            .collect();
        d.table(
            &[
                "#", "Device", "Category", "Country", "Source", "Prod.", "Use", "kg CO2e",
            ],
            &[34.0, 160.0, 62.0, 44.0, 40.0, 50.0, 45.0, 48.0],
            &rows,
        );
        return d.finish();
    }
    quality(&mut d, m, f);
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lca::fleet::{analyse, parse_fleet};
    use crate::lca::Engine;
    use serde_json::json;

    #[test]
    fn a_long_fleet_paginates_with_repeated_headers() {
        let engine = Engine::builtin();
        let devices: Vec<_> = (0..300)
            .map(|i| json!({"category": if i % 2 == 0 { "laptop" } else { "monitor" }}))
            .collect();
        let f = analyse(&engine, &parse_fleet(&devices, engine.factors));
        let meta = ReportMeta {
            id: "rep_1",
            kind: "sustainability",
            title: "Fleet 2026",
            org: "Acme",
            generated_at: "2026-11-28T00:00:00Z",
            period: Some("2026"),
            methodology_version: "ct-lca-1.2",
        };
        let pdf = render(&meta, &f);
        let text = String::from_utf8_lossy(&pdf);
        let count: usize = text
            .split("/Count ")
            .nth(1)
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .expect("a page tree with a count");
        // 300 device rows at ~60 per page, after the summary page(s).
        assert!((6..=12).contains(&count), "{count} pages");
        let headers = text.matches("Prod.").count();
        assert!(
            headers >= count - 1 && headers <= count,
            "the table header repeats on every page it spans ({headers} of {count})"
        );
        std::fs::write(std::env::temp_dir().join("ct-report-test.pdf"), &pdf).unwrap();
        let hot = render(
            &ReportMeta {
                kind: "hotspot",
                ..meta
            },
            &f,
        );
        assert!(hot.len() > 2_000);
    }
}
