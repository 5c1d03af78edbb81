//! Response bodies as types and pure functions (tested natively): the 202 that accepts a job,
//! the status every job kind answers with (each with its kind's own members flattened in), and
//! a stored certificate as `GET /certificates/{id}` answers it. Field names here are the
//! API's; the OpenAPI document describes them.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::job::JobColumns;
use crate::version::BASE_PATH;

/// `202 Accepted` for a job just enqueued (plus the kind's own members).
#[derive(Debug, Serialize)]
pub struct Accepted<'a, X: Serialize> {
    pub id: &'a str,
    pub status: &'static str,
    pub created_at: &'a str,
    pub status_url: String,
    #[serde(flatten)]
    pub extra: X,
}

impl<'a, X: Serialize> Accepted<'a, X> {
    pub fn new(id: &'a str, created_at: &'a str, path: &str, extra: X) -> Self {
        Accepted {
            id,
            status: "queued",
            created_at,
            status_url: format!("{BASE_PATH}/{path}/{id}"),
            extra,
        }
    }

    /// As a JSON value (what idempotency stores for a replay).
    pub fn value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A job's status: the lifecycle's members, then the kind's own.
#[derive(Debug, Serialize)]
pub struct JobStatus<'a, X: Serialize> {
    pub id: &'a str,
    pub status: &'a str,
    pub reason: Option<&'a str>,
    pub attempts: u64,
    pub created_at: &'a str,
    pub finished_at: Option<&'a str>,
    #[serde(flatten)]
    pub detail: X,
}

impl<'a, X: Serialize> JobStatus<'a, X> {
    /// A job's status from its row's lifecycle columns and its kind's own members.
    pub fn of(job: &'a JobColumns, detail: X) -> Self {
        JobStatus {
            id: &job.id,
            status: &job.status,
            reason: job.reason.as_deref(),
            attempts: job.attempts as u64,
            created_at: &job.created_at,
            finished_at: job.finished_at.as_deref(),
            detail,
        }
    }
}

/// A stored JSON column, parsed (`null` when absent or unreadable).
pub fn stored_json(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

#[derive(Debug, Serialize)]
pub struct PdfLink {
    pub bytes: Option<f64>,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct ReportDetail<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub title: &'a str,
    pub period: Option<&'a str>,
    pub source: &'a str,
    pub started_at: Option<&'a str>,
    pub summary: Value,
    pub pdf: Option<PdfLink>,
}

#[derive(Debug, Serialize)]
pub struct ExportDetail<'a> {
    pub expires_at: &'a str,
    pub bytes: Option<f64>,
    /// Rows per table, from the manifest.
    pub counts: Map<String, Value>,
    pub download_url: Option<String>,
    pub manifest: Value,
}

