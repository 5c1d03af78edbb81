//! Plans and what each one allows. Pure arithmetic; the edge enforces it.

use serde::Serialize;

/// A pricing plan (SPEC: Keys, plans, rate limits), plus `internal` for the service's own jobs
/// and load tests (no limits, still counted), and two buckets no key is ever on: the public
/// certificate verification per client, and failed authentications per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Pro,
    Business,
    Enterprise,
    Internal,
    /// `GET /certificates/{id}/verify`, per client address (public, generous).
    PublicVerify,
    /// Failed authentications, per client address (small: guessing keys is not a use).
    AuthFailures,
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
            Plan::PublicVerify => "public_verify",
            Plan::AuthFailures => "auth_failures",
        }
    }

    /// Most devices one POST /footprint/batch may carry.
    pub fn batch_limit(self) -> usize {
        match self {
            Plan::Free => 10,
            Plan::Pro => 100,
            Plan::Business => 500,
            Plan::Enterprise | Plan::Internal => 1000,
            Plan::PublicVerify | Plan::AuthFailures => 0,
        }
    }

    /// Most background jobs (reports, exports, pulls) of one kind an organisation may have
    /// queued or running at once.
    pub fn max_open_jobs(self) -> usize {
        match self {
            Plan::Free => 1,
            Plan::Pro => 2,
            Plan::Business => 5,
            Plan::Enterprise => 10,
            Plan::Internal => 100,
            Plan::PublicVerify | Plan::AuthFailures => 0,
        }
    }

    /// Most active keys (not revoked, not past a roll's grace) an organisation holds, both
    /// modes together: past it `POST /keys` answers 409.
    pub fn max_active_keys(self) -> usize {
        match self {
            Plan::Free => 20,
            Plan::Pro | Plan::Business | Plan::Enterprise | Plan::Internal => 100,
            Plan::PublicVerify | Plan::AuthFailures => 0,
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
            Plan::PublicVerify => Some(10_000),
            // Failed authentications block for minutes, never for the rest of a day.
            Plan::AuthFailures => None,
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
            Plan::PublicVerify => Some(60),
            Plan::AuthFailures => Some(10),
        }
    }
}

/// The rate-limit subject of an organisation's keys of one mode: a plan belongs to the
/// organisation, so all its keys of a mode (and its background jobs) share one budget.
pub fn org_subject(org_id: &str, mode: crate::keys::Mode) -> String {
    format!("org:{org_id}:{}", mode.name())
}

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    Minute,
    Day,
}

/// Counts of one subject (a key, or an anonymous IP) in the current UTC minute and day.
/// Lives in the subject's Durable Object; every operation first rolls the windows forward.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counter {
    pub minute: i64,
    pub minute_used: u64,
    pub day: i64,
    pub day_used: u64,
}

/// Tokens an isolate did not spend, handed back with the windows they were counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Unused {
    pub minute: i64,
    pub day: i64,
    pub tokens: u64,
}

/// The state of a subject's limits after an operation (for headers and /usage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Quota {
    /// Window numbers (ms since epoch / window length) the figures belong to.
    pub minute: i64,
    pub day: i64,
    pub minute_used: u64,
    pub day_used: u64,
    pub minute_limit: Option<u64>,
    pub day_limit: Option<u64>,
    /// Seconds until each window resets.
    pub minute_reset_s: u64,
    pub day_reset_s: u64,
}

impl Quota {
    pub fn minute_remaining(&self) -> Option<u64> {
        self.minute_limit
            .map(|l| l.saturating_sub(self.minute_used))
    }
    pub fn day_remaining(&self) -> Option<u64> {
        self.day_limit.map(|l| l.saturating_sub(self.day_used))
    }
}

/// A refusal: which limit, and when a request would pass again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Refusal {
    pub window: Window,
    pub retry_after_s: u64,
    pub quota: Quota,
}

/// A grant of `tokens` requests (a lease), counted as used from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Grant {
    pub tokens: u64,
    pub quota: Quota,
}

impl Counter {
    fn roll(&mut self, now_ms: i64) {
        let (minute, day) = (now_ms.div_euclid(MINUTE_MS), now_ms.div_euclid(DAY_MS));
        if minute != self.minute {
            self.minute = minute;
            self.minute_used = 0;
        }
        if day != self.day {
            self.day = day;
            self.day_used = 0;
        }
    }

