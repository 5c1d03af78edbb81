//! Asset lists as people already keep them, into asset bodies (`inventory::asset::parse`
//! validates each): CarbonTrace's own columns, Snipe-IT (its CSV export and `GET
//! /api/v1/hardware` rows), Microsoft Intune / Graph `managedDevice` rows and Boavizta G4IT's
//! physical-equipment CSV. Pure and bounded: at most [`MAX_ROWS`] rows and [`MAX_FIELD`]
//! bytes a field, a CSV parsed without recursion, every refusal naming its row.

use serde_json::{json, Map, Value};

use crate::validation::FieldError;

/// Most rows one synchronous import takes.
pub const MAX_ROWS: usize = 1_000;
/// Longest field of a CSV row.
pub const MAX_FIELD: usize = 2_000;
/// Most columns of a CSV row.
pub const MAX_COLUMNS: usize = 100;

/// Where a list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CarbonTrace,
    SnipeIt,
    Intune,
    G4it,
}

impl Format {
    pub fn parse(s: &str) -> Option<Option<Format>> {
        Some(match s {
            "auto" => None,
            "carbontrace" => Some(Format::CarbonTrace),
            "snipeit" => Some(Format::SnipeIt),
            "intune" => Some(Format::Intune),
            "g4it" => Some(Format::G4it),
            _ => return None,
        })
    }

    /// What an import of this format must say about how its fields were read (the issue's
    /// "flagged": Intune has no purchase date).
    pub fn notes(self) -> Vec<&'static str> {
        match self {
            Format::Intune => vec![
                "purchase_date: Intune has no purchase date; each asset's enrolment date (enrolledDateTime) stands for it",
            ],
            _ => Vec::new(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::CarbonTrace => "carbontrace",
            Format::SnipeIt => "snipeit",
            Format::Intune => "intune",
            Format::G4it => "g4it",
        }
    }
}

/// One row's problem: its number (1 = the first data row) and the field.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

impl RowError {
    pub fn of(row: usize, e: FieldError) -> RowError {
        RowError {
            row,
            field: e.field,
            message: e.message,
        }
    }
}

/// A CSV's rows one at a time (RFC 4180: quoted fields, doubled quotes, CRLF or LF), with
/// `sep` between fields; blank rows are skipped. Bounded per field and per row, and it never
/// holds more than the row it is reading: a 100,000-row file streams through it.
pub struct CsvRows<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    sep: char,
    failed: bool,
}

impl<'a> CsvRows<'a> {
    pub fn new(text: &'a str, sep: char) -> Self {
        CsvRows {
            chars: text.trim_start_matches('\u{feff}').chars().peekable(),
            sep,
            failed: false,
        }
    }

    fn row(&mut self) -> Option<Result<Vec<String>, FieldError>> {
        self.chars.peek()?;
        let mut row: Vec<String> = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        while let Some(c) = self.chars.next() {
            if quoted {
                match c {
                    '"' if self.chars.peek() == Some(&'"') => {
                        self.chars.next();
                        field.push('"');
                    }
                    '"' => quoted = false,
                    _ => field.push(c),
                }
            } else {
                match c {
                    '"' if field.is_empty() => quoted = true,
                    c if c == self.sep => row.push(std::mem::take(&mut field)),
                    '\r' if self.chars.peek() == Some(&'\n') => {}
                    '\n' => {
                        row.push(field);
                        return Some(Ok(row));
                    }
                    _ => field.push(c),
                }
            }
            if field.len() > MAX_FIELD {
                return Some(Err(FieldError::new(
                    "body",
                    format!("a field longer than {MAX_FIELD} bytes"),
                )));
            }
            if row.len() > MAX_COLUMNS {
                return Some(Err(FieldError::new(
                    "body",
                    format!("more than {MAX_COLUMNS} columns"),
                )));
            }
        }
        if quoted {
            return Some(Err(FieldError::new("body", "a quoted field is not closed")));
        }
        row.push(field);
        Some(Ok(row))
    }
}

