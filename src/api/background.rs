//! Background work seen from a handler: enqueue a job within the plan's cap (429 past it, 503
//! when the queue refuses), answer 202 with its status URL, and stream a finished job's
//! artefact from R2.

use worker::Response;

use super::http::{self, edge_error, RequestCtx, Step};
use super::problem::ApiError;

impl RequestCtx {
    /// Enqueue job `id` for the caller's tenant, within its plan's cap on open jobs of the
    /// kind (429 past it); a queue refusing is a 503. Returns the job's `created_at`.
    pub async fn enqueue(&self, id: &str, spec: crate::jobs::Spec) -> Result<String, ApiError> {
        use crate::jobs::EnqueueError;
        let tenant = self.tenant()?;
        let kind = spec.kind();
        let actor = self.caller.actor();
        let job = crate::jobs::Enqueue {
            id,
            tenant: &tenant,
            key_id: &actor,
            max_open: self.caller.plan.max_open_jobs(),
            spec,
        };
        match crate::jobs::enqueue(&self.env, job).await {
            Ok(created_at) => Ok(created_at),
            Err(EnqueueError::CapReached { open, cap }) => {
                Err(ApiError::too_many_jobs(self.caller.plan, kind, open, cap))
            }
            Err(EnqueueError::Store(e)) => Err(edge_error("enqueue: writing the job row", e)),
            Err(EnqueueError::Queue(e)) => {
                worker::console_error!("queue send failed: {e}");
                Err(ApiError::queue_unavailable())
            }
        }
    }
}

/// 202 for a job just enqueued, with `Location` at its status URL.
pub fn accepted(v: serde_json::Value) -> Result<Response, ApiError> {
    let mut resp = http::json(202, &v)?;
    http::set(
        resp.headers_mut(),
        "Location",
        v["status_url"].as_str().unwrap_or(""),
    );
    Ok(resp)
}

/// Stream an R2 object as an attachment; `None` when the object is not stored.
pub async fn download(
    rc: &RequestCtx,
    key: &str,
    content_type: &str,
    filename: &str,
) -> Result<Option<Response>, ApiError> {
    let Some(obj) = rc
        .env
        .bucket(crate::edge::bindings::BUCKET)
        .step("download: opening R2")?
        .get(key)
        .execute()
        .await
        .step("download: reading the object from R2")?
    else {
        return Ok(None);
    };
    let Some(body) = obj.body() else {
        return Ok(None);
    };
    let stream = body.stream().step("download: streaming an R2 body")?;
    let mut resp = Response::from_stream(stream).step("download: building the response")?;
    http::set(resp.headers_mut(), "Content-Type", content_type);
    http::set(
        resp.headers_mut(),
        "Content-Disposition",
        &format!("attachment; filename=\"{filename}\""),
    );
    Ok(Some(resp))
}
