//! The rate-limit Durable Object: one instance per API key (per client IP when anonymous).
//! A Durable Object is single-threaded and globally unique, which is what makes its counts
//! exact under concurrency.

use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

#[durable_object]
pub struct RateLimiter {
    state: State,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match req.path().as_str() {
            // Liveness probe used by the deep health check: proves the binding, the class and
            // its storage work, and counts the pings so a test can see state persist.
            "/ping" => {
                let storage = self.state.storage();
                let pings: u64 = storage.get("pings").await?.unwrap_or(0) + 1;
                storage.put("pings", pings).await?;
                Response::from_json(&serde_json::json!({ "ok": true, "pings": pings }))
            }
            _ => Response::error("unknown rate limiter operation", 404),
        }
    }
}