impl Iterator for CsvRows<'_> {
    type Item = Result<Vec<String>, FieldError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            match self.row()? {
                Ok(r) if r.iter().all(|f| f.trim().is_empty()) => continue,
                Ok(r) => return Some(Ok(r)),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// The serial's column in each format's CSV: a header naming none of them is not an asset list.
const SERIAL_COLUMNS: [&str; 5] = [
    "serial",
    "Serial",
    "serialNumber",
    "Serial number",
    "nomEquipementPhysique",
];

/// A file's rows as objects, one at a time: a CSV's keyed by its header row, a JSON
/// document's from an array or the list inside Snipe-IT's `{rows}` or Graph's `{value}`
/// (kept as raw slices of the text until each row's turn).
enum SourceRows<'a> {
    Csv {
        header: Vec<String>,
        rows: CsvRows<'a>,
    },
    Json(std::iter::Enumerate<std::vec::IntoIter<&'a serde_json::value::RawValue>>),
}

type Raw<'r> = &'r serde_json::value::RawValue;

/// The message a [`Bounded`] list fails with past [`MAX_JOB_ROWS`] rows.
const TOO_MANY: &str = "too many rows";

/// A JSON list of rows, refused as soon as it holds more than [`MAX_JOB_ROWS`]: a 20 MiB body
/// of `{}` would otherwise be millions of slices before any limit is checked.
struct Bounded<'a>(Vec<Raw<'a>>);

impl<'de> serde::Deserialize<'de> for Bounded<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Bounded<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of rows")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(r) = a.next_element()? {
                    if out.len() == MAX_JOB_ROWS {
                        return Err(serde::de::Error::custom(TOO_MANY));
                    }
                    out.push(r);
                }
                Ok(Bounded(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A JSON import's wrapper object (Snipe-IT's `{total, rows}`, Graph's `{value}`): only its
/// lists of rows are kept, and at most 100 members are read.
struct Wrapper<'a>(Vec<Raw<'a>>);

impl<'de> serde::Deserialize<'de> for Wrapper<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Wrapper<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object holding a list of rows")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let (mut lists, mut members) = (Vec::new(), 0);
                while let Some(k) = a.next_key::<std::borrow::Cow<'de, str>>()? {
                    members += 1;
                    if members > 100 {
                        return Err(serde::de::Error::custom("too many members"));
                    }
                    let v: Raw<'de> = a.next_value()?;
                    if ["rows", "value", "assets"].contains(&k.as_ref()) {
                        lists.push(v);
                    }
                }
                Ok(Wrapper(lists))
            }
        }
        d.deserialize_map(V)
    }
}

impl<'a> SourceRows<'a> {
    fn open(body: &'a str, csv: bool) -> Result<SourceRows<'a>, FieldError> {
        if csv {
            let first = body.lines().next().unwrap_or("");
            let sep = if first.matches(';').count() > first.matches(',').count() {
                ';'
            } else {
                ','
            };
            let mut rows = CsvRows::new(body, sep);
            let header: Vec<String> = match rows.next() {
                // An empty file is an empty import.
                None => Vec::new(),
                Some(h) => h?.iter().map(|h| h.trim().to_string()).collect(),
            };
            if !header.is_empty() && !header.iter().any(|h| SERIAL_COLUMNS.contains(&h.as_str())) {
                return Err(FieldError::new(
                    "body",
                    format!(
                        "the header row names no serial column (one of: {})",
                        SERIAL_COLUMNS.join(", ")
                    ),
                ));
            }
            return Ok(SourceRows::Csv { header, rows });
        }
        let shape = || {
            FieldError::new(
                "body",
                "an array of rows, or one of {\"rows\": […]}, {\"value\": […]}",
            )
        };
        // The top level is read as raw slices: no row is parsed before its turn, and no more
        // than the job limit's rows (or a wrapper's members) are ever held.
        let top: Raw = serde_json::from_str(body)
            .map_err(|e| FieldError::new("body", format!("not JSON: {e}")))?;
        let too_many = |e: serde_json::Error| {
            if e.to_string().starts_with(TOO_MANY) {
                FieldError::new("body", format!("more than {MAX_JOB_ROWS} assets (limit)"))
            } else {
                shape()
            }
        };
        let list: Vec<Raw> = match top.get().trim_start().as_bytes().first() {
            Some(b'[') => {
                serde_json::from_str::<Bounded>(top.get())
                    .map_err(too_many)?
                    .0
            }
            Some(b'{') => {
                let o: Wrapper = serde_json::from_str(top.get()).map_err(|_| shape())?;
                let mut lists = o.0.into_iter();
                match (lists.next(), lists.next()) {
                    (Some(raw), None) => {
                        serde_json::from_str::<Bounded>(raw.get())
                            .map_err(too_many)?
                            .0
                    }
                    _ => return Err(shape()),
                }
            }
            _ => return Err(shape()),
        };
        Ok(SourceRows::Json(list.into_iter().enumerate()))
    }
}

impl Iterator for SourceRows<'_> {
    type Item = Result<Map<String, Value>, FieldError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            SourceRows::Csv { header, rows } => Some(rows.next()?.map(|r| {
                header
                    .iter()
                    .zip(r)
                    .filter(|(_, v)| !v.trim().is_empty())
                    .map(|(h, v)| (h.clone(), Value::String(v.trim().to_string())))
                    .collect()
            })),
            SourceRows::Json(list) => {
                let (i, raw) = list.next()?;
                Some(match serde_json::from_str::<Value>(raw.get()) {
                    Ok(Value::Object(o)) => Ok(o),
                    _ => Err(FieldError::new(
                        "body",
                        format!("row {} is not an object", i + 1),
                    )),
                })
            }
        }
    }
}

