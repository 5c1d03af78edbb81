//! `GET /products/search`, `POST /products/identify`, `GET /products/{id}`.

use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx};
use super::problem::ApiError;
use super::sandbox;
use crate::catalog::icecat::{IcecatProduct, Outcome};
use crate::catalog::identify::{
    hit_json, identify as catalogue_identify, parse_identify, CONFIDENT,
};
use crate::catalog::search::{Query, QueryParams, SearchIndex};
use crate::catalog::{Catalogue, Product};
use crate::edge::icecat;
use crate::edge::state;

pub async fn search(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let factors = state::active(&rc.env).await.factors;
    let params = QueryParams {
        q: rc.query("q"),
        category: rc.query("category"),
        brand: rc.query("brand"),
        limit: rc.query("limit"),
        cursor: rc.query("cursor"),
    };
    let query =
        Query::parse(params, |c| factors.category(c).is_some()).map_err(ApiError::validation)?;
    if rc.caller.sandbox() {
        return http::json(200, sandbox::search());
    }
    let c = Catalogue::builtin();
    let want = query.offset + query.limit + 1;
    let hits = SearchIndex::builtin().search(c, &query.q, &query.filter(), want);
    let page: Vec<Value> = hits
        .iter()
        .skip(query.offset)
        .take(query.limit)
        .map(hit_json)
        .collect();
    let mut resp = http::json(
        200,
        &json!({ "query": query.q, "data": page, "next_cursor": query.next_cursor(hits.len()) }),
    )?;
    // The catalogue changes only with a deploy: shared caches and the edge cache may keep it.
    http::set(resp.headers_mut(), "Cache-Control", "public, max-age=300");
    Ok(resp)
}

/// The footprint request that uses an identified catalogue product.
fn catalogue_match(p: &Product, confidence: f64, evidence: &[String]) -> Value {
    json!({
        "source": "catalogue",
        "product": { "id": p.id, "brand": p.brand, "name": p.name, "category": p.category,
                     "published_total_kg_co2e": p.total_kg },
        "confidence": confidence,
        "evidence": evidence,
        "footprint_request": { "product": { "id": p.id } },
    })
}

/// Icecat's specs as a footprint request.
fn icecat_match(p: &IcecatProduct) -> Value {
    json!({
        "source": "icecat",
        "product": { "brand": p.brand, "name": p.name, "mpn": p.mpn, "gtins": p.gtins,
                     "icecat_id": p.icecat_id, "icecat_category": p.icecat_category, "category": p.category },
        "confidence": if p.category.is_some() { 0.9 } else { 0.5 },
        "evidence": ["exact Icecat lookup"],
        "specs": { "screen_size_in": p.screen_size_in, "memory_gb": p.memory_gb, "storage_gb": p.storage_gb,
                   "weight_kg": p.weight_kg, "typical_power_w": p.typical_power_w, "release_year": p.release_year },
        "footprint_request": {
            "category": p.category,
            "product": { "brand": p.brand, "model": p.name, "mpn": p.mpn, "gtin": p.gtins.first() },
            "specs": { "screen_size_in": p.screen_size_in, "memory_gb": p.memory_gb, "ssd_gb": p.storage_gb,
                       "weight_kg": p.weight_kg, "release_year": p.release_year },
        },
    })
}

pub async fn identify(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let body: Value = rc.json_body().await?;
    let input = parse_identify(&body).map_err(ApiError::validation)?;
    if rc.caller.sandbox() {
        return http::json(200, sandbox::identify());
    }
    let c = Catalogue::builtin();
    let found = catalogue_identify(c, SearchIndex::builtin(), &input);
    let mut warnings: Vec<String> = Vec::new();
    let mut best = found
        .best
        .as_ref()
        .map(|(h, conf)| catalogue_match(h.product, *conf, &h.evidence));
    if !found.confident() {
        match (input.icecat_lookup(), icecat::config(&rc.env)) {
            (Some(lookup), Some(cfg)) => match icecat::lookup(&rc.env, &cfg, &lookup).await {
                (Outcome::Found(p), cached) => {
                    let mut m = icecat_match(&p);
                    m["cached"] = json!(cached);
                    best = Some(m);
                }
                (Outcome::NotFound, _) => warnings.push("Icecat does not know this product".into()),
                (Outcome::Transient(why) | Outcome::Malformed(why), _) => warnings.push(format!(
                    "Icecat unavailable ({why}); answered from the catalogue only"
                )),
            },
            (Some(_), None) => {
                warnings.push("no confident catalogue match, and Icecat is not configured".into())
            }
            _ => {}
        }
        if best.as_ref().is_some_and(|b| b["source"] == "catalogue") {
            warnings.push(format!(
                "low confidence: below {CONFIDENT}; check the candidates"
            ));
        }
    }
    let candidates: Vec<Value> = found.candidates.iter().map(hit_json).collect();
    http::json(
        200,
        &json!({ "match": best, "candidates": candidates, "warnings": warnings }),
    )
}

pub async fn get(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let Some(p) = Catalogue::builtin().get(id) else {
        return Err(ApiError::not_found(format!(
            "no catalogue product `{id}`; find ids with /products/search"
        )));
    };
    let mut body = json!({
        "id": p.id, "brand": p.brand, "name": p.name, "category": p.category, "segment": p.segment,
        "specs": { "screen_size_in": p.screen_size_in, "memory_gb": p.memory_gb, "storage_gb": p.storage_gb,
                   "ssd_gb": p.ssd_gb, "hdd_gb": p.hdd_gb, "hard_drive": p.hard_drive, "weight_kg": p.weight_kg, "cpu_count": p.cpu_count,
                   "server_type": p.server_type, "assembly_location": p.assembly_location },
        "published_footprint": {
            "total_kg_co2e": p.total_kg,
            "stage_shares": { "production": p.share_production, "transport": p.share_transport,
                              "use": p.share_use, "end_of_life": p.share_eol },
            "error_ratio": p.error_ratio,
            "source_document": p.source_url,
            "report_date": p.report_date,
        },
        "published_assumptions": { "yearly_kwh": p.yearly_kwh, "lifetime_years": p.lifetime_years,
                                   "use_location": p.use_location,
                                   "implied_grid_kg_co2e_per_kwh": p.implied_kg_per_kwh },
        "quality_flags": p.quality_flags,
        "licence": "ODbL 1.0 (Boavizta environmental-footprint-data)",
        "footprint_request": { "product": { "id": p.id } },
    });
    if rc.caller.sandbox() {
        body = super::sandbox::mark(body);
    }
    let mut resp = http::json(200, &body)?;
    http::set(resp.headers_mut(), "Cache-Control", "public, max-age=3600");
    Ok(resp)
}