    pub fn quota(&self, plan: Plan, now_ms: i64) -> Quota {
        let mut c = *self;
        c.roll(now_ms);
        Quota {
            minute: c.minute,
            day: c.day,
            minute_used: c.minute_used,
            day_used: c.day_used,
            minute_limit: plan.per_minute(),
            day_limit: plan.per_day(),
            minute_reset_s: ((c.minute + 1) * MINUTE_MS - now_ms)
                .div_euclid(1000)
                .max(1) as u64,
            day_reset_s: ((c.day + 1) * DAY_MS - now_ms).div_euclid(1000).max(1) as u64,
        }
    }

    /// Give back tokens an isolate did not spend (only those counted in the current windows).
    pub fn give_back(&mut self, unused: Unused, now_ms: i64) {
        self.roll(now_ms);
        if unused.minute == self.minute {
            self.minute_used = self.minute_used.saturating_sub(unused.tokens);
        }
        if unused.day == self.day {
            self.day_used = self.day_used.saturating_sub(unused.tokens);
        }
    }

    /// Lease up to `want` requests, each counting 1 against the minute and the day. Near a
    /// limit the lease shrinks (a quarter of what is left, at least 1), so tokens parked in
    /// one isolate cannot starve another for long and the last ones go one at a time.
    pub fn acquire(&mut self, plan: Plan, want: u64, now_ms: i64) -> Result<Grant, Refusal> {
        self.roll(now_ms);
        let q = self.quota(plan, now_ms);
        let left = match (q.minute_remaining(), q.day_remaining()) {
            (Some(m), Some(d)) => Some(m.min(d)),
            (m, d) => m.or(d),
        };
        let tokens = match left {
            None => want.max(1),
            Some(0) => return Err(self.refusal(q)),
            Some(left) => want.max(1).min((left / 4).max(1)),
        };
        self.minute_used += tokens;
        self.day_used += tokens;
        Ok(Grant {
            tokens,
            quota: self.quota(plan, now_ms),
        })
    }

    /// Count `units` more against the day only (the devices of a batch beyond the first).
    /// Refused whole when fewer are left.
    pub fn charge_day(&mut self, plan: Plan, units: u64, now_ms: i64) -> Result<Quota, Refusal> {
        self.roll(now_ms);
        let q = self.quota(plan, now_ms);
        if q.day_remaining().is_some_and(|left| left < units) {
            return Err(Refusal {
                window: Window::Day,
                retry_after_s: q.day_reset_s,
                quota: q,
            });
        }
        self.day_used += units;
        Ok(self.quota(plan, now_ms))
    }

    fn refusal(&self, q: Quota) -> Refusal {
        if q.day_remaining() == Some(0) {
            Refusal {
                window: Window::Day,
                retry_after_s: q.day_reset_s,
                quota: q,
            }
        } else {
            Refusal {
                window: Window::Minute,
                retry_after_s: q.minute_reset_s,
                quota: q,
            }
        }
    }
}

/// `YYYY-MM-DD` of a UTC day number (days since 1970-01-01), proleptic Gregorian.
pub fn day_string(day: i64) -> String {
    crate::validation::civil_date(day)
}

