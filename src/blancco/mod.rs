//! Blancco erasure reports: reading both export forms ([`report`]) and importing the erased
//! devices with their avoided emissions ([`import`]). Pure: the HTTP upload, the cloud pull
//! job and the D1 writes live in `api::blancco`, `jobs::blancco_pull` and `store::assets`.

pub mod import;
pub mod pull;
pub mod report;

pub use report::*;
