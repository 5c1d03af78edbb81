//! `GET /odata/...`: the OData v4 read-only feed (Enterprise). Service document, `$metadata`,
//! entity sets with query options and server-driven paging, `/$count`, entity by key. Every
//! response carries `X-CarbonTrace-Proof`: the audit entry that recorded the read, its hash,
//! the hash it links to, the SHA-256 of the body, and an HMAC over them.

use serde_json::json;
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::ApiError;
use crate::certs::sha256_hex;
use crate::edge::audit::{append_now, Record};
use crate::edge::clock::now_iso;
use crate::edge::signing::{current, Purpose};
use crate::odata::serve::{entity, page, plan, service_document, Plan, Refusal};
use crate::odata::{metadata, QueryError};
use crate::store::odata as rows;

const JSON_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

fn base(rc: &RequestCtx) -> String {
    format!(
        "{}{}/odata",
        rc.url.origin().ascii_serialization(),
        crate::version::BASE_PATH
    )
}

/// This request's URL with `$skiptoken` replaced by `token`.
fn next_link(url: &worker::Url, pairs: &[(String, String)], token: &str) -> String {
    let mut next = url.clone();
    {
        let mut qp = next.query_pairs_mut();
        qp.clear();
        for (k, v) in pairs.iter().filter(|(k, _)| k != "$skiptoken") {
            qp.append_pair(k, v);
        }
        qp.append_pair("$skiptoken", token);
    }
    next.to_string()
}

/// An OData-format error response (what Power Query and Excel show to the user).
fn odata_error(r: &Refusal) -> Result<Response, ApiError> {
    let e = &r.error;
    let body = json!({ "error": { "code": r.code, "message": e.message, "target": e.target, "details": [] } });
    let mut resp = http::bytes(r.status, JSON_TYPE, body.to_string().into_bytes())?;
    http::set(resp.headers_mut(), "OData-Version", "4.0");
    Ok(resp)
}

/// Serve an OData path (`segments` after `/odata`): plan it, read the rows, record the read in
/// the audit log and answer with the proof of that entry.
pub async fn serve(rc: &mut RequestCtx, segments: &[String]) -> Result<Response, ApiError> {
    // The feed serves an organisation's live data, which a test key never reads: the same
    // 404 as for a feed that is not there.
    if rc.caller.sandbox() {
        return odata_error(&Refusal {
            status: 404,
            code: "NotFound",
            error: QueryError::new(
                "path",
                "no OData feed for test keys: the feed serves live data",
            ),
        });
    }
    let org_id = rc.org_id()?;
    let pairs: Vec<(String, String)> = rc
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let plan = match plan(segments, &pairs) {
        Ok(p) => p,
        Err(refusal) => return odata_error(&refusal),
    };
    let db = &rc.env;
    let base = base(rc);
    let (body, content_type, target, rows): (Vec<u8>, &str, String, usize) = match plan {
        Plan::Service => (
            service_document(&base).to_string().into_bytes(),
            JSON_TYPE,
            "service".into(),
            0,
        ),
        Plan::Metadata => (
            metadata().into_bytes(),
            "application/xml;charset=utf-8",
            "$metadata".into(),
            0,
        ),
        Plan::Entity { set, query, key } => {
            let (found, _) = rows::page(db, set, &query, &org_id)
                .await
                .step("odata: reading the entity")?;
            let Some(row) = found.into_iter().next() else {
                return odata_error(&Refusal {
                    status: 404,
                    code: "NotFound",
                    error: QueryError::new("key", format!("no {} with key {key}", set.entity_type)),
                });
            };
            let v = entity(&base, set, row);
            (v.to_string().into_bytes(), JSON_TYPE, set.name.into(), 1)
        }
        Plan::Count { set, query } => {
            let n = rows::count(db, set, &query, &org_id)
                .await
                .step("odata: counting")?;
            (
                n.to_string().into_bytes(),
                "text/plain;charset=utf-8",
                format!("{}/$count", set.name),
                0,
            )
        }
        Plan::Page { set, query } => {
            let (found, limit) = rows::page(db, set, &query, &org_id)
                .await
                .step("odata: reading a page")?;
            let count = match query.count {
                true => Some(
                    rows::count(db, set, &query, &org_id)
                        .await
                        .step("odata: counting")?,
                ),
                false => None,
            };
            let (b, n) = page(&base, set, &query, found, limit, count, |token| {
                next_link(&rc.url, &pairs, token)
            });
            (b.to_string().into_bytes(), JSON_TYPE, set.name.into(), n)
        }
    };
    let status = 200;

    // Record the read in the audit log, then sign the proof of it.
    let body_sha = sha256_hex(&body);
    let signing_key = current(&rc.env, Purpose::OdataProof)
        .await
        .step("odata: reading the proof key")?
        .ok_or_else(|| {
            ApiError::service_unavailable(
                "signing_unavailable",
                "OData proofs need PROOF_ED25519_KEY (`<kid>:<64 hex>`).",
            )
        })?;
    let entry = append_now(
        &rc.env,
        &Record {
            org_id: org_id.clone(),
            at: now_iso(),
            actor: rc.caller.key_id.clone().unwrap_or_default(),
            action: "odata.read".into(),
            target: Some(target),
            details: json!({ "path": rc.url.path(), "query": rc.url.query(), "rows": rows, "body_sha256": body_sha }),
        },
    )
    .await
    .step("odata: recording the read in the audit log")?;
    let proof = crate::odata::proof::header(
        &signing_key,
        &entry.org_id,
        entry.seq,
        &entry.hash,
        &entry.prev_hash,
        &body_sha,
    );
    let mut resp = http::bytes(status, content_type, body)?;
    let h = resp.headers_mut();
    http::set(h, "OData-Version", "4.0");
    http::set(h, "X-CarbonTrace-Proof", &proof);
    http::set(h, "Cache-Control", "no-store");
    Ok(resp)
}