/// The rate-limit headers of a response (`X-RateLimit-*` for the day, and the IETF draft's
/// `RateLimit-Policy` / `RateLimit` for both windows).
pub fn rate_headers(plan: Plan, q: Option<&Quota>) -> Vec<(&'static str, String)> {
    let Some(q) = q else {
        return vec![
            ("X-RateLimit-Limit", "unmetered".into()),
            ("X-RateLimit-Remaining", "unmetered".into()),
            ("X-RateLimit-Plan", plan.name().into()),
        ];
    };
    let num = |v: Option<u64>| {
        v.map(|v| v.to_string())
            .unwrap_or_else(|| "unlimited".into())
    };
    let mut h = vec![
        ("X-RateLimit-Limit", num(q.day_limit)),
        ("X-RateLimit-Remaining", num(q.day_remaining())),
        ("X-RateLimit-Plan", plan.name().into()),
        ("X-RateLimit-Reset", q.day_reset_s.to_string()),
    ];
    if let (Some(ml), Some(dl)) = (q.minute_limit, q.day_limit) {
        h.push((
            "RateLimit-Policy",
            format!("\"minute\";q={ml};w=60, \"day\";q={dl};w=86400"),
        ));
        h.push((
            "RateLimit",
            format!(
                "\"minute\";r={};t={}, \"day\";r={};t={}",
                q.minute_remaining().unwrap_or(0),
                q.minute_reset_s,
                q.day_remaining().unwrap_or(0),
                q.day_reset_s
            ),
        ));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_headers_name_both_windows() {
        let q = Quota {
            minute: 1,
            day: 1,
            minute_used: 3,
            day_used: 40,
            minute_limit: Some(30),
            day_limit: Some(1000),
            minute_reset_s: 12,
            day_reset_s: 3600,
        };
        let h: std::collections::HashMap<_, _> =
            rate_headers(Plan::Pro, Some(&q)).into_iter().collect();
        assert_eq!(h["X-RateLimit-Remaining"], "960");
        assert_eq!(h["X-RateLimit-Plan"], "pro");
        assert_eq!(h["RateLimit"], "\"minute\";r=27;t=12, \"day\";r=960;t=3600");
        let public = rate_headers(Plan::Free, None);
        assert_eq!(public[0], ("X-RateLimit-Limit", "unmetered".to_string()));
    }

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

    const T0: i64 = 1_764_288_000_000; // a UTC midnight

    #[test]
    fn leases_never_exceed_the_minute_limit_and_shrink_near_it() {
        let mut c = Counter::default();
        let mut granted = 0;
        let mut sizes = Vec::new();
        while let Ok(g) = c.acquire(Plan::Pro, 10, T0 + 1_000) {
            granted += g.tokens;
            sizes.push(g.tokens);
        }
        assert_eq!(granted, 30);
        assert_eq!(sizes[0], 7, "a quarter of 30 left");
        assert_eq!(
            *sizes.last().unwrap(),
            1,
            "the last tokens go one at a time"
        );
        let r = c.acquire(Plan::Pro, 1, T0 + 1_000).unwrap_err();
        assert_eq!(r.window, Window::Minute);
        assert_eq!(r.retry_after_s, 59);
        // The next minute opens again.
        assert!(c.acquire(Plan::Pro, 1, T0 + 60_000).is_ok());
    }

    #[test]
    fn the_day_limit_holds_across_minutes_and_resets_at_midnight() {
        let mut c = Counter::default();
        let mut passed = 0;
        for minute in 0..10 {
            while c.acquire(Plan::Free, 1, T0 + minute * 60_000).is_ok() {
                passed += 1;
            }
        }
        assert_eq!(passed, 25);
        let r = c.acquire(Plan::Free, 1, T0 + 10 * 60_000).unwrap_err();
        assert_eq!(r.window, Window::Day);
        assert_eq!(r.retry_after_s, 86_400 - 600);
        assert!(c.acquire(Plan::Free, 1, T0 + 86_400_000).is_ok());
    }

    #[test]
    fn unused_tokens_come_back_only_into_their_windows() {
        let mut c = Counter::default();
        let g = c.acquire(Plan::Enterprise, 50, T0).unwrap();
        assert_eq!(g.tokens, 50);
        c.give_back(
            Unused {
                minute: g.quota.minute,
                day: g.quota.day,
                tokens: 20,
            },
            T0 + 5,
        );
        assert_eq!((c.minute_used, c.day_used), (30, 30));
        // Next minute: only the day count is corrected.
        c.give_back(
            Unused {
                minute: g.quota.minute,
                day: g.quota.day,
                tokens: 10,
            },
            T0 + 60_000,
        );
        assert_eq!((c.minute_used, c.day_used), (0, 20));
    }

    #[test]
    fn a_batch_larger_than_what_is_left_today_is_refused_whole() {
        let mut c = Counter::default();
        c.charge_day(Plan::Free, 20, T0).unwrap();
        let r = c.charge_day(Plan::Free, 6, T0).unwrap_err();
        assert_eq!(r.quota.day_remaining(), Some(5));
        assert_eq!(c.day_used, 20, "nothing counted for a refused batch");
        assert!(c.charge_day(Plan::Internal, 1_000_000, T0).is_ok());
    }

    #[test]
    fn day_strings() {
        assert_eq!(day_string(0), "1970-01-01");
        assert_eq!(day_string(T0 / 86_400_000), "2025-11-28");
        assert_eq!(day_string(19_416), "2023-02-28");
        assert_eq!(day_string(20_785), "2026-11-28");
        assert_eq!(day_string(19_782), "2024-02-29");
    }

    #[test]
    fn internal_plan_is_unlimited_but_counted() {
        let mut c = Counter::default();
        for _ in 0..100 {
            assert_eq!(c.acquire(Plan::Internal, 25, T0).unwrap().tokens, 25);
        }
        assert_eq!(c.day_used, 2500);
    }
}
