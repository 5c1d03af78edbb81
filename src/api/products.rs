//! `GET /products/search`, `POST /products/identify`, `GET /products/{id}`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx};
use super::problem::{ApiError, FieldError};
use super::sandbox;
use crate::catalog::icecat::{IcecatProduct, Outcome};
use crate::catalog::identify::{
    hit_json, identify as catalogue_identify, parse_identify, CONFIDENT,
};
use crate::catalog::search::{Filter, SearchIndex};
use crate::catalog::{Catalogue, Product};
use crate::edge::icecat;
use crate::edge::state;

const MAX_LIMIT: usize = 50;

/// The opaque cursor: the offset and a fingerprint of the query it belongs to.
fn cursor(offset: usize, fingerprint: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{offset}:{fingerprint}"))
}

fn read_cursor(c: &str, fingerprint: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let (offset, fp) = text.split_once(':')?;
    (fp == fingerprint).then(|| offset.parse().ok()).flatten()
}

pub async fn search(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let q = rc
        .query("q")
        .map(|q| q.trim().to_string())
        .unwrap_or_default();
    if q.is_empty() || q.chars().count() > 200 {
        errors.push(FieldError::new(
            "q",
            "required: 1 to 200 characters of free text",
        ));
    }
    let factors = state::active(&rc.env).await.factors;
    let category = rc.query("category");
    if let Some(c) = &category {
        if factors.category(c).is_none() {
            errors.push(FieldError::new(
                "category",
                format!("unknown category `{c}`"),
            ));
        }
    }
    let brand = rc.query("brand");
    let limit = match rc.query("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => l,
        Some(_) => {
            errors.push(FieldError::new(
                "limit",
                format!("must be a whole number from 1 to {MAX_LIMIT}"),
            ));
            10
        }
    };
    let fingerprint = crate::catalog::normalise(&format!(
        "{q}|{}|{}",
        category.as_deref().unwrap_or(""),
        brand.as_deref().unwrap_or("")
    ));
    let fingerprint: String = fingerprint.chars().take(24).collect();
    // An empty `cursor=` is the first page (clients send `cursor=${next ?? ''}`).
    let offset = match rc.query("cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => read_cursor(&c, &fingerprint).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "cursor",
                "not a cursor of this query; use next_cursor as returned",
            ));
            0
        }),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if rc.caller.sandbox() {
        return http::json(200, sandbox::search());
    }
    let c = Catalogue::builtin();
    let filter = Filter {
        category: category.as_deref(),
        brand: brand.as_deref(),
    };
    let hits = SearchIndex::builtin().search(c, &q, &filter, offset + limit + 1);
    let page: Vec<Value> = hits.iter().skip(offset).take(limit).map(hit_json).collect();
    let next = (hits.len() > offset + limit).then(|| cursor(offset + limit, &fingerprint));
    let mut resp = http::json(
        200,
        &json!({ "query": q, "data": page, "next_cursor": next }),
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
        body["_sandbox"] = json!(true);
    }
    let mut resp = http::json(200, &body)?;
    http::set(resp.headers_mut(), "Cache-Control", "public, max-age=3600");
    Ok(resp)
}
