//! `GET /usage`: the caller's plan, limits, what is used and left this minute and today, and
//! when each resets. Reading it counts nothing.

use serde_json::json;
use worker::Response;

use super::http::{self, RequestCtx};
use super::limiter;
use super::problem::ApiError;
use crate::edge::leases::{parked, shown};
use crate::edge::rate_limiter::LimiterCall;
use crate::limits::{Quota, Refusal};

pub async fn get(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let c = rc.caller.clone();
    let q: Result<Quota, Refusal> =
        limiter::call(rc, &c.subject, &LimiterCall::Quota { plan: c.plan }).await?;
    // What this isolate holds leased and has not spent is not used yet.
    let q = shown(&q.unwrap_or_else(|r| r.quota), parked(&c.subject));
    let iso = |ms: i64| crate::edge::clock::iso_at_ms(ms as f64);
    let mut body = json!({
        "plan": c.plan.name(),
        "mode": c.mode.name(),
        "key_id": c.key_id,
        "org_id": c.org_id,
        "subject": if c.key_id.is_some() || c.admin { c.subject.clone() } else { "anonymous (per IP)".into() },
        "limits": { "per_minute": q.minute_limit, "per_day": q.day_limit, "batch_devices": c.plan.batch_limit() },
        "used": { "this_minute": q.minute_used, "today": q.day_used },
        "remaining": { "this_minute": q.minute_remaining(), "today": q.day_remaining() },
        "resets": { "minute_in_s": q.minute_reset_s, "day_in_s": q.day_reset_s,
                    "minute_at": iso((q.minute + 1) * 60_000), "day_at": iso((q.day + 1) * 86_400_000) },
        "note": "counts include requests other edge isolates hold leased and have not spent yet (each at most a tenth of the minute's allowance, a quarter more while renewing)",
    });
    if c.sandbox() {
        body = super::sandbox::mark(body);
    }
    let mut resp = http::json(200, &body)?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}
