//! PACT (WBCSD Partnership for Carbon Transparency) Technical Specifications v3.0: product
//! carbon footprints exchanged between companies. Pure rules, tested natively:
//! - what an organisation publishes ([`PublishBody`] → [`Publish`]) and the **v3
//!   ProductFootprint** made of it and of a CarbonTrace footprint ([`document`]);
//! - the listing filters of `GET /3/footprints` ([`filter`]);
//! - the CloudEvents of `POST /3/events` ([`event`]);
//! - the short-lived access tokens of `POST /auth/token` ([`token`]).
//!
//! The mapping is honest about what a lifecycle estimate is: the PCF is **cradle-to-gate per
//! piece**, the production stage plus the transport to the customer (said in
//! `boundaryProcessesDescription`), never use or end of life; decimals are strings; what the
//! model does not know (fossil carbon content, the mass of a product without one) is said in
//! `comment` rather than invented.

pub mod event;
pub mod filter;
pub mod token;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::validation::FieldError;

/// The specification version every footprint states.
pub const SPEC_VERSION: &str = "3.0.0";
/// Most product ids, company ids or classifications one footprint carries.
pub const MAX_IDS: usize = 20;
/// Longest URN, name or description field.
pub const MAX_TEXT: usize = 500;

/// Whether `s` is a URN as PACT requires (`urn:` then a namespace and a specific string),
/// printable ASCII without spaces, within [`MAX_TEXT`].
pub fn is_urn(s: &str) -> bool {
    s.len() <= MAX_TEXT
        && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        && s[4..]
            .split_once(':')
            .is_some_and(|(ns, rest)| !ns.is_empty() && !rest.is_empty())
        && s.bytes().all(|b| b.is_ascii_graphic())
}

/// A list of URNs named `field`: 1 to [`MAX_IDS`], each a URN, no repeats (case-insensitive).
fn urns(
    field: &str,
    v: Option<Vec<String>>,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    let v = v.unwrap_or_default();
    if v.is_empty() {
        if required {
            errors.push(FieldError::new(
                field,
                "at least one URN, e.g. `urn:gtin:04012345678901`",
            ));
        }
        return v;
    }
    if v.len() > MAX_IDS {
        errors.push(FieldError::new(field, format!("at most {MAX_IDS} URNs")));
    }
    for (i, u) in v.iter().enumerate() {
        if !is_urn(u) {
            errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "a URN (`urn:<namespace>:<id>`, no spaces)",
            ));
        } else if v[..i].iter().any(|p| p.eq_ignore_ascii_case(u)) {
            errors.push(FieldError::new(format!("{field}[{i}]"), "repeated"));
        }
    }
    v
}

fn text(
    field: &str,
    v: Option<String>,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let v = v.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    match &v {
        None if required => errors.push(FieldError::new(
            field,
            format!("1 to {MAX_TEXT} characters"),
        )),
        Some(t) if t.chars().count() > MAX_TEXT || t.chars().any(char::is_control) => {
            errors.push(FieldError::new(
                field,
                format!("1 to {MAX_TEXT} characters, no control characters"),
            ))
        }
        _ => {}
    }
    v
}

/// `PUT /pact/profile`, as sent: who the organisation is in PACT.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    pub company_name: Option<String>,
    pub company_ids: Option<Vec<String>>,
}

/// The organisation as its footprints name it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Profile {
    pub company_name: String,
    pub company_ids: Vec<String>,
}

pub fn profile(body: ProfileBody) -> Result<Profile, Vec<FieldError>> {
    let mut errors = Vec::new();
    let company_name = text("company_name", body.company_name, true, &mut errors);
    let company_ids = urns("company_ids", body.company_ids, true, &mut errors);
    match company_name {
        Some(company_name) if errors.is_empty() => Ok(Profile {
            company_name,
            company_ids,
        }),
        _ => Err(errors),
    }
}

/// `POST /pact/footprints`, as sent: which footprint (a certificate of the organisation's, or
/// a footprint request as `POST /footprint` takes it) and the organisation's own product data.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    pub certificate_id: Option<String>,
    pub footprint: Option<Value>,
    pub product_ids: Option<Vec<String>>,
    pub product_name_company: Option<String>,
    pub product_description: Option<String>,
    pub product_classifications: Option<Vec<String>>,
    /// ISO 3166-1 alpha-2 country of production, if known (else the footprint is global).
    pub geography_country: Option<String>,
    /// The period the figures stand for (RFC 3339); defaults to the previous calendar year.
    pub reference_period_start: Option<String>,
    pub reference_period_end: Option<String>,
    pub comment: Option<String>,
}