/// Which format a first row looks like.
fn detect(first: &Map<String, Value>) -> Format {
    let has = |k: &str| first.contains_key(k);
    if has("serialNumber") || has("deviceName") || has("enrolledDateTime") {
        Format::Intune
    } else if has("nomEquipementPhysique") || has("dateAchat") || has("paysDUtilisation") {
        Format::G4it
    } else if has("Asset Tag") || has("Serial") || has("model_number") || has("Model No.") {
        Format::SnipeIt
    } else {
        Format::CarbonTrace
    }
}

/// A text member, or a nested `{name}` / `{date}` one (Snipe-IT's API nests them).
fn text(r: &Map<String, Value>, keys: &[&str]) -> Option<Value> {
    keys.iter().find_map(|k| match r.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(Value::String(s.trim().to_string())),
        Value::Number(n) => Some(Value::String(n.to_string())),
        Value::Object(o) => ["name", "date"]
            .iter()
            .find_map(|f| o.get(*f).and_then(Value::as_str))
            .map(|s| Value::String(s.to_string())),
        _ => None,
    })
}

/// A number member, from a JSON number or text (`1,234.50`, `1 234,50 €`).
fn number(r: &Map<String, Value>, keys: &[&str]) -> Option<Value> {
    keys.iter().find_map(|k| match r.get(*k)? {
        Value::Number(n) => Some(Value::Number(n.clone())),
        Value::String(s) => {
            let cleaned: String = s
                .chars()
                .filter(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-'))
                .collect();
            let normal = if cleaned.contains('.') {
                cleaned.replace(',', "")
            } else {
                cleaned.replace(',', ".")
            };
            normal
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(|v| json!(v))
        }
        _ => None,
    })
}

/// The first ten characters of a date-time (`2025-03-01T10:00:00Z` → `2025-03-01`).
fn date(v: Option<Value>) -> Option<Value> {
    v.and_then(|v| {
        v.as_str()
            .map(|s| Value::String(s.chars().take(10).collect()))
    })
}

/// Snipe-IT category names → CarbonTrace categories.
fn category(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    Some(match () {
        _ if n.contains("laptop") || n.contains("notebook") => "laptop",
        _ if n.contains("desktop") || n.contains("tower") || n.contains("pc") => "desktop",
        _ if n.contains("monitor")
            || n.contains("display")
            || n.contains("ecran")
            || n.contains("écran") =>
        {
            "monitor"
        }
        _ if n.contains("server") || n.contains("serveur") => "server",
        _ if n.contains("phone") || n.contains("smartphone") || n.contains("mobile") => {
            "smartphone"
        }
        _ if n.contains("tablet") || n.contains("tablette") => "tablet",
        _ if n.contains("printer") || n.contains("imprimante") => "printer",
        _ if n.contains("switch")
            || n.contains("router")
            || n.contains("network")
            || n.contains("réseau") =>
        {
            "network"
        }
        _ => return None,
    })
}

/// One row of `format` as an asset body, and a note when a field was inferred.
fn map(format: Format, r: &Map<String, Value>) -> Map<String, Value> {
    let mut a = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            a.insert(k.into(), v);
        }
    };
    match format {
        Format::CarbonTrace => {
            for (k, v) in r {
                let v = match (k.as_str(), v) {
                    (
                        "yearly_kwh" | "purchase_cost" | "expected_lifetime_years",
                        Value::String(_),
                    ) => number(r, &[k.as_str()]),
                    _ => Some(v.clone()),
                };
                put(k, v);
            }
        }
        Format::SnipeIt => {
            put("serial", text(r, &["serial", "Serial"]));
            put("asset_tag", text(r, &["asset_tag", "Asset Tag"]));
            put("name", text(r, &["name", "Asset Name", "Name"]));
            put("brand", text(r, &["manufacturer", "Manufacturer"]));
            put("model", text(r, &["model", "Model"]));
            put(
                "mpn",
                text(r, &["model_number", "Model No.", "Model Number"]),
            );
            let cat = text(r, &["category", "Category"]);
            put(
                "category",
                cat.as_ref()
                    .and_then(|c| c.as_str())
                    .and_then(category)
                    .map(Value::from),
            );
            put(
                "purchase_date",
                date(text(r, &["purchase_date", "Purchase Date"])),
            );
            let cost = number(r, &["purchase_cost", "Purchase Cost"]);
            if cost.is_some() {
                let currency = text(r, &["currency", "Currency"]);
                put("currency", currency.or(Some(Value::from("EUR"))));
            }
            put("purchase_cost", cost);
        }
        Format::Intune => {
            put("serial", text(r, &["serialNumber", "Serial number"]));
            put("name", text(r, &["deviceName", "Device name"]));
            put("brand", text(r, &["manufacturer", "Manufacturer"]));
            put("model", text(r, &["model", "Model"]));
            // Intune has no purchase date: enrolment is the in-service date (flagged).
            put(
                "purchase_date",
                date(text(r, &["enrolledDateTime", "Enrollment date"])),
            );
            let os = text(r, &["operatingSystem", "OS"])
                .and_then(|v| v.as_str().map(str::to_ascii_lowercase));
            let cat = match os.as_deref() {
                Some(o) if o.contains("ios") || o.contains("android") => "smartphone",
                Some(o) if o.contains("ipad") => "tablet",
                _ => "laptop",
            };
            put("category", Some(Value::from(cat)));
        }
        Format::G4it => {
            put("serial", text(r, &["nomEquipementPhysique"]));
            put("name", text(r, &["nomEquipementPhysique"]));
            put("model", text(r, &["modele"]));
            let kind = text(r, &["type"]);
            put(
                "category",
                kind.as_ref()
                    .and_then(|c| c.as_str())
                    .and_then(category)
                    .map(Value::from),
            );
            put("purchase_date", date(text(r, &["dateAchat"])));
            put("retired_date", date(text(r, &["dateRetrait"])));
            put(
                "country",
                text(r, &["paysDUtilisation"]).and_then(|c| {
                    c.as_str()
                        .map(|s| Value::from(country_from_name(s).unwrap_or(s)))
                }),
            );
            put("yearly_kwh", number(r, &["consoElecAnnuelle"]));
        }
    }
    a
}

