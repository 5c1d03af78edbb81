//! The outbound Icecat client: configuration from secrets, a time-out, and a KV cache of
//! parsed answers (hits for 30 days, misses for a day; 429, 5xx, time-outs and malformed
//! answers are not cached).

use std::time::Duration;

use futures_util::future::{select, Either};
use worker::{AbortController, Env, Fetch, Headers, Method, Request, RequestInit};

use super::bindings;
use crate::catalog::icecat::{
    parse, request_url, IcecatProduct, Lookup, Outcome, DEFAULT_BASE_URL,
};

const TIMEOUT: Duration = Duration::from_secs(3);
const HIT_TTL_S: u64 = 30 * 86_400;
const MISS_TTL_S: u64 = 86_400;

pub struct Config {
    base_url: String,
    username: String,
    api_token: Option<String>,
}

/// Icecat is used only when `ICECAT_USERNAME` is set.
pub fn config(env: &Env) -> Option<Config> {
    Some(Config {
        username: bindings::setting(env, "ICECAT_USERNAME")?,
        api_token: bindings::setting(env, "ICECAT_API_TOKEN"),
        base_url: bindings::setting(env, "ICECAT_BASE_URL")
            .unwrap_or_else(|| DEFAULT_BASE_URL.into()),
    })
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Cached {
    found: Option<IcecatProduct>,
}

/// Look a product up, through the cache. Returns the outcome and whether it came from cache.
pub async fn lookup(env: &Env, cfg: &Config, what: &Lookup) -> (Outcome, bool) {
    let kv = env.kv(bindings::KV).ok();
    let key = what.cache_key();
    if let Some(kv) = &kv {
        if let Ok(Some(c)) = kv.get(&key).json::<Cached>().await {
            return (
                match c.found {
                    Some(p) => Outcome::Found(Box::new(p)),
                    None => Outcome::NotFound,
                },
                true,
            );
        }
    }
    let outcome = fetch(cfg, what).await;
    let cache = match &outcome {
        Outcome::Found(p) => Some((
            Cached {
                found: Some((**p).clone()),
            },
            HIT_TTL_S,
        )),
        Outcome::NotFound => Some((Cached { found: None }, MISS_TTL_S)),
        _ => None,
    };
    if let (Some(kv), Some((c, ttl))) = (kv, cache) {
        if let Ok(put) = kv.put(&key, c) {
            if let Err(e) = put.expiration_ttl(ttl).execute().await {
                worker::console_error!("icecat cache write failed: {e}");
            }
        }
    }
    (outcome, false)
}

async fn fetch(cfg: &Config, what: &Lookup) -> Outcome {
    let url = request_url(&cfg.base_url, &cfg.username, what);
    let headers = Headers::new();
    let _ = headers.set("Accept", "application/json");
    if let Some(t) = &cfg.api_token {
        let _ = headers.set("Api-Token", t);
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req = match Request::new_with_init(&url, &init) {
        Ok(r) => r,
        Err(e) => return Outcome::Transient(format!("could not build the Icecat request: {e}")),
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let call = Box::pin(async move {
        let mut resp = Fetch::Request(req).send_with_signal(&signal).await?;
        let status = resp.status_code();
        let body = resp.text().await?;
        Ok::<_, worker::Error>((status, body))
    });
    let timer = Box::pin(worker::Delay::from(TIMEOUT));
    match select(call, timer).await {
        Either::Left((Ok((status, body)), _)) => parse(status, &body),
        Either::Left((Err(e), _)) => Outcome::Transient(format!("Icecat unreachable: {e}")),
        Either::Right(_) => {
            controller.abort();
            Outcome::Transient(format!(
                "Icecat did not answer within {} s",
                TIMEOUT.as_secs()
            ))
        }
    }
}
