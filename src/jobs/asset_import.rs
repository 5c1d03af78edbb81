//! The fleet-inventory import job: an asset file of more than 1,000 rows (up to 100,000), staged
//! in R2 by `api::asset_import` as one JSON body per line, read back one chunk of 1,000 rows at
//! a time (a ranged read), so memory stays bounded whatever the file's size.
//!
//! Two phases (`inventory::ingest::Progress`). **Check** validates every row and sorts it
//! against what is stored without writing: a dry run ends there; otherwise the rows that would
//! change something are charged against the organisation's day at once, and a file that would
//! exceed it fails whole (nothing written), naming what remains. **Write** then writes each
//! chunk in one transaction together with the progress after it, so a retried job resumes
//! after the last chunk written and counts nothing twice. A serial repeated anywhere in the file
//! is an error on its later rows, as in a synchronous import: the write phase rebuilds the set
//! of serials seen from the chunks before the one it resumes at.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use worker::{Env, Range};

use super::runner::{BackgroundJob, Claimed, Done, Outcome};
use crate::edge::clock::now_iso;
use crate::edge::rate_limiter::{self, LimiterCall};
use crate::edge::{bindings, random, state};
use crate::inventory::asset::{AssetInput, Pinned};
use crate::inventory::import::{chunk, RowError, CHUNK_ROWS};
use crate::inventory::ingest::{changes, validate, Counts, Phase, Progress, Valid};
use crate::job::{JobError, Kind};
use crate::keys::Mode;
use crate::lca::Engine;
use crate::limits::{org_subject, Quota, Refusal};
use crate::store::imports::{self, Import};
use crate::store::{inventory, orgs, Tenant};

pub struct AssetImportJob;

fn transient<E: std::fmt::Display>(step: &str) -> impl Fn(E) -> JobError + '_ {
    move |e| JobError::transient(step, e)
}

impl BackgroundJob for AssetImportJob {
    const KIND: Kind = Kind::AssetImport;

    async fn run(env: &Env, job: &Claimed) -> Result<Done, JobError> {
        let row = imports::find(env, &job.id)
            .await
            .map_err(transient("reading the import row"))?
            .ok_or_else(|| JobError::Permanent("the import row is gone".into()))?;
        let tenant = job.tenant();
        let engine = state::active(env).await.engine();
        let file = Staged::open(env, &row)?;
        let mut progress = Progress::of(row.progress.as_deref());
        let mut seen = HashSet::new();

        if progress.phase == Phase::Check {
            // Read-only, so always run whole: a retry starts the check again.
            progress = Progress::default();
            for k in 0..file.chunks() {
                let (valid, errors) = file.validate(&engine, k, &mut seen).await?;
                let (_, counts) = sort(env, &tenant, &engine, valid).await?;
                progress.checked(counts, errors);
            }
            if row.dry_run() {
                return finish(env, &row, &progress).await;
            }
            let changed = progress.checked.changed();
            if let Err(e) = charge(env, job, &tenant, changed).await {
                if matches!(e, JobError::Permanent(_)) {
                    bindings::delete_object(env, &row.r2_key).await;
                }
                return Err(e);
            }
            progress.start_writing(changed);
            save(env, &job.id, &progress).await?;
            seen.clear();
        }
        // Write: the serials of the chunks already written, then the rest, chunk by chunk.
        for k in 0..progress.chunk {
            file.validate(&engine, k, &mut seen).await?;
        }
        for k in progress.chunk..file.chunks() {
            let (valid, _) = file.validate(&engine, k, &mut seen).await?;
            let (writes, counts) = sort(env, &tenant, &engine, valid).await?;
            let writes: Vec<_> = writes
                .into_iter()
                .map(|(a, p)| (format!("ast_{}", random::hex_id(12)), a, p))
                .collect();
            progress.wrote(counts);
            imports::write_chunk(
                env,
                &tenant,
                &writes,
                &now_iso(),
                &job.id,
                &progress.to_json(),
            )
            .await
            .map_err(transient("writing a chunk of assets"))?;
        }
        finish(env, &row, &progress).await
    }
}

/// The staged file in R2 and its chunks' byte offsets.
struct Staged<'a> {
    bucket: worker::Bucket,
    key: &'a str,
    bounds: Vec<usize>,
}

