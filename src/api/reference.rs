//! `GET /reference/*`: public, unmetered, cacheable (precomputed bodies, ETag, 304).

use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::ApiError;
use crate::edge::state;
use crate::factors::reference::{etag_matches, grid_factor, Body};

pub enum Doc {
    Countries,
    GridFactors,
    Categories,
}

pub async fn get(rc: &mut RequestCtx, doc: Doc) -> Result<Response, ApiError> {
    let active = state::active(&rc.env).await;
    let filtered;
    let body: &Body = match doc {
        Doc::Countries => &active.reference.countries,
        Doc::Categories => &active.reference.categories,
        Doc::GridFactors => match rc.query("country") {
            None => &active.reference.grid_factors,
            Some(code) => {
                filtered = grid_factor(active.factors, &code).ok_or_else(|| {
                    ApiError::bad_request(
                        "unknown_country",
                        "country",
                        format!("unknown country or region `{code}`; see /reference/countries"),
                    )
                })?;
                &filtered
            }
        },
    };
    let fresh = rc
        .header("If-None-Match")
        .is_some_and(|inm| etag_matches(&inm, &body.etag));
    let mut resp = if fresh {
        Response::empty()
            .step("get: building a response")?
            .with_status(304)
    } else {
        http::bytes(
            200,
            "application/json; charset=utf-8",
            body.json.as_bytes().to_vec(),
        )?
    };
    let h = resp.headers_mut();
    http::set(h, "ETag", &body.etag);
    http::set(
        h,
        "Cache-Control",
        "public, max-age=3600, stale-while-revalidate=86400",
    );
    Ok(resp)
}
