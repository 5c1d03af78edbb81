//! Binding and secret names, as declared in wrangler.toml and `.dev.vars.example`.

pub const KV: &str = "KV";
pub const DB: &str = "DB";
pub const BUCKET: &str = "BUCKET";
pub const JOBS: &str = "JOBS";
pub const RATE_LIMITER: &str = "RATE_LIMITER";
pub const AUDIT_SEQUENCER: &str = "AUDIT_SEQUENCER";
/// Optional `[[send_email]]` binding for the console's mail (verification and invitation
/// links), with the sender address in the `MAIL_FROM` variable (`edge::mail`).
pub const MAIL: &str = "MAIL";
pub const MAIL_FROM: &str = "MAIL_FROM";

/// Secret guarding admin routes and the deep health check.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";

/// KV key under which the queue consumer records a consumed health probe.
pub fn queue_probe_key(id: &str) -> String {
    format!("probe:queue:{id}")
}

/// A secret or, failing that, a variable; `None` when unset or blank, and when it is an
/// example placeholder copied from `.dev.vars.example` (logged: a known value is no secret).
pub fn setting(env: &worker::Env, name: &str) -> Option<String> {
    let value = env
        .secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .filter(|s| !s.trim().is_empty())?;
    if crate::secure::is_placeholder(&value) {
        worker::console_error!(
            "{name} is the example placeholder from .dev.vars.example: treated as unset; set a real value"
        );
        return None;
    }
    Some(value)
}

/// The certificate / proof signing key (16+ characters), if configured.
pub fn signing_key(env: &worker::Env) -> Option<String> {
    setting(env, "CERT_SIGNING_KEY").filter(|k| k.len() >= 16)
}

/// Whether plain `http` to a loopback host is allowed for customers' integration URLs (local
/// development and the test server only; never set in production).
pub fn allow_loopback_integrations(env: &worker::Env) -> bool {
    setting(env, "INTEGRATIONS_ALLOW_LOOPBACK").is_some_and(|v| v == "true")
}

/// The jobs queue's dead-letter queue (wrangler.toml), where exhausted messages go.
pub const JOBS_DEAD_LETTER_QUEUE: &str = "carbontrace-jobs-dlq";

/// Store an object in R2 with its content type (served back as is on download).
pub async fn put_object(
    env: &worker::Env,
    key: &str,
    bytes: Vec<u8>,
    content_type: &str,
) -> worker::Result<()> {
    env.bucket(BUCKET)?
        .put(key, bytes)
        .http_metadata(worker::HttpMetadata {
            content_type: Some(content_type.into()),
            ..Default::default()
        })
        .execute()
        .await?;
    Ok(())
}

/// Delete an object from R2; a failure is logged, not returned (callers are cleaning up, and
/// the cron or a retry finds the object again).
pub async fn delete_object(env: &worker::Env, key: &str) {
    let deleted = async { env.bucket(BUCKET)?.delete(key).await };
    if let Err(e) = deleted.await {
        worker::console_error!("could not delete R2 object {key}: {e}");
    }
}

/// The key-encryption keys for integration credentials, current first: `CREDENTIALS_KEY`
/// (64 hex characters) with `CREDENTIALS_KEY_ID`, then `CREDENTIALS_KEY_PREVIOUS` with
/// `CREDENTIALS_KEY_PREVIOUS_ID` while a rotation re-seals what the previous key sealed.
pub fn credential_keys(env: &worker::Env) -> worker::Result<Vec<(String, [u8; 32])>> {
    let mut keys = Vec::new();
    for (key, id) in [
        ("CREDENTIALS_KEY", "CREDENTIALS_KEY_ID"),
        ("CREDENTIALS_KEY_PREVIOUS", "CREDENTIALS_KEY_PREVIOUS_ID"),
    ] {
        if let Some(hex) = setting(env, key) {
            let kek = crate::secure::parse_kek(&hex).ok_or_else(|| {
                worker::Error::RustError(format!("{key} must be 64 hex characters"))
            })?;
            keys.push((setting(env, id).unwrap_or_else(|| "default".into()), kek));
        }
    }
    Ok(keys)
}
