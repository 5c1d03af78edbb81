//! The queue handlers: `JOBS` runs each message's job through the runner; its dead-letter
//! queue (`JOBS_DLQ`, configured in wrangler.toml) receives messages whose retries ran out
//! and settles them, so no job stays `queued` or `running` for ever and no audit entry is
//! dropped without a trace.

use serde_json::Value;
use worker::{event, Context, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

use super::asset_import::AssetImportJob;
use super::blancco_pull::BlanccoPullJob;
use super::export::ExportJob;
use super::report::ReportJob;
use super::runner::{self, Next};
use crate::edge::clock::now_iso;
use crate::edge::queue::Job;
use crate::edge::{audit, bindings};

#[event(queue)]
pub async fn consume(batch: MessageBatch<Value>, env: Env, _ctx: Context) -> worker::Result<()> {
    let dead = batch.queue() == bindings::JOBS_DEAD_LETTER_QUEUE;
    for message in batch.messages()? {
        let job: Job = match serde_json::from_value(message.body().clone()) {
            Ok(job) => job,
            Err(e) => {
                // A message we cannot read will never become readable: drop it, loudly.
                worker::console_error!("dropping unreadable message {}: {e}", message.id());
                message.ack();
                continue;
            }
        };
        let next = if dead {
            dead_letter(&env, &job).await
        } else {
            handle(&env, &job).await
        };
        match next {
            Next::Ack => message.ack(),
            Next::Retry { delay_seconds } => message.retry_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(delay_seconds)
                    .build(),
            ),
        }
    }
    Ok(())
}

async fn handle(env: &Env, job: &Job) -> Next {
    match job {
        Job::Probe { id } => {
            let stored = async {
                env.kv(bindings::KV)?
                    .put(&bindings::queue_probe_key(id), now_iso())?
                    .expiration_ttl(3600)
                    .execute()
                    .await
                    .map_err(worker::Error::from)
            };
            match stored.await {
                Ok(()) => Next::Ack,
                Err(_) => Next::Retry { delay_seconds: 1 },
            }
        }
        Job::Audit(record) => match audit::append_now(env, record).await {
            Ok(_) => Next::Ack,
            Err(e) => {
                worker::console_error!(
                    "queued audit entry for {} failed again: {e}",
                    record.org_id
                );
                Next::Retry { delay_seconds: 5 }
            }
        },
        Job::Report { id } => runner::run::<ReportJob>(env, id).await,
        Job::Export { id } => runner::run::<ExportJob>(env, id).await,
        Job::BlanccoPull { id } => runner::run::<BlanccoPullJob>(env, id).await,
        Job::AssetImport { id } => runner::run::<AssetImportJob>(env, id).await,
    }
}

async fn dead_letter(env: &Env, job: &Job) -> Next {
    let settled = match (job, job.job()) {
        (Job::Audit(record), _) => audit::append_now(env, record).await.map(|_| ()),
        (_, Some((kind, id))) => runner::dead_letter(env, kind, id).await,
        _ => Ok(()), // a health probe: nothing to settle
    };
    match settled {
        Ok(()) => Next::Ack,
        Err(e) => {
            worker::console_error!("dead-letter handling of {job:?} failed: {e}");
            Next::Retry { delay_seconds: 30 }
        }
    }
}
