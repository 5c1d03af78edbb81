//! Who may call each route, and whether the call counts against a plan's limits: the table the
//! auth gate (`auth::gate`) reads. Pure, beside the route table.

use super::routes::Route;

/// Who may call a route, and whether it counts against a plan's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; not metered; no key looked up (health, OpenAPI, Reference).
    Public,
    /// Anyone, no key looked up; metered per client address on a public bucket
    /// (certificate verification).
    PublicMetered,
    /// Anyone; a key, if sent, must be valid; not metered (usage).
    Identified,
    /// Anyone (anonymous = free tier by IP); metered.
    Metered,
    /// An API key (401 without one); metered.
    Keyed,
    /// An API key of the Enterprise plan (Bearer or Basic with the key as password).
    Enterprise,
    /// An API key with the `admin` role (403 for a standard key); metered.
    OrgAdmin,
    /// The admin token.
    Admin,
}

impl Route {
    pub fn access(&self) -> Access {
        match self {
            Route::Health | Route::OpenApi | Route::Jwks => Access::Public,
            Route::ReferenceCountries
            | Route::ReferenceGridFactors
            | Route::ReferenceCategories => Access::Public,
            Route::Usage => Access::Identified,
            Route::Footprint | Route::FootprintBatch | Route::Savings => Access::Metered,
            Route::ProductSearch | Route::ProductIdentify | Route::Product(_) => Access::Metered,
            Route::CertificateCreate | Route::Certificate(_) | Route::CertificateRevoke(_) => {
                Access::Keyed
            }
            Route::CertificateVerify(_) => Access::PublicMetered,
            Route::ReportCreate | Route::Report(_) => Access::Keyed,
            Route::BlanccoSync
            | Route::BlanccoJob(_)
            | Route::BlanccoCredentialsGet
            | Route::BlanccoCredentialsPut
            | Route::BlanccoCredentialsDelete => Access::Keyed,
            Route::ExportCreate | Route::Export(_) | Route::ExportDelete(_) => Access::Keyed,
            Route::OData(_) => Access::Enterprise,
            Route::KeyCreate | Route::KeyList | Route::KeyRevoke(_) | Route::KeyRoll(_) => {
                Access::OrgAdmin
            }
            Route::AdminPutFactorSet(_)
            | Route::AdminDeleteFactorSet(_)
            | Route::AdminCreateKey
            | Route::AdminRevokeKey(_)
            | Route::AdminVerifyAudit(_) => Access::Admin,
        }
    }
}
