//! The lifecycle on D1 and the queue: enqueue, claim, settle, dead-letter, sweep. See the
//! module header (`jobs/mod.rs`) for the state machine; every statement is
//! `crate::store::jobs`'s and names the state it expects, so two runners, a delete and the
//! sweep can never overwrite each other.

use serde_json::{json, Value};
use worker::Env;

use crate::audit::Record;
use crate::edge::audit;
use crate::edge::bindings;
use crate::edge::clock::{iso_after, now_iso};
use crate::edge::queue::{self, Job};
use crate::job::{
    gave_up, retry_delay_seconds, JobError, Kind, LEASE_SECONDS, QUEUED_DEADLINE_SECONDS,
    SWEEP_MAX_ATTEMPTS,
};
pub(crate) use crate::store::jobs::{Claimed, Outcome, Spec};
use crate::store::{self, jobs as rows, Tenant};

/// One kind of background job. `run` does the work and says what to store when it is done;
/// the runner does everything else (claiming, leases, retries, status, audit).
pub(crate) trait BackgroundJob {
    const KIND: Kind;

    /// Do the work of a claimed job. Classify failures: a storage or network hiccup is
    /// `Transient` (retried), anything that would fail again is `Permanent`.
    async fn run(env: &Env, job: &Claimed) -> Result<Done, JobError>;

    /// The job finished but its row had left `running` meanwhile (deleted, or taken over by
    /// the sweep): undo what the run left behind, if anything.
    async fn discard(_env: &Env, _job: &Claimed) {}
}

/// What a finished job stores (its kind's columns) and the audit entry's details.
pub(crate) struct Done {
    pub outcome: Outcome,
    pub details: Value,
}

/// Why a job could not be enqueued.
pub(crate) enum EnqueueError {
    /// The tenant already has its plan's number of jobs of this kind open (nothing written).
    CapReached { open: usize, cap: usize },
    /// The row could not be written (nothing was sent).
    Store(store::Error),
    /// The message could not be sent (the row was removed again).
    Queue(worker::Error),
}

/// A job to enqueue for a tenant.
pub(crate) struct Enqueue<'a> {
    pub id: &'a str,
    pub tenant: &'a Tenant,
    pub key_id: &'a str,
    /// The tenant's plan's cap on open jobs of this kind (checked in the insert itself).
    pub max_open: usize,
    pub spec: Spec,
}

/// Insert a job's `queued` row, within the tenant's cap, then send its message; if the send
/// fails the row is deleted, so no job waits for a message that does not exist. Returns the
/// row's `created_at`.
pub(crate) async fn enqueue(env: &Env, e: Enqueue<'_>) -> Result<String, EnqueueError> {
    let kind = e.spec.kind();
    let now = now_iso();
    let deadline = iso_after(QUEUED_DEADLINE_SECONDS);
    let new = rows::NewJob {
        id: e.id,
        tenant: e.tenant,
        key_id: e.key_id,
        created_at: &now,
        lease_until: &deadline,
        max_open: e.max_open,
        spec: e.spec,
    };
    if !rows::insert(env, &new).await.map_err(EnqueueError::Store)? {
        let open = rows::open_count(env, e.tenant, kind)
            .await
            .map_err(EnqueueError::Store)?;
        return Err(EnqueueError::CapReached {
            open,
            cap: e.max_open,
        });
    }
    if let Err(err) = queue::send(env, Job::run(kind, e.id)).await {
        worker::console_error!(
            "{} {}: queue send failed, removing the row: {err}",
            kind.table(),
            e.id
        );
        if let Err(d) = rows::delete_unsent(env, kind, e.id).await {
            worker::console_error!(
                "{} {}: could not remove the unsent job: {d}",
                kind.table(),
                e.id
            );
        }
        return Err(EnqueueError::Queue(err));
    }
    Ok(now)
}

/// What the consumer does with a job's message.
pub(crate) enum Next {
    Ack,
    Retry { delay_seconds: u32 },
}

fn retry_base(env: &Env) -> u32 {
    bindings::setting(env, "JOB_RETRY_BASE_SECONDS")
        .and_then(|v| v.parse().ok())
        .filter(|s| (1..=600).contains(s))
        .unwrap_or(30)
}

/// Claim job `id` and run it to a settled state.
pub(crate) async fn run<J: BackgroundJob>(env: &Env, id: &str) -> Next {
    let table = J::KIND.table();
    let job = match rows::claim(env, J::KIND, id, &now_iso(), &iso_after(LEASE_SECONDS)).await {
        Ok(Some(job)) => job,
        // Missing, terminal, or held by a live runner: a duplicate message, nothing to do.
        Ok(None) => return Next::Ack,
        Err(e) => {
            worker::console_error!("{table} {id}: could not claim: {e}");
            return Next::Retry {
                delay_seconds: retry_base(env),
            };
        }
    };
    match J::run(env, &job).await {
        Ok(done) => settle_done::<J>(env, &job, done).await,
        Err(JobError::Permanent(reason)) => settle_failed(env, J::KIND, &job, &reason).await,
        Err(JobError::Transient(reason)) => back_off(env, J::KIND, &job, &reason).await,
        Err(JobError::Abandoned) => abandon::<J>(env, &job).await,
    }
}

