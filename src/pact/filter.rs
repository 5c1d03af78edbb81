//! The filters of `GET /3/footprints` (PACT v3 "ListFootprints"): `productId`, `companyId`,
//! `geography`, `classification`, `validOn`, `validAfter`, `validBefore`, `status`, and
//! `limit`. A parameter repeated is an OR of its values; different parameters are ANDed.
//! Values that name nothing (an unknown status, a company id that is not a URN) match nothing
//! rather than being refused: the specification's conformance cases expect an empty list.
//! Ids, geographies and statuses compare case-insensitively; the validity period of a
//! footprint without one is `[referencePeriodEnd, referencePeriodEnd + 3 years]`.

use serde_json::Value;

use crate::validation::epoch_ms;

/// Default and largest page.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
/// Most values of one parameter, and most bytes of one value.
const MAX_VALUES: usize = 50;
const MAX_VALUE_LEN: usize = 500;

/// A parsed listing query.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Query {
    pub product_id: Vec<String>,
    pub company_id: Vec<String>,
    pub geography: Vec<String>,
    pub classification: Vec<String>,
    pub status: Vec<String>,
    pub valid_on: Option<i64>,
    pub valid_after: Option<i64>,
    pub valid_before: Option<i64>,
    pub limit: usize,
    /// Where this page starts (our own parameter, in the `Link` of the previous page).
    pub offset: usize,
}

/// Read the query's pairs; `Err` names the parameter that cannot be read (a date that is not
/// RFC 3339, a limit that is not a number, too many values).
pub fn parse<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Result<Query, String> {
    let mut q = Query {
        limit: DEFAULT_LIMIT,
        ..Query::default()
    };
    for (k, v) in pairs {
        if v.len() > MAX_VALUE_LEN {
            return Err(format!("`{k}`: a value of at most {MAX_VALUE_LEN} bytes"));
        }
        let list = match k {
            "productId" => &mut q.product_id,
            "companyId" => &mut q.company_id,
            "geography" => &mut q.geography,
            "classification" => &mut q.classification,
            "status" => &mut q.status,
            "validOn" | "validAfter" | "validBefore" => {
                let t = epoch_ms(v).ok_or_else(|| {
                    format!("`{k}`: an RFC 3339 date-time, e.g. 2025-01-01T00:00:00Z")
                })?;
                match k {
                    "validOn" => q.valid_on = Some(t),
                    "validAfter" => q.valid_after = Some(t),
                    _ => q.valid_before = Some(t),
                }
                continue;
            }
            "limit" => {
                q.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| format!("`limit`: a whole number from 1 to {MAX_LIMIT}"))?;
                continue;
            }
            "offset" => {
                q.offset = v
                    .parse()
                    .map_err(|_| "`offset`: the `next` link's own value".to_string())?;
                continue;
            }
            // Vendor extensions (`x-<id>-…`) and anything else are not ours to refuse.
            _ => continue,
        };
        if list.len() == MAX_VALUES {
            return Err(format!("`{k}`: at most {MAX_VALUES} values"));
        }
        list.push(v.to_string());
    }
    Ok(q)
}

/// The validity period of a footprint, in ms: its own, or three years from the end of its
/// reference period.
pub fn validity(doc: &Value) -> Option<(i64, i64)> {
    let ref_end = doc["pcf"]["referencePeriodEnd"].as_str();
    let start = doc["validityPeriodStart"]
        .as_str()
        .or(ref_end)
        .and_then(epoch_ms)?;
    let end = match doc["validityPeriodEnd"].as_str() {
        Some(e) => epoch_ms(e)?,
        None => plus_three_years(ref_end?)?,
    };
    Some((start, end))
}

/// `t` three calendar years later (29 February: 1 March).
fn plus_three_years(t: &str) -> Option<i64> {
    let year: i64 = t.get(..4)?.parse().ok()?;
    let later = format!("{:04}{}", year + 3, t.get(4..)?);
    epoch_ms(&later).or_else(|| epoch_ms(t).map(|ms| ms + 3 * 365 * 86_400_000 + 86_400_000))
}

fn any_eq(values: &[String], field: &Value) -> bool {
    field.as_array().is_some_and(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .any(|s| values.iter().any(|v| v.eq_ignore_ascii_case(s)))
    })
}

