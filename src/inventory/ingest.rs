//! What an import does with the asset bodies `import::read` made of a file, the same for a
//! synchronous import and for each chunk of a staged one (`jobs::asset_import`): validate
//! each row, refuse a serial an earlier row of the file already used, pin the footprint, then
//! sort the valid rows against what is stored into created, updated and unchanged (unchanged
//! rows are not written, and are free). [`Progress`] is a staged import's state between
//! chunks and runs: what a retried job resumes from, and its result once done.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::asset::{parse, pin, AssetInput, Pinned};
use super::import::{Format, RowError};
use crate::lca::Engine;
use crate::validation::FieldError;

/// Most row errors a staged import lists (all are counted in `errors_total`).
pub const MAX_LISTED_ERRORS: usize = 1_000;

/// A valid row: its number in the file, the asset and its pinned footprint.
pub type Valid = (usize, AssetInput, Pinned);

/// Validate and pin rows numbered from `first_row`; a serial already in `seen` (an earlier
/// row of the same file) is an error. Valid rows add their serial to `seen`.
pub fn validate(
    engine: &Engine,
    bodies: &[Value],
    first_row: usize,
    seen: &mut HashSet<String>,
) -> (Vec<Valid>, Vec<RowError>) {
    let mut valid = Vec::with_capacity(bodies.len());
    let mut errors = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let row = first_row + i;
        let input = match parse(body, engine.factors) {
            Ok(a) => a,
            Err(es) => {
                errors.extend(es.into_iter().map(|e| RowError::of(row, e)));
                continue;
            }
        };
        if seen.contains(&input.serial) {
            errors.push(RowError::of(
                row,
                FieldError::new("serial", "repeats an earlier row's serial"),
            ));
            continue;
        }
        match pin(engine, &input) {
            Ok(p) => {
                seen.insert(input.serial.clone());
                valid.push((row, input, p));
            }
            Err(es) => errors.extend(es.into_iter().map(|e| RowError::of(row, e))),
        }
    }
    (valid, errors)
}

/// How an import's valid rows compare with what was stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl Counts {
    /// Rows that write something (what the daily quota counts).
    pub fn changed(&self) -> usize {
        self.created + self.updated
    }

    fn add(&mut self, o: Counts) {
        self.created += o.created;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
    }
}

/// Sort valid rows against the stored assets with their serials (as inputs): the rows to
/// write (new serials, or something differs) and the counts.
pub fn changes(
    valid: Vec<Valid>,
    stored: &HashMap<String, AssetInput>,
) -> (Vec<(AssetInput, Pinned)>, Counts) {
    let mut counts = Counts::default();
    let mut writes = Vec::new();
    for (_, input, pinned) in valid {
        match stored.get(&input.serial) {
            None => counts.created += 1,
            Some(s) if s == &input => {
                counts.unchanged += 1;
                continue;
            }
            Some(_) => counts.updated += 1,
        }
        writes.push((input, pinned));
    }
    (writes, counts)
}

/// Where a staged import stands. It runs in two phases over the file's chunks: `check`
/// validates every row and counts what would change without writing (so a file over the
/// daily quota is refused whole, and a dry run ends there), then `write` writes each chunk
/// in one transaction with this progress, so a retried job resumes after the last chunk
/// written and counts nothing twice.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub phase: Phase,
    /// The next chunk to read in this phase.
    pub chunk: usize,
    /// What the check found would change.
    pub checked: Counts,
    /// What the write phase wrote so far.
    pub written: Counts,
    /// The first [`MAX_LISTED_ERRORS`] row errors (found by the check).
    pub errors: Vec<RowError>,
    pub errors_total: usize,
    /// Rows the daily quota was charged for (once, between the phases).
    pub charged: Option<usize>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Check,
    Write,
}

