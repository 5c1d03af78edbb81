//! The rate-limit leases this isolate holds, per subject: requests the subject's Durable
//! Object granted in advance, spent here without a round trip. A lease is valid within the
//! UTC minute it was granted in; what was not spent goes back with the next call.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::limits::{Grant, Plan, Quota, Unused};

struct Lease {
    tokens: u64,
    quota: Quota,
}

thread_local! {
    static LEASES: RefCell<HashMap<String, Lease>> = RefCell::new(HashMap::new());
    /// Lease requests to each subject's DO in flight from this isolate. Requests cannot wait
    /// on one another in Workers (a request may not resume another's I/O), so under a burst
    /// each asks for a single token instead: nothing is parked that a refused request needed.
    static IN_FLIGHT: RefCell<HashMap<String, u32>> = RefCell::new(HashMap::new());
}

pub fn in_flight(subject: &str) -> u32 {
    IN_FLIGHT.with(|f| f.borrow().get(subject).copied().unwrap_or(0))
}

pub fn add_in_flight(subject: &str, delta: i32) {
    IN_FLIGHT.with(|f| {
        let mut f = f.borrow_mut();
        let n = f.entry(subject.to_string()).or_insert(0);
        *n = n.saturating_add_signed(delta);
        if *n == 0 {
            f.remove(subject);
        }
    });
}

fn minute_now() -> i64 {
    (js_sys::Date::now() as i64).div_euclid(60_000)
}

/// How many requests to ask for at once: a tenth of the minute's allowance.
pub fn want(plan: Plan) -> u64 {
    plan.per_minute().map(|m| (m / 10).max(1)).unwrap_or(50)
}

/// Take one request from the local lease, if it has one for this minute.
pub fn take_local(subject: &str) -> Option<Quota> {
    let minute = minute_now();
    LEASES.with(|l| {
        let mut l = l.borrow_mut();
        let lease = l
            .get_mut(subject)
            .filter(|x| x.quota.minute == minute && x.tokens > 0)?;
        lease.tokens -= 1;
        Some(shown(&lease.quota, lease.tokens))
    })
}

/// The quota as the client sees it: tokens still in the lease are not spent.
pub fn shown(q: &Quota, lease_left: u64) -> Quota {
    let mut q = *q;
    q.minute_used = q.minute_used.saturating_sub(lease_left);
    q.day_used = q.day_used.saturating_sub(lease_left);
    q
}

/// What a lease of an earlier minute left unspent, taken out to hand back.
pub fn stale_unused(subject: &str) -> Option<Unused> {
    LEASES.with(|l| {
        let mut l = l.borrow_mut();
        let stale = l
            .get(subject)
            .is_some_and(|x| x.quota.minute != minute_now());
        if !stale {
            return None;
        }
        l.remove(subject).filter(|x| x.tokens > 0).map(|x| Unused {
            minute: x.quota.minute,
            day: x.quota.day,
            tokens: x.tokens,
        })
    })
}

/// Keep what a grant gave beyond the `used_now` requests it was for (1 for a request's own
/// call, 0 for a refill); the tokens now parked.
pub fn park(subject: &str, grant: &Grant, used_now: u64) -> u64 {
    LEASES.with(|l| {
        let mut l = l.borrow_mut();
        let lease = l.entry(subject.to_string()).or_insert(Lease {
            tokens: 0,
            quota: grant.quota,
        });
        if lease.quota.minute != grant.quota.minute {
            lease.tokens = 0;
        }
        lease.tokens += grant.tokens.saturating_sub(used_now);
        lease.quota = grant.quota;
        lease.tokens
    })
}

/// Tokens parked for a subject.
pub fn parked(subject: &str) -> u64 {
    LEASES.with(|l| l.borrow().get(subject).map(|x| x.tokens).unwrap_or(0))
}
