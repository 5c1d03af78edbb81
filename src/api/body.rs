//! The request body, read once, never past the limit: the media-type check for JSON, the
//! size limit whatever the headers say, and the parse into a typed value (`parse.rs`).

use futures_util::StreamExt;

use super::http::RequestCtx;
use super::parse::parse_json;
use super::problem::ApiError;

/// Largest request body accepted (a 10,000-device report request fits).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

impl RequestCtx {
    /// Read and parse a JSON body: checks the media type and the size limit first.
    pub async fn json_body<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, ApiError> {
        let bytes = self.body_bytes().await?;
        parse_json(&bytes)
    }

    /// The raw body of a JSON request, after the media-type and size checks.
    pub async fn body_bytes(&mut self) -> Result<Vec<u8>, ApiError> {
        self.body_bytes_within(MAX_BODY_BYTES).await
    }

    /// [`Self::body_bytes`] with an endpoint's own size limit (asset imports: 20 MiB).
    pub async fn body_bytes_within(&mut self, limit: usize) -> Result<Vec<u8>, ApiError> {
        if let Some(ct) = self.header("Content-Type") {
            let media = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if !(media == "application/json" || media.ends_with("+json")) {
                return Err(ApiError::unsupported_media_type(&ct));
            }
        }
        self.raw_body_within(limit).await
    }

    /// The raw body, whatever its media type, never more than [`MAX_BODY_BYTES`].
    ///
    /// With a `Content-Length` the HTTP framing holds the body to it, so one read of a body
    /// under the limit is safe (and is the fast path). Without one (`Transfer-Encoding:
    /// chunked`) the body is streamed and the read stops at the first chunk past the limit.
    pub async fn raw_body(&mut self) -> Result<Vec<u8>, ApiError> {
        self.raw_body_within(MAX_BODY_BYTES).await
    }

    /// [`Self::raw_body`] with an endpoint's own size limit.
    pub async fn raw_body_within(&mut self, limit: usize) -> Result<Vec<u8>, ApiError> {
        let declared = self
            .header("Content-Length")
            .and_then(|l| l.trim().parse::<usize>().ok());
        match declared {
            Some(len) if len > limit => Err(ApiError::payload_too_large(limit)),
            Some(_) => {
                let bytes = self.req.bytes().await.map_err(unreadable)?;
                if bytes.len() > limit {
                    return Err(ApiError::payload_too_large(limit));
                }
                Ok(bytes)
            }
            None => {
                // No body at all (a GET, an empty POST) is an empty one.
                let Ok(mut stream) = self.req.stream() else {
                    return Ok(Vec::new());
                };
                let mut body = Vec::new();
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(unreadable)?;
                    if body.len() + chunk.len() > limit {
                        return Err(ApiError::payload_too_large(limit));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            }
        }
    }
}

fn unreadable(e: worker::Error) -> ApiError {
    ApiError::malformed_json(format!("could not read the body: {e}"))
}
