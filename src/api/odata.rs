//! `GET /odata/...`: the OData v4 read-only feed (Enterprise). Service document, `$metadata`,
//! entity sets with query options and server-driven paging, `/$count`, entity by key. Every
//! response carries `X-CarbonTrace-Proof`: the audit entry that recorded the read, its hash,
//! the hash it links to, the SHA-256 of the body, and an HMAC over them.

use serde_json::{json, Map, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::ApiError;
use crate::certs::sha256_hex;
use crate::edge::audit::{append_now, Record};
use crate::edge::clock::now_iso;
use crate::edge::signing::{current, Purpose};
use crate::odata::{
    context, encode_skiptoken, metadata, parse_query, set, Edm, EntitySet, QueryError, SETS,
};
use crate::store::odata as rows;

const JSON_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

fn base(rc: &RequestCtx) -> String {
    format!(
        "{}{}/odata",
        rc.url.origin().ascii_serialization(),
        crate::version::BASE_PATH
    )
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An OData-format error response (what Power Query and Excel show to the user).
fn odata_error(status: u16, code: &str, e: &QueryError) -> Result<Response, ApiError> {
    let body = json!({ "error": { "code": code, "message": e.message, "target": e.target, "details": [] } });
    let mut resp = http::bytes(status, JSON_TYPE, body.to_string().into_bytes())?;
    http::set(resp.headers_mut(), "OData-Version", "4.0");
    Ok(resp)
}

/// Shape a D1 row: booleans as booleans, in the property order of the set.
fn shape(set: &EntitySet, mut row: Map<String, Value>) -> Value {
    let mut out = Map::new();
    for p in set.props {
        if let Some(v) = row.remove(p.name) {
            let v = match (p.edm, &v) {
                (Edm::Boolean, Value::Number(n)) => Value::Bool(n.as_f64().unwrap_or(0.0) != 0.0),
                _ => v,
            };
            out.insert(p.name.to_string(), v);
        }
    }
    Value::Object(out)
}

/// Serve an OData path (`segments` after `/odata`).
pub async fn serve(rc: &mut RequestCtx, segments: &[String]) -> Result<Response, ApiError> {
    let segments: Vec<String> = segments.iter().map(|s| percent_decode(s)).collect();
    // The feed serves an organisation's live data, which a test key never reads: the same
    // 404 as for a feed that is not there.
    if rc.caller.sandbox() {
        return odata_error(
            404,
            "NotFound",
            &QueryError::new(
                "path",
                "no OData feed for test keys: the feed serves live data",
            ),
        );
    }
    let org_id = rc.org_id()?;
    let pairs: Vec<(String, String)> = rc
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let (body, content_type, status, target, rows): (Vec<u8>, &str, u16, String, usize) =
        match segments.as_slice() {
            [] => {
                let value: Vec<Value> = SETS
                    .iter()
                    .map(|s| json!({ "name": s.name, "kind": "EntitySet", "url": s.name }))
                    .collect();
                let b =
                    json!({ "@odata.context": format!("{}/$metadata", base(rc)), "value": value });
                (
                    b.to_string().into_bytes(),
                    JSON_TYPE,
                    200,
                    "service".into(),
                    0,
                )
            }
            [m] if m == "$metadata" => (
                metadata().into_bytes(),
                "application/xml;charset=utf-8",
                200,
                "$metadata".into(),
                0,
            ),
            [name] | [name, _] => {
                let (set_name, key) = match name.split_once('(') {
                    Some((s, rest)) => {
                        (s.to_string(), Some(rest.trim_end_matches(')').to_string()))
                    }
                    None => (name.clone(), None),
                };
                let Some(es) = set(&set_name) else {
                    return odata_error(
                        404,
                        "NotFound",
                        &QueryError::new("path", format!("no entity set `{set_name}`")),
                    );
                };
                let is_count = segments.get(1).map(String::as_str) == Some("$count");
                if segments.len() == 2 && !is_count {
                    return odata_error(
                        404,
                        "NotFound",
                        &QueryError::new(
                            "path",
                            format!("no resource `{}` under {set_name}", segments[1]),
                        ),
                    );
                }
                let mut q = match parse_query(es, &pairs) {
                    Ok(q) => q,
                    Err(e) => return odata_error(400, "BadRequest", &e),
                };
                let db = &rc.env;
                if let Some(k) = key {
                    // The key is one literal (quoted text or a number), never an expression.
                    let f = match crate::odata::key_filter(es, &k) {
                        Ok(f) => f,
                        Err(e) => {
                            return odata_error(
                                400,
                                "BadRequest",
                                &QueryError::new("key", e.message),
                            )
                        }
                    };
                    q.filter = Some(f);
                    q.top = Some(1);
                    let (found, _) = rows::page(db, es, &q, &org_id)
                        .await
                        .step("odata: reading the entity")?;
                    let row = found.into_iter().next();
                    let Some(row) = row else {
                        return odata_error(
                            404,
                            "NotFound",
                            &QueryError::new("key", format!("no {} with key {k}", es.entity_type)),
                        );
                    };
                    let mut v = shape(es, row);
                    v["@odata.context"] =
                        json!(format!("{}/$metadata#{}/$entity", base(rc), es.name));
                    (
                        v.to_string().into_bytes(),
                        JSON_TYPE,
                        200,
                        es.name.to_string(),
                        1,
                    )
                } else if is_count {
                    let n = rows::count(db, es, &q, &org_id)
                        .await
                        .step("odata: counting")?;
                    (
                        n.to_string().into_bytes(),
                        "text/plain;charset=utf-8",
                        200,
                        format!("{}/$count", es.name),
                        0,
                    )
                } else {
                    let (mut page, limit) = rows::page(db, es, &q, &org_id)
                        .await
                        .step("odata: reading a page")?;
                    // More pages only while rows remain and the client's $top is not reached.
                    let more = page.len() > limit && q.top.is_none_or(|t| q.offset + limit < t);
                    page.truncate(limit);
                    let n = page.len();
                    let mut b = Map::new();
                    b.insert("@odata.context".into(), json!(context(&base(rc), es, &q)));
                    if q.count {
                        b.insert(
                            "@odata.count".into(),
                            json!(rows::count(db, es, &q, &org_id)
                                .await
                                .step("odata: counting")?),
                        );
                    }
                    b.insert(
                        "value".into(),
                        Value::Array(page.into_iter().map(|r| shape(es, r)).collect()),
                    );
                    if more {
                        let mut next = rc.url.clone();
                        let kept: Vec<(String, String)> = pairs
                            .iter()
                            .filter(|(k, _)| k != "$skiptoken")
                            .cloned()
                            .collect();
                        {
                            let mut qp = next.query_pairs_mut();
                            qp.clear();
                            for (k, v) in &kept {
                                qp.append_pair(k, v);
                            }
                            qp.append_pair("$skiptoken", &encode_skiptoken(q.offset + n));
                        }
                        b.insert("@odata.nextLink".into(), json!(next.to_string()));
                    }
                    (
                        Value::Object(b).to_string().into_bytes(),
                        JSON_TYPE,
                        200,
                        es.name.to_string(),
                        n,
                    )
                }
            }
            _ => {
                return odata_error(
                    404,
                    "NotFound",
                    &QueryError::new("path", "no such OData resource"),
                )
            }
        };

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
