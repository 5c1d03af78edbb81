//! Time from the runtime, as the ISO-8601 strings D1 stores (they sort as they compare).

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Now, e.g. `2026-11-29T21:22:26.123Z`.
pub fn now_iso() -> String {
    iso_after(0.0)
}

/// `seconds` from now (negative: in the past).
pub fn iso_after(seconds: f64) -> String {
    iso_at_ms(now_ms() + seconds * 1000.0)
}

/// The instant `ms` after the epoch.
pub fn iso_at_ms(ms: f64) -> String {
    js_sys::Date::new(&ms.into())
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
}
