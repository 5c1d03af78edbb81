//! The Cloudflare edge: binding names, the rate-limit Durable Object, the queue consumer,
//! and randomness from the runtime. Nothing here holds domain logic.

pub mod audit;
pub mod bindings;
pub mod clock;
pub mod credentials;
pub mod d1;
pub mod icecat;
pub mod leases;
pub mod mail;
pub mod password;
pub mod queue;
pub mod random;
pub mod rate_limiter;
pub mod signing;
pub mod state;
