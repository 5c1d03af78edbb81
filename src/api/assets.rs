//! `/assets`: an organisation's fleet inventory, one asset per device and mode, keyed by
//! serial. `POST` creates (201) or updates (200) by serial, pinning the footprint
//! (`inventory::asset`); `GET` pages and filters; `GET`, `PATCH`, `DELETE` by id. Every
//! change is audited in the mode's own chain. The accounting of a year: `inventory.rs`.
//!
//! Test keys see the sandbox's fixed inventory (`inventory::sandbox`, `_sandbox: true`):
//! reads are served from it, writes are validated and answered, and nothing is stored.

use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::{ApiError, FieldError};
use super::{sandbox, views};
use crate::edge::clock::now_iso;
use crate::edge::{random, state};
use crate::inventory::asset::{parse, pin};
use crate::store::inventory::{self as store, Filter, Upserted};
use crate::validation::epoch_day;
use crate::version::BASE_PATH;

/// Most assets of one page.
const MAX_PAGE: usize = 200;

/// Validate, pin and write an asset; audit a change; answer it (201 when new).
async fn write(rc: &RequestCtx, body: &Value) -> Result<Response, ApiError> {
    let tenant = rc.tenant()?;
    let engine = state::active(&rc.env).await.engine();
    let input = parse(body, engine.factors).map_err(ApiError::validation)?;
    let pinned = pin(&engine, &input).map_err(ApiError::validation)?;
    if rc.caller.sandbox() {
        // Answered as if written (200 for a fixture's serial, else 201), nothing stored.
        let known = sandbox::inventory_rows()
            .iter()
            .find(|r| r.serial == input.serial);
        let id = known.map_or("ast_sandbox_new", |r| r.id.as_str());
        let row = store::Row::of(id, &input, &pinned, &now_iso());
        let status = if known.is_some() { 200 } else { 201 };
        return http::json(status, &sandbox::mark(views::asset(&row)));
    }
    let new_id = format!("ast_{}", random::hex_id(12));
    let (what, id) = store::upsert(&rc.env, &tenant, &new_id, &input, &pinned, &now_iso())
        .await
        .step("assets: writing one")?;
    let action = match what {
        Upserted::Created => Some("asset.created"),
        Upserted::Updated => Some("asset.updated"),
        Upserted::Unchanged => None,
    };
    if let Some(action) = action {
        let chain = crate::audit::chain(&tenant.org_id, tenant.mode);
        let details = json!({ "serial": input.serial, "factor_set": pinned.factor_set });
        rc.audit(&chain, action, Some(&id), details).await;
    }
    let row = own(rc, &id).await?;
    let mut resp = http::json(
        if what == Upserted::Created { 201 } else { 200 },
        &views::asset(&row),
    )?;
    http::set(
        resp.headers_mut(),
        "Location",
        &format!("{BASE_PATH}/assets/{id}"),
    );
    Ok(resp)
}

/// `POST /assets`.
pub async fn create(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let body: Value = rc.json_body().await?;
    write(rc, &body).await
}

async fn own(rc: &RequestCtx, id: &str) -> Result<store::Row, ApiError> {
    let found = if rc.caller.sandbox() {
        sandbox::inventory_rows()
            .iter()
            .find(|r| r.id == id)
            .cloned()
    } else {
        store::get(&rc.env, &rc.tenant()?, id)
            .await
            .step("assets: reading one")?
    };
    found.ok_or_else(|| ApiError::not_found(format!("no asset `{id}` for this organisation")))
}

/// An asset as answered: marked `_sandbox` for a test key.
fn answer(rc: &RequestCtx, v: Value) -> Value {
    if rc.caller.sandbox() {
        sandbox::mark(v)
    } else {
        v
    }
}

/// `GET /assets/{id}`.
pub async fn get(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let v = views::asset(&own(rc, id).await?);
    http::json(200, &answer(rc, v))
}

/// `PATCH /assets/{id}`: the stored fields with the body's laid over them (`null` clears an
/// optional one), validated and pinned again as a whole. The serial is the asset's key.
pub async fn patch(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let patch: Value = rc.json_body().await?;
    let Value::Object(fields) = patch else {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )]));
    };
    let row = own(rc, id).await?;
    if fields
        .get("serial")
        .is_some_and(|s| s.as_str() != Some(row.serial.as_str()))
    {
        return Err(ApiError::validation(vec![FieldError::new(
            "serial",
            "the asset's key: create an asset with the new serial instead",
        )]));
    }
    let mut body = row.input_json();
    for (k, v) in fields {
        body[k.as_str()] = v;
    }
    write(rc, &body).await
}

/// `DELETE /assets/{id}`.
pub async fn delete(rc: &mut RequestCtx, id: &str) -> Result<Response, ApiError> {
    let tenant = rc.tenant()?;
    let row = own(rc, id).await?;
    if rc.caller.sandbox() {
        return http::json(200, &sandbox::mark(json!({ "id": id, "deleted": true })));
    }
    if store::delete(&rc.env, &tenant, id)
        .await
        .step("assets: deleting one")?
    {
        let chain = crate::audit::chain(&tenant.org_id, tenant.mode);
        rc.audit(
            &chain,
            "asset.deleted",
            Some(id),
            json!({ "serial": row.serial }),
        )
        .await;
    }
    http::json(200, &json!({ "id": id, "deleted": true }))
}

/// `GET /assets`: a page of the fleet (`limit` up to 200, `cursor` from the previous page),
/// narrowed by `category`, `status=active|retired`, `purchased_from`, `purchased_to`, `q`.
pub async fn list(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let (category, q) = (rc.query("category"), rc.query("q"));
    if q.as_deref().is_some_and(|q| q.chars().count() > 200) {
        errors.push(FieldError::new("q", "at most 200 characters"));
    }
    let retired = match rc.query("status").as_deref() {
        None => None,
        Some("active") => Some(false),
        Some("retired") => Some(true),
        Some(_) => {
            errors.push(FieldError::new("status", "one of: active, retired"));
            None
        }
    };
    let mut date = |name: &str| {
        let v = rc.query(name);
        if v.as_deref().is_some_and(|d| epoch_day(d).is_none()) {
            errors.push(FieldError::new(name, "a calendar date YYYY-MM-DD"));
        }
        v
    };
    let (from, to) = (date("purchased_from"), date("purchased_to"));
    let limit = match rc.query("limit").map(|l| l.parse::<usize>()) {
        None => 50,
        Some(Ok(l)) if (1..=MAX_PAGE).contains(&l) => l,
        Some(_) => {
            errors.push(FieldError::new(
                "limit",
                format!("a whole number from 1 to {MAX_PAGE}"),
            ));
            50
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = Filter {
        category: category.as_deref(),
        retired,
        purchased_from: from.as_deref(),
        purchased_to: to.as_deref(),
        q: q.as_deref().filter(|q| !q.is_empty()),
    };
    let after = rc.query("cursor").unwrap_or_default();
    let mut rows = if rc.caller.sandbox() {
        sandbox::inventory_rows()
            .iter()
            .filter(|r| r.id > after && filter.matches(r))
            .take(limit + 1)
            .cloned()
            .collect()
    } else {
        store::page(&rc.env, &rc.tenant()?, &filter, &after, limit)
            .await
            .step("assets: reading a page")?
    };
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
    let data: Vec<Value> = rows.iter().map(views::asset).collect();
    let body = answer(rc, json!({ "data": data, "next_cursor": next }));
    let mut resp = http::json(200, &body)?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}
