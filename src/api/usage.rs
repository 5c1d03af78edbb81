//! `GET /usage`: the caller's plan, limits, what is used and left this minute and today, and
//! when each resets; `GET /usage/history`: calls per day, both modes. Reading them counts nothing.

use serde_json::json;
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::limiter;
use super::problem::ApiError;
use crate::edge::leases::{parked, shown};
use crate::edge::rate_limiter::LimiterCall;
use crate::keys::Mode;
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
        "subject": if c.org_id.is_some() || c.admin { c.subject.clone() } else { "anonymous (per IP)".into() },
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

/// Longest history `GET /usage/history` answers, in days.
const MAX_HISTORY_DAYS: u32 = 90;

/// `GET /usage/history?days=30`: the organisation's calls per UTC day, both modes (from the
/// `usage_daily` mirror of the rate limiter's counts), oldest first, with the plan's limits.
pub async fn history(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let days = match rc.query("days").map(|d| d.parse::<u32>()) {
        None => 30,
        Some(Ok(d)) if (1..=MAX_HISTORY_DAYS).contains(&d) => d,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "days",
                format!("a whole number of days from 1 to {MAX_HISTORY_DAYS}"),
            ))
        }
    };
    let org_id = rc.caller.org_id.clone().ok_or_else(|| {
        ApiError::unauthorized(
            "api_key_required",
            "Usage history belongs to an organisation: send one of its API keys, or sign in to the console.",
        )
    })?;
    let subjects = [Mode::Live, Mode::Test].map(|m| crate::limits::org_subject(&org_id, m));
    let today_ms = (crate::edge::clock::now_ms() / 86_400_000.0).floor() * 86_400_000.0;
    let day_of = |i: u32| {
        crate::edge::clock::iso_at_ms(today_ms - f64::from(i) * 86_400_000.0)[..10].to_string()
    };
    let rows = crate::store::usage::history(&rc.env, &subjects, &day_of(days - 1))
        .await
        .step("usage: reading the history")?;
    let series: Vec<_> = (0..days)
        .rev()
        .map(|i| {
            let day = day_of(i);
            let count = |s: &str| {
                rows.iter()
                    .find(|r| r.day == day && r.subject == s)
                    .map_or(0.0, |r| r.requests)
            };
            json!({ "day": day, "live": count(&subjects[0]), "test": count(&subjects[1]) })
        })
        .collect();
    let plan = rc.caller.plan;
    let mut resp = http::json(
        200,
        &json!({
            "plan": plan.name(),
            "limits": { "per_minute": plan.per_minute(), "per_day": plan.per_day() },
            "days": series,
        }),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}
