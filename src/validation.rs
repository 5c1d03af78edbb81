//! What a domain module says about bad input: [`FieldError`] names one bad field and why.
//!
//! It lives here, below the HTTP layer, so that parsers and engines (`lca`, `catalog`,
//! `blancco`, `odata`) can report every bad field without depending on `api`; the API's one
//! error type (`api::problem::ApiError`) carries a list of them into a 4xx problem.

use serde::{Deserialize, Serialize};

/// One bad input field: a JSON-pointer-like dotted path (`use.country`, `devices[3].category`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

use serde_json::{Map, Value};

/// A member path: `key` at the top level, `at.key` below it.
pub fn path(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// Every member of `o` that is not one of `known`, as an error naming it and what is
/// expected (the one check of unknown fields that every parser uses).
pub fn unknown_fields(o: &Map<String, Value>, known: &[&str], at: &str) -> Vec<FieldError> {
    o.keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| {
            FieldError::new(
                path(at, k),
                format!("unknown field; expected one of: {}", known.join(", ")),
            )
        })
        .collect()
}

/// An RFC 3339 date (`2026-01-31`) or date-time (`2026-01-31T08:00:00Z`,
/// `2026-01-31T08:00:00.5+02:00`) with a real calendar day. Pure, where the edge would ask
/// the JavaScript clock; what JavaScript's `Date.parse` also accepts beyond this is refused.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&month) {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day == 0 || day > days[month as usize - 1] {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    if !matches!(b[10], b'T' | b't') || b.len() < 20 || b[13] != b':' || b[16] != b':' {
        return false;
    }
    let (Some(h), Some(m), Some(sec)) = (digits(11..13), digits(14..16), digits(17..19)) else {
        return false;
    };
    if h > 23 || m > 59 || sec > 60 {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 9 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let num = |a: &u8, b: &u8| {
                (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'))
            };
            num(h1, h2).is_some_and(|h| h < 24) && num(m1, m2).is_some_and(|m| m < 60)
        }
        _ => false,
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 date-time (`…Z`, as the worker writes
/// them, or with a `±hh:mm` offset), `None` for anything else.
pub fn epoch_ms(s: &str) -> Option<i64> {
    if !is_rfc3339(s) || s.len() < 20 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    let (body, offset_min) = if s.ends_with(['Z', 'z']) {
        (&s[19..s.len() - 1], 0)
    } else {
        let at = s.len() - 6;
        let sign = if s.as_bytes()[at] == b'-' { -1 } else { 1 };
        (
            &s[19..at],
            sign * (n(at + 1..at + 3)? * 60 + n(at + 4..at + 6)?),
        )
    };
    let frac = body.strip_prefix('.').unwrap_or("");
    let ms = format!("{frac:0<3}")[..3].parse::<i64>().ok()?;
    let days = days_from_civil(y, m, d);
    Some(((days * 24 + hh) * 60 + mm - offset_min) * 60_000 + ss * 1000 + ms)
}

/// Days since 1970-01-01 of a calendar date `YYYY-MM-DD` (a real day), `None` otherwise.
pub fn epoch_day(s: &str) -> Option<i64> {
    if s.len() != 10 || !is_rfc3339(s) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    Some(days_from_civil(n(0..4)?, n(5..7)?, n(8..10)?))
}

/// The calendar date of a day since 1970-01-01, as `YYYY-MM-DD`.
pub fn civil_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 of year `y`, month `m` (1–12), day `d` (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day since 1970-01-01 (the inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn calendar_days_round_trip() {
        assert_eq!(epoch_day("1970-01-01"), Some(0));
        assert_eq!(epoch_day("2024-03-01"), Some(19_783));
        assert_eq!(epoch_day("2025-02-29"), None);
        assert_eq!(epoch_day("2025-01-01T00:00:00Z"), None);
        for day in [-700_000, -1, 0, 59, 10_957, 19_782, 19_783, 60_000] {
            assert_eq!(epoch_day(&civil_date(day)), Some(day), "{day}");
        }
    }

    #[test]
    fn epoch_ms_reads_the_workers_timestamps() {
        assert_eq!(epoch_ms("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            epoch_ms("2026-12-02T05:14:03.250Z"),
            Some(1_796_188_443_250)
        );
        assert_eq!(epoch_ms("2000-03-01T00:00:00Z"), Some(951_868_800_000));
        assert_eq!(
            epoch_ms("2026-12-02T05:14:03+01:00"),
            epoch_ms("2026-12-02T04:14:03Z"),
            "an offset is taken off"
        );
        assert_eq!(
            epoch_ms("2026-12-02T05:14:03.5-02:30"),
            epoch_ms("2026-12-02T07:44:03.500Z")
        );
        assert_eq!(epoch_ms("2026-12-02"), None);
    }

    #[test]
    fn rfc3339_dates_are_real_days() {
        for ok in [
            "2026-01-31",
            "2024-02-29",
            "2026-01-01T00:00:00Z",
            "2026-01-01T23:59:60.123456789+14:00",
            "2026-06-30T08:00:00-05:30",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "2026",
            "2026-13-01",
            "2025-02-29",
            "2026-04-31",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+2400",
            "2026-01-01 00:00:00Z",
            "２０２６-01-01",
            "2026-01-01T00:00:00Zjunk",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let v = json!({"a": 1, "b": 2, "c": 3});
        let errs = unknown_fields(v.as_object().unwrap(), &["a"], "use");
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["use.b", "use.c"]);
        assert_eq!(errs[0].message, "unknown field; expected one of: a");
        assert!(unknown_fields(v.as_object().unwrap(), &["a", "b", "c"], "").is_empty());
    }
}
