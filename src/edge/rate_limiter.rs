//! The rate-limit Durable Object: one instance per organisation and mode (per client address
//! when anonymous), and [`call`], the one way to reach it.
//! A Durable Object is single-threaded and globally unique, which is what makes its counts
//! exact under concurrency. The arithmetic is `limits::Counter` (pure, tested natively); this
//! file only keeps it in memory, persists it, and records daily usage in D1 off the hot path.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, Result, State,
};

use crate::limits::{day_string, Counter, Plan, Refusal, Unused};
use crate::store;

/// Call `subject`'s limiter: its answer, or the refusal it gave (a 429).
pub async fn call<T: DeserializeOwned>(
    env: &Env,
    subject: &str,
    c: &LimiterCall,
) -> Result<std::result::Result<T, Refusal>> {
    let stub = env
        .durable_object(super::bindings::RATE_LIMITER)?
        .get_by_name(subject)?;
    let body = serde_json::to_string(c).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init("https://rate-limiter/", &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    match resp.status_code() {
        429 => Ok(Err(resp.json().await?)),
        200 => Ok(Ok(resp.json().await?)),
        other => Err(worker::Error::RustError(format!(
            "the rate limiter answered {other}"
        ))),
    }
}

/// A call from the worker to its subject's limiter.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LimiterCall {
    /// Lease up to `want` requests, handing back tokens an earlier lease did not spend.
    Acquire {
        plan: Plan,
        want: u64,
        unused: Option<Unused>,
        subject: String,
        org_id: Option<String>,
    },
    /// Count `units` more against the day (a batch's devices beyond the first).
    Charge {
        plan: Plan,
        units: u64,
        subject: String,
        org_id: Option<String>,
    },
    /// Current figures, counting nothing.
    Quota { plan: Plan },
    /// Liveness probe of the deep health check.
    Ping,
}

#[durable_object]
pub struct RateLimiter {
    state: State,
    env: Env,
    counter: AssertUnwindSafe<Cell<Option<Counter>>>,
}

impl RateLimiter {
    async fn load(&self) -> Result<Counter> {
        if let Some(c) = self.counter.get() {
            return Ok(c);
        }
        let c: Counter = self
            .state
            .storage()
            .get("counter")
            .await?
            .unwrap_or_default();
        // Another call may have loaded it while we awaited: keep the in-memory one.
        Ok(self.counter.get().unwrap_or_else(|| {
            self.counter.set(Some(c));
            c
        }))
    }

    /// Persist the counter and mirror the day's count into D1 (after the answer is sent).
    fn save(&self, c: Counter, subject: String, org_id: Option<String>) {
        self.counter.set(Some(c));
        let storage = self.state.storage();
        let env = self.env.clone();
        self.state.wait_until(async move {
            if let Err(e) = storage.put("counter", c).await {
                worker::console_error!("rate limiter: could not persist counter: {e}");
            }
            let day = day_string(c.day);
            if let Err(e) =
                store::usage::record(&env, &subject, org_id.as_deref(), &day, c.day_used).await
            {
                worker::console_error!("rate limiter: usage write failed: {e}");
            }
        });
    }
}

impl DurableObject for RateLimiter {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            counter: AssertUnwindSafe(Cell::new(None)),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let call: LimiterCall = req.json().await?;
        let now = js_sys::Date::now() as i64;
        match call {
            LimiterCall::Ping => {
                let storage = self.state.storage();
                let pings: u64 = storage.get("pings").await?.unwrap_or(0) + 1;
                storage.put("pings", pings).await?;
                Response::from_json(&serde_json::json!({ "ok": true, "pings": pings }))
            }
            LimiterCall::Quota { plan } => {
                Response::from_json(&self.load().await?.quota(plan, now))
            }
            LimiterCall::Acquire {
                plan,
                want,
                unused,
                subject,
                org_id,
            } => {
                let mut c = self.load().await?;
                if let Some(u) = unused {
                    c.give_back(u, now);
                }
                let outcome = c.acquire(plan, want, now);
                self.save(c, subject, org_id);
                match outcome {
                    Ok(grant) => Response::from_json(&grant),
                    Err(refusal) => Ok(Response::from_json(&refusal)?.with_status(429)),
                }
            }
            LimiterCall::Charge {
                plan,
                units,
                subject,
                org_id,
            } => {
                let mut c = self.load().await?;
                let outcome = c.charge_day(plan, units, now);
                match outcome {
                    Ok(q) => {
                        self.save(c, subject, org_id);
                        Response::from_json(&q)
                    }
                    Err(refusal) => Ok(Response::from_json(&refusal)?.with_status(429)),
                }
            }
        }
    }
}
