//! Who may call a route, and whether the call counts against a plan's limits: the column of
//! the route table (`routes.rs`) that the auth gate (`auth::gate`) reads.

/// Who may call a route, and whether it counts against a plan's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; not metered; no key looked up (health, Reference, the JWK Set, PACT discovery).
    Public,
    /// Anyone, no key looked up; metered per client address on a public bucket
    /// (certificate verification).
    PublicMetered,
    /// Anyone; a key, if sent, must be valid; not metered (usage).
    Identified,
    /// Anyone (anonymous = free tier by IP); metered.
    Metered,
    /// An API key, or a console session (401 without either); metered (a session's reads in a
    /// console bucket of their own, `auth::gate`).
    Keyed,
    /// An API key of the Enterprise plan (Bearer or Basic with the key as password).
    Enterprise,
    /// An API key with the `admin` role, or the owner's console session (403 for a standard
    /// key or a member, and for a rolled key in its grace period); not metered (the plan's key
    /// cap bounds it).
    OrgAdmin,
    /// A person signed in to the console (the session cookie); not metered.
    Session,
    /// The owner of an organisation, signed in to the console; not metered.
    Owner,
    /// A PACT access token (`POST /pact/auth/token`): the organisation and mode it was issued
    /// for; metered on the organisation's plan.
    Pact,
    /// The admin token.
    Admin,
}
