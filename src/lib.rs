//! CarbonTrace: the lifecycle carbon footprint of an IT device in one API call.
//!
//! Two layers, kept apart on purpose:
//! - domain modules (plain Rust, no Cloudflare types, tested natively with `cargo test`):
//!   [`lca`] (engine, attribute model, savings), [`factors`] (the compiled-in factor set),
//!   [`catalog`] (published products), [`api::problem`] (the one error type),
//!   [`api::routes`] (the route table), [`version`];
//! - the edge layer, compiled for `wasm32` only: `api` handlers (one file per endpoint group), `edge` (bindings, the rate-limit Durable Object, the queue consumer).

// `ApiError` carries the whole problem (field errors, headers); it only travels on the error
// path, so its size costs nothing on the hot path and boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod audit;
pub mod blancco;
pub mod catalog;
pub mod certs;
pub mod export;
pub mod factors;
pub mod keys;
pub mod lca;
pub mod limits;
pub mod odata;
pub mod pdf;
pub mod secure;
pub mod version;

#[cfg(target_arch = "wasm32")]
mod edge;
