//! The HTTP API. `problem`, `routes` and `openapi` are pure (tested natively); the rest is
//! the thin edge glue compiled for wasm32 only: one file per endpoint group.

pub mod access;
pub mod caller;
pub mod openapi;
pub mod parse;
pub mod problem;
pub mod routes;
pub mod views;

#[cfg(target_arch = "wasm32")]
pub(crate) mod http;
#[cfg(target_arch = "wasm32")]
pub(crate) mod router;

#[cfg(target_arch = "wasm32")]
mod account;
#[cfg(target_arch = "wasm32")]
mod account_links;
#[cfg(target_arch = "wasm32")]
mod admin;
#[cfg(target_arch = "wasm32")]
mod asset_import;
#[cfg(target_arch = "wasm32")]
mod assets;
#[cfg(target_arch = "wasm32")]
mod auth;
#[cfg(target_arch = "wasm32")]
mod auth_failures;
#[cfg(target_arch = "wasm32")]
mod background;
#[cfg(target_arch = "wasm32")]
mod blancco;
#[cfg(target_arch = "wasm32")]
mod body;
#[cfg(target_arch = "wasm32")]
mod certificates;
#[cfg(target_arch = "wasm32")]
mod docs;
#[cfg(target_arch = "wasm32")]
mod exports;
#[cfg(target_arch = "wasm32")]
mod factor_sets;
#[cfg(target_arch = "wasm32")]
mod footprint;
#[cfg(target_arch = "wasm32")]
mod health;
#[cfg(target_arch = "wasm32")]
mod idempotency;
#[cfg(target_arch = "wasm32")]
mod integrations;
#[cfg(target_arch = "wasm32")]
mod inventory;
#[cfg(target_arch = "wasm32")]
mod key_cache;
#[cfg(target_arch = "wasm32")]
mod key_issue;
#[cfg(target_arch = "wasm32")]
mod keys;
#[cfg(target_arch = "wasm32")]
mod limiter;
#[cfg(target_arch = "wasm32")]
mod members;
#[cfg(target_arch = "wasm32")]
mod odata;
#[cfg(target_arch = "wasm32")]
mod pact;
#[cfg(target_arch = "wasm32")]
mod pact_host;
#[cfg(target_arch = "wasm32")]
mod products;
#[cfg(target_arch = "wasm32")]
mod reference;
#[cfg(target_arch = "wasm32")]
mod reports;
#[cfg(target_arch = "wasm32")]
mod sandbox;
#[cfg(target_arch = "wasm32")]
mod savings;
#[cfg(target_arch = "wasm32")]
mod session;
#[cfg(target_arch = "wasm32")]
mod signing_keys;
#[cfg(target_arch = "wasm32")]
mod usage;
#[cfg(target_arch = "wasm32")]
mod verify;