/// Where the figures come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Basis {
    Certificate(String),
    Footprint(Value),
}

/// A valid publication request.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    pub basis: Basis,
    pub product_ids: Vec<String>,
    pub product_name_company: String,
    pub product_description: String,
    pub product_classifications: Vec<String>,
    pub geography_country: Option<String>,
    pub reference_period: Option<(String, String)>,
    pub comment: Option<String>,
}

pub fn publish(body: PublishBody) -> Result<Publish, Vec<FieldError>> {
    let mut errors = Vec::new();
    let basis = match (body.certificate_id, body.footprint) {
        (Some(c), None) if !c.trim().is_empty() && c.len() <= 100 => Some(Basis::Certificate(c)),
        (None, Some(f)) if f.is_object() => Some(Basis::Footprint(f)),
        _ => {
            errors.push(FieldError::new(
                "certificate_id",
                "exactly one of `certificate_id` (one of your certificates) and `footprint` (a POST /footprint body)",
            ));
            None
        }
    };
    let product_ids = urns("product_ids", body.product_ids, true, &mut errors);
    let name = text(
        "product_name_company",
        body.product_name_company,
        true,
        &mut errors,
    );
    let description = text(
        "product_description",
        body.product_description,
        false,
        &mut errors,
    );
    let product_classifications = urns(
        "product_classifications",
        body.product_classifications,
        false,
        &mut errors,
    );
    let geography_country = body
        .geography_country
        .map(|c| c.trim().to_ascii_uppercase());
    if geography_country
        .as_deref()
        .is_some_and(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        errors.push(FieldError::new(
            "geography_country",
            "an ISO 3166-1 alpha-2 code, e.g. `CN`",
        ));
    }
    let reference_period = match (body.reference_period_start, body.reference_period_end) {
        (None, None) => None,
        (Some(s), Some(e)) => match (
            crate::validation::epoch_ms(&s),
            crate::validation::epoch_ms(&e),
        ) {
            (Some(a), Some(b)) if a < b => Some((s, e)),
            _ => {
                errors.push(FieldError::new(
                    "reference_period_end",
                    "two RFC 3339 date-times with an offset, the start before the end",
                ));
                None
            }
        },
        _ => {
            errors.push(FieldError::new(
                "reference_period_start",
                "both ends of the period, or neither",
            ));
            None
        }
    };
    let comment = text("comment", body.comment, false, &mut errors);
    match (basis, name) {
        (Some(basis), Some(product_name_company)) if errors.is_empty() => Ok(Publish {
            basis,
            product_ids,
            product_name_company,
            product_description: description.unwrap_or_default(),
            product_classifications,
            geography_country,
            reference_period,
            comment,
        }),
        _ => Err(errors),
    }
}

/// What a CarbonTrace footprint (a computed one, or a certificate's) gives a PCF.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub production_kg: f64,
    pub transport_kg: f64,
    /// `manufacturer_pcf` (a published PCF from the catalogue) or `model`.
    pub source: String,
    pub product: Option<String>,
    pub mass_kg: Option<f64>,
    pub factor_set_version: String,
    pub methodology_version: String,
}

impl Figures {
    /// The figures of a footprint as `POST /footprint` answers it (and a certificate's
    /// `result` holds it).
    pub fn of(result: &Value) -> Option<Figures> {
        let b = &result["breakdown"];
        let assumption = |name: &str| {
            result["assumptions"]
                .as_array()?
                .iter()
                .find(|a| a["name"] == name)?
                .get("value")?
                .as_f64()
        };
        Some(Figures {
            production_kg: b["production_kg"].as_f64()?,
            transport_kg: b["transport_kg"].as_f64()?,
            source: result["source"].as_str()?.to_string(),
            product: result["product"]["id"].as_str().map(str::to_string),
            mass_kg: assumption("weight_kg").filter(|m| *m > 0.0),
            factor_set_version: result["methodology"]["factor_set_version"]
                .as_str()?
                .to_string(),
            methodology_version: result["methodology"]["version"].as_str()?.to_string(),
        })
    }
}