impl<'a> Staged<'a> {
    fn open(env: &Env, row: &'a Import) -> Result<Staged<'a>, JobError> {
        let bounds = row.bounds();
        if bounds.len() < 2 {
            return Err(JobError::Permanent(
                "the staged file's chunks are unreadable".into(),
            ));
        }
        Ok(Staged {
            bucket: env
                .bucket(bindings::BUCKET)
                .map_err(transient("opening R2"))?,
            key: &row.r2_key,
            bounds,
        })
    }

    fn chunks(&self) -> usize {
        self.bounds.len() - 1
    }

    /// Chunk `k`'s rows, validated (valid serials go into `seen`), and its row errors.
    async fn validate(
        &self,
        engine: &Engine<'_>,
        k: usize,
        seen: &mut HashSet<String>,
    ) -> Result<(Vec<Valid>, Vec<RowError>), JobError> {
        let (start, end) = (self.bounds[k], self.bounds[k + 1]);
        let obj = self
            .bucket
            .get(self.key)
            .range(Range::OffsetWithLength {
                offset: start as u64,
                length: (end - start) as u64,
            })
            .execute()
            .await
            .map_err(transient("reading a chunk from R2"))?
            .ok_or_else(|| JobError::Permanent("the staged file is missing from storage".into()))?;
        let text = match obj.body() {
            Some(b) => b
                .text()
                .await
                .map_err(transient("reading a chunk's bytes"))?,
            None => String::new(),
        };
        let bodies = chunk(&text).map_err(|e| JobError::Permanent(e.message))?;
        Ok(validate(engine, &bodies, k * CHUNK_ROWS + 1, seen))
    }
}

/// Sort a chunk's valid rows against the stored assets with their serials.
async fn sort(
    env: &Env,
    tenant: &Tenant,
    engine: &Engine<'_>,
    valid: Vec<Valid>,
) -> Result<(Vec<(AssetInput, Pinned)>, Counts), JobError> {
    let serials: Vec<&str> = valid.iter().map(|(_, a, _)| a.serial.as_str()).collect();
    // Test keys' imports are dry runs against the sandbox's fixed inventory.
    let stored: HashMap<String, AssetInput> = if tenant.mode == Mode::Test {
        crate::inventory::sandbox::by_serial(&serials)
    } else {
        inventory::inputs_by_serial(env, tenant, &serials, engine.factors)
            .await
            .map_err(transient("reading the stored assets"))?
    };
    Ok(changes(valid, &stored))
}

/// Charge the rows that change something against the organisation's day, whole or not at all.
async fn charge(env: &Env, job: &Claimed, tenant: &Tenant, units: usize) -> Result<(), JobError> {
    if units == 0 {
        return Ok(());
    }
    let plan = orgs::plan(env, &job.org_id)
        .await
        .map_err(transient("reading the organisation's plan"))?;
    let subject = org_subject(&job.org_id, tenant.mode);
    let call = LimiterCall::Charge {
        plan,
        units: units as u64,
        subject: subject.clone(),
        org_id: Some(job.org_id.clone()),
    };
    let metered: Result<Quota, Refusal> = rate_limiter::call(env, &subject, &call)
        .await
        .map_err(transient("metering the import"))?;
    metered.map(|_| ()).map_err(|r| {
        JobError::Permanent(format!(
            "the file would create or change {units} assets and the {} plan has {} requests left today: refused whole, nothing written",
            plan.name(),
            r.quota.day_remaining().unwrap_or(0)
        ))
    })
}

async fn save(env: &Env, id: &str, progress: &Progress) -> Result<(), JobError> {
    imports::save_progress(env, id, &progress.to_json())
        .await
        .map(|_| ())
        .map_err(transient("saving the import's progress"))
}

/// The import is over: its staged file is removed, and its result is the row's outcome.
async fn finish(env: &Env, row: &Import, progress: &Progress) -> Result<Done, JobError> {
    bindings::delete_object(env, &row.r2_key).await;
    // Wasm memory only grows: its size now is this isolate's high-water mark, the figure that
    // shows a file of any size went through in bounded memory (the benchmark reads this line).
    worker::console_log!(
        "inventory_imports {}: {} rows, wasm memory {} bytes",
        row.job.id,
        row.rows,
        core::arch::wasm32::memory_size(0) * 65_536
    );
    let result: Value = progress.result(&row.format, row.dry_run(), row.rows as usize);
    Ok(Done {
        details: json!({ "format": row.format, "dry_run": row.dry_run(), "rows": row.rows,
                         "created": result["created"], "updated": result["updated"],
                         "unchanged": result["unchanged"], "errors": result["errors_total"] }),
        outcome: Outcome::AssetImport {
            result: serde_json::to_string(progress).unwrap_or_default(),
        },
    })
}