/// G4IT writes countries by French name.
fn country_from_name(name: &str) -> Option<&'static str> {
    Some(match name.trim().to_lowercase().as_str() {
        "france" => "FR",
        "allemagne" => "DE",
        "espagne" => "ES",
        "italie" => "IT",
        "belgique" => "BE",
        "pays-bas" => "NL",
        "royaume-uni" => "GB",
        "irlande" => "IE",
        "suède" | "suede" => "SE",
        "pologne" => "PL",
        "portugal" => "PT",
        "suisse" => "CH",
        "etats-unis" | "états-unis" => "US",
        "inde" => "IN",
        "chine" => "CN",
        _ => return None,
    })
}

/// Rows in one chunk of a staged import (and the most a synchronous import takes).
pub const CHUNK_ROWS: usize = MAX_ROWS;
/// Most assets one import file may hold (beyond [`MAX_ROWS`] it is imported as a job).
pub const MAX_JOB_ROWS: usize = 100_000;
/// Largest import file.
pub const MAX_JOB_BYTES: usize = 20 * 1024 * 1024;

/// The asset bodies of a file: in memory up to [`MAX_ROWS`], else staged for a job.
#[derive(Debug)]
pub enum Assets {
    Inline(Vec<Value>),
    Staged(Staged),
}

