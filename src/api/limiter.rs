//! Metering through the subject's rate-limit Durable Object, kept off the hot path with
//! leases: the DO grants a few requests at a time (counted as used at once, so a limit is
//! never exceeded), the isolate spends them locally, and near a limit leases shrink to one
//! token so the count stays exact. A lease is valid within the UTC minute it was granted in;
//! what an isolate did not spend goes back to the DO with its next call.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::json;
use worker::{Method, Request, RequestInit};

use super::auth::Caller;
use super::http::{self, RequestCtx, Step};
use super::problem::ApiError;
use crate::edge::bindings;
use crate::edge::rate_limiter::LimiterCall;
use crate::limits::{Grant, Plan, Quota, Refusal, Unused, Window};

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

fn in_flight(subject: &str) -> u32 {
    IN_FLIGHT.with(|f| f.borrow().get(subject).copied().unwrap_or(0))
}

fn add_in_flight(subject: &str, delta: i32) {
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
fn want(plan: Plan) -> u64 {
    plan.per_minute().map(|m| (m / 10).max(1)).unwrap_or(50)
}

/// Take one request from the local lease, if it has one for this minute.
fn take_local(subject: &str) -> Option<Quota> {
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
fn shown(q: &Quota, lease_left: u64) -> Quota {
    let mut q = *q;
    q.minute_used = q.minute_used.saturating_sub(lease_left);
    q.day_used = q.day_used.saturating_sub(lease_left);
    q
}

pub async fn call<T: DeserializeOwned>(
    rc: &RequestCtx,
    subject: &str,
    c: &LimiterCall,
) -> Result<Result<T, Refusal>, ApiError> {
    let stub = rc
        .env
        .durable_object(bindings::RATE_LIMITER)
        .and_then(|ns| ns.get_by_name(subject))
        .step("rate limiter: addressing it")?;
    let body = serde_json::to_string(c).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init("https://rate-limiter/", &init)
        .step("rate limiter: building the call")?;
    let mut resp = stub
        .fetch_with_request(req)
        .await
        .step("rate limiter: calling it")?;
    if resp.status_code() == 429 {
        return Ok(Err(resp
            .json()
            .await
            .step("rate limiter: reading its answer")?));
    }
    if resp.status_code() != 200 {
        return Err(http::edge_error(
            "rate limiter call",
            format!("answered {}", resp.status_code()),
        ));
    }
    Ok(Ok(resp
        .json()
        .await
        .step("rate limiter: reading its answer")?))
}

/// Meter one request of `caller`: the figures for the headers, or a 429.
pub async fn take(rc: &RequestCtx, caller: &Caller) -> Result<Quota, ApiError> {
    let subject = &caller.subject;
    if let Some(q) = take_local(subject) {
        return Ok(q);
    }
    // Hand back what a lease of an earlier minute left unspent.
    let unused = LEASES.with(|l| {
        let mut l = l.borrow_mut();
        let stale = l
            .get(subject)
            .is_some_and(|x| x.quota.minute != minute_now());
        if stale {
            l.remove(subject).filter(|x| x.tokens > 0).map(|x| Unused {
                minute: x.quota.minute,
                day: x.quota.day,
                tokens: x.tokens,
            })
        } else {
            None
        }
    });
    let want = if in_flight(subject) > 0 {
        1
    } else {
        want(caller.plan)
    };
    add_in_flight(subject, 1);
    let outcome: Result<Result<Grant, Refusal>, ApiError> = call(
        rc,
        subject,
        &LimiterCall::Acquire {
            plan: caller.plan,
            want,
            unused,
            subject: subject.clone(),
            org_id: caller.org_id.clone(),
        },
    )
    .await;
    add_in_flight(subject, -1);
    match outcome? {
        Ok(grant) => {
            let left = grant.tokens - 1;
            let parked = LEASES.with(|l| {
                let mut l = l.borrow_mut();
                let lease = l.entry(subject.clone()).or_insert(Lease {
                    tokens: 0,
                    quota: grant.quota,
                });
                if lease.quota.minute != grant.quota.minute {
                    lease.tokens = 0;
                }
                lease.tokens += left;
                lease.quota = grant.quota;
                lease.tokens
            });
            touch_key(rc, caller);
            Ok(shown(&grant.quota, parked))
        }
        Err(refusal) => {
            // A concurrent request's lease may still be on its way into this isolate: look
            // again briefly before refusing.
            for _ in 0..5 {
                if let Some(q) = take_local(subject) {
                    return Ok(q);
                }
                if in_flight(subject) == 0 {
                    break;
                }
                worker::Delay::from(Duration::from_millis(2)).await;
            }
            take_local(subject).ok_or_else(|| too_many(caller, &refusal))
        }
    }
}

/// Admit the work a request asks for before doing it: `units` (devices, reports) against the
/// day, the first being the request the gate already counted; and for a background job, the
/// organisation's open jobs of that kind against its plan's cap (429 with `Retry-After`).
/// The cap is read, then the job written: two racing requests may both pass it, so it is a
/// bound on abuse, not an exact count.
pub async fn admit(
    rc: &mut RequestCtx,
    units: u64,
    job: Option<crate::jobs::lifecycle::Kind>,
) -> Result<(), ApiError> {
    let caller = rc.caller.clone();
    if let Some(kind) = job {
        let cap = caller.plan.max_open_jobs();
        let open = crate::store::open_jobs(&rc.env, &rc.tenant()?, kind)
            .await
            .step("counting open jobs")?;
        if open >= cap {
            return Err(ApiError::new(
                429,
                "too_many_jobs",
                "Too many jobs",
                format!(
                    "The {} plan allows {cap} {} at once and {open} are queued or running; retry when one is done.",
                    caller.plan.name(),
                    kind.table()
                ),
            )
            .with_extension("limit", json!("open_jobs"))
            .with_extension("max_open_jobs", json!(cap))
            .with_header("Retry-After", "30"));
        }
    }
    let quota = charge_day(rc, &caller, units.saturating_sub(1)).await?;
    rc.caller.quota = Some(quota);
    Ok(())
}

/// Count a batch's devices beyond the first against the day; refused whole if too few are left.
async fn charge_day(rc: &RequestCtx, caller: &Caller, units: u64) -> Result<Quota, ApiError> {
    if units == 0 {
        return caller
            .quota
            .ok_or_else(|| ApiError::internal("batch not metered"));
    }
    let outcome: Result<Quota, Refusal> = call(
        rc,
        &caller.subject,
        &LimiterCall::Charge {
            plan: caller.plan,
            units,
            subject: caller.subject.clone(),
            org_id: caller.org_id.clone(),
        },
    )
    .await?;
    let lease_left = LEASES.with(|l| {
        l.borrow()
            .get(&caller.subject)
            .map(|x| x.tokens)
            .unwrap_or(0)
    });
    match outcome {
        Ok(q) => Ok(shown(&q, lease_left)),
        Err(r) => {
            let remaining = r.quota.day_remaining().unwrap_or(0) + lease_left;
            let mut e = too_many(caller, &r);
            e.detail = format!(
                "This request counts {} more against today's quota (one per device or report) but \
                 {remaining} remain on the {} plan; send at most {remaining} more today, or retry in {} s.",
                units,
                caller.plan.name(),
                r.retry_after_s
            );
            e.extensions.insert("remaining".into(), json!(remaining));
            Err(e)
        }
    }
}

/// Record when a key was last used (once per lease, after the response).
fn touch_key(rc: &RequestCtx, caller: &Caller) {
    let Some(key_id) = caller.key_id.clone() else {
        return;
    };
    let Ok(db) = rc.env.d1(bindings::DB) else {
        return;
    };
    let now = js_sys::Date::new_0()
        .to_iso_string()
        .as_string()
        .unwrap_or_default();
    rc.ctx.wait_until(async move {
        if let Ok(stmt) = db
            .prepare("UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2")
            .bind(&[now.into(), key_id.into()])
        {
            let _ = stmt.run().await;
        }
    });
}

fn too_many(caller: &Caller, r: &Refusal) -> ApiError {
    let (name, limit) = match r.window {
        Window::Minute => ("minute", r.quota.minute_limit),
        Window::Day => ("day", r.quota.day_limit),
    };
    let mut e = ApiError::new(
        429,
        "rate_limited",
        "Too many requests",
        format!(
            "The {} plan allows {} requests per {name}; retry in {} s.",
            caller.plan.name(),
            limit.unwrap_or(0),
            r.retry_after_s
        ),
    )
    .with_extension("limit", json!(name))
    .with_extension("violated-policies", json!([name]))
    .with_extension("retry_after_s", json!(r.retry_after_s))
    .with_extension("plan", json!(caller.plan.name()));
    e.headers.push(("Retry-After", r.retry_after_s.to_string()));
    for (k, v) in rate_headers(caller.plan, Some(&r.quota)) {
        e.headers.push((k, v));
    }
    e
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
