//! The worker's fetch entry: request id, CORS preflight, routing, the auth gate (which also
//! meters), dispatch, and the headers every response carries. Handlers return
//! `Result<Response, ApiError>`; this is the only place an `ApiError` becomes a response.

use worker::{event, Context, Env, Method, Request, Response};

use super::access::Access;
use super::auth;
use super::caller::Caller;
use super::http::{self, RequestCtx, Step};
use super::problem::ApiError;
use super::reference::Doc;
use super::routes::{resolve, Route};
use super::{
    admin, blancco, certificates, docs, exports, footprint, health, integrations, keys, odata,
    products, reference, reports, savings, usage, verify,
};
use crate::edge::state;
use crate::limits::rate_headers;

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
            http::problem(&err, &request_id)?
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
    // The method as sent: worker's `Method` reads any method it does not know (QUERY, PROPFIND)
    // as GET, which would answer it as one; the raw name gets the 405 it deserves.
    let method = req.inner().method();
    let route = match resolve(&method, url.path()) {
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
    let outcome = dispatch(route, &mut rc).await;
    (outcome, Some(rc.caller), Some(access))
}

async fn dispatch(route: Route, rc: &mut RequestCtx) -> Result<Response, ApiError> {
    match route {
        Route::Health => health::get(rc).await,
        Route::OpenApi => docs::openapi(),
        Route::Jwks => docs::jwks(rc).await,
        Route::Footprint => footprint::single(rc).await,
        Route::FootprintBatch => footprint::batch(rc).await,
        Route::Savings => savings::create(rc).await,
        Route::ReferenceCountries => reference::get(rc, Doc::Countries).await,
        Route::ReferenceGridFactors => reference::get(rc, Doc::GridFactors).await,
        Route::ReferenceCategories => reference::get(rc, Doc::Categories).await,
        Route::Usage => usage::get(rc).await,
        Route::KeyCreate => keys::create(rc).await,
        Route::KeyList => keys::list(rc).await,
        Route::KeyRevoke(id) => keys::revoke(rc, &id).await,
        Route::KeyRoll(id) => keys::roll(rc, &id).await,
        Route::ProductSearch => products::search(rc).await,
        Route::ProductIdentify => products::identify(rc).await,
        Route::Product(id) => products::get(rc, &id).await,
        Route::CertificateCreate => certificates::create(rc).await,
        Route::Certificate(id) => certificates::get(rc, &id).await,
        Route::CertificateRevoke(id) => certificates::revoke(rc, &id).await,
        Route::CertificateVerify(id) => verify::verify(rc, &id).await,
        Route::ReportCreate => reports::create(rc).await,
        Route::Report(id) => reports::get(rc, &id).await,
        Route::BlanccoSync => blancco::sync(rc).await,
        Route::BlanccoJob(id) => blancco::job_status(rc, &id).await,
        Route::BlanccoCredentialsGet => integrations::get(rc).await,
        Route::BlanccoCredentialsPut => integrations::put(rc).await,
        Route::BlanccoCredentialsDelete => integrations::delete(rc).await,
        Route::ExportCreate => exports::create(rc).await,
        Route::Export(id) => exports::get(rc, &id).await,
        Route::ExportDelete(id) => exports::delete(rc, &id).await,
        Route::OData(segments) => odata::serve(rc, &segments).await,
        Route::AdminCreateKey => admin::create_key(rc).await,
        Route::AdminRevokeKey(id) => admin::revoke_key(rc, &id).await,
        Route::AdminVerifyAudit(org) => admin::verify_audit(rc, &org).await,
        Route::AdminPutFactorSet(v) => admin::put_factor_set(rc, &v).await,
        Route::AdminDeleteFactorSet(v) if v == "active" => admin::reset_factor_set(rc).await,
        Route::AdminDeleteFactorSet(v) => Err(ApiError::not_found(format!(
            "only `active` can be deleted (returns to the built-in set), not `{v}`"
        ))),
    }
}
