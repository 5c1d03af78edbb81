//! GDPR export archives: a ZIP of one NDJSON file per table plus `manifest.json` (counts, the
//! SHA-256 of every file, export time, schema version). Pure: the job that reads D1 and
//! writes R2 is in the edge layer.

pub mod zip;

use serde_json::{json, Value};

use crate::certs::sha256_hex;

/// Version of the archive layout.
pub const SCHEMA: &str = "ct-export-1";

/// One table of the archive.
pub struct Table {
    pub name: &'static str,
    pub rows: usize,
    pub ndjson: Vec<u8>,
    pub note: Option<&'static str>,
}

impl Table {
    pub fn new(name: &'static str) -> Table {
        Table {
            name,
            rows: 0,
            ndjson: Vec::new(),
            note: None,
        }
    }

    pub fn push(&mut self, row: &Value) {
        self.ndjson.extend_from_slice(row.to_string().as_bytes());
        self.ndjson.push(b'\n');
        self.rows += 1;
    }
}

/// Build the archive and its manifest.
pub fn archive(
    org: &Value,
    tables: Vec<Table>,
    exported_at: &str,
    extra_files: Vec<(String, Vec<u8>)>,
) -> (Vec<u8>, Value) {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut entries = Vec::new();
    for t in tables {
        let file = format!("{}.ndjson", t.name);
        entries.push(
            json!({ "file": file, "table": t.name, "rows": t.rows, "bytes": t.ndjson.len(),
                             "sha256": sha256_hex(&t.ndjson), "note": t.note }),
        );
        files.push((file, t.ndjson));
    }
    for (name, bytes) in extra_files {
        entries.push(json!({ "file": name, "bytes": bytes.len(), "sha256": sha256_hex(&bytes) }));
        files.push((name, bytes));
    }
    let manifest = json!({
        "schema": SCHEMA, "exported_at": exported_at, "organisation": org,
        "files": entries,
        "note": "Everything CarbonTrace holds about the organisation (GDPR Art. 15 and 20). API keys appear as metadata only; their hashes are not exported.",
    });
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let mut all = vec![("manifest.json".to_string(), manifest_bytes)];
    all.extend(files);
    (zip::store(&all), manifest)
}
