//! Per-isolate state: the active factor set (the compiled-in one, or a newer one stored in
//! KV), the engine over it and its precomputed Reference bodies.
//!
//! The KV pointer `factors:active` is read at most once per `REFRESH_MS` per isolate, so a
//! newly activated set reaches every isolate within that bound without a KV read per request.

use std::cell::RefCell;

use worker::Env;

use crate::catalog::Catalogue;
use crate::edge::bindings;
use crate::factors::reference::ReferenceBodies;
use crate::factors::FactorSet;
use crate::lca::model::Model;
use crate::lca::Engine;

/// How long an isolate trusts its cached factor-set choice.
pub const REFRESH_MS: f64 = 60_000.0;
/// KV key naming the active factor-set version (absent: the compiled-in set).
pub const ACTIVE_KEY: &str = "factors:active";

pub fn set_key(version: &str) -> String {
    format!("factors:set:{version}")
}

/// A factor set with what is derived from it. Leaked on purpose: a set lives as long as the
/// isolate, and a new one is loaded only when an operator activates it (a handful per year).
pub struct Active {
    pub factors: &'static FactorSet,
    pub reference: &'static ReferenceBodies,
}

impl Active {
    pub fn engine(&self) -> Engine<'static> {
        Engine {
            factors: self.factors,
            catalogue: Catalogue::builtin(),
            model: Model::builtin(),
        }
    }
}

struct Cached {
    active: &'static Active,
    checked_at: f64,
}

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

thread_local! {
    static BUILTIN: &'static Active = {
        let factors = FactorSet::builtin();
        Box::leak(Box::new(Active {
            factors,
            reference: Box::leak(Box::new(ReferenceBodies::build(factors))),
        }))
    };
}

/// The compiled-in set and its bodies (built at isolate start by [`warm`]).
pub fn builtin() -> &'static Active {
    BUILTIN.with(|b| *b)
}

/// Build everything the request path reads: called from the isolate's start event.
pub fn warm() {
    let _ = Catalogue::builtin();
    let _ = Model::builtin();
    let _ = crate::catalog::search::SearchIndex::builtin();
    let _ = builtin();
}

/// The active factor set for this request.
pub async fn active(env: &Env) -> &'static Active {
    let now = js_sys::Date::now();
    if let Some(a) = CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|c| now - c.checked_at < REFRESH_MS)
            .map(|c| c.active)
    }) {
        return a;
    }
    let active = load(env).await.unwrap_or_else(builtin);
    CACHE.with(|c| {
        *c.borrow_mut() = Some(Cached {
            active,
            checked_at: now,
        })
    });
    active
}

/// Forget the cached choice (after an operator activates or resets a set).
pub fn invalidate() {
    CACHE.with(|c| *c.borrow_mut() = None);
}

async fn load(env: &Env) -> Option<&'static Active> {
    let kv = env.kv(bindings::KV).ok()?;
    let version = kv.get(ACTIVE_KEY).text().await.ok()??;
    if version == builtin().factors.version {
        return Some(builtin());
    }
    // Same version as the one already cached: keep it, no reparse.
    if let Some(a) = CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|c| c.active.factors.version == version)
            .map(|c| c.active)
    }) {
        return Some(a);
    }
    let text = kv.get(&set_key(&version)).text().await.ok()??;
    match FactorSet::from_json(&text) {
        Ok(set) => {
            let factors: &'static FactorSet = Box::leak(Box::new(set));
            Some(Box::leak(Box::new(Active {
                factors,
                reference: Box::leak(Box::new(ReferenceBodies::build(factors))),
            })))
        }
        Err(e) => {
            worker::console_error!(
                "stored factor set {version} is invalid, keeping the built-in one: {e}"
            );
            None
        }
    }
}
