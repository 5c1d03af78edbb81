//! The messages of the one jobs queue (`JOBS`), tagged by `kind`. The consumer that acts on
//! them is `crate::jobs` (the job lifecycle); this file only names them and sends them.

use serde::{Deserialize, Serialize};
use worker::Env;

use super::bindings;
use crate::job::Kind;

/// A message on the jobs queue.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Sent by the deep health check; the consumer records that it arrived.
    Probe { id: String },
    /// An audit entry D1 refused; retried by the queue until it lands.
    Audit(crate::audit::Record),
    /// Generate a fleet report (its request waits in R2, its row in D1).
    Report { id: String },
    /// Pull erasure reports from the Blancco cloud, page by page (resumable).
    BlanccoPull { id: String },
    /// Build an organisation's GDPR export archive.
    Export { id: String },
    /// Import a large asset file into the fleet inventory, a chunk at a time.
    AssetImport { id: String },
}

impl Job {
    /// The message that runs job `id` of `kind`.
    pub fn run(kind: Kind, id: &str) -> Job {
        let id = id.to_string();
        match kind {
            Kind::Report => Job::Report { id },
            Kind::Export => Job::Export { id },
            Kind::BlanccoPull => Job::BlanccoPull { id },
            Kind::AssetImport => Job::AssetImport { id },
        }
    }

    /// The job this message runs, if it runs one.
    pub fn job(&self) -> Option<(Kind, &str)> {
        match self {
            Job::Report { id } => Some((Kind::Report, id)),
            Job::Export { id } => Some((Kind::Export, id)),
            Job::BlanccoPull { id } => Some((Kind::BlanccoPull, id)),
            Job::AssetImport { id } => Some((Kind::AssetImport, id)),
            Job::Probe { .. } | Job::Audit(_) => None,
        }
    }
}

/// Put a message on the jobs queue.
pub async fn send(env: &Env, job: Job) -> worker::Result<()> {
    env.queue(bindings::JOBS)?.send(job).await
}