/// A large file's asset bodies, one JSON object per line, cut into chunks of [`CHUNK_ROWS`]
/// lines: what the import job reads back a chunk at a time (a ranged read), so its memory
/// stays bounded whatever the file's size.
#[derive(Debug)]
pub struct Staged {
    pub ndjson: String,
    /// Byte offset of each chunk's first line, then the end: chunk `k` is
    /// `bounds[k]..bounds[k + 1]`.
    pub bounds: Vec<usize>,
    pub rows: usize,
}

impl Staged {
    fn push(&mut self, body: &Value) {
        if self.rows.is_multiple_of(CHUNK_ROWS) {
            self.bounds.push(self.ndjson.len());
        }
        self.ndjson.push_str(&body.to_string());
        self.ndjson.push('\n');
        self.rows += 1;
    }
}

/// Collects asset bodies: in memory until there are more than [`MAX_ROWS`], then as NDJSON.
struct Sink {
    inline: Vec<Value>,
    staged: Option<Staged>,
    limit: usize,
}

impl Sink {
    fn push(&mut self, body: Value) -> Result<(), FieldError> {
        let count = self.inline.len() + self.staged.as_ref().map_or(0, |s| s.rows) + 1;
        if count > self.limit {
            return Err(FieldError::new(
                "body",
                format!("more than {} assets (limit)", self.limit),
            ));
        }
        if let Some(staged) = &mut self.staged {
            staged.push(&body);
        } else if self.inline.len() < MAX_ROWS {
            self.inline.push(body);
        } else {
            let mut staged = Staged {
                ndjson: String::new(),
                bounds: Vec::new(),
                rows: 0,
            };
            for b in self.inline.drain(..) {
                staged.push(&b);
            }
            staged.push(&body);
            self.staged = Some(staged);
        }
        Ok(())
    }

    fn finish(self) -> Assets {
        match self.staged {
            Some(mut s) => {
                s.bounds.push(s.ndjson.len());
                Assets::Staged(s)
            }
            None => Assets::Inline(self.inline),
        }
    }
}

/// The asset bodies of a file, in its rows' order, and the format read. `csv`: the body is
/// CSV text (else JSON). G4IT rows with `quantite` n > 1 become n assets (`<name>-1` …). At
/// most `limit` assets: up to [`MAX_ROWS`] they are returned in memory, beyond that staged
/// (`Assets::Staged`) without ever holding more than one source row parsed.
pub fn read(
    body: &str,
    csv: bool,
    format: Option<Format>,
    limit: usize,
) -> Result<(Format, Assets), FieldError> {
    let mut rows = SourceRows::open(body, csv)?.peekable();
    let format = match (format, rows.peek()) {
        (Some(f), _) => f,
        (None, Some(Ok(first))) => detect(first),
        (None, _) => Format::CarbonTrace,
    };
    let mut sink = Sink {
        inline: Vec::new(),
        staged: None,
        limit,
    };
    for r in rows {
        let r = r?;
        let a = map(format, &r);
        let copies = match format {
            Format::G4it => number(&r, &["quantite"])
                .and_then(|q| q.as_f64())
                .unwrap_or(1.0),
            _ => 1.0,
        };
        if copies > 1.0 && copies <= 1_000.0 && copies.fract() == 0.0 {
            for i in 1..=copies as usize {
                let mut c = a.clone();
                if let Some(s) = c
                    .get("serial")
                    .and_then(Value::as_str)
                    .map(|s| format!("{s}-{i}"))
                {
                    c.insert("serial".into(), Value::from(s));
                }
                sink.push(Value::Object(c))?;
            }
        } else {
            sink.push(Value::Object(a))?;
        }
    }
    Ok((format, sink.finish()))
}