/// A decimal as PACT writes it: a JSON string, at most 4 decimals, no exponent, no `-0`.
pub fn decimal(x: f64) -> String {
    let s = format!("{:.4}", (x * 10_000.0).round() / 10_000.0);
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s
    }
}

/// One published footprint's identity and history.
pub struct Identity<'a> {
    pub id: &'a str,
    pub created: &'a str,
    pub preceding: &'a [String],
    /// The reference period when the request names none: the previous calendar year.
    pub default_period: (&'a str, &'a str),
}

/// The v3 ProductFootprint for `p`, published by `profile`, from `f`.
pub fn document(p: &Publish, profile: &Profile, f: &Figures, who: &Identity<'_>) -> Value {
    let cradle_to_gate = f.production_kg + f.transport_kg;
    let (start, end) = p
        .reference_period
        .as_ref()
        .map(|(s, e)| (s.as_str(), e.as_str()))
        .unwrap_or(who.default_period);
    let basis = match f.source.as_str() {
        "manufacturer_pcf" => format!(
            "the manufacturer's published product carbon footprint{} (CarbonTrace catalogue)",
            f.product.as_deref().map(|id| format!(" of `{id}`")).unwrap_or_default()
        ),
        _ => "CarbonTrace's attribute model (an estimate from the product's category and specifications)".into(),
    };
    let mut pcf = json!({
        "declaredUnitOfMeasurement": "piece",
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": decimal(f.mass_kg.unwrap_or(0.0)),
        "referencePeriodStart": start,
        "referencePeriodEnd": end,
        "pcfExcludingBiogenicUptake": decimal(cradle_to_gate),
        "pcfIncludingBiogenicUptake": decimal(cradle_to_gate),
        "fossilGhgEmissions": decimal(cradle_to_gate),
        "fossilCarbonContent": "0",
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": ["GHGP-Product", "ISO14067"],
        "exemptedEmissionsPercent": "0",
        "boundaryProcessesDescription": format!(
            "Cradle to gate per piece: raw materials, manufacturing and assembly ({} kg CO2e) plus transport to the customer ({} kg CO2e). Excludes the use stage and end of life. Source: {basis}; CarbonTrace methodology {}, factor set {}.",
            decimal(f.production_kg), decimal(f.transport_kg), f.methodology_version, f.factor_set_version
        ),
        "packagingEmissionsIncluded": false,
        "secondaryEmissionFactorSources": [{ "name": "CarbonTrace factor set", "version": f.factor_set_version }],
    });
    if f.source == "model" {
        pcf["primaryDataShare"] = json!("0");
    }
    if let Some(c) = &p.geography_country {
        pcf["geographyCountry"] = json!(c);
    }
    let mut notes = vec![
        "Fossil carbon content is not assessed (reported as 0); all emissions are counted as fossil.".to_string(),
    ];
    if f.mass_kg.is_none() {
        notes.push("The product's mass is not known (reported as 0).".into());
    }
    if let Some(c) = &p.comment {
        notes.insert(0, c.clone());
    }
    let mut doc = Map::new();
    doc.insert("id".into(), json!(who.id));
    doc.insert("specVersion".into(), json!(SPEC_VERSION));
    if !who.preceding.is_empty() {
        doc.insert("precedingPfIds".into(), json!(who.preceding));
    }
    doc.insert("created".into(), json!(who.created));
    doc.insert("status".into(), json!("Active"));
    doc.insert("companyName".into(), json!(profile.company_name));
    doc.insert("companyIds".into(), json!(profile.company_ids));
    doc.insert("productDescription".into(), json!(p.product_description));
    doc.insert("productIds".into(), json!(p.product_ids));
    if !p.product_classifications.is_empty() {
        doc.insert(
            "productClassifications".into(),
            json!(p.product_classifications),
        );
    }
    doc.insert("productNameCompany".into(), json!(p.product_name_company));
    doc.insert("comment".into(), json!(notes.join(" ")));
    doc.insert("pcf".into(), pcf);
    Value::Object(doc)
}

/// Whether two documents state the same footprint (everything but identity and history):
/// re-publishing an unchanged one makes no new version.
pub fn same_content(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            for k in ["id", "created", "precedingPfIds", "status"] {
                o.remove(k);
            }
        }
        v
    };
    strip(a) == strip(b)
}

