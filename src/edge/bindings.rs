//! Binding and secret names, as declared in wrangler.toml and `.dev.vars.example`.

pub const KV: &str = "KV";
pub const DB: &str = "DB";
pub const BUCKET: &str = "BUCKET";
pub const JOBS: &str = "JOBS";
pub const RATE_LIMITER: &str = "RATE_LIMITER";

/// Secret guarding admin routes and the deep health check.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";

/// KV key under which the queue consumer records a consumed health probe.
pub fn queue_probe_key(id: &str) -> String {
    format!("probe:queue:{id}")
}
