//! The GDPR export job: every table of the organisation, read a page at a time (keyset on
//! rowid), and its certificate PDFs, streamed into one ZIP (`export::Archive`) and uploaded
//! to R2 as a multipart upload in fixed-size parts: memory stays bounded whatever the row
//! count. After each source (a table, then the PDFs) the job records a checkpoint (parts
//! uploaded, archive state) in D1 and the bytes not yet uploaded in R2, so a retried job
//! resumes after the last finished source. The archive's key is fixed per export, so a
//! retry never leaves two. An export deleted while it is being built stops within
//! [`CHECK_EVERY_PAGES`] pages (or at its next checkpoint, or when its `done` is refused) and
//! removes what it wrote, its unfinished upload aborted. Also the cron's expiry of archives past their date.

use serde_json::{json, Value};
use worker::{Bucket, Env, MultipartUpload, UploadedPart};

use super::runner::{BackgroundJob, Claimed, Done, Outcome};
use crate::edge::bindings;
use crate::edge::clock::{now_iso, now_ms};
use crate::export::Archive;
use crate::job::{JobError, Kind};
use crate::store::exports::{self, Export, Progress, Source, PAGE, SOURCES};
use crate::store::orgs;

fn pending_key(row: &Export) -> String {
    format!("{}.pending", row.r2_key)
}

fn r2<E: std::fmt::Display>(step: &str) -> impl Fn(E) -> JobError + '_ {
    move |e| JobError::transient(step, e)
}

pub struct ExportJob;

impl BackgroundJob for ExportJob {
    const KIND: Kind = Kind::Export;

    async fn run(env: &Env, job: &Claimed) -> Result<Done, JobError> {
        let row = exports::find(env, &job.id)
            .await
            .map_err(r2("reading the export row"))?
            .ok_or_else(|| JobError::Permanent("the export row is gone".into()))?;
        let started = now_ms();
        let bucket = env.bucket(bindings::BUCKET).map_err(r2("opening R2"))?;
        let (upload, mut progress, mut archive) = open(env, &bucket, &row).await?;
        let resumed_at = archive.step;
        for step in archive.step..=SOURCES.len() {
            match SOURCES.get(step) {
                Some(source) => {
                    dump(
                        env,
                        &row.job.id,
                        source,
                        &row.org_id,
                        &mut archive,
                        &upload,
                        &mut progress,
                    )
                    .await?
                }
                None => {
                    pdfs(
                        env,
                        &bucket,
                        &row.org_id,
                        &mut archive,
                        &upload,
                        &mut progress,
                    )
                    .await?
                }
            }
            archive.step = step + 1;
            let (cp, pending) = archive.checkpoint();
            bucket
                .put(pending_key(&row), pending.to_vec())
                .execute()
                .await
                .map_err(r2("storing the pending bytes"))?;
            progress.checkpoint = cp;
            let saved = exports::save_progress(env, &row.job.id, &progress)
                .await
                .map_err(r2("saving the checkpoint"))?;
            if saved == 0 {
                return Err(JobError::Abandoned);
            }
        }
        let org: Value = orgs::record(env, &row.org_id)
            .await
            .map_err(r2("reading the organisation"))?;
        let (last, mut manifest, total) = archive.finish(&org, &now_iso());
        upload_part(&upload, &mut progress, last).await?;
        let parts: Vec<UploadedPart> = progress
            .parts
            .iter()
            .map(|(n, etag)| UploadedPart::new(*n, etag.clone()))
            .collect();
        upload
            .complete(parts)
            .await
            .map_err(r2("completing the multipart upload"))?;
        let _ = bucket.delete(pending_key(&row)).await;
        manifest["build_ms"] = json!(now_ms() - started);
        manifest["resumed_at_step"] = json!(resumed_at);
        manifest["parts"] = json!(progress.parts.len());
        // Wasm memory only grows, so its size now is this isolate's high-water mark: the
        // figure that shows the archive streamed through bounded memory.
        manifest["wasm_memory_bytes"] = json!(core::arch::wasm32::memory_size(0) * 65_536);
        Ok(Done {
            outcome: Outcome::Export {
                bytes: total as usize,
                manifest: manifest.to_string(),
            },
            details: json!({ "bytes": total, "parts": progress.parts.len() }),
        })
    }

    async fn discard(env: &Env, job: &Claimed) {
        if let Ok(Some(row)) = exports::find(env, &job.id).await {
            if row.job.status == "deleted" {
                // An upload left unfinished would keep its parts until R2's lifecycle rule.
                if let Ok(Some(p)) = exports::progress(env, &job.id).await {
                    if let Ok(bucket) = env.bucket(bindings::BUCKET) {
                        if let Ok(upload) =
                            bucket.resume_multipart_upload(&row.r2_key, &p.upload_id)
                        {
                            let _ = upload.abort().await;
                        }
                    }
                }
                bindings::delete_object(env, &row.r2_key).await;
                bindings::delete_object(env, &pending_key(&row)).await;
            }
        }
    }
}

