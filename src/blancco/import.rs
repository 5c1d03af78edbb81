//! Importing erasure reports: which devices count, what each avoided, and the tally of an
//! import. Pure (the D1 write is `store::assets`), so it is tested natively.
//!
//! A device counts when its erasure succeeded (a device that was not wiped is not reusable);
//! it is identified in the catalogue when that is confident, else estimated from its chassis
//! category and specs; its avoided emissions are the reuse savings of that footprint.

use serde_json::{json, Map, Value};

use super::report::{brand, extract, ErasedDevice};
use crate::catalog::identify::{identify, IdentifyInput};
use crate::catalog::search::SearchIndex;
use crate::catalog::Catalogue;
use crate::lca::input::parse_device;
use crate::lca::savings::{savings, SavingsInput, Scenario};
use crate::lca::Engine;

/// A device ready to store: what it is, the footprint request used, the catalogue product
/// matched (if any), its avoided emissions, and its index in the upload.
pub struct Assessed {
    pub device: ErasedDevice,
    pub request: Value,
    pub product_id: Option<String>,
    pub avoided_kg_co2e: f64,
    pub index: usize,
}

/// Counters and per-device results of an import.
#[derive(Default)]
pub struct Import {
    pub imported: usize,
    pub duplicates: usize,
    pub skipped: Vec<Value>,
    pub failed: Vec<Value>,
    pub avoided: f64,
    pub devices: Vec<Value>,
}

impl Import {
    pub fn json(&self) -> Value {
        json!({
            "imported": self.imported, "duplicates": self.duplicates,
            "skipped": self.skipped, "failed": self.failed,
            "total_avoided_kg_co2e": (self.avoided * 100.0).round() / 100.0,
            "devices": self.devices,
            "label": "avoided emissions: not an offset, not deductible from an emissions inventory",
        })
    }

    pub fn add(&mut self, other: Import) {
        self.imported += other.imported;
        self.duplicates += other.duplicates;
        self.skipped.extend(other.skipped);
        self.failed.extend(other.failed);
        self.avoided += other.avoided;
        self.devices.extend(other.devices);
    }
}

/// The footprint request for an erased device: the catalogue product when identified
/// confidently, else its category with the report's specs.
pub fn footprint_request(d: &ErasedDevice) -> Option<(Value, Option<String>)> {
    let b = d.manufacturer.as_deref().map(brand);
    let found = identify(
        Catalogue::builtin(),
        SearchIndex::builtin(),
        &IdentifyInput {
            brand: b.clone(),
            mpn: Some(d.model.clone()),
            gtin: None,
            text: None,
        },
    );
    if found.confident() {
        if let Some((hit, _)) = &found.best {
            return Some((
                json!({ "product": { "id": hit.product.id } }),
                Some(hit.product.id.clone()),
            ));
        }
    }
    let category = d.category.as_deref()?;
    let mut specs = Map::new();
    if let Some(r) = d.ram_gb {
        specs.insert("memory_gb".into(), json!(r));
    }
    if let Some(s) = d.storage_gb {
        specs.insert("ssd_gb".into(), json!(s));
    }
    Some((
        json!({ "category": category, "product": { "brand": b, "model": d.model }, "specs": specs }),
        None,
    ))
}

/// Add one page's tally (`Import::json`) to a pull's running totals.
pub fn accumulate(totals: &mut Value, page: &Value) {
    for k in ["imported", "duplicates"] {
        totals[k] = json!(totals[k].as_u64().unwrap_or(0) + page[k].as_u64().unwrap_or(0));
    }
    for k in ["skipped", "failed"] {
        let mut list = totals[k].as_array().cloned().unwrap_or_default();
        list.extend(page[k].as_array().cloned().unwrap_or_default());
        totals[k] = json!(list);
    }
    let avoided = totals["total_avoided_kg_co2e"].as_f64().unwrap_or(0.0)
        + page["total_avoided_kg_co2e"].as_f64().unwrap_or(0.0);
    totals["total_avoided_kg_co2e"] = json!((avoided * 100.0).round() / 100.0);
}

/// Assess report trees: the devices to store, and those skipped (not erased) or failed
/// (unreadable, unknown, not computable) with their reasons, into `out`.
pub fn assess(engine: &Engine, reports: &[Value], out: &mut Import) -> Vec<Assessed> {
    let mut rows = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        let d = match extract(r) {
            Ok(d) => d,
            Err(reason) => {
                out.failed.push(json!({ "index": i, "document_id": r["blancco_data"]["description"]["document_id"], "reason": reason }));
                continue;
            }
        };
        if !d.erased() {
            out.skipped.push(json!({ "index": i, "document_id": d.document_id,
                "reason": format!("erasure not successful ({}): not reusable", d.erasure_states.join(", ")) }));
            continue;
        }
        let Some((request, product_id)) = footprint_request(&d) else {
            out.failed.push(json!({ "index": i, "document_id": d.document_id,
                "reason": format!("unknown chassis type {:?} and no catalogue match for {}", d.chassis_type, d.model) }));
            continue;
        };
        let computed = parse_device(&request, "", engine.factors).and_then(|input| {
            engine.footprint(&input).map(|f| {
                let grid = f.grid_kg_per_kwh();
                savings(
                    &SavingsInput {
                        device: input,
                        scenario: Scenario::Reuse,
                        extra_years: None,
                        displacement_rate: None,
                    },
                    f,
                    grid,
                )
            })
        });
        match computed {
            Ok(s) => rows.push(Assessed {
                device: d,
                request,
                product_id,
                avoided_kg_co2e: s.avoided_kg_co2e,
                index: i,
            }),
            Err(e) => out.failed.push(json!({ "index": i, "document_id": d.document_id,
                "reason": e.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ") })),
        }
    }
    rows
}

impl Import {
    /// Count stored devices: `inserted[i]` says whether row i was new (else a duplicate).
    pub fn tally(&mut self, rows: Vec<Assessed>, inserted: &[bool]) {
        for (a, &new) in rows.into_iter().zip(inserted) {
            if new {
                self.imported += 1;
                self.avoided += a.avoided_kg_co2e;
            } else {
                self.duplicates += 1;
            }
            let d = a.device;
            self.devices.push(json!({
                "index": a.index, "document_id": d.document_id, "status": if new { "imported" } else { "duplicate" },
                "manufacturer": d.manufacturer, "model": d.model, "serial": d.serial, "category": d.category,
                "product_id": a.product_id, "ram_gb": d.ram_gb, "storage_gb": d.storage_gb,
                "erasure_standard": d.erasure_standard, "erased_at": d.erased_at,
                "avoided_kg_co2e": a.avoided_kg_co2e,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_totals_add_up() {
        let mut totals = json!({});
        let page = json!({"imported": 2, "duplicates": 1, "skipped": [{"index": 0}], "failed": [],
                          "total_avoided_kg_co2e": 10.254});
        accumulate(&mut totals, &page);
        accumulate(&mut totals, &page);
        assert_eq!(totals["imported"], 4);
        assert_eq!(totals["duplicates"], 2);
        assert_eq!(totals["skipped"].as_array().unwrap().len(), 2);
        assert_eq!(
            totals["total_avoided_kg_co2e"], 20.5,
            "rounded to 10 g at each page"
        );
    }
}
