//! Versions every response and certificate names, so a figure can be traced to its method.

/// The service's own version (from Cargo.toml).
pub const SERVICE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The service name reported by /health.
pub const SERVICE_NAME: &str = "carbontrace";

/// Public base path of every route.
pub const BASE_PATH: &str = "/api/v1";

/// Where the published signing keys are, at the origin root (where JOSE tooling looks).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Version of the calculation method (stages, formulas, model). Bumped on any change that
/// can move a figure.
pub const METHODOLOGY_VERSION: &str = "ct-lca-1.2";
