//! What a Blancco cloud pull may be given (pure, tested natively): an organisation's own
//! credentials (`PUT /integrations/blancco`), and a pull request whose filter is limited to
//! listed fields, so a caller can narrow what its own account returns and nothing else. The
//! date bound is always set by us from `since`; the page request body is built here too.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::validation::{is_rfc3339, unknown_fields, FieldError};

/// A pull's parameters, validated once when it is requested; the job reads them back
/// serialised (`pulls.params`) and never validates them again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullParams {
    /// RFC 3339: only reports erased from then on are pulled.
    pub since: String,
    /// The normalised filter (see [`filter`]).
    pub filter: Value,
}

/// Validate a pull request `{"since": "…", "filter": {…}}`, naming every bad field.
pub fn params(body: &Value) -> Result<PullParams, Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Some(o) = body.as_object() {
        errors.extend(unknown_fields(o, &["since", "filter"], ""));
    }
    let since = body["since"].as_str().unwrap_or("");
    if !is_rfc3339(since) {
        errors.push(FieldError::new(
            "since",
            "must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z",
        ));
    }
    let filter = filter(&body["filter"]).unwrap_or_else(|e| {
        errors.extend(e);
        Value::Null
    });
    if errors.is_empty() {
        Ok(PullParams {
            since: since.to_string(),
            filter,
        })
    } else {
        Err(errors)
    }
}

/// Reports asked of Blancco per page; a page holding more is refused, not imported.
pub const PAGE_SIZE: usize = 10;
/// Most reports one pull imports; past it the pull ends `done`, saying so (a new pull from
/// a later `since` continues).
pub const MAX_REPORTS_PER_PULL: usize = 10_000;

/// Most field conditions in one pull filter.
pub const MAX_FILTER_FIELDS: usize = 10;

/// Validate `{"api_url": "https://…", "api_key": "…"}`: the URL is parsed as a browser
/// would ([`api_url`]), the key 8 to 512 visible characters.
pub fn credentials(
    body: &Value,
    allow_loopback: bool,
) -> Result<(String, String), Vec<FieldError>> {
    let Value::Object(o) = body else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut errors = unknown_fields(o, &["api_url", "api_key"], "");
    let url = api_url(
        o.get("api_url").and_then(Value::as_str).unwrap_or(""),
        allow_loopback,
    );
    if let Err(why) = &url {
        errors.push(FieldError::new(
            "api_url",
            format!("{why}: give the https URL of your Blancco cloud API (e.g. https://cloud.blancco.com/rest-service/v1)"),
        ));
    }
    let key = o.get("api_key").and_then(Value::as_str).unwrap_or("");
    if !(8..=512).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_graphic()) {
        errors.push(FieldError::new(
            "api_key",
            "required: your Blancco API key (8 to 512 visible ASCII characters)",
        ));
    }
    match url {
        Ok(url) if errors.is_empty() => Ok((url, key.to_string())),
        _ => Err(errors),
    }
}

/// A customer's API base URL, parsed (WHATWG, as `fetch` will read it) rather than matched by
/// prefix: `https` with a domain or a public address; no user name or password (the
/// `http://localhost@evil.example` trick), no fragment. Plain `http` only to an exact loopback
/// host (`localhost`, `127.0.0.1`, `[::1]`) and only when `allow_loopback` (local
/// development); private and loopback address literals are refused otherwise. Returns it
/// without a trailing slash.
pub fn api_url(text: &str, allow_loopback: bool) -> Result<String, &'static str> {
    use std::net::IpAddr;
    use url::{Host, Url};
    let text = text.trim();
    if text.is_empty() || text.len() > 2048 {
        return Err("required, at most 2048 characters");
    }
    let url = Url::parse(text).map_err(|_| "not a URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a user name or password in the URL is not accepted");
    }
    if url.fragment().is_some() {
        return Err("a fragment (#…) is not accepted");
    }
    let ip = match url.host() {
        Some(Host::Ipv4(a)) => Some(IpAddr::V4(a)),
        Some(Host::Ipv6(a)) => Some(IpAddr::V6(a)),
        Some(Host::Domain(_)) => None,
        None => return Err("no host"),
    };
    let loopback_host = match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        _ => ip.is_some_and(|ip| ip.is_loopback()),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback_host && allow_loopback => {}
        "http" if loopback_host => {
            return Err("plain http to a loopback host is for local development only")
        }
        "http" => return Err("https only (plain http only to localhost in local development)"),
        _ => return Err("https only"),
    }
    if !allow_loopback && (loopback_host || ip.is_some_and(|ip| !is_public(ip))) {
        return Err("a loopback or private address is not accepted");
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Whether an address is one the public internet routes to.
fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space (CGNAT)
                || o[0] >= 224) // multicast and reserved
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        }
    }
}

