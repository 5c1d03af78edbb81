//! CarbonTrace: the lifecycle carbon footprint of an IT device in one API call.
//!
//! Layers, each importing only from itself and the ones above it in this list, with no
//! import ring anywhere (`scripts/layers.py` proves both in the test command; the compiler
//! proves one more boundary: the `worker` crate exists for wasm32 only):
//! 1. **domain** — plain Rust, no Cloudflare types, tested natively with `cargo test`:
//!    [`accounts`] (console accounts, passwords, sessions),
//!    [`lca`] (engine, attribute model, savings, fleet analysis, report requests),
//!    [`inventory`] (fleet assets, pinned footprints, GHG accounting of a reporting year),
//!    [`pact`] (PACT v3 footprints, filters, events, tokens),
//!    [`factors`], [`catalog`], [`certs`], [`odata`], [`blancco`], [`export`], [`pdf`],
//!    [`audit`], [`limits`], [`keys`], [`validation`] (the `FieldError` parsers report),
//!    [`client`] (rate-limit buckets), [`secure`] (constant-time compare, sealing),
//!    [`cache`] (what an isolate remembers between requests),
//!    [`job`] (job states, error classes, back-off), [`version`];
//! 2. **storage** ([`store`], native and wasm32) — every SQL statement, one file per table or
//!    aggregate, over the `store::Db` interface (D1 on the edge, SQLite in native tests);
//!    tenancy and mode in the SQL;
//! 3. **edge** (`edge`, wasm32) — bindings, clock, D1 behind `store::Db`, the rate-limit and
//!    audit-sequencer Durable Objects, queue messages, signing keys, sealed credentials, the
//!    per-isolate factor state;
//! 4. **jobs** ([`jobs`], wasm32) — the one job runner (enqueue, claim, settle, retry,
//!    dead-letter, sweep) and one file per kind of background job;
//! 5. **HTTP** ([`api`]) — the pure error type, caller, route table and OpenAPI document, and
//!    on wasm32 the router, the auth gate and one handler file per endpoint group
//!    (parse → domain → store → respond).

// `ApiError` carries the whole problem (field errors, headers); it only travels on the error
// path, so its size costs nothing on the hot path and boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod accounts;
pub mod api;
pub mod audit;
pub mod blancco;
pub mod cache;
pub mod catalog;
pub mod certs;
pub mod client;
pub mod export;
pub mod factors;
pub mod inventory;
pub mod job;
pub mod jobs;
pub mod keys;
pub mod lca;
pub mod limits;
pub mod odata;
pub mod pact;
pub mod pdf;
pub mod secure;
pub mod store;
#[cfg(test)]
pub(crate) mod testing;
pub mod validation;
pub mod version;

#[cfg(target_arch = "wasm32")]
mod edge;
