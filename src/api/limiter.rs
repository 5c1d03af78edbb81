//! Metering through the subject's rate-limit Durable Object, kept off the hot path with
//! leases: the DO grants a few requests at a time (counted as used at once, so a limit is
//! never exceeded), the isolate spends them locally and renews a lease of 10+ before it runs
//! out (after a response, so no request waits on the round trip under steady load; a request
//! that finds none waits briefly for one on its way), and near a limit leases shrink to one
//! token so the count stays exact. A lease is valid within the UTC minute it was granted in;
//! what an isolate did not spend goes back to the DO with its next call (the leases
//! themselves: `edge::leases`; the headers: `limits::rate_headers`).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::json;
use worker::Env;

use super::caller::Caller;
use super::http::{RequestCtx, Step};
use super::problem::ApiError;
use crate::cache::{Expiring, Isolate};
use crate::edge::clock::{now_iso, now_ms};
use crate::edge::leases::{
    add_in_flight, in_flight, park, parked, shown, stale_unused, take_local, want,
};
use crate::edge::rate_limiter::LimiterCall;
use crate::limits::{rate_headers, Grant, Quota, Refusal, Window};

pub async fn call<T: DeserializeOwned>(
    rc: &RequestCtx,
    subject: &str,
    c: &LimiterCall,
) -> Result<Result<T, Refusal>, ApiError> {
    call_env(&rc.env, subject, c).await
}

/// [`call`] from an `Env` alone (a lease refill runs after its request's response).
async fn call_env<T: DeserializeOwned>(
    env: &Env,
    subject: &str,
    c: &LimiterCall,
) -> Result<Result<T, Refusal>, ApiError> {
    crate::edge::rate_limiter::call(env, subject, c)
        .await
        .step("rate limiter: calling it")
}

/// Meter one request of `caller`: the figures for the headers, or a 429.
pub async fn take(rc: &RequestCtx, caller: &Caller) -> Result<Quota, ApiError> {
    let subject = &caller.subject;
    if let Some(q) = take_local(subject) {
        refill_early(rc, caller);
        return Ok(q);
    }
    // A lease is on its way (a refill, or another request's call): wait for it a little
    // rather than make one more round trip to the Durable Object. Under a burst this is what
    // keeps most requests off the DO (each call also persists the counter and its usage row).
    if in_flight(subject) > 0 {
        for _ in 0..WAIT_FOR_LEASE_MS {
            worker::Delay::from(Duration::from_millis(1)).await;
            if let Some(q) = take_local(subject) {
                return Ok(q);
            }
            if in_flight(subject) == 0 {
                break;
            }
        }
    }
    // Hand back what a lease of an earlier minute left unspent.
    let unused = stale_unused(subject);
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
            let parked = park(subject, &grant, 1);
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

/// Longest a request waits for a lease already on its way before asking the DO itself (ms).
const WAIT_FOR_LEASE_MS: u32 = 20;
/// Leases of at least this many requests are renewed ahead (plans of 100+ a minute); smaller
/// ones stay exact, one call per lease.
const REFILL_MIN_LEASE: u64 = 10;

/// Renew a lease before it runs out: when a quarter of it is left, ask the DO for the next
/// one after this request's response (`waitUntil`), so that under steady load no request waits
/// on the round trip. Tokens arrive for the minute the DO grants them in; a refusal parks
/// nothing (the next request that finds no token asks, and gets the 429 itself).
fn refill_early(rc: &RequestCtx, caller: &Caller) {
    let subject = &caller.subject;
    let want = want(caller.plan);
    if want < REFILL_MIN_LEASE || in_flight(subject) > 0 || parked(subject) > want / 4 {
        return;
    }
    add_in_flight(subject, 1);
    let env = rc.env.clone();
    let subject = subject.clone();
    let call = LimiterCall::Acquire {
        plan: caller.plan,
        want,
        unused: None,
        subject: subject.clone(),
        org_id: caller.org_id.clone(),
    };
    touch_key(rc, caller);
    rc.ctx.wait_until(async move {
        let outcome: Result<Result<Grant, Refusal>, ApiError> =
            call_env(&env, &subject, &call).await;
        add_in_flight(&subject, -1);
        match outcome {
            Ok(Ok(grant)) => {
                park(&subject, &grant, 0);
            }
            Ok(Err(_)) => {}
            Err(e) => worker::console_error!("rate limiter: lease refill failed: {e}"),
        }
    });
}

/// Admit the work a request asks for before doing it: `units` (devices, reports) against the
/// day, the first being the request the gate already counted; and for a background job, the
/// organisation's open jobs of that kind against its plan's cap (429 with `Retry-After`).
/// This early count spares a request that would be refused its day's units; the exact
/// guard is the job's insert itself (`store::jobs::insert`), which no burst gets past.
pub async fn admit(
    rc: &mut RequestCtx,
    units: u64,
    job: Option<crate::job::Kind>,
) -> Result<(), ApiError> {
    let caller = rc.caller.clone();
    if let Some(kind) = job {
        let cap = caller.plan.max_open_jobs();
        let open = crate::store::jobs::open_count(&rc.env, &rc.tenant()?, kind)
            .await
            .step("counting open jobs")?;
        if open >= cap {
            return Err(ApiError::too_many_jobs(caller.plan, kind, open, cap));
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
    let lease_left = parked(&caller.subject);
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

/// Record when a key was last used: at most once a minute per key and isolate, after the
/// response (a key's `last_used_at` is shown to the minute).
fn touch_key(rc: &RequestCtx, caller: &Caller) {
    let Some(key_id) = caller.key_id.clone() else {
        return;
    };
    let now = now_ms();
    if TOUCHED.fresh(&key_id, now).is_some() {
        return;
    }
    let minute_end = ((now / 60_000.0).floor() + 1.0) * 60_000.0;
    TOUCHED.remember(key_id.clone(), (), minute_end);
    let env = rc.env.clone();
    rc.ctx.wait_until(async move {
        if let Err(e) = crate::store::keys::touch(&env, &key_id, &now_iso()).await {
            worker::console_error!("key {key_id}: last_used_at not written: {e}");
        }
    });
}

thread_local! {
    /// Keys whose `last_used_at` this isolate wrote in the current minute (fresh until its end).
    static TOUCHED: std::cell::RefCell<Expiring<String, ()>> =
        std::cell::RefCell::new(Expiring::new(10_000));
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