/// Validate a pull's `filter`: `{"fields": [{"name": "…", "like" | "equals": "…"}, …]}`,
/// at most [`MAX_FILTER_FIELDS`] conditions, strings of bounded length. Returns it normalised.
pub fn filter(v: &Value) -> Result<Value, Vec<FieldError>> {
    let o = match v {
        Value::Null => return Ok(json!({})),
        Value::Object(o) => o,
        _ => return Err(vec![FieldError::new("filter", "must be an object")]),
    };
    let mut errors = unknown_fields(o, &["fields"], "filter");
    let mut fields = Vec::new();
    match o.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.len() <= MAX_FILTER_FIELDS => {
            for (i, item) in items.iter().enumerate() {
                let at = format!("filter.fields[{i}]");
                let Some(f) = item.as_object() else {
                    errors.push(FieldError::new(at, "must be an object"));
                    continue;
                };
                errors.extend(unknown_fields(f, &["name", "like", "equals"], &at));
                let text = |k: &str| {
                    f.get(k)
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty() && s.len() <= 200)
                };
                let mut cond = Map::new();
                match text("name") {
                    Some(n) => {
                        cond.insert("name".into(), json!(n));
                    }
                    None => errors.push(FieldError::new(
                        format!("{at}.name"),
                        "required: 1 to 200 characters",
                    )),
                }
                match (text("like"), text("equals")) {
                    (Some(l), None) => {
                        cond.insert("like".into(), json!(l));
                    }
                    (None, Some(e)) => {
                        cond.insert("equals".into(), json!(e));
                    }
                    _ => errors.push(FieldError::new(
                        at.clone(),
                        "give exactly one of like or equals (1 to 200 characters)",
                    )),
                }
                fields.push(Value::Object(cond));
            }
        }
        Some(_) => errors.push(FieldError::new(
            "filter.fields",
            format!("must be an array of at most {MAX_FILTER_FIELDS} conditions"),
        )),
    }
    if errors.is_empty() {
        Ok(if fields.is_empty() {
            json!({})
        } else {
            json!({ "fields": fields })
        })
    } else {
        Err(errors)
    }
}

/// The body of one page request: the validated filter, our date bound, the cursor.
pub fn page_request(params: &PullParams, cursor: Option<&str>) -> Value {
    let (filter, since) = (&params.filter, params.since.as_str());
    let mut f = filter.as_object().cloned().unwrap_or_default();
    f.insert("date".into(), json!({ "gte": since }));
    let mut body = json!({ "filter": f, "format": "JSON", "container": "NONE", "size": PAGE_SIZE });
    if let Some(c) = cursor {
        body["cursor"] = json!(c);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_urls_are_refused_by_parsing_not_by_prefix() {
        for bad in [
            "http://localhost@example.com",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io",
            "https://user:pass@cloud.example",
            "https://cloud.example/#frag",
            "ftp://cloud.example",
            "javascript:alert(1)",
            "https://",
            "not a url",
        ] {
            assert!(
                api_url(bad, true).is_err(),
                "{bad} accepted in local development"
            );
            assert!(api_url(bad, false).is_err(), "{bad} accepted");
        }
        for private in [
            "https://10.0.0.1/v1",
            "https://192.168.1.1",
            "https://127.0.0.1",
            "https://[::1]",
            "https://[fd00::1]",
            "https://169.254.169.254/latest",
            "https://100.64.0.1",
            "https://[::ffff:10.0.0.1]",
            "https://localhost",
            "http://localhost:9000",
        ] {
            assert!(
                api_url(private, false).is_err(),
                "{private} accepted in production"
            );
        }
        assert_eq!(
            api_url("http://127.0.0.1:9000/v1/", true).unwrap(),
            "http://127.0.0.1:9000/v1"
        );
        assert!(api_url("http://[::1]:9000", true).is_ok());
        assert!(api_url("http://LOCALHOST:9000", true).is_ok());
        assert!(
            api_url("http://10.0.0.1", true).is_err(),
            "http only to loopback"
        );
        assert_eq!(
            api_url("https://Cloud.Blancco.com/rest-service/v1", false).unwrap(),
            "https://cloud.blancco.com/rest-service/v1"
        );
        assert!(api_url("https://8.8.8.8/v1", false).is_ok());
    }

    #[test]
    fn credentials_need_an_https_url_and_a_key() {
        let (u, k) = credentials(
            &json!({"api_url": "https://cloud.example/v1/", "api_key": "abcd1234efgh"}),
            false,
        )
        .unwrap();
        assert_eq!(
            (u.as_str(), k.as_str()),
            ("https://cloud.example/v1", "abcd1234efgh")
        );
        assert!(credentials(
            &json!({"api_url": "http://127.0.0.1:9000/v1", "api_key": "abcd1234"}),
            true,
        )
        .is_ok());
        let e = credentials(
            &json!({"api_url": "http://evil.example", "api_key": "x", "extra": 1}),
            true,
        )
        .unwrap_err();
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["extra", "api_url", "api_key"]);
        assert!(credentials(&json!({"api_url": "https://", "api_key": "abcd1234"}), true).is_err());
    }

    #[test]
    fn a_filter_names_only_listed_fields() {
        let f =
            filter(&json!({"fields": [{"name": "@custom-Order Number", "like": "PO-1"}]})).unwrap();
        assert_eq!(f["fields"][0]["like"], "PO-1");
        assert_eq!(filter(&Value::Null).unwrap(), json!({}));
        // The date bound is ours: a caller cannot widen it, nor add other filter members.
        let e = filter(&json!({"date": {"gte": "1970-01-01"}, "fields": [{"name": "x", "like": "a", "equals": "b"}]})).unwrap_err();
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["filter.date", "filter.fields[0]"]);
        let many =
            json!({"fields": vec![json!({"name": "n", "like": "v"}); MAX_FILTER_FIELDS + 1]});
        assert_eq!(filter(&many).unwrap_err()[0].field, "filter.fields");
    }

    #[test]
    fn pull_params_are_parsed_once_and_build_each_page() {
        let p =
            params(&json!({"since": "2026-01-01T00:00:00Z", "filter": {"fields": []}})).unwrap();
        let stored = serde_json::to_string(&p).unwrap();
        let back: PullParams = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, p);
        let body = page_request(&back, Some("c1"));
        assert_eq!(body["filter"]["date"]["gte"], "2026-01-01T00:00:00Z");
        assert_eq!(body["cursor"], "c1");
        let e = params(&json!({"since": "2026-02-30", "filter": 3, "extra": 1})).unwrap_err();
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["extra", "since", "filter"]);
    }
}
