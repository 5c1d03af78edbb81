//! A JSON request body into a typed value: serde's message becomes a 400 problem naming the
//! field; and a listing's `limit` and `cursor`. Pure, so hostile input is tested natively (the
//! depth limit is serde_json's 128).

use super::problem::{ApiError, FieldError};

/// Parse a JSON request body into `T`, turning serde's message into a 400 naming the field.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed_json(
            "The request body is empty; send a JSON object.",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error_lite(de)
}

/// serde_json reports line/column; we add the path of the offending field where serde gives it
/// (unknown field, wrong type) so `errors[].field` is useful.
fn serde_path_to_error_lite<'de, T: serde::de::DeserializeOwned>(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>,
) -> Result<T, ApiError> {
    match T::deserialize(&mut *de).and_then(|v| de.end().map(|_| v)) {
        Ok(v) => Ok(v),
        Err(err) => {
            let msg = err.to_string();
            let field = field_from_serde_message(&msg).unwrap_or_else(|| "body".to_string());
            let mut e = if err.is_syntax() || err.is_eof() {
                ApiError::new(400, "malformed_json", "Malformed JSON body", msg.clone())
            } else {
                ApiError::new(400, "invalid_body", "Invalid request body", msg.clone())
            };
            e.errors.push(FieldError::new(field, msg));
            Err(e)
        }
    }
}

/// serde's messages name unknown or missing fields in backticks: "unknown field `foo`".
fn field_from_serde_message(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let end = start + msg[start..].find('`')?;
    let name = &msg[start..end];
    (msg.contains("field") && !name.is_empty()).then(|| name.to_string())
}

/// Longest page a newest-first listing (`GET /certificates`, `GET /reports`) answers.
pub const MAX_LIST_PAGE: usize = 100;

/// A listing's `limit` (1 to [`MAX_LIST_PAGE`], 50 unless given) and `cursor` (from the
/// previous page's `next_cursor`), each refused by name when malformed.
pub fn page_params(
    limit: Option<String>,
    cursor: Option<String>,
) -> Result<(Option<crate::store::After>, usize), ApiError> {
    let mut errors = Vec::new();
    let limit = match limit.map(|l| l.parse::<usize>()) {
        None => 50,
        Some(Ok(l)) if (1..=MAX_LIST_PAGE).contains(&l) => l,
        Some(_) => {
            errors.push(FieldError::new(
                "limit",
                format!("a whole number from 1 to {MAX_LIST_PAGE}"),
            ));
            50
        }
    };
    let after = match cursor.as_deref() {
        None | Some("") => None,
        Some(c) => {
            let after = crate::store::After::parse(c);
            if after.is_none() {
                errors.push(FieldError::new(
                    "cursor",
                    "the `next_cursor` of the previous page",
                ));
            }
            after
        }
    };
    if errors.is_empty() {
        Ok((after, limit))
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Cut `rows` (read with one more than `limit`) to the page, and the cursor of the next page
/// if there is one: the last row's (time, id).
pub fn next_cursor<T>(
    rows: &mut Vec<T>,
    limit: usize,
    key: impl Fn(&T) -> (&str, &str),
) -> Option<String> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    more.then(|| {
        rows.last().map(|r| {
            let (time, id) = key(r);
            crate::store::After::cursor(time, id)
        })
    })
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{within, Rng};

    #[test]
    fn hostile_json_bodies_are_4xx_never_a_panic() {
        // 5,000-deep nesting: serde_json stops at 128 levels.
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(
            parse_json::<serde_json::Value>(deep.as_bytes())
                .unwrap_err()
                .status,
            400
        );
        let deep_obj = format!("{}1{}", "{\"a\":".repeat(5000), "}".repeat(5000));
        assert_eq!(
            parse_json::<serde_json::Value>(deep_obj.as_bytes())
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            parse_json::<serde_json::Value>(b"{\"a\":\"\xff\xfe\"}")
                .unwrap_err()
                .status,
            400
        );
        // Random bytes and random JSON-ish text, including invalid UTF-8.
        let pieces: [&[u8]; 14] = [
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"a\"",
            b":",
            b",",
            b"1e999",
            b"-0",
            b"null",
            b"\xff",
            b"\\u0000",
            b"\"\\ud800\"",
            b" ",
        ];
        let mut rng = Rng::new(0x15_0D);
        within(20_000, "5,000 random bodies", || {
            for _ in 0..5000 {
                let n = rng.below(2000);
                let body: Vec<u8> = (0..n).flat_map(|_| rng.pick(&pieces).to_vec()).collect();
                if let Err(e) = parse_json::<serde_json::Value>(&body) {
                    assert!((400..500).contains(&e.status));
                }
            }
        });
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        name: String,
    }

    #[test]
    fn parse_json_names_the_bad_field() {
        let e = parse_json::<Probe>(br#"{"name":"a","colour":1}"#).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.errors[0].field, "colour");
        let e = parse_json::<Probe>(b"{not json").unwrap_err();
        assert_eq!(e.code, "malformed_json");
        let e = parse_json::<Probe>(b"  ").unwrap_err();
        assert_eq!(e.code, "malformed_json");
        assert!(parse_json::<Probe>(br#"{"name":"a"}"#).is_ok());
    }

    #[test]
    fn listings_page_by_limit_and_cursor() {
        assert_eq!(page_params(None, None).unwrap(), (None, 50));
        let (after, limit) = page_params(Some("2".into()), Some("2026-01-01|c2".into())).unwrap();
        assert_eq!((after.unwrap().id.as_str(), limit), ("c2", 2));
        let e = page_params(Some("0".into()), Some("nope".into())).unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor"]);
        let mut rows = vec![("t3", "c"), ("t2", "b"), ("t1", "a")];
        assert_eq!(
            next_cursor(&mut rows, 2, |r| (r.0, r.1)).as_deref(),
            Some("t2|b")
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(next_cursor(&mut rows, 2, |r| (r.0, r.1)), None);
    }
}
