//! Background jobs: one lifecycle for every kind of job, written once.
//!
//! A job is a row in its kind's table (`reports`, `exports`, `integration_jobs`,
//! `inventory_imports`: what the
//! client polls) plus a message on the `JOBS` queue. [`crate::job`] is the pure part (states,
//! error classes, back-off) and [`crate::store::jobs`] the statements, both tested natively.
//! The rest runs on the edge:
//! - `enqueue`: insert the `queued` row (within the tenant's cap on open jobs of its kind, in
//!   the same statement), send the message, delete the row if the send fails;
//! - `run`: claim the row (`queued`, or `running` past its lease → `running`, attempts + 1,
//!   a lease), call the job's `BackgroundJob::run`, then settle it: `done` with its columns,
//!   `failed` with the reason (permanent error), or back to `queued` with the reason and a
//!   retry after an exponential delay (transient error). Every settling statement names the state
//!   it expects (`AND status = 'running'`), so a job deleted meanwhile stays deleted, and a
//!   duplicated message finds nothing to claim. Done and failed write a `system` audit entry.
//! - the consumer (`consumer.rs`): the queue handler, and the dead-letter queue's, which
//!   fails a job whose messages ran out of retries with its last reason;
//! - `sweep` (hourly cron): re-sends jobs whose deadline passed (a lost message, a runner
//!   that died mid-run), and fails those started [`crate::job::SWEEP_MAX_ATTEMPTS`] times.
//!
//! Each kind implements `BackgroundJob` in a file of its own (as crates.io's background
//! jobs do): `report.rs`, `export.rs`, `blancco_pull.rs`, `asset_import.rs`.

#[cfg(target_arch = "wasm32")]
mod asset_import;
#[cfg(target_arch = "wasm32")]
mod blancco_pull;
#[cfg(target_arch = "wasm32")]
mod consumer;
#[cfg(target_arch = "wasm32")]
mod export;
#[cfg(target_arch = "wasm32")]
mod import;
#[cfg(target_arch = "wasm32")]
mod report;
#[cfg(target_arch = "wasm32")]
mod runner;

#[cfg(target_arch = "wasm32")]
pub(crate) use export::expire as expire_exports;
#[cfg(target_arch = "wasm32")]
pub(crate) use import::import;
#[cfg(target_arch = "wasm32")]
pub(crate) use runner::{enqueue, sweep, Enqueue, EnqueueError, Spec};
