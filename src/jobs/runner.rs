//! The lifecycle on D1 and the queue: enqueue, claim, settle, dead-letter, sweep. See the
//! module header (`jobs/mod.rs`) for the state machine; each SQL statement here names the
//! state it expects, so two runners, a delete and the sweep can never overwrite each other.

use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

use super::lifecycle::{
    gave_up, retry_delay_seconds, JobError, Kind, LEASE_SECONDS, QUEUED_DEADLINE_SECONDS,
    SWEEP_MAX_ATTEMPTS,
};
use crate::edge::audit::{self, Record};
use crate::edge::bindings;
use crate::edge::clock::{iso_after, now_iso};
use crate::edge::d1::execute;
use crate::edge::queue::{self, Job};

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

/// A job row this runner holds.
#[derive(Debug, Deserialize)]
pub(crate) struct Claimed {
    pub id: String,
    pub org_id: String,
    pub attempts: u32,
}

/// What a finished job stores: extra columns of its row, and the audit entry's details.
pub(crate) struct Done {
    pub columns: Vec<(&'static str, JsValue)>,
    pub details: Value,
}

/// The `lease_until` of a job just enqueued: when its message should have arrived by.
pub(crate) fn queued_deadline() -> String {
    iso_after(QUEUED_DEADLINE_SECONDS)
}

/// Why a job could not be enqueued.
pub(crate) enum EnqueueError {
    /// The row could not be written (nothing was sent).
    Store(worker::Error),
    /// The message could not be sent (the row was removed again).
    Queue(worker::Error),
}

/// Insert a job's `queued` row (`insert` must bind `lease_until` to [`queued_deadline`]),
/// then send its message; if the send fails the row is deleted, so no job waits for a
/// message that does not exist.
pub(crate) async fn enqueue(
    env: &Env,
    kind: Kind,
    id: &str,
    insert: D1PreparedStatement,
) -> Result<(), EnqueueError> {
    insert.run().await.map_err(EnqueueError::Store)?;
    if let Err(e) = queue::send(env, Job::run(kind, id)).await {
        worker::console_error!(
            "{} {id}: queue send failed, removing the row: {e}",
            kind.table()
        );
        let removed = async {
            env.d1(bindings::DB)?
                .prepare(format!("DELETE FROM {} WHERE id = ?1", kind.table()))
                .bind(&[id.into()])?
                .run()
                .await
        };
        if let Err(e) = removed.await {
            worker::console_error!(
                "{} {id}: could not remove the unsent job: {e}",
                kind.table()
            );
        }
        return Err(EnqueueError::Queue(e));
    }
    Ok(())
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
    let now = now_iso();
    let claim = async {
        env.d1(bindings::DB)?
            .prepare(format!(
                "UPDATE {table} SET status = 'running', attempts = attempts + 1, \
                 started_at = COALESCE(started_at, ?2), lease_until = ?3 \
                 WHERE id = ?1 AND (status = 'queued' OR (status = 'running' AND lease_until < ?2)) \
                 RETURNING id, org_id, attempts"
            ))
            .bind(&[id.into(), now.clone().into(), iso_after(LEASE_SECONDS).into()])?
            .first::<Claimed>(None)
            .await
    };
    let job = match claim.await {
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
    }
}

async fn settle_done<J: BackgroundJob>(env: &Env, job: &Claimed, done: Done) -> Next {
    let table = J::KIND.table();
    let mut sql = format!(
        "UPDATE {table} SET status = 'done', reason = NULL, finished_at = ?2, lease_until = NULL"
    );
    let mut params: Vec<JsValue> = vec![job.id.clone().into(), now_iso().into()];
    for (column, value) in done.columns {
        params.push(value);
        sql.push_str(&format!(", {column} = ?{}", params.len()));
    }
    sql.push_str(" WHERE id = ?1 AND status = 'running'");
    match execute(env, &sql, &params).await {
        Ok(0) => {
            worker::console_log!(
                "{table} {}: left `running` while it ran; discarding",
                job.id
            );
            J::discard(env, job).await;
            Next::Ack
        }
        Ok(_) => {
            record(env, J::KIND, job, "completed", done.details).await;
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
    let sql = format!(
        "UPDATE {table} SET status = 'failed', reason = ?2, finished_at = ?3, lease_until = NULL \
         WHERE id = ?1 AND status = 'running'"
    );
    match execute(
        env,
        &sql,
        &[job.id.clone().into(), reason.into(), now_iso().into()],
    )
    .await
    {
        Ok(0) => Next::Ack,
        Ok(_) => {
            record(
                env,
                kind,
                job,
                "failed",
                json!({ "reason": reason, "attempts": job.attempts }),
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
    let table = kind.table();
    let delay = retry_delay_seconds(job.attempts, retry_base(env));
    worker::console_error!(
        "{table} {} attempt {} failed, retrying in {delay}s: {reason}",
        job.id,
        job.attempts
    );
    let sql = format!(
        "UPDATE {table} SET status = 'queued', reason = ?2, lease_until = ?3 \
         WHERE id = ?1 AND status = 'running'"
    );
    let params = [
        job.id.clone().into(),
        format!("retrying: {reason}").into(),
        iso_after(delay as f64 + LEASE_SECONDS).into(),
    ];
    match execute(env, &sql, &params).await {
        Ok(0) => Next::Ack, // deleted meanwhile
        Ok(_) | Err(_) => Next::Retry {
            delay_seconds: delay,
        },
    }
}

/// The system's audit entry about a job (`report.completed`, `export.failed`…).
async fn record(env: &Env, kind: Kind, job: &Claimed, what: &str, mut details: Value) {
    if let Value::Object(o) = &mut details {
        o.entry("attempts").or_insert(json!(job.attempts));
    }
    let r = Record {
        org_id: job.org_id.clone(),
        at: now_iso(),
        actor: "system".into(),
        action: format!("{}.{what}", kind.audit_prefix()),
        target: Some(job.id.clone()),
        details,
    };
    if let Err(e) = audit::append(env, r).await {
        worker::console_error!("{} {}: audit entry LOST: {e}", kind.table(), job.id);
    }
}

#[derive(Deserialize)]
struct Pending {
    id: String,
    org_id: String,
    attempts: u32,
    reason: Option<String>,
}

/// A job's messages ran out of retries (its message reached the dead-letter queue): fail it
/// with its last reason, unless it settled meanwhile.
pub(crate) async fn dead_letter(env: &Env, kind: Kind, id: &str) -> worker::Result<()> {
    let table = kind.table();
    let row: Option<Pending> = env
        .d1(bindings::DB)?
        .prepare(format!(
            "SELECT id, org_id, attempts, reason FROM {table} WHERE id = ?1 AND status IN ('queued', 'running')"
        ))
        .bind(&[id.into()])?
        .first(None)
        .await?;
    let Some(row) = row else { return Ok(()) };
    give_up(env, kind, row, "dead_letter").await
}

async fn give_up(env: &Env, kind: Kind, row: Pending, via: &str) -> worker::Result<()> {
    let table = kind.table();
    let reason = gave_up(row.attempts, row.reason.as_deref());
    let sql = format!(
        "UPDATE {table} SET status = 'failed', reason = ?2, finished_at = ?3, lease_until = NULL \
         WHERE id = ?1 AND status IN ('queued', 'running')"
    );
    if execute(
        env,
        &sql,
        &[
            row.id.clone().into(),
            reason.clone().into(),
            now_iso().into(),
        ],
    )
    .await?
        > 0
    {
        worker::console_error!("{table} {}: {reason} ({via})", row.id);
        let job = Claimed {
            id: row.id,
            org_id: row.org_id,
            attempts: row.attempts,
        };
        record(
            env,
            kind,
            &job,
            "failed",
            json!({ "reason": reason, "via": via }),
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
        let table = kind.table();
        let due: Vec<Pending> = env
            .d1(bindings::DB)?
            .prepare(format!(
                "SELECT id, org_id, attempts, reason FROM {table} WHERE status IN ('queued', 'running') \
                 AND (lease_until IS NULL OR lease_until < ?1) LIMIT 200"
            ))
            .bind(&[now.clone().into()])?
            .all()
            .await?
            .results()?;
        for row in due {
            if row.attempts >= SWEEP_MAX_ATTEMPTS {
                give_up(env, kind, row, "sweep").await?;
                failed += 1;
                continue;
            }
            let sql = format!(
                "UPDATE {table} SET status = 'queued', lease_until = ?3, \
                 reason = COALESCE(reason, 'recovered by the sweep') \
                 WHERE id = ?1 AND status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < ?2)"
            );
            if execute(
                env,
                &sql,
                &[
                    row.id.clone().into(),
                    now.clone().into(),
                    queued_deadline().into(),
                ],
            )
            .await?
                > 0
            {
                queue::send(env, Job::run(kind, &row.id)).await?;
                resent += 1;
            }
        }
    }
    Ok((resent, failed))
}
