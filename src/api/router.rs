//! The worker's fetch entry: request id, CORS preflight, routing, dispatch, and the headers
//! every response carries. Handlers return `Result<Response, ApiError>`; this is the only
//! place an `ApiError` becomes a response.

use worker::{event, Context, Env, Method, Request, Response};

use super::http::{self, RequestCtx};
use super::problem::ApiError;
use super::routes::{resolve, Route};
use super::{docs, health};

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    console_error_panic_hook::set_once();
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
    }
}
