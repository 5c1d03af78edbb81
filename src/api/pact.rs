//! `/pact/*` under the API: how an organisation takes part in PACT v3. Its admin keys (and
//! its owner in the console) create and revoke the credentials it gives each data recipient
//! (`/pact/clients`: the secret shown once, stored as its SHA-256) and set who it is in PACT
//! (`/pact/profile`); its keys publish ProductFootprints (`POST /pact/footprints`) from one of
//! its certificates or from a footprint request, each re-publication a new version that
//! deprecates the one before. The data recipients read them at the host (`pact_host.rs`).

use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::parse::parse_json;
use super::problem::ApiError;
use crate::edge::clock::now_iso;
use crate::edge::{random, state};
use crate::lca::input::parse_device;
use crate::pact::{self, Basis, Figures, Identity, ProfileBody, PublishBody};
use crate::store::pact::{self as store, NewVersion, Outcome, MAX_CLIENTS, MAX_FOOTPRINTS};

/// `POST /pact/clients`: a data recipient's credentials (`client_id`, and `client_secret`
/// this once).
pub async fn create_client(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    #[derive(serde::Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct Body {
        name: Option<String>,
    }
    let bytes = rc.body_bytes().await?;
    let body: Body = if bytes.is_empty() {
        Body::default()
    } else {
        parse_json(&bytes)?
    };
    let name = body.name.map(|n| n.trim().to_string());
    if name
        .as_deref()
        .is_some_and(|n| n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control))
    {
        return Err(ApiError::validation(vec![
            crate::validation::FieldError::new("name", "1 to 100 characters"),
        ]));
    }
    let tenant = rc.tenant()?;
    let id = format!("pc_{}", random::hex_id(12));
    // A credential: from the runtime's randomness or not at all (`hex_id` would fall back).
    let (secret, secret_hash) = super::session::one_time_token("pcs_")?;
    let now = now_iso();
    if !store::add_client(&rc.env, &tenant, &id, name.as_deref(), &secret_hash, &now)
        .await
        .step("pact: storing a client")?
    {
        return Err(ApiError::new(409, "pact_client_limit_reached", "Too many PACT clients",
            format!("An organisation holds at most {MAX_CLIENTS} active PACT clients per mode; revoke one first.")));
    }
    let chain = crate::audit::chain(&tenant.org_id, tenant.mode);
    rc.audit(
        &chain,
        "pact.client_created",
        Some(&id),
        json!({ "name": name }),
    )
    .await;
    let mut resp = http::json(
        201,
        &json!({
            "client_id": id, "client_secret": secret, "name": name, "mode": tenant.mode(), "created_at": now,
            "token_url": format!("{}/pact/auth/token", rc.public_base()),
            "base_url": format!("{}/pact", rc.public_base()),
        }),
    )?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// `GET /pact/clients`.
pub async fn list_clients(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let clients = store::clients(&rc.env, &rc.tenant()?)
        .await
        .step("pact: listing clients")?;
    http::json(200, &json!({ "data": clients }))
}

/// `DELETE /pact/clients/{id}`: no new token for it (one already issued ends within its hour).
pub async fn revoke_client(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let tenant = rc.tenant()?;
    if !store::revoke_client(&rc.env, &tenant, id, &now_iso())
        .await
        .step("pact: revoking a client")?
    {
        return Err(ApiError::not_found(format!("no active PACT client `{id}`")));
    }
    let chain = crate::audit::chain(&tenant.org_id, tenant.mode);
    rc.audit(&chain, "pact.client_revoked", Some(id), json!({}))
        .await;
    http::json(
        200,
        &json!({ "client_id": id, "revoked": true, "tokens_end_within_s": pact::token::TTL_S }),
    )
}

/// `PUT /pact/profile`.
pub async fn put_profile(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let p = pact::profile(parse_json::<ProfileBody>(&bytes)?).map_err(ApiError::validation)?;
    let tenant = rc.tenant()?;
    store::put_profile(&rc.env, &tenant, &p, &now_iso())
        .await
        .step("pact: storing the profile")?;
    let chain = crate::audit::chain(&tenant.org_id, tenant.mode);
    rc.audit(
        &chain,
        "pact.profile_set",
        None,
        json!({ "company_name": p.company_name, "company_ids": p.company_ids }),
    )
    .await;
    http::json(200, &p)
}

/// `GET /pact/profile`.
pub async fn get_profile(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let p = store::profile(&rc.env, &rc.tenant()?)
        .await
        .step("pact: reading the profile")?
        .ok_or_else(|| {
            ApiError::not_found(
                "No PACT profile yet: PUT /pact/profile {company_name, company_ids}.",
            )
        })?;
    http::json(200, &p)
}

