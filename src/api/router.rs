//! The worker's fetch entry: request id, CORS preflight, routing, dispatch, and the headers
//! every response carries. Handlers return `Result<Response, ApiError>`; this is the only
//! place an `ApiError` becomes a response.

use worker::{event, Context, Env, Method, Request, Response};

use super::http::{self, RequestCtx};
use super::problem::ApiError;
use super::reference::Doc;
use super::routes::{resolve, Route};
use super::{admin, docs, footprint, health, reference, savings, state};

/// Isolate start: parse the compiled-in factor set and catalogue, fit the model and build the
/// Reference bodies here, so no request pays for them.
#[event(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    state::warm();
}

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let request_id = http::request_id(&req);
    let is_head = req.method() == Method::Head;
    let mut resp = match serve(req, env, ctx, &request_id).await {
        Ok(resp) => resp,
        Err(err) => {
            if err.status >= 500 {
                worker::console_error!("{request_id}: {err}");
            }
            http::problem(&err, &request_id)?
        }
    };
    http::finish(&mut resp, &request_id, "live");
    if is_head {
        // Same status and headers as GET, no body.
        let headers = resp.headers().clone();
        let status = resp.status_code();
        resp = Response::empty()?.with_status(status).with_headers(headers);
    }
    Ok(resp)
}

async fn serve(
    req: Request,
    env: Env,
    ctx: Context,
    request_id: &str,
) -> Result<Response, ApiError> {
    if req.method() == Method::Options {
        return http::preflight().map_err(http::edge_error);
    }
    let url = req.url().map_err(http::edge_error)?;
    let route = resolve(req.method().as_ref(), url.path())?;
    let mut rc = RequestCtx {
        req,
        env,
        ctx,
        request_id: request_id.to_string(),
        url,
    };
    match route {
        Route::Health => health::get(&mut rc).await,
        Route::OpenApi => docs::openapi(),
        Route::Footprint => footprint::single(&mut rc).await,
        Route::FootprintBatch => footprint::batch(&mut rc).await,
        Route::Savings => savings::create(&mut rc).await,
        Route::ReferenceCountries => reference::get(&mut rc, Doc::Countries).await,
        Route::ReferenceGridFactors => reference::get(&mut rc, Doc::GridFactors).await,
        Route::ReferenceCategories => reference::get(&mut rc, Doc::Categories).await,
        Route::AdminPutFactorSet(v) => admin::put_factor_set(&mut rc, &v).await,
        Route::AdminDeleteFactorSet(v) if v == "active" => admin::reset_factor_set(&mut rc).await,
        Route::AdminDeleteFactorSet(v) => Err(ApiError::not_found(format!(
            "only `active` can be deleted (returns to the built-in set), not `{v}`"
        ))),
    }
}
