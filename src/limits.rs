//! Plans and what each one allows. Pure arithmetic; the edge enforces it.

use serde::Serialize;

/// A pricing plan (SPEC: Keys, plans, rate limits), plus `internal` for the service's own jobs
/// and load tests: no limits, still counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Pro,
    Business,
    Enterprise,
    Internal,
}

impl Plan {
    pub fn parse(s: &str) -> Option<Plan> {
        Some(match s {
            "free" => Plan::Free,
            "pro" => Plan::Pro,
            "business" => Plan::Business,
            "enterprise" => Plan::Enterprise,
            "internal" => Plan::Internal,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
            Plan::Business => "business",
            Plan::Enterprise => "enterprise",
            Plan::Internal => "internal",
        }
    }

    /// Most devices one POST /footprint/batch may carry.
    pub fn batch_limit(self) -> usize {
        match self {
            Plan::Free => 10,
            Plan::Pro => 100,
            Plan::Business => 500,
            Plan::Enterprise | Plan::Internal => 1000,
        }
    }

    /// Requests per UTC day (`None`: unlimited).
    pub fn per_day(self) -> Option<u64> {
        match self {
            Plan::Free => Some(25),
            Plan::Pro => Some(1_000),
            Plan::Business => Some(10_000),
            Plan::Enterprise => Some(100_000),
            Plan::Internal => None,
        }
    }

    /// Requests per minute (`None`: unlimited).
    pub fn per_minute(self) -> Option<u64> {
        match self {
            Plan::Free => Some(5),
            Plan::Pro => Some(30),
            Plan::Business => Some(100),
            Plan::Enterprise => Some(500),
            Plan::Internal => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_match_the_spec_table() {
        assert_eq!(Plan::Free.per_day(), Some(25));
        assert_eq!(Plan::Enterprise.per_minute(), Some(500));
        assert_eq!(Plan::Internal.per_day(), None);
        assert_eq!(Plan::Business.batch_limit(), 500);
        for p in ["free", "pro", "business", "enterprise", "internal"] {
            assert_eq!(Plan::parse(p).map(Plan::name), Some(p));
        }
        assert_eq!(Plan::parse("gold"), None);
    }
}