/// A random (version 4) UUID, as PACT footprint ids are.
fn uuid_v4() -> Result<String, ApiError> {
    let mut b = random::secure_bytes(16).map_err(|_| ApiError::internal("no randomness"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// The figures a publication rests on: a certificate of the tenant's, or a footprint computed
/// now from a request as `POST /footprint` takes it.
async fn figures(rc: &RequestCtx, basis: &Basis) -> Result<Figures, ApiError> {
    let result: Value = match basis {
        Basis::Certificate(id) => {
            let cert = crate::store::certificates::owned(&rc.env, &rc.tenant()?, id)
                .await
                .step("pact: reading the certificate")?
                .ok_or_else(|| {
                    ApiError::not_found(format!("no certificate `{id}` for this organisation"))
                })?;
            if cert.revoked_at.is_some() {
                return Err(ApiError::new(
                    409,
                    "certificate_revoked",
                    "Certificate revoked",
                    format!("`{id}` is revoked: its figures are not published."),
                ));
            }
            let doc: Value = serde_json::from_str(&cert.canonical)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            if doc["kind"] != "footprint" {
                return Err(ApiError::bad_request("invalid_parameter", "certificate_id",
                    "a footprint certificate (a savings certificate states avoided emissions, not a product's footprint)"));
            }
            doc["result"].clone()
        }
        Basis::Footprint(body) => {
            let engine = state::active(&rc.env).await.engine();
            let input =
                parse_device(body, "footprint", engine.factors).map_err(ApiError::validation)?;
            let f = engine.footprint(&input).map_err(ApiError::validation)?;
            serde_json::to_value(&f).map_err(|e| ApiError::internal(e.to_string()))?
        }
    };
    Figures::of(&result)
        .ok_or_else(|| ApiError::internal("a footprint without its breakdown or methodology"))
}

/// `POST /pact/footprints`: publish (or re-publish) a product's footprint.
pub async fn publish(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let bytes = rc.body_bytes().await?;
    let p = pact::publish(parse_json::<PublishBody>(&bytes)?).map_err(ApiError::validation)?;
    let tenant = rc.tenant()?;
    let profile = store::profile(&rc.env, &tenant)
        .await
        .step("pact: reading the profile")?
        .ok_or_else(|| {
            ApiError::new(
                409,
                "pact_profile_required",
                "PACT profile required",
                "Set who you are in PACT first: PUT /pact/profile {company_name, company_ids}.",
            )
        })?;
    let f = figures(rc, &p.basis).await?;
    let key = pact::product_key(&p.product_ids);
    let before = store::active(&rc.env, &tenant, &key)
        .await
        .step("pact: reading the active version")?;
    let id = uuid_v4()?;
    let now = now_iso();
    let year: i64 = now[..4].parse().unwrap_or(2026);
    let (start, end) = (
        format!("{}-01-01T00:00:00Z", year - 1),
        format!("{year}-01-01T00:00:00Z"),
    );
    let preceding: Vec<String> = before.iter().map(|b| b.id.clone()).collect();
    let doc = pact::document(
        &p,
        &profile,
        &f,
        &Identity {
            id: &id,
            created: &now,
            preceding: &preceding,
            default_period: (&start, &end),
        },
    );
    if let Some(b) = &before {
        let old: Value = serde_json::from_str(&b.document).unwrap_or_default();
        if pact::same_content(&old, &doc) {
            return http::json(200, &json!({ "data": old, "unchanged": true }));
        }
    }
    let basis = match &p.basis {
        Basis::Certificate(c) => c.as_str(),
        Basis::Footprint(_) => "footprint",
    };
    let text = doc.to_string();
    let outcome = store::publish(&rc.env, &tenant, &NewVersion {
        id: &id, product_key: &key, created_at: &now, basis, document: &text, replaces: before.as_ref().map(|b| b.id.as_str()),
    })
    .await
    .map_err(|e| if e.0.contains("UNIQUE") {
        ApiError::new(409, "pact_publication_conflict", "Published meanwhile",
            "Another publication of this product landed at the same moment; read it and publish again if needed.")
    } else {
        http::edge_error("pact: storing the footprint", e)
    })?;
    if outcome == Outcome::Full {
        return Err(ApiError::new(
            409,
            "pact_footprint_limit_reached",
            "Too many footprint versions",
            format!("An organisation stores at most {MAX_FOOTPRINTS} footprint versions per mode."),
        ));
    }
    let chain = crate::audit::chain(&tenant.org_id, tenant.mode);
    rc.audit(
        &chain,
        "pact.footprint_published",
        Some(&id),
        json!({ "product_ids": p.product_ids, "preceding": preceding, "basis": basis }),
    )
    .await;
    let mut resp = http::json(201, &json!({ "data": doc, "unchanged": false }))?;
    http::set(
        resp.headers_mut(),
        "Location",
        &format!("{}/pact/3/footprints/{id}", rc.public_base()),
    );
    Ok(resp)
}
