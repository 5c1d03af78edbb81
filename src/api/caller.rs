//! Who is calling: what the auth gate (`auth::gate`) found, which every handler, the limiter
//! and the failed-authentication counter read. Plain data, so it sits below all of them.

use crate::keys::{Mode, Role};
use crate::limits::{Plan, Quota};

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    pub plan: Plan,
    pub mode: Mode,
    pub key_id: Option<String>,
    pub org_id: Option<String>,
    /// The key's role (`None`: no key).
    pub role: Option<Role>,
    /// Rate-limit subject: `org:<id>:<mode>` for a key (a plan belongs to the organisation:
    /// all its keys of a mode share one budget), `ip:<address>`, or `admin`.
    pub subject: String,
    /// A rolled key in its grace period: it calls the API, and manages no keys.
    pub rolled: bool,
    pub admin: bool,
    /// Whether this call is metered; `quota` holds the figures for the headers.
    pub metered: bool,
    pub quota: Option<Quota>,
}

impl Caller {
    pub fn anonymous(ip: &str) -> Caller {
        Caller {
            plan: Plan::Free,
            mode: Mode::Live,
            key_id: None,
            org_id: None,
            role: None,
            subject: format!("ip:{ip}"),
            rolled: false,
            admin: false,
            metered: false,
            quota: None,
        }
    }

    pub fn sandbox(&self) -> bool {
        self.mode == Mode::Test
    }
}
