//! The job lifecycle as plain data, tested natively: the states a job row can be in, which
//! moves are allowed, how a failure is classified, and how long to wait before a retry.
//!
//! ```text
//!   enqueue ──► queued ──claim──► running ──► done
//!                 ▲                  │  └───► failed   (permanent error, or retries exhausted:
//!                 └── transient ─────┘                  dead-letter queue, or the sweep)
//!   exports only: done ──► expired (cron) | deleted (DELETE), and queued/running ──► deleted
//! ```
//! `lease_until` on a row that is not terminal is the time by which it must have moved on:
//! while `running`, the runner's lease; while `queued`, when its message should have been
//! delivered. The hourly sweep re-enqueues (or fails) rows whose deadline has passed.
//!
//! The statements that make these moves are `crate::store::jobs`; the runner that calls them
//! on the edge is `crate::jobs`.

/// A job row's state. Stored as its lower-case name in each job table's `status` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued,
    Running,
    Done,
    Failed,
    /// Exports only: the archive passed its expiry and was removed by the cron.
    Expired,
    /// Exports only: the caller deleted it (early, or while it was still being built).
    Deleted,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Expired => "expired",
            Status::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "queued" => Status::Queued,
            "running" => Status::Running,
            "done" => Status::Done,
            "failed" => Status::Failed,
            "expired" => Status::Expired,
            "deleted" => Status::Deleted,
            _ => return None,
        })
    }

    /// Nothing more happens to a job in a terminal state (a duplicated message is a no-op).
    pub const fn is_terminal(self) -> bool {
        !matches!(self, Status::Queued | Status::Running)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lifecycle columns every job table has (reports, exports, pulls), read with the row
/// (`#[serde(flatten)]` in each table's row type).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct JobColumns {
    pub id: String,
    pub status: String,
    pub reason: Option<String>,
    pub attempts: f64,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// The kinds of background job, each with its own table (its row is what a client polls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Report,
    Export,
    BlanccoPull,
    /// A fleet-inventory import of more than 1,000 rows (`jobs::asset_import`).
    AssetImport,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Report,
        Kind::Export,
        Kind::BlanccoPull,
        Kind::AssetImport,
    ];

    pub const fn table(self) -> &'static str {
        match self {
            Kind::Report => "reports",
            Kind::Export => "exports",
            Kind::BlanccoPull => "integration_jobs",
            Kind::AssetImport => "inventory_imports",
        }
    }

    /// Prefix of audit actions about this kind (`report.completed`, `export.failed`).
    pub const fn audit_prefix(self) -> &'static str {
        match self {
            Kind::Report => "report",
            Kind::Export => "export",
            Kind::BlanccoPull => "blancco.pull",
            Kind::AssetImport => "assets.import",
        }
    }
}

/// Why a job's run did not finish, and so what happens next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Worth another try (a storage or network hiccup, a rate limit): the message goes back
    /// to the queue with a growing delay, and the row stays `queued` with this reason.
    Transient(String),
    /// Will fail the same way every time (bad input, an empty fleet, rejected credentials):
    /// the row ends `failed` with this reason.
    Permanent(String),
    /// The job's row left `running` while it ran (deleted, or taken over by the sweep): the
    /// run stops early, undoes what it left behind, and its message is acknowledged.
    Abandoned,
}

impl JobError {
    pub fn transient(step: &str, e: impl std::fmt::Display) -> Self {
        JobError::Transient(format!("{step}: {e}"))
    }

    pub fn reason(&self) -> &str {
        match self {
            JobError::Transient(r) | JobError::Permanent(r) => r,
            JobError::Abandoned => "the job left `running` while it ran",
        }
    }
}

/// Longest wait between two attempts.
pub const MAX_RETRY_DELAY_SECONDS: u32 = 900;
/// How long a runner holds a job before the sweep may take it back.
pub const LEASE_SECONDS: f64 = 900.0;
/// How long a queued job may wait for its message before the sweep re-sends it.
pub const QUEUED_DEADLINE_SECONDS: f64 = 3600.0;
/// The sweep gives up on a job (marks it failed) once it has been started this many times.
pub const SWEEP_MAX_ATTEMPTS: u32 = 10;

/// Seconds to wait before attempt `attempts + 1`, after `attempts` failed ones: `base`,
/// then doubling, capped at [`MAX_RETRY_DELAY_SECONDS`]. Saturates, never panics.
pub fn retry_delay_seconds(attempts: u32, base: u32) -> u32 {
    let doublings = attempts.saturating_sub(1).min(31);
    base.saturating_mul(1u32 << doublings)
        .min(MAX_RETRY_DELAY_SECONDS)
}

/// The reason a job ends with when its retries are exhausted.
pub fn gave_up(attempts: u32, last: Option<&str>) -> String {
    let last = last
        .map(|r| r.trim_start_matches("retrying: "))
        .filter(|r| !r.is_empty())
        .unwrap_or("no reason recorded");
    format!("gave up after {attempts} attempt(s): {last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_only_queued_and_running_move_on() {
        for s in [
            Status::Queued,
            Status::Running,
            Status::Done,
            Status::Failed,
            Status::Expired,
            Status::Deleted,
        ] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("Done"), None);
        assert!(!Status::Queued.is_terminal() && !Status::Running.is_terminal());
        assert!(Status::Done.is_terminal() && Status::Deleted.is_terminal());
    }

    #[test]
    fn retry_delays_double_and_saturate() {
        assert_eq!(retry_delay_seconds(1, 30), 30);
        assert_eq!(retry_delay_seconds(2, 30), 60);
        assert_eq!(retry_delay_seconds(4, 30), 240);
        assert_eq!(retry_delay_seconds(6, 30), MAX_RETRY_DELAY_SECONDS);
        assert_eq!(retry_delay_seconds(0, 1), 1);
        assert_eq!(
            retry_delay_seconds(u32::MAX, u32::MAX),
            MAX_RETRY_DELAY_SECONDS
        );
    }

    #[test]
    fn the_final_reason_keeps_the_last_error() {
        assert_eq!(
            gave_up(4, Some("retrying: Blancco answered 503")),
            "gave up after 4 attempt(s): Blancco answered 503"
        );
        assert_eq!(
            gave_up(1, None),
            "gave up after 1 attempt(s): no reason recorded"
        );
    }

    #[test]
    fn every_kind_has_its_own_table() {
        let mut tables: Vec<_> = Kind::ALL.iter().map(|k| k.table()).collect();
        tables.sort();
        tables.dedup();
        assert_eq!(tables.len(), Kind::ALL.len());
    }
}