/// Whether footprint `doc` (a v3 ProductFootprint) passes every filter of `q`.
pub fn matches(q: &Query, doc: &Value) -> bool {
    let geography = [
        "geographyCountry",
        "geographyRegionOrSubregion",
        "geographyCountrySubdivision",
    ]
    .iter()
    .filter_map(|k| doc["pcf"][k].as_str())
    .collect::<Vec<_>>();
    let within = |values: &[String], ok: bool| values.is_empty() || ok;
    if !(within(&q.product_id, any_eq(&q.product_id, &doc["productIds"]))
        && within(&q.company_id, any_eq(&q.company_id, &doc["companyIds"]))
        && within(
            &q.classification,
            any_eq(&q.classification, &doc["productClassifications"]),
        )
        && within(
            &q.geography,
            geography
                .iter()
                .any(|g| q.geography.iter().any(|v| v.eq_ignore_ascii_case(g))),
        )
        && within(
            &q.status,
            doc["status"]
                .as_str()
                .is_some_and(|s| q.status.iter().any(|v| v.eq_ignore_ascii_case(s))),
        ))
    {
        return false;
    }
    if q.valid_on.is_none() && q.valid_after.is_none() && q.valid_before.is_none() {
        return true;
    }
    let Some((start, end)) = validity(doc) else {
        return false;
    };
    q.valid_on.is_none_or(|t| start <= t && t <= end)
        && q.valid_after.is_none_or(|t| start > t)
        && q.valid_before.is_none_or(|t| end < t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "status": "Active",
            "productIds": ["urn:gtin:1", "urn:mpn:ABC"],
            "companyIds": ["urn:lei:X"],
            "productClassifications": ["urn:pact:cpc:4527"],
            "pcf": { "geographyCountry": "CN", "referencePeriodEnd": "2026-01-01T00:00:00Z" }
        })
    }

    fn q(s: &str) -> Query {
        parse(
            s.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split_once('=').unwrap_or((p, ""))),
        )
        .unwrap()
    }

    #[test]
    fn repeated_parameters_or_and_different_ones_and() {
        let d = doc();
        assert!(matches(&q(""), &d));
        assert!(matches(&q("productId=URN:GTIN:1"), &d), "case-insensitive");
        assert!(matches(
            &q("productId=urn:gtin:9&productId=urn:mpn:abc"),
            &d
        ));
        assert!(!matches(&q("productId=urn:gtin:9"), &d));
        assert!(matches(
            &q("productId=urn:gtin:1&status=active&geography=cn"),
            &d
        ));
        assert!(!matches(&q("productId=urn:gtin:1&status=Deprecated"), &d));
        assert!(
            !matches(&q("status=BogusStatus"), &d),
            "an unknown status matches nothing"
        );
        assert!(!matches(&q("companyId=not-a-urn"), &d));
        assert!(matches(&q("companyId=urn:lei:X&companyId=abcdefgh"), &d));
        assert!(!matches(&q("geography=XX"), &d));
        assert!(matches(&q("classification=urn:pact:cpc:4527"), &d));
        assert!(!matches(&q("classification=urn:bogus:1"), &d));
    }

    #[test]
    fn validity_defaults_to_three_years_from_the_reference_period() {
        let d = doc();
        assert!(
            matches(&q("validOn=2026-01-01T00:00:00Z"), &d),
            "the start is inclusive"
        );
        assert!(matches(&q("validOn=2029-01-01T00:00:00Z"), &d));
        assert!(!matches(&q("validOn=2029-01-01T00:00:01Z"), &d));
        assert!(!matches(&q("validOn=1900-01-01T00:00:00Z"), &d));
        assert!(matches(&q("validAfter=2025-12-31T00:00:00Z"), &d));
        assert!(
            !matches(&q("validAfter=2026-01-01T00:00:00Z"), &d),
            "strictly after"
        );
        assert!(matches(&q("validBefore=2029-01-02T00:00:00Z"), &d));
        assert!(
            !matches(&q("validBefore=2029-01-01T00:00:00Z"), &d),
            "strictly before"
        );
        assert!(matches(&q("validOn=2026-06-01T02:00:00+02:00"), &d));
        let mut own = d.clone();
        own["validityPeriodStart"] = json!("2026-02-01T00:00:00Z");
        own["validityPeriodEnd"] = json!("2027-02-01T00:00:00Z");
        assert!(!matches(&q("validOn=2026-01-15T00:00:00Z"), &own));
        assert_eq!(
            plus_three_years("2024-02-29T00:00:00Z"),
            epoch_ms("2027-03-01T00:00:00Z")
        );
    }

    #[test]
    fn what_cannot_be_read_is_named() {
        assert!(parse([("validOn", "yesterday")].into_iter())
            .unwrap_err()
            .contains("validOn"));
        assert!(parse([("limit", "-1")].into_iter())
            .unwrap_err()
            .contains("limit"));
        assert!(parse([("limit", "1001")].into_iter()).is_err());
        assert!(
            parse([("limit", "0")].into_iter()).is_err(),
            "a page of nothing would loop"
        );
        let long = "u".repeat(501);
        assert!(parse([("productId", long.as_str())].into_iter()).is_err());
        let many: Vec<(&str, &str)> = (0..51).map(|_| ("productId", "urn:a:b")).collect();
        assert!(parse(many.into_iter()).is_err());
        assert_eq!(
            parse([("x-acme-debug", "1"), ("limit", "1")].into_iter())
                .unwrap()
                .limit,
            1
        );
    }
}
