//! The lifecycle engine: production, transport, use and end of life of one device, with an
//! uncertainty range, every assumption and where it came from, and the versions that
//! produced the figure. Plain Rust: no Cloudflare types.

pub mod batch;
pub mod engine;
pub mod fleet;
pub mod footprint;
pub mod input;
pub mod model;
pub mod report_request;
pub mod savings;
pub mod uncertainty;

pub use engine::Engine;
pub use footprint::*;
