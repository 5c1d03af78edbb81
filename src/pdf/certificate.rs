//! The certificate PDF: what an auditor or a buyer of refurbished equipment reads.

use serde_json::Value;

use super::{Doc, Font, A4, MARGIN};

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// Render a certificate document (the signed JSON) with its hash, signature and URL. The PDF
/// carries what an offline verifier needs: the signed bytes themselves as an attachment
/// (`certificate.json`, exactly as signed), the key id and signature, and the verification URL
/// as a QR code; `canonical` is those signed bytes.
pub fn render(
    canonical: &str,
    doc: &Value,
    content_hash: &str,
    signature: &str,
    key_id: &str,
    verify_url: &str,
) -> Vec<u8> {
    let id = text(&doc["certificate_id"]);
    let savings = doc["kind"] == "savings";
    let result = &doc["result"];
    let mut d = Doc::new(&format!("CarbonTrace certificate {id}"));
    d.attach(
        "certificate.json",
        "application/json",
        canonical.as_bytes().to_vec(),
    );
    // The verification URL as a QR code, top right, beside the title.
    d.qr(A4.0 - MARGIN - 80.0, A4.1 - MARGIN - 70.0, 80.0, verify_url);

    d.line(
        Font::Bold,
        22.0,
        0.0,
        if savings {
            "Avoided Emissions Certificate"
        } else {
            "CO2e Impact Certificate"
        },
    );
    d.line(
        Font::Regular,
        10.0,
        0.0,
        "Issued by CarbonTrace - lifecycle carbon footprint of IT equipment",
    );
    d.gap(6.0);
    d.rule();
    d.field("Certificate ID", &id);
    d.field("Issued", &text(&doc["issued_at"]));
    d.field("Issued to", &text(&doc["issuer"]["org_name"]));
    let footprint = if savings {
        &result["new_device"]
    } else {
        result
    };
    let p = &footprint["product"];
    let device = [&p["brand"], &p["name"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let device = if device.is_empty() {
        "(unnamed device)".to_string()
    } else {
        device
    };
    d.field(
        "Device",
        &format!("{device} ({})", text(&footprint["category"])),
    );
    if let Some(asset) = doc["asset"].as_object() {
        for (k, v) in asset {
            let label = match k.as_str() {
                "serial" => "Serial number",
                "asset_tag" => "Asset tag",
                "owner_reference" => "Owner reference",
                other => other,
            };
            d.field(label, &text(v));
        }
    }
    d.gap(8.0);

    if savings {
        d.line(
            Font::Bold,
            16.0,
            0.0,
            &format!(
                "Avoided emissions: {:.2} kg CO2e",
                num(&result["avoided_kg_co2e"])
            ),
        );
        d.line(
            Font::Regular,
            10.0,
            0.0,
            &format!(
                "Scenario: {} - {:.2} kg CO2e per year",
                text(&result["scenario"]),
                num(&result["avoided_kg_co2e_per_year"])
            ),
        );
        d.paragraph(Font::Regular, 9.0, &text(&result["label"]));
        d.gap(6.0);
        d.line(
            Font::Bold,
            11.0,
            0.0,
            "Footprint of the displaced new device",
        );
    } else {
        d.line(
            Font::Bold,
            16.0,
            0.0,
            &format!(
                "Lifecycle footprint: {:.2} kg CO2e",
                num(&result["total_kg_co2e"])
            ),
        );
    }
    let u = &footprint["uncertainty"];
    d.line(
        Font::Regular,
        10.0,
        0.0,
        &format!(
            "Total {:.2} kg CO2e; range {:.2} - {:.2} kg ({:.0}% confidence); source: {}",
            num(&footprint["total_kg_co2e"]),
            num(&u["low_kg"]),
            num(&u["high_kg"]),
            num(&u["confidence"]) * 100.0,
            text(&footprint["source"])
        ),
    );
    d.gap(6.0);

    // Breakdown: a stacked bar drawn in the PDF, then the figures.
    let b = &footprint["breakdown"];
    let stages = [
        ("Production", num(&b["production_kg"])),
        ("Transport", num(&b["transport_kg"])),
        ("Use", num(&b["use_kg"])),
        ("End of life", num(&b["end_of_life_kg"])),
    ];
    d.stage_bar(&stages);
    let width = A4.0 - 2.0 * MARGIN;
    d.gap(8.0);

    d.line(Font::Bold, 11.0, 0.0, "Method");
    d.field("Methodology", &text(&doc["methodology_version"]));
    d.field("Factor set", &text(&doc["factor_set_version"]));
    d.field("Approach", &text(&footprint["methodology"]["approach"]));
    d.gap(4.0);
    d.line(Font::Bold, 11.0, 0.0, "Assumptions");
    let mut assumptions: Vec<&Value> = footprint["assumptions"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if savings {
        assumptions.extend(result["assumptions"].as_array().into_iter().flatten());
    }
    for a in assumptions {
        let unit = a["unit"]
            .as_str()
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        let line = format!(
            "{}: {}{unit} ({})",
            text(&a["name"]),
            text(&a["value"]),
            text(&a["source"])
        );
        for l in super::wrap(&line, Font::Regular, 9.0, width - 10.0) {
            d.line(Font::Regular, 9.0, 10.0, &l);
        }
    }
    d.gap(6.0);

    d.line(Font::Bold, 11.0, 0.0, "Integrity");
    d.line(
        Font::Regular,
        9.0,
        0.0,
        &format!(
            "Content hash (SHA-256 of the canonical JSON, {}):",
            doc["schema"].as_str().unwrap_or("ct-cert-1")
        ),
    );
    d.line(Font::Mono, 8.5, 0.0, content_hash);
    d.line(
        Font::Regular,
        9.0,
        0.0,
        &if doc["schema"] == "ct-cert-2" {
            format!("Signature (Ed25519 over the RFC 8785 JSON, key {key_id}, base64url):")
        } else {
            format!("Signature (HMAC-SHA256, key {key_id}):")
        },
    );
    d.line(Font::Mono, 8.5, 0.0, signature);
    d.line(Font::Regular, 9.0, 0.0, "Verify this certificate at:");
    for l in super::wrap(verify_url, Font::Mono, 8.5, width) {
        d.line(Font::Mono, 8.5, 0.0, &l);
    }
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_pdf_carries_the_signed_bytes_and_a_qr_code() {
        let doc = json!({"schema": "ct-cert-2", "certificate_id": "cert_1", "kind": "footprint",
                         "result": {"total_kg_co2e": 250.5}});
        let canonical = crate::certs::jcs::canonicalize(&doc);
        let pdf = render(
            &canonical,
            &doc,
            "ab",
            "sig",
            "t1",
            "https://example.test/api/v1/certificates/cert_1/verify",
        );
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/EmbeddedFiles"));
        assert!(text.contains("/application#2Fjson"));
        assert!(
            text.contains(&canonical),
            "the attachment is the signed bytes, as is"
        );
        // The QR code: many small filled squares on the page.
        assert!(
            text.matches(" re").count() > 100,
            "QR modules drawn as rectangles"
        );
    }
}
