//! Who is calling: what the auth gate (`auth::gate`) found, which every handler, the limiter
//! and the failed-authentication counter read. Plain data, so it sits below all of them.

use crate::keys::{Mode, Role};
use crate::limits::{Plan, Quota};
use crate::store::sessions::SessionRow;

/// A console session behind a request: the stored row (person, membership, organisation) and
/// the cookie's token (held for this request only, to derive its CSRF token and sign it out).
#[derive(Debug, Clone)]
pub struct Session {
    pub row: SessionRow,
    pub token: String,
    pub token_hash: String,
}

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
    /// A person signed in to the console (`None`: a key, the admin token or nobody). Its
    /// organisation, mode and role fill the fields above as a key's would.
    pub session: Option<Box<Session>>,
    /// A PACT data recipient's client id (a call with a PACT access token).
    pub pact_client: Option<String>,
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
            session: None,
            pact_client: None,
        }
    }

    /// Who acts, as the audit log names them: the key's id, `user:<id>` for a console
    /// session, `pact:<client id>` for a PACT data recipient, `admin`, or `anonymous`.
    pub fn actor(&self) -> String {
        match (&self.key_id, &self.session) {
            (Some(k), _) => k.clone(),
            (None, Some(s)) => format!("user:{}", s.row.user_id),
            _ if self.pact_client.is_some() => {
                format!("pact:{}", self.pact_client.as_deref().unwrap_or_default())
            }
            _ if self.admin => "admin".into(),
            _ => "anonymous".into(),
        }
    }

    pub fn sandbox(&self) -> bool {
        self.mode == Mode::Test
    }
}
