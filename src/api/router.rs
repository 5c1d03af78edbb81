//! The worker's fetch entry: request id, CORS preflight, routing, the auth gate (which also
//! meters), dispatch, and the headers every response carries. Handlers return
//! `Result<Response, ApiError>`; this is the only place an `ApiError` becomes a response.

use worker::{event, Context, Env, Method, Request, Response};

use super::access::Access;
use super::auth;
use super::caller::Caller;
use super::http::{self, RequestCtx, Step};
use super::problem::ApiError;
use super::routes::{dispatch, resolve};
use crate::edge::state;
use crate::limits::rate_headers;

/// Where the PACT host lives (`pact_host.rs`).
const PACT_PREFIX: &str = "/pact/";

/// Isolate start: parse the compiled-in factor set and catalogue, fit the model and build the
/// Reference bodies here, so no request pays for them.
#[event(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    state::warm();
}

/// Cron (hourly): recover jobs past their deadline, delete expired export archives, anchor
/// the audit chains' heads in R2, forget stale idempotency keys. Each step runs whatever the
/// others did.
#[event(scheduled)]
pub async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    match crate::jobs::sweep(&env).await {
        Ok((resent, failed)) => {
            worker::console_log!("job sweep: {resent} re-sent, {failed} given up")
        }
        Err(e) => worker::console_error!("job sweep failed: {e}"),
    }
    match crate::jobs::expire_exports(&env).await {
        Ok(n) => worker::console_log!("expired {n} export archive(s)"),
        Err(e) => worker::console_error!("export expiry failed: {e}"),
    }
    match crate::edge::audit::anchor_heads(&env).await {
        Ok((anchored, broken)) => {
            worker::console_log!("audit anchors: {anchored} written, {broken} chain(s) broken")
        }
        Err(e) => worker::console_error!("audit anchoring failed: {e}"),
    }
    match super::idempotency::forget_expired(&env).await {
        Ok(n) => worker::console_log!("forgot {n} idempotency key(s)"),
        Err(e) => worker::console_error!("idempotency clean-up failed: {e}"),
    }
}

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let request_id = http::request_id(&req);
    let is_head = req.method() == Method::Head;
    // The PACT host speaks PACT's error format, not problem+json.
    let pact = req.path().starts_with(PACT_PREFIX);
    let (outcome, caller, access) = serve(req, env, ctx, &request_id).await;
    let sandbox = caller.as_ref().is_some_and(Caller::sandbox);
    let mut resp = match outcome {
        Ok(resp) => resp,
        Err(mut err) => {
            if err.status >= 500 {
                worker::console_error!("{request_id}: {err}");
            }
            if sandbox {
                err.extensions.insert("_sandbox".into(), true.into());
            }
            if pact {
                http::pact_error(&err)?
            } else {
                http::problem(&err, &request_id)?
            }
        }
    };
    http::finish(
        &mut resp,
        &request_id,
        if sandbox { "sandbox" } else { "live" },
    );
    // Rate-limit headers on every response (a 429 carries its own).
    if resp
        .headers()
        .get("X-RateLimit-Limit")
        .ok()
        .flatten()
        .is_none()
    {
        let headers = match (&caller, access) {
            (Some(c), _) if c.metered => rate_headers(c.plan, c.quota.as_ref()),
            (Some(c), Some(a)) if a != Access::Public => rate_headers(c.plan, None),
            _ => vec![
                ("X-RateLimit-Limit", "unmetered".into()),
                ("X-RateLimit-Remaining", "unmetered".into()),
                ("X-RateLimit-Plan", "public".into()),
            ],
        };
        for (k, v) in headers {
            http::set(resp.headers_mut(), k, &v);
        }
    }
    if is_head {
        // Same status and headers as GET, no body.
        let headers = resp.headers().clone();
        let status = resp.status_code();
        resp = Response::empty()?.with_status(status).with_headers(headers);
    }
    Ok(resp)
}

type Outcome = (Result<Response, ApiError>, Option<Caller>, Option<Access>);

async fn serve(req: Request, env: Env, ctx: Context, request_id: &str) -> Outcome {
    if req.method() == Method::Options {
        return (
            http::preflight().step("preflight: building the response"),
            None,
            None,
        );
    }
    let url = match req.url() {
        Ok(u) => u,
        Err(e) => {
            return (
                Err(http::edge_error("reading the request URL", e)),
                None,
                None,
            )
        }
    };
    // PACT hosts serve HTTPS only (spec v3, and its conformance cases send plain HTTP to see
    // it fail): plain HTTP is refused, not redirected, but on a loopback address (`wrangler
    // dev`, the end-to-end suite).
    if url.path().starts_with(PACT_PREFIX)
        && url.scheme() == "http"
        && !matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
    {
        return (
            Err(ApiError::bad_request(
                "https_required",
                "url",
                "PACT is served over HTTPS only.",
            )),
            None,
            None,
        );
    }
    // The method as sent: worker's `Method` reads any method it does not know (QUERY, PROPFIND)
    // as GET, which would answer it as one; the raw name gets the 405 it deserves.
    let method = req.inner().method();
    let (route, params) = match resolve(&method, url.path()) {
        Ok(r) => r,
        Err(e) => return (Err(e), None, None),
    };
    let access = route.access();
    let mut rc = RequestCtx {
        req,
        env,
        ctx,
        request_id: request_id.to_string(),
        url,
        caller: Caller::anonymous("-"),
    };
    match auth::gate(&mut rc, access).await {
        Ok(caller) => rc.caller = caller,
        Err(e) => return (Err(e), None, Some(access)),
    }
    let outcome = dispatch(route, params, &mut rc).await;
    (outcome, Some(rc.caller), Some(access))
}
