//! Failed authentications, counted per client against the `auth_failures` plan (10 a minute):
//! within it the 401 stands; past it the answer is a 429, and this isolate turns the client
//! away before any key lookup until the minute is over.

use std::cell::RefCell;

use super::caller::Caller;
use super::http::RequestCtx;
use super::limiter;
use super::problem::ApiError;
use crate::cache::{Expiring, Isolate};
use crate::limits::Plan;

thread_local! {
    /// Clients this isolate refuses until a time, after too many failed authentications: they
    /// get a 429 before any D1 read.
    static BLOCKED: RefCell<Expiring<String, ()>> = RefCell::new(Expiring::new(10_000));
}

/// Count a failed authentication against the client's `auth_failures` bucket (10 a minute):
/// within it the 401 stands; past it the answer is the 429, and this isolate turns the
/// client away before any D1 read until the minute is over.
pub(super) async fn count_failure(rc: &RequestCtx, failure: ApiError) -> ApiError {
    let bucket = rc.client_bucket();
    let mut c = Caller::anonymous(&bucket);
    c.plan = Plan::AuthFailures;
    c.subject = format!("authfail:{bucket}");
    match limiter::take(rc, &c).await {
        Ok(_) => failure,
        Err(refused) => {
            if refused.status == 429 {
                let retry_s = refused
                    .extensions
                    .get("retry_after_s")
                    .and_then(|v| v.as_f64())
                    .unwrap_or(60.0);
                let until = crate::edge::clock::now_ms() + retry_s * 1000.0;
                BLOCKED.remember(bucket, (), until);
            }
            refused
        }
    }
}

/// A 429 for a client this isolate blocked after failed authentications, if it is.
pub(super) fn blocked(rc: &RequestCtx) -> Option<ApiError> {
    let bucket = rc.client_bucket();
    let now = crate::edge::clock::now_ms();
    let ((), until) = BLOCKED.fresh(&bucket, now)?;
    let retry_s = ((until - now) / 1000.0).ceil().max(1.0) as u64;
    Some(
        ApiError::new(
            429,
            "rate_limited",
            "Too many failed authentications",
            format!("Too many failed authentications from this client; retry in {retry_s} s."),
        )
        .with_extension("limit", "auth_failures".into())
        .with_extension("retry_after_s", retry_s.into())
        .with_header("Retry-After", retry_s.to_string()),
    )
}