impl Progress {
    /// A stored progress (`None`, or unreadable: the start).
    pub fn of(stored: Option<&str>) -> Progress {
        stored
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// A checked chunk's findings: what would change, and its row errors.
    pub fn checked(&mut self, counts: Counts, errors: Vec<RowError>) {
        self.checked.add(counts);
        self.errors_total += errors.len();
        let room = MAX_LISTED_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(errors.into_iter().take(room));
        self.chunk += 1;
    }

    /// The check is over: the write phase starts at the first chunk.
    pub fn start_writing(&mut self, charged: usize) {
        self.phase = Phase::Write;
        self.chunk = 0;
        self.charged = Some(charged);
    }

    /// A written chunk.
    pub fn wrote(&mut self, counts: Counts) {
        self.written.add(counts);
        self.chunk += 1;
    }

    /// The import's result, in the shape a synchronous import answers with: what was written
    /// (or, for a dry run, what would be).
    pub fn result(&self, format: &str, dry_run: bool, rows: usize) -> Value {
        let c = if dry_run { self.checked } else { self.written };
        let notes = Format::parse(format)
            .flatten()
            .map(Format::notes)
            .unwrap_or_default();
        serde_json::json!({
            "format": format, "dry_run": dry_run, "rows": rows,
            "created": c.created, "updated": c.updated, "unchanged": c.unchanged,
            "errors": self.errors, "errors_total": self.errors_total, "notes": notes,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(serial: &str, kwh: f64) -> Value {
        json!({"serial": serial, "category": "laptop", "purchase_date": "2024-02-01",
               "country": "FR", "yearly_kwh": kwh})
    }

    #[test]
    fn rows_are_validated_deduplicated_and_sorted_against_what_is_stored() {
        let engine = Engine::builtin();
        let mut seen = HashSet::new();
        let bodies = vec![
            body("A", 20.0),
            body("B", 20.0),
            json!({"serial": "C"}),
            body("A", 30.0),
        ];
        let (valid, errors) = validate(&engine, &bodies, 1, &mut seen);
        assert_eq!(valid.len(), 2);
        assert!(errors
            .iter()
            .any(|e| e.row == 3 && e.field == "purchase_date"));
        assert!(errors
            .iter()
            .any(|e| e.row == 4 && e.message.contains("earlier row")));
        // A later chunk numbers its rows on, and still knows the earlier serials.
        let (valid2, errors2) = validate(&engine, &[body("B", 1.0), body("D", 1.0)], 5, &mut seen);
        assert_eq!((valid2.len(), errors2[0].row), (1, 5));
        let stored: HashMap<String, AssetInput> = valid
            .iter()
            .filter(|(_, a, _)| a.serial == "A")
            .map(|(_, a, _)| (a.serial.clone(), a.clone()))
            .collect();
        let mut changed_b = valid.clone();
        changed_b.push(valid2[0].clone());
        let (writes, counts) = changes(changed_b, &stored);
        assert_eq!(
            counts,
            Counts {
                created: 2,
                updated: 0,
                unchanged: 1
            }
        );
        assert_eq!(writes.len(), 2);
        assert_eq!(counts.changed(), 2);
        let mut other = stored.clone();
        other.get_mut("A").unwrap().yearly_kwh = Some(99.0);
        assert_eq!(changes(valid, &other).1.updated, 1);
    }

    #[test]
    fn progress_lists_a_bounded_number_of_errors_and_round_trips() {
        let mut p = Progress::of(None);
        assert_eq!(p.phase, Phase::Check);
        let many: Vec<RowError> = (1..=MAX_LISTED_ERRORS + 5)
            .map(|r| RowError::of(r, FieldError::new("serial", "x")))
            .collect();
        p.checked(
            Counts {
                created: 3,
                updated: 1,
                unchanged: 2,
            },
            many,
        );
        assert_eq!(p.errors.len(), MAX_LISTED_ERRORS);
        assert_eq!(p.errors_total, MAX_LISTED_ERRORS + 5);
        p.start_writing(p.checked.changed());
        p.wrote(Counts {
            created: 3,
            updated: 1,
            unchanged: 2,
        });
        let back = Progress::of(Some(&p.to_json()));
        assert_eq!(back, p);
        assert_eq!(
            (back.phase, back.chunk, back.charged),
            (Phase::Write, 1, Some(4))
        );
        let r = back.result("g4it", false, 10);
        assert_eq!(
            (r["created"].as_u64(), r["errors_total"].as_u64()),
            (Some(3), Some(1005))
        );
        assert_eq!(r["notes"], serde_json::json!([]));
        let intune = back.result("intune", false, 10);
        assert!(intune["notes"][0]
            .as_str()
            .unwrap()
            .contains("enrolledDateTime"));
        assert_eq!(Progress::of(Some("not json")), Progress::default());
    }
}