/// One staged chunk's asset bodies (its lines, as [`Staged`] wrote them).
pub fn chunk(ndjson: &str) -> Result<Vec<Value>, FieldError> {
    ndjson
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| FieldError::new("body", format!("a staged row is not JSON: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_rows(text: &str, sep: char) -> Result<Vec<Vec<String>>, FieldError> {
        CsvRows::new(text, sep).collect()
    }

    /// A file read with the synchronous limit, in memory.
    fn read(
        body: &str,
        csv: bool,
        format: Option<Format>,
    ) -> Result<(Format, Vec<Value>), FieldError> {
        match super::read(body, csv, format, MAX_ROWS)? {
            (f, Assets::Inline(a)) => Ok((f, a)),
            (_, Assets::Staged(_)) => unreachable!("at most MAX_ROWS assets are staged"),
        }
    }

    #[test]
    fn csv_quotes_separators_and_bounds() {
        let rows = csv_rows("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n1,2", ',').unwrap();
        assert_eq!(
            rows,
            vec![vec!["a", "b"], vec!["x, y", "say \"hi\""], vec!["1", "2"]]
        );
        assert!(csv_rows("\"open", ',').is_err());
        assert!(csv_rows(&"x".repeat(MAX_FIELD + 1), ',').is_err());
        let many = format!("serial\n{}", "a\n".repeat(MAX_ROWS + 5));
        assert!(read(&many, true, None)
            .unwrap_err()
            .message
            .contains("assets (limit)"));
        assert!(csv_rows(&",".repeat(MAX_COLUMNS + 1), ',').is_err());
    }

    #[test]
    fn each_format_maps_to_assets() {
        let (f, a) = read("serial,category,purchase_date,purchase_cost,currency\nS1,laptop,2025-01-02,\"1,200.50\",EUR\n", true, None).unwrap();
        assert_eq!(f, Format::CarbonTrace);
        assert_eq!(a[0]["purchase_cost"], 1200.5);
        let snipe = r#"{"total": 1, "rows": [{"id": 7, "name": "Finance 12", "asset_tag": "A-12", "serial": "5CG1",
            "model": {"id": 3, "name": "EliteBook 840"}, "model_number": "6F6H1EA", "category": {"id": 2, "name": "Laptops"},
            "manufacturer": {"id": 1, "name": "HP"}, "purchase_date": {"date": "2024-05-06", "formatted": "06/05/2024"},
            "purchase_cost": "1,049.00"}]}"#;
        let (f, a) = read(snipe, false, None).unwrap();
        assert_eq!(f, Format::SnipeIt);
        assert_eq!(
            (
                a[0]["serial"].as_str(),
                a[0]["brand"].as_str(),
                a[0]["category"].as_str(),
                a[0]["purchase_date"].as_str()
            ),
            (Some("5CG1"), Some("HP"), Some("laptop"), Some("2024-05-06"))
        );
        assert_eq!(a[0]["purchase_cost"], 1049.0);
        let intune = r#"{"value": [{"deviceName": "LT-042", "manufacturer": "Dell Inc.", "model": "Latitude 5420",
            "serialNumber": "ABC123", "enrolledDateTime": "2023-09-14T08:12:00Z", "operatingSystem": "Windows"}]}"#;
        let (f, a) = read(intune, false, None).unwrap();
        assert_eq!(f, Format::Intune);
        assert_eq!(
            (a[0]["purchase_date"].as_str(), a[0]["category"].as_str()),
            (Some("2023-09-14"), Some("laptop"))
        );
        let g4it = "nomEquipementPhysique;modele;quantite;type;dateAchat;dateRetrait;paysDUtilisation;consoElecAnnuelle\n\
                    PC-1;OptiPlex 7090;2;Desktop;2022-01-10;;France;120,5\n";
        let (f, a) = read(g4it, true, None).unwrap();
        assert_eq!(f, Format::G4it);
        assert_eq!(a.len(), 2, "a quantity of 2 is two assets");
        assert_eq!(
            (a[1]["serial"].as_str(), a[1]["country"].as_str()),
            (Some("PC-1-2"), Some("FR"))
        );
        assert_eq!(a[0]["yearly_kwh"], 120.5);
        assert!(read("{}", false, None).is_err());
        assert!(
            read("null", true, None)
                .unwrap_err()
                .message
                .contains("serial column"),
            "a header without a serial column is not an asset list"
        );
        assert!(
            read("", true, None).unwrap().1.is_empty(),
            "an empty file is an empty import"
        );
        assert!(read("[1,2]", false, Some(Format::CarbonTrace))
            .unwrap_err()
            .message
            .contains("row 1"));
        assert!(
            read(r#"{"rows": [], "value": []}"#, false, None).is_err(),
            "one list, not two"
        );
    }

    #[test]
    fn large_files_are_staged_in_chunks_without_losing_a_row() {
        let n = 2 * CHUNK_ROWS + 17;
        let mut csv = String::from("serial;category;purchase_date\n");
        for i in 0..n {
            csv.push_str(&format!("S{i};laptop;2024-01-02\n"));
        }
        let (f, staged) = match super::read(&csv, true, None, MAX_JOB_ROWS).unwrap() {
            (f, Assets::Staged(s)) => (f, s),
            (_, Assets::Inline(_)) => panic!("more than MAX_ROWS assets are staged"),
        };
        assert_eq!((f, staged.rows), (Format::CarbonTrace, n));
        assert_eq!(staged.bounds.len(), 4, "three chunks and the end");
        let mut serials = Vec::new();
        for k in 0..3 {
            let part = &staged.ndjson[staged.bounds[k]..staged.bounds[k + 1]];
            let rows = chunk(part).unwrap();
            assert_eq!(rows.len(), if k < 2 { CHUNK_ROWS } else { 17 });
            serials.extend(
                rows.iter()
                    .map(|r| r["serial"].as_str().unwrap().to_string()),
            );
        }
        assert_eq!(serials.first().map(String::as_str), Some("S0"));
        assert_eq!(serials.len(), n);
        assert_eq!(serials.last().unwrap(), &format!("S{}", n - 1));
        // The same as JSON, and a file past the job limit is refused whole.
        let json = format!(
            "[{}]",
            (0..CHUNK_ROWS + 1)
                .map(|i| format!(
                    r#"{{"serial":"J{i}","category":"laptop","purchase_date":"2024-01-02"}}"#
                ))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(matches!(
            super::read(&json, false, None, MAX_JOB_ROWS).unwrap().1,
            Assets::Staged(Staged { rows, .. }) if rows == CHUNK_ROWS + 1
        ));
        assert!(super::read(&json, false, None, CHUNK_ROWS)
            .unwrap_err()
            .message
            .contains("limit"));
        // A hostile list is refused while it is read, not after: millions of `{}`.
        let flood = format!("[{}]", vec!["{}"; MAX_JOB_ROWS + 1].join(","));
        assert!(super::read(&flood, false, None, MAX_JOB_ROWS)
            .unwrap_err()
            .message
            .contains("assets (limit)"));
        let wide = format!(
            "{{{}}}",
            (0..200)
                .map(|i| format!("\"k{i}\":1"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(super::read(&wide, false, None, MAX_JOB_ROWS).is_err());
        // A G4IT quantity counts each asset it makes.
        let g4it =
            "nomEquipementPhysique;quantite;dateAchat\nPC;600;2022-01-10\nPC2;600;2022-01-10\n";
        assert!(matches!(
            super::read(g4it, true, None, MAX_JOB_ROWS).unwrap().1,
            Assets::Staged(Staged { rows: 1200, .. })
        ));
    }
}