/// The key a product's versions share: its product ids, lower-cased and sorted.
pub fn product_key(ids: &[String]) -> String {
    let mut ids: Vec<String> = ids.iter().map(|i| i.to_ascii_lowercase()).collect();
    ids.sort();
    ids.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(source: &str) -> Figures {
        Figures {
            production_kg: 250.123456,
            transport_kg: 10.0,
            source: source.into(),
            product: Some("dell--latitude-5420".into()),
            mass_kg: Some(1.36),
            factor_set_version: "2026.1".into(),
            methodology_version: "3.1.0".into(),
        }
    }

    fn request() -> Publish {
        publish(PublishBody {
            certificate_id: Some("cert_1".into()),
            product_ids: Some(vec!["urn:gtin:04012345678901".into()]),
            product_name_company: Some("Latitude 5420".into()),
            product_classifications: Some(vec!["urn:pact:cpc:4527".into()]),
            geography_country: Some("cn".into()),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn the_document_is_cradle_to_gate_per_piece_with_decimals_as_strings() {
        let profile = Profile {
            company_name: "Acme".into(),
            company_ids: vec!["urn:lei:5493001KJTIIGC8Y1R12".into()],
        };
        let who = Identity {
            id: "3a6c14a7-4deb-498a-b5ea-16ce2535b576",
            created: "2026-12-02T10:00:00Z",
            preceding: &[],
            default_period: ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        };
        let d = document(&request(), &profile, &figures("manufacturer_pcf"), &who);
        assert_eq!(d["specVersion"], "3.0.0");
        assert_eq!(d["status"], "Active");
        assert!(d.get("precedingPfIds").is_none(), "never null, absent");
        let pcf = &d["pcf"];
        assert_eq!(pcf["pcfExcludingBiogenicUptake"], "260.1235");
        assert_eq!(pcf["declaredUnitAmount"], "1");
        assert_eq!(pcf["productMassPerDeclaredUnit"], "1.36");
        assert_eq!(pcf["geographyCountry"], "CN");
        assert!(
            pcf.get("primaryDataShare").is_none(),
            "a published PCF is not ours to rate"
        );
        assert!(pcf["boundaryProcessesDescription"]
            .as_str()
            .unwrap()
            .contains("Excludes the use stage"));
        for (k, v) in pcf.as_object().unwrap() {
            assert!(!v.is_number(), "{k} is a decimal string, not a number");
        }
        let model = document(&request(), &profile, &figures("model"), &who);
        assert_eq!(model["pcf"]["primaryDataShare"], "0");
        assert!(same_content(&d, &{
            let mut v = d.clone();
            v["id"] = json!("other");
            v
        }));
        assert!(!same_content(&d, &model));
    }

    #[test]
    fn requests_name_every_bad_field() {
        let e = publish(PublishBody {
            certificate_id: Some("c".into()),
            footprint: Some(json!({})),
            product_ids: Some(vec![
                "gtin:123".into(),
                "urn:gtin:1".into(),
                "URN:GTIN:1".into(),
            ]),
            geography_country: Some("France".into()),
            reference_period_start: Some("2025-01-01T00:00:00Z".into()),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "certificate_id",
                "product_ids[0]",
                "product_ids[2]",
                "product_name_company",
                "geography_country",
                "reference_period_start"
            ]
        );
        assert!(profile(ProfileBody::default()).is_err());
        assert!(is_urn("urn:lei:5493001KJTIIGC8Y1R12"));
        assert!(!is_urn("urn:gtin"));
        assert!(!is_urn("urn:gtin:a b"));
        assert_eq!(decimal(-0.00001), "0");
        assert_eq!(decimal(12.5), "12.5");
        assert_eq!(decimal(3.0), "3");
        assert_eq!(
            product_key(&["urn:b:1".into(), "URN:A:2".into()]),
            "urn:a:2 urn:b:1"
        );
    }

    #[test]
    fn figures_are_read_from_a_footprint_answer() {
        let r = json!({
            "breakdown": {"production_kg": 100.0, "transport_kg": 5.0, "use_kg": 50.0, "end_of_life_kg": 1.0},
            "source": "model", "product": null,
            "assumptions": [{"name": "weight_kg", "value": 1.5}],
            "methodology": {"version": "3.1.0", "factor_set_version": "2026.1"}
        });
        let f = Figures::of(&r).unwrap();
        assert_eq!(
            (f.production_kg, f.transport_kg, f.mass_kg),
            (100.0, 5.0, Some(1.5))
        );
        assert!(Figures::of(&json!({})).is_none());
    }
}
