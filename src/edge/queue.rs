//! The queue consumer: one queue (`JOBS`) carries every async job, tagged by `kind`.

use serde::{Deserialize, Serialize};
use worker::{event, Context, Env, MessageBatch, MessageExt};

use super::bindings;

/// A message on the jobs queue.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Sent by the deep health check; the consumer records that it arrived.
    Probe { id: String },
    /// An audit entry D1 refused after the response; retried here until it lands.
    Audit(super::audit::Record),
    /// Generate a fleet report (its request waits in R2, its row in D1).
    Report { id: String },
    /// Pull erasure reports from the Blancco cloud, page by page (resumable).
    BlanccoPull { id: String },
    /// Build an organisation's GDPR export archive.
    Export { id: String },
}

#[event(queue)]
pub async fn consume(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    ctx: Context,
) -> worker::Result<()> {
    for message in batch.messages()? {
        let job: Job = match serde_json::from_value(message.body().clone()) {
            Ok(job) => job,
            Err(e) => {
                // A message we cannot read will never become readable: drop it, loudly.
                worker::console_error!("dropping unreadable job {}: {e}", message.id());
                message.ack();
                continue;
            }
        };
        match run(&job, &env, &ctx).await {
            Ok(()) => message.ack(),
            Err(e) => {
                worker::console_error!("job {job:?} failed, will retry: {e}");
                message.retry();
            }
        }
    }
    Ok(())
}

async fn run(job: &Job, env: &Env, ctx: &Context) -> worker::Result<()> {
    match job {
        Job::Probe { id } => {
            let consumed_at = js_sys::Date::new_0()
                .to_iso_string()
                .as_string()
                .unwrap_or_default();
            env.kv(bindings::KV)?
                .put(&bindings::queue_probe_key(id), consumed_at)?
                .expiration_ttl(3600)
                .execute()
                .await?;
            Ok(())
        }
        Job::Audit(record) => super::audit::append_now(env, record).await.map(|_| ()),
        Job::Report { id } => crate::api::reports::run(env, ctx, id).await,
        Job::BlanccoPull { id } => crate::api::blancco::run_pull(env, ctx, id).await,
        Job::Export { id } => crate::api::exports::run(env, ctx, id).await,
    }
}