/// The row left `running` while the job ran: undo what the run left behind, and stop.
async fn abandon<J: BackgroundJob>(env: &Env, job: &Claimed) -> Next {
    worker::console_log!(
        "{} {}: left `running` while it ran; discarding",
        J::KIND.table(),
        job.id
    );
    J::discard(env, job).await;
    Next::Ack
}

async fn settle_done<J: BackgroundJob>(env: &Env, job: &Claimed, done: Done) -> Next {
    let table = J::KIND.table();
    match rows::settle_done(env, &job.id, &now_iso(), &done.outcome).await {
        Ok(false) => abandon::<J>(env, job).await,
        Ok(true) => {
            record(
                env,
                J::KIND,
                &job.org_id,
                &job.id,
                "completed",
                done.details,
                job.attempts,
            )
            .await;
            Next::Ack
        }
        Err(e) => {
            worker::console_error!("{table} {}: could not record done: {e}", job.id);
            Next::Retry {
                delay_seconds: retry_base(env),
            }
        }
    }
}

async fn settle_failed(env: &Env, kind: Kind, job: &Claimed, reason: &str) -> Next {
    let table = kind.table();
    worker::console_error!("{table} {} failed: {reason}", job.id);
    match rows::settle_failed(env, kind, &job.id, reason, &now_iso()).await {
        Ok(false) => Next::Ack,
        Ok(true) => {
            let details = json!({ "reason": reason });
            record(
                env,
                kind,
                &job.org_id,
                &job.id,
                "failed",
                details,
                job.attempts,
            )
            .await;
            Next::Ack
        }
        Err(e) => {
            worker::console_error!("{table} {}: could not record the failure: {e}", job.id);
            Next::Retry {
                delay_seconds: retry_base(env),
            }
        }
    }
}

async fn back_off(env: &Env, kind: Kind, job: &Claimed, reason: &str) -> Next {
    let delay = retry_delay_seconds(job.attempts, retry_base(env));
    worker::console_error!(
        "{} {} attempt {} failed, retrying in {delay}s: {reason}",
        kind.table(),
        job.id,
        job.attempts
    );
    let due = iso_after(delay as f64 + LEASE_SECONDS);
    match rows::back_off(env, kind, &job.id, reason, &due).await {
        Ok(false) => Next::Ack, // deleted meanwhile
        Ok(true) | Err(_) => Next::Retry {
            delay_seconds: delay,
        },
    }
}

/// The system's audit entry about a job (`report.completed`, `export.failed`…).
async fn record(
    env: &Env,
    kind: Kind,
    org_id: &str,
    id: &str,
    what: &str,
    mut details: Value,
    attempts: u32,
) {
    if let Value::Object(o) = &mut details {
        o.entry("attempts").or_insert(json!(attempts));
    }
    let r = Record {
        org_id: org_id.to_string(),
        at: now_iso(),
        actor: "system".into(),
        action: format!("{}.{what}", kind.audit_prefix()),
        target: Some(id.to_string()),
        details,
    };
    if let Err(e) = audit::append(env, r).await {
        worker::console_error!("{} {id}: audit entry LOST: {e}", kind.table());
    }
}

/// A job's messages ran out of retries (its message reached the dead-letter queue): fail it
/// with its last reason, unless it settled meanwhile.
pub(crate) async fn dead_letter(env: &Env, kind: Kind, id: &str) -> worker::Result<()> {
    let Some(row) = rows::pending(env, kind, id).await? else {
        return Ok(());
    };
    give_up(env, kind, row, "dead_letter").await
}

async fn give_up(env: &Env, kind: Kind, row: rows::Pending, via: &str) -> worker::Result<()> {
    let reason = gave_up(row.attempts, row.reason.as_deref());
    if rows::give_up(env, kind, &row.id, &reason, &now_iso()).await? {
        worker::console_error!("{} {}: {reason} ({via})", kind.table(), row.id);
        let details = json!({ "reason": reason, "via": via });
        record(
            env,
            kind,
            &row.org_id,
            &row.id,
            "failed",
            details,
            row.attempts,
        )
        .await;
    }
    Ok(())
}

/// Cron: every job whose deadline passed while `queued` or `running` (its message was lost,
/// or its runner died) is sent again, or failed once started [`SWEEP_MAX_ATTEMPTS`] times.
/// Returns (re-sent, failed).
pub(crate) async fn sweep(env: &Env) -> worker::Result<(usize, usize)> {
    let now = now_iso();
    let (mut resent, mut failed) = (0, 0);
    for kind in Kind::ALL {
        for row in rows::overdue(env, kind, &now, 200).await? {
            if row.attempts >= SWEEP_MAX_ATTEMPTS {
                give_up(env, kind, row, "sweep").await?;
                failed += 1;
                continue;
            }
            let deadline = iso_after(QUEUED_DEADLINE_SECONDS);
            if rows::requeue_overdue(env, kind, &row.id, &now, &deadline).await? {
                queue::send(env, Job::run(kind, &row.id)).await?;
                resent += 1;
            }
        }
    }
    Ok((resent, failed))
}
