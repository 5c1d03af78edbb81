//! `GET /inventory?year=2025&view=ghg|amortised&format=json|csv&factor_set=pinned|current`:
//! the organisation's fleet accounted for a reporting year (`inventory::ghg`: scopes and
//! Scope 3 categories, ranges, primary-data share), from each asset's pinned footprint
//! (`store::inventory::year`), with the assets left out and the avoided emissions beside it;
//! `factor_set=current` adds a restatement with today's factors.

use serde_json::{json, Value};
use worker::Response;

use super::http::{self, RequestCtx, Step};
use super::problem::{ApiError, FieldError};
use super::sandbox;
use crate::edge::state;
use crate::inventory::asset::{parse, pin};
use crate::inventory::ghg::{self, inventory, Asset, Period, Settings, View};
use crate::store::inventory as store;

pub async fn get(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let year = match rc.query("year").map(|y| y.parse::<i64>()) {
        Some(Ok(y)) if (1990..=2100).contains(&y) => y,
        _ => {
            errors.push(FieldError::new(
                "year",
                "required: a reporting year, 1990 to 2100",
            ));
            0
        }
    };
    let view = match rc.query("view") {
        None => View::Ghg,
        Some(v) => View::parse(&v).unwrap_or_else(|| {
            errors.push(FieldError::new("view", "one of: ghg, amortised"));
            View::Ghg
        }),
    };
    let restate = match rc.query("factor_set").as_deref() {
        None | Some("pinned") => false,
        Some("current") => true,
        Some(_) => {
            errors.push(FieldError::new("factor_set", "one of: pinned, current"));
            false
        }
    };
    let csv = rc.wants("csv", "text/csv")?;
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let tenant = rc.tenant()?;
    let sandboxed = rc.caller.sandbox();
    let store::Year {
        inventory: inv,
        period,
        settings,
    } = if sandboxed {
        sandbox_year(year, view)
    } else {
        store::year(&rc.env, &tenant, year, view)
            .await
            .step("inventory: reading the assets")?
    };
    if csv {
        let mut resp = http::bytes(200, "text/csv; charset=utf-8", ghg::csv(&inv).into_bytes())?;
        http::set(
            resp.headers_mut(),
            "Content-Disposition",
            &format!("attachment; filename=\"carbontrace-inventory-{year}.csv\""),
        );
        return Ok(resp);
    }
    let mut body = serde_json::to_value(&inv).map_err(|e| ApiError::internal(e.to_string()))?;
    if restate {
        let rows = if sandboxed {
            sandbox::inventory_rows().to_vec()
        } else {
            store::all(&rc.env, &tenant)
                .await
                .step("inventory: reading the assets")?
        };
        let engine = state::active(&rc.env).await.engine();
        // Each asset pinned again, as it was sent, with today's factors; nothing is stored.
        let current: Vec<Asset> = rows
            .iter()
            .filter_map(|r| {
                let input = parse(&r.input_json(), engine.factors).ok()?;
                let mut a = r.accounting().ok()?;
                a.pinned = pin(&engine, &input).ok()?;
                Some(a)
            })
            .collect();
        let now = inventory(&current, &period, view, &settings);
        body["restatement"] = json!({
            "factor_set": engine.factors.version,
            "figures": ghg::restatement(&inv, &now),
        });
    }
    if sandboxed {
        body = sandbox::mark(body);
    }
    let mut resp = http::json(200, &body as &Value)?;
    http::set(resp.headers_mut(), "Cache-Control", "no-store");
    Ok(resp)
}

/// The sandbox's year: the fixed inventory with the default settings, nothing avoided.
fn sandbox_year(year: i64, view: View) -> store::Year {
    let settings = Settings {
        fiscal_year_start_month: 1,
        ..Settings::default()
    };
    let period = Period::year(year, settings.fiscal_year_start_month);
    let assets: Vec<Asset> = sandbox::inventory_rows()
        .iter()
        .filter_map(|r| r.accounting().ok())
        .collect();
    let mut inventory = inventory(&assets, &period, view, &settings);
    inventory.avoided_emissions = ghg::Avoided::new(0.0, 0);
    store::Year {
        inventory,
        period,
        settings,
    }
}

fn settings_view(s: &Settings) -> Value {
    json!({
        "fiscal_year_start_month": s.fiscal_year_start_month,
        "capitalisation_threshold": s.capitalisation_threshold,
        "market_factors": s.market_factors,
    })
}

/// `GET /inventory/settings`.
pub async fn get_settings(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    if rc.caller.sandbox() {
        return http::json(
            200,
            &sandbox::mark(settings_view(&sandbox_year(2025, View::Ghg).settings)),
        );
    }
    let s = store::settings(&rc.env, &rc.tenant()?)
        .await
        .step("inventory: reading the settings")?;
    http::json(200, &settings_view(&s))
}

/// `PUT /inventory/settings` (admin keys): the reporting year's first month, the
/// capitalisation threshold, market-based factors by country. Audited.
pub async fn put_settings(rc: &mut RequestCtx) -> Result<Response, ApiError> {
    let body: Value = rc.json_body().await?;
    let factors = state::active(&rc.env).await.factors;
    let s = Settings::parse(&body, |c| factors.grid(c).map(|g| g.code.clone()))
        .map_err(ApiError::validation)?;
    if rc.caller.sandbox() {
        // Validated and answered; the sandbox stores nothing.
        return http::json(200, &sandbox::mark(settings_view(&s)));
    }
    let tenant = rc.tenant()?;
    store::set_settings(&rc.env, &tenant, &s, &crate::edge::clock::now_iso())
        .await
        .step("inventory: storing the settings")?;
    let chain = crate::audit::chain(&tenant.org_id, tenant.mode);
    rc.audit(
        &chain,
        "inventory.settings_changed",
        None,
        settings_view(&s),
    )
    .await;
    http::json(200, &settings_view(&s))
}
