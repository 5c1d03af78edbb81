//! An organisation's fleet inventory and its carbon accounting (domain, native tests):
//! [`asset`] validates an asset and pins its footprint when it is written; [`ghg`] allocates
//! the pinned footprints of a reporting year to GHG Protocol scopes and Scope 3 categories,
//! in the GHG and the amortised view, with ranges and the primary-data share; [`import`]
//! reads the asset lists people already keep (CarbonTrace, Snipe-IT, Intune, G4IT), and
//! [`ingest`] validates, deduplicates and sorts their rows (and tracks a staged import);
//! [`sandbox`] is the fixed inventory test keys see.

pub mod asset;
pub mod ghg;
pub mod import;
pub mod ingest;
pub mod sandbox;