/// The multipart upload and archive to carry on with: resumed from the last checkpoint
/// when there is one (and its pending bytes are still stored), else new.
async fn open(
    env: &Env,
    bucket: &Bucket,
    row: &Export,
) -> Result<(MultipartUpload, Progress, Archive), JobError> {
    if let Some(p) = exports::progress(env, &row.job.id)
        .await
        .map_err(r2("reading the checkpoint"))?
    {
        let pending = match bucket
            .get(pending_key(row))
            .execute()
            .await
            .map_err(r2("reading the pending bytes"))?
        {
            Some(obj) => match obj.body() {
                Some(b) => Some(b.bytes().await.map_err(r2("reading the pending bytes"))?),
                None => Some(Vec::new()),
            },
            None => None,
        };
        if let Some(pending) = pending.filter(|_| p.checkpoint.step > 0) {
            let upload = bucket
                .resume_multipart_upload(&row.r2_key, &p.upload_id)
                .map_err(r2("resuming the multipart upload"))?;
            let archive = Archive::resume(p.checkpoint.clone(), pending);
            worker::console_log!(
                "export {}: resuming at step {}",
                row.job.id,
                p.checkpoint.step
            );
            return Ok((upload, p, archive));
        }
    }
    let upload = bucket
        .create_multipart_upload(&row.r2_key)
        .http_metadata(worker::HttpMetadata {
            content_type: Some("application/zip".into()),
            ..Default::default()
        })
        .execute()
        .await
        .map_err(r2("starting the multipart upload"))?;
    let progress = Progress {
        upload_id: upload.upload_id().await,
        parts: Vec::new(),
        checkpoint: Default::default(),
    };
    exports::save_progress(env, &row.job.id, &progress)
        .await
        .map_err(r2("saving the upload id"))?;
    Ok((upload, progress, Archive::default()))
}

/// Upload one part (the next number).
async fn upload_part(
    upload: &MultipartUpload,
    progress: &mut Progress,
    bytes: Vec<u8>,
) -> Result<(), JobError> {
    let n = progress.parts.len() as u16 + 1;
    let part = upload
        .upload_part(n, bytes)
        .await
        .map_err(r2("uploading a part"))?;
    progress.parts.push((n, part.etag()));
    Ok(())
}

/// Upload every full part waiting in the archive.
async fn flush(
    archive: &mut Archive,
    upload: &MultipartUpload,
    progress: &mut Progress,
) -> Result<(), JobError> {
    while let Some(part) = archive.take_part() {
        upload_part(upload, progress, part).await?;
    }
    Ok(())
}

/// One table of the organisation into the archive, a page at a time (keyset on rowid).
async fn dump(
    env: &Env,
    id: &str,
    source: &Source,
    org_id: &str,
    archive: &mut Archive,
    upload: &MultipartUpload,
    progress: &mut Progress,
) -> Result<(), JobError> {
    archive.begin(
        &format!("{}.ndjson", source.table),
        Some(source.table),
        source.note,
    );
    if source.is_empty() {
        return Ok(());
    }
    let mut after = 0i64;
    for page in 1.. {
        // A deleted export stops within a few pages, not at the end of a long table.
        if page % CHECK_EVERY_PAGES == 0
            && !exports::is_running(env, id)
                .await
                .map_err(r2("checking the export is still wanted"))?
        {
            return Err(JobError::Abandoned);
        }
        let rows = exports::source_page(env, source, org_id, after)
            .await
            .map_err(r2("reading a page of rows"))?;
        let n = rows.len();
        for (rowid, r) in rows {
            after = rowid;
            archive.row(&Value::Object(r));
        }
        flush(archive, upload, progress).await?;
        if n < PAGE {
            break;
        }
    }
    Ok(())
}

/// Pages of a table read between two checks that the export is still `running`.
const CHECK_EVERY_PAGES: usize = 20;

/// The organisation's certificate PDFs, as issued, one file each.
async fn pdfs(
    env: &Env,
    bucket: &Bucket,
    org_id: &str,
    archive: &mut Archive,
    upload: &MultipartUpload,
    progress: &mut Progress,
) -> Result<(), JobError> {
    let mut after = 0i64;
    loop {
        let page = exports::pdf_page(env, org_id, after)
            .await
            .map_err(r2("listing certificate PDFs"))?;
        let n = page.len();
        for c in page {
            after = c.rowid;
            let Some(obj) = bucket
                .get(&c.pdf_key)
                .execute()
                .await
                .map_err(r2("reading a certificate PDF"))?
            else {
                continue;
            };
            if let Some(body) = obj.body() {
                let bytes = body
                    .bytes()
                    .await
                    .map_err(r2("reading a certificate PDF"))?;
                archive.begin(&format!("certificates/{}.pdf", c.id), None, None);
                archive.write(&bytes);
                archive.end();
                flush(archive, upload, progress).await?;
            }
        }
        if n < PAGE {
            return Ok(());
        }
    }
}

/// Cron: delete archives past their expiry and mark them expired.
pub async fn expire(env: &Env) -> worker::Result<usize> {
    let due = exports::due_for_expiry(env, &now_iso(), 500).await?;
    let bucket = env.bucket(bindings::BUCKET)?;
    for d in &due {
        bucket.delete(&d.r2_key).await?;
        exports::mark_expired(env, &d.id).await?;
    }
    Ok(due.len())
}