impl ExportDetail<'_> {
    /// Rows per table, as the manifest lists them.
    pub fn counts(manifest: &Value) -> Map<String, Value> {
        manifest["files"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(|e| Some((e["table"].as_str()?.to_string(), e["rows"].clone())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Serialize)]
pub struct PullDetail {
    pub pages: u64,
    pub since: Value,
    pub result: Value,
}

/// A sandbox certificate: computed like a real one so integrators see the shape, never signed
/// or stored.
pub fn sandbox_certificate(s: crate::certs::statement::Statement) -> Value {
    serde_json::json!({
        "id": "cert_sandbox_0000000000000000", "kind": s.kind, "content_hash": null, "signature": null,
        "verification_url": null,
        "certificate": { "schema": crate::certs::SCHEMA_V2, "request": s.request, "result": s.result, "asset": s.asset },
        "_sandbox": true, "note": "sandbox certificates are not signed and not stored",
    })
}

/// A stored certificate as `GET /certificates/{id}` answers it: the signed document as issued,
/// its signature as its schema states it (`ct-cert-2`: algorithm and key; `ct-cert-1`: the
/// HMAC text), and where to verify it and fetch its PDF.
pub fn certificate(row: &crate::store::certificates::Certificate, verification_url: &str) -> Value {
    let doc: Value = serde_json::from_str(&row.canonical).unwrap_or(Value::Null);
    let signature = if doc["schema"] == crate::certs::SCHEMA_V2 {
        serde_json::json!({ "alg": "EdDSA", "kid": row.signing_key_id, "value": row.signature })
    } else {
        serde_json::json!(row.signature)
    };
    serde_json::json!({
        "id": row.id, "kind": row.kind, "issued_at": row.issued_at, "revoked_at": row.revoked_at,
        "content_hash": row.content_hash, "signature": signature, "signing_key_id": row.signing_key_id,
        "factor_set_version": row.factor_set_version, "verification_url": verification_url,
        "pdf": { "bytes": row.pdf_bytes, "sha256": row.pdf_hash,
                 "url": format!("{BASE_PATH}/certificates/{}?format=pdf", row.id) },
        "certificate": doc,
    })
}

/// An inventory asset as the API answers it: its fields as sent, its status, and its pinned
/// footprint (with the versions it was computed with).
pub fn asset(row: &crate::store::inventory::Row) -> Value {
    let mut v = row.input_json();
    let pinned = row.pinned();
    v["id"] = serde_json::json!(row.id);
    v["status"] = serde_json::json!(if row.retired_date.is_some() {
        "retired"
    } else {
        "active"
    });
    if let Some(p) = &pinned {
        v["category"] = serde_json::json!(p.category);
        v["footprint"] = serde_json::json!({
            "production_kg": p.production_kg, "transport_kg": p.transport_kg,
            "use_kg_per_year": p.use_kg_per_year, "end_of_life_kg": p.end_of_life_kg,
            "low_kg": p.low_kg, "high_kg": p.high_kg, "total_kg": p.total_kg,
            "source": p.source.name(), "product_id": p.product_id,
            "kwh_per_year": p.kwh_per_year, "grid_kg_per_kwh": p.grid_kg_per_kwh,
            "lifetime_years": p.lifetime_years,
            "methodology_version": p.methodology_version, "factor_set": p.factor_set,
        });
    }
    v["erasure_document_id"] = serde_json::json!(row.erasure_document_id);
    v["created_at"] = serde_json::json!(row.created_at);
    v["updated_at"] = serde_json::json!(row.updated_at);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_states_its_signature_as_its_schema_does() {
        let mut row = crate::store::certificates::Certificate {
            id: "cert_1".into(),
            org_id: "org_a".into(),
            kind: "footprint".into(),
            issued_at: "2026-12-02T00:00:00.000Z".into(),
            canonical: r#"{"schema":"ct-cert-2","x":1}"#.into(),
            content_hash: "h".into(),
            signature: "sig".into(),
            signing_key_id: "c1".into(),
            factor_set_version: "2026.11.2".into(),
            pdf_key: "k".into(),
            pdf_hash: "p".into(),
            pdf_bytes: 10.0,
            revoked_at: None,
        };
        let v = certificate(&row, "https://x/verify");
        assert_eq!(v["signature"]["kid"], "c1");
        assert_eq!(v["certificate"]["x"], 1);
        assert_eq!(v["pdf"]["url"], "/api/v1/certificates/cert_1?format=pdf");
        row.canonical = r#"{"schema":"ct-cert-1"}"#.into();
        assert_eq!(certificate(&row, "u")["signature"], "sig");
    }
    use serde_json::json;

    #[test]
    fn a_job_status_flattens_its_kind() {
        let job = JobColumns {
            id: "exp_1".into(),
            status: "done".into(),
            reason: None,
            attempts: 2.0,
            created_at: "2026-11-29T00:00:00Z".into(),
            finished_at: Some("2026-11-29T00:00:01Z".into()),
        };
        let s = JobStatus::of(
            &job,
            PullDetail {
                pages: 3,
                since: json!("2026-01-01"),
                result: json!({"imported": 1}),
            },
        );
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["attempts"], 2);
        assert_eq!(v["pages"], 3);
        assert_eq!(v["reason"], Value::Null);
        let a = Accepted::new("rep_1", "now", "reports", json!({"type": "hotspot"})).value();
        assert_eq!(a["status_url"], "/api/v1/reports/rep_1");
        assert_eq!(a["type"], "hotspot");
        let m = json!({"files": [{"table": "assets", "rows": 4}, {"file": "certificates/x.pdf"}]});
        assert_eq!(
            Value::Object(ExportDetail::counts(&m)),
            json!({"assets": 4})
        );
    }
}
