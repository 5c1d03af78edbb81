//! GDPR export archives: a ZIP of one NDJSON file per table, the certificate PDFs, and
//! `manifest.json` (row counts, the SHA-256 of every file, export time, schema version).
//!
//! [`Archive`] is written as the data is read: rows go straight into the ZIP stream, and the
//! caller takes fixed-size parts ([`Archive::take_part`]) for a multipart upload, so memory
//! stays bounded whatever the row count. Between files the whole state is a [`Checkpoint`]
//! (plain data, stored with the job) plus the bytes not yet uploaded: a retried job resumes
//! after the last finished file instead of starting again. Pure: the job that reads D1 and
//! writes R2 is `jobs::export`.

pub mod zip;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use zip::{ZipState, ZipWriter};

/// Version of the archive layout.
pub const SCHEMA: &str = "ct-export-1";

/// Size of every uploaded part but the last (R2: at least 5 MiB, all the same size).
pub const PART_BYTES: usize = 5 * 1024 * 1024;

/// One file of the archive, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    pub bytes: u64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where an interrupted archive stands: after `files`, `step` sources done. The bytes
/// written but not yet uploaded are kept beside it (they are less than a part).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub zip: ZipState,
    pub files: Vec<FileEntry>,
    /// How many of the job's sources (tables, then the PDFs) are in the archive.
    pub step: usize,
}

struct OpenFile {
    entry: FileEntry,
    sha: Sha256,
}

pub struct Archive {
    zip: ZipWriter,
    files: Vec<FileEntry>,
    open: Option<OpenFile>,
    pub step: usize,
}

impl Default for Archive {
    fn default() -> Self {
        Self::resume(Checkpoint::default(), Vec::new())
    }
}

impl Archive {
    /// Carry on from a checkpoint and the bytes that were pending at it.
    pub fn resume(cp: Checkpoint, pending: Vec<u8>) -> Self {
        let mut zip = ZipWriter::resume(cp.zip);
        *zip.out() = pending;
        Self {
            zip,
            files: cp.files,
            open: None,
            step: cp.step,
        }
    }

    /// Start a file (closing any open one).
    pub fn begin(&mut self, file: &str, table: Option<&str>, note: Option<&str>) {
        self.end();
        self.zip.start(file);
        self.open = Some(OpenFile {
            entry: FileEntry {
                file: file.into(),
                table: table.map(str::to_string),
                rows: table.map(|_| 0),
                bytes: 0,
                sha256: String::new(),
                note: note.map(str::to_string),
            },
            sha: Sha256::new(),
        });
    }

    /// Append bytes to the open file.
    pub fn write(&mut self, bytes: &[u8]) {
        if let Some(o) = &mut self.open {
            o.sha.update(bytes);
            o.entry.bytes += bytes.len() as u64;
            self.zip.write(bytes);
        }
    }

    /// Append one row (a JSON line) to the open table file.
    pub fn row(&mut self, row: &Value) {
        let mut line = row.to_string().into_bytes();
        line.push(b'\n');
        self.write(&line);
        if let Some(rows) = self.open.as_mut().and_then(|o| o.entry.rows.as_mut()) {
            *rows += 1;
        }
    }

    /// Close the open file.
    pub fn end(&mut self) {
        if let Some(o) = self.open.take() {
            let mut entry = o.entry;
            entry.sha256 = o
                .sha
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            self.zip.end();
            self.files.push(entry);
        }
    }

    /// Bytes written so far (uploaded or pending).
    pub fn bytes_written(&self) -> u64 {
        self.zip.state().offset
    }

    /// A full part, if that many bytes are waiting.
    pub fn take_part(&mut self) -> Option<Vec<u8>> {
        let out = self.zip.out();
        if out.len() < PART_BYTES {
            return None;
        }
        let rest = out.split_off(PART_BYTES);
        Some(std::mem::replace(out, rest))
    }

    /// The state after the last finished file, and the bytes not yet taken.
    pub fn checkpoint(&mut self) -> (Checkpoint, &[u8]) {
        self.end();
        let cp = Checkpoint {
            zip: self.zip.state().clone(),
            files: self.files.clone(),
            step: self.step,
        };
        (cp, self.zip.out().as_slice())
    }

    /// Write the manifest and close the archive: the last bytes (the final part), the
    /// manifest, and the archive's total size.
    pub fn finish(mut self, org: &Value, exported_at: &str) -> (Vec<u8>, Value, u64) {
        self.end();
        let manifest = json!({
            "schema": SCHEMA, "exported_at": exported_at, "organisation": org,
            "files": self.files,
            "note": "Everything CarbonTrace holds about the organisation (GDPR Art. 15 and 20). API keys appear as metadata only; their hashes are not exported.",
        });
        let bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        self.zip.start("manifest.json");
        self.zip.write(&bytes);
        self.zip.finish();
        let total = self.zip.state().offset;
        (std::mem::take(self.zip.out()), manifest, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::zip::tests::check_with_tools;

    fn fill(a: &mut Archive, from: usize, to: usize, parts: &mut Vec<Vec<u8>>) {
        for t in from..to {
            a.begin(&format!("t{t}.ndjson"), Some(&format!("t{t}")), None);
            for i in 0..40_000 {
                a.row(&json!({"table": t, "i": i, "pad": "carbon ".repeat(16)}));
                if let Some(p) = a.take_part() {
                    parts.push(p);
                }
            }
            a.step += 1;
        }
    }

    #[test]
    fn parts_are_fixed_size_and_a_resumed_archive_is_identical() {
        let org = json!({"id": "org_1"});
        // In one go.
        let mut whole = Archive::default();
        let mut parts = Vec::new();
        fill(&mut whole, 0, 4, &mut parts);
        let (last, manifest, total) = whole.finish(&org, "2026-11-29T00:00:00Z");
        assert!(parts.len() >= 2, "several parts ({})", parts.len());
        assert!(parts.iter().all(|p| p.len() == PART_BYTES));
        assert!(last.len() <= PART_BYTES);
        let one_go: Vec<u8> = parts.concat().into_iter().chain(last).collect();
        assert_eq!(one_go.len() as u64, total);

        // Interrupted after two tables: the checkpoint travels as JSON, the pending bytes beside it.
        let mut first = Archive::default();
        let mut parts2 = Vec::new();
        fill(&mut first, 0, 2, &mut parts2);
        let (cp, pending) = first.checkpoint();
        let (cp, pending) = (
            serde_json::from_str::<Checkpoint>(&serde_json::to_string(&cp).unwrap()).unwrap(),
            pending.to_vec(),
        );
        assert_eq!(cp.step, 2);
        let mut second = Archive::resume(cp, pending);
        fill(&mut second, 2, 4, &mut parts2);
        let (last2, manifest2, _) = second.finish(&org, "2026-11-29T00:00:00Z");
        let resumed: Vec<u8> = parts2.concat().into_iter().chain(last2).collect();
        assert_eq!(manifest, manifest2);
        assert!(resumed == one_go, "resuming changes nothing");

        let out = check_with_tools(&one_go, "import sys,zipfile,json,hashlib; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; m=json.loads(z.read('manifest.json')); ok=all(hashlib.sha256(z.read(f['file'])).hexdigest()==f['sha256'] and z.read(f['file']).count(b'\\n')==f['rows'] for f in m['files']); print(len(m['files']), ok)");
        assert_eq!(out.trim(), "4 True");
    }
}
