//! The GDPR export job: every table of the organisation, read a page at a time (keyset on
//! rowid), and its certificate PDFs, streamed into one ZIP (`export::Archive`) and uploaded
//! to R2 as a multipart upload in fixed-size parts: memory stays bounded whatever the row
//! count. After each source (a table, then the PDFs) the job records a checkpoint (parts
//! uploaded, archive state) in D1 and the bytes not yet uploaded in R2, so a retried job
//! resumes after the last finished source. The archive's key is fixed per export, so a
//! retry never leaves two. An export deleted while it was being built finds its `done`
//! refused and removes what it wrote. Also the cron's expiry of archives past their date.

use serde_json::{json, Map, Value};
use worker::{Bucket, Env, MultipartUpload, UploadedPart};

use super::lifecycle::{JobError, Kind};
use super::runner::{BackgroundJob, Claimed, Done};
use crate::edge::bindings;
use crate::edge::clock::{now_iso, now_ms};
use crate::export::Archive;
use crate::store::exports::{self, Export, Progress};

/// Rows read per D1 query (keyset paging on rowid).
const PAGE: usize = 1000;

/// A table of the archive: which columns (never key hashes), selected by which column.
struct Source {
    table: &'static str,
    columns: &'static str,
    owner: &'static str,
    note: Option<&'static str>,
}

const TABLES: [Source; 10] = [
    Source { table: "api_keys", columns: "id, org_id, prefix, plan, mode, created_at, revoked_at, last_used_at", owner: "org_id", note: Some("key metadata only: the keys' hashes are not exported") },
    Source { table: "usage_daily", columns: "subject, org_id, day, requests", owner: "org_id", note: None },
    Source { table: "calculations", columns: "", owner: "", note: Some("single footprint calculations are not stored; certificates, reports and assets hold what was kept") },
    Source { table: "certificates", columns: "id, org_id, key_id, kind, issued_at, canonical, content_hash, signature, signing_key_id, factor_set_version, total_kg_co2e, pdf_key, pdf_hash, pdf_bytes, revoked_at", owner: "org_id", note: None },
    Source { table: "reports", columns: "id, org_id, key_id, type, title, period, source, status, reason, created_at, started_at, finished_at, pdf_key, pdf_bytes, summary", owner: "org_id", note: None },
    Source { table: "assets", columns: "*", owner: "org_id", note: None },
    Source { table: "integration_jobs", columns: "id, org_id, key_id, kind, params, status, reason, cursor, pages, result, created_at, finished_at", owner: "org_id", note: None },
    Source { table: "exports", columns: "id, org_id, key_id, status, reason, created_at, finished_at, expires_at, r2_key, bytes", owner: "org_id", note: None },
    Source { table: "idempotency", columns: "scope, idem_key, method_path, body_hash, status, response, created_at", owner: "scope", note: None },
    Source { table: "audit_log", columns: "*", owner: "org_id", note: None },
];

fn pending_key(row: &Export) -> String {
    format!("{}.pending", row.r2_key)
}

fn r2(step: &str) -> impl Fn(worker::Error) -> JobError + '_ {
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
        for step in archive.step..=TABLES.len() {
            match TABLES.get(step) {
                Some(source) => {
                    dump(
                        env,
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
            exports::save_progress(env, &row.job.id, &progress)
                .await
                .map_err(r2("saving the checkpoint"))?;
        }
        let org: Value = crate::store::first(
            env,
            "SELECT id, name, created_at FROM organisations WHERE id = ?1",
            &[row.org_id.clone().into()],
        )
        .await
        .map_err(r2("reading the organisation"))?
        .unwrap_or(Value::Null);
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
            columns: vec![
                ("bytes", (total as f64).into()),
                ("manifest", manifest.to_string().into()),
                ("progress", wasm_bindgen::JsValue::NULL),
            ],
            details: json!({ "bytes": total, "parts": progress.parts.len() }),
        })
    }

    async fn discard(env: &Env, job: &Claimed) {
        if let Ok(Some(row)) = exports::find(env, &job.id).await {
            if row.job.status == "deleted" {
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
    if source.columns.is_empty() {
        return Ok(());
    }
    let db = bindings::db(env).map_err(r2("opening D1"))?;
    let mut after = 0f64;
    loop {
        let sql = format!(
            "SELECT rowid AS _rowid, {} FROM {} WHERE {} = ?1 AND rowid > ?2 ORDER BY rowid LIMIT {PAGE}",
            source.columns, source.table, source.owner
        );
        let rows: Vec<Map<String, Value>> = async {
            db.prepare(sql)
                .bind(&[org_id.into(), after.into()])?
                .all()
                .await?
                .results()
        }
        .await
        .map_err(r2("reading a page of rows"))?;
        let n = rows.len();
        for mut r in rows {
            after = r.remove("_rowid").and_then(|v| v.as_f64()).unwrap_or(after);
            archive.row(&Value::Object(r));
        }
        flush(archive, upload, progress).await?;
        if n < PAGE {
            return Ok(());
        }
    }
}

/// The organisation's certificate PDFs, as issued, one file each.
async fn pdfs(
    env: &Env,
    bucket: &Bucket,
    org_id: &str,
    archive: &mut Archive,
    upload: &MultipartUpload,
    progress: &mut Progress,
) -> Result<(), JobError> {
    #[derive(serde::Deserialize)]
    struct Pdf {
        id: String,
        pdf_key: String,
        rowid: f64,
    }
    let mut after = 0f64;
    loop {
        let page: Vec<Pdf> = async {
            bindings::db(env)?
                .prepare(format!(
                    "SELECT id, pdf_key, rowid FROM certificates WHERE org_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT {PAGE}"
                ))
                .bind(&[org_id.into(), after.into()])?
                .all()
                .await?
                .results()
        }
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
    let due = exports::due_for_expiry(env, 500).await?;
    let bucket = env.bucket(bindings::BUCKET)?;
    for d in &due {
        bucket.delete(&d.r2_key).await?;
        exports::mark_expired(env, &d.id).await?;
    }
    Ok(due.len())
}
