//! Search and identification over the catalogue, built once per isolate.
//!
//! Text is split into tokens (lowercase letters and digits; "LAT5420" and "latitude-5420"
//! both give `lat`/`latitude` and `5420`; a mixed chunk like `e2422hn` is kept whole too).
//! A query token matches a catalogue token exactly (1.0), as a prefix of it (0.8, three
//! characters or more), or with one typo (0.7, four characters or more, never for numbers:
//! 5420 and 5520 are different products). Matching runs over the vocabulary (a few thousand
//! tokens), then postings lists give the products, so a query costs microseconds.
//!
//! Score = 0.6 × query coverage + 0.4 × name coverage, each weighted by token rarity (idf):
//! extra words in a query ("i5 16GB") cost less than missing words of a product name.

use std::collections::HashMap;

use super::{normalise, Catalogue, Product};

/// Split text into search tokens.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|c| !c.is_empty())
    {
        let chunk = chunk.to_lowercase();
        // Letter/digit runs: "lat5420" → "lat", "5420".
        let mut parts: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut cur_digit = None;
        for ch in chunk.chars() {
            let d = ch.is_ascii_digit();
            if cur_digit.is_some_and(|cd| cd != d) {
                parts.push(std::mem::take(&mut cur));
            }
            cur.push(ch);
            cur_digit = Some(d);
        }
        if !cur.is_empty() {
            parts.push(cur);
        }
        if parts.len() > 1 {
            out.push(chunk.clone());
        }
        for p in parts {
            if p.len() >= 2 || p.chars().all(|c| c.is_ascii_digit()) {
                out.push(p);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn is_number(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `a` and `b` are at most one edit (insert, delete, substitute, swap) apart.
fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let mut i = 0;
    while i < la.min(lb) && a[i] == b[i] {
        i += 1;
    }
    if la == lb {
        // substitution, or adjacent swap
        a[i + 1..] == b[i + 1..]
            || (i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] && a[i + 2..] == b[i + 2..])
    } else if la > lb {
        a[i + 1..] == b[i..]
    } else {
        a[i..] == b[i + 1..]
    }
}

/// One ranked hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<'a> {
    pub product: &'a Product,
    /// 0–1: 0.6 × query coverage + 0.4 × name coverage.
    pub score: f64,
    /// Share (idf-weighted) of the query's tokens that matched.
    pub query_coverage: f64,
    /// Share (idf-weighted) of the product's name that the query matched.
    pub name_coverage: f64,
    /// Query tokens that matched, and how ("5420", "lat→latitude", "lattitude~latitude").
    pub evidence: Vec<String>,
}

/// Filters of a search.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    pub category: Option<&'a str>,
    pub brand: Option<&'a str>,
}

pub struct SearchIndex {
    vocab: Vec<String>,
    vocab_ids: HashMap<String, u32>,
    idf: Vec<f64>,
    /// Products holding each vocabulary token.
    postings: Vec<Vec<u32>>,
    /// Sum of idf of each product's tokens (brand included).
    name_weight: Vec<f64>,
    brands: Vec<String>,
}

impl SearchIndex {
    /// The index of the built-in catalogue, built once per process (at isolate start).
    pub fn builtin() -> &'static SearchIndex {
        static INDEX: std::sync::OnceLock<SearchIndex> = std::sync::OnceLock::new();
        INDEX.get_or_init(|| SearchIndex::build(Catalogue::builtin()))
    }

    pub fn build(c: &Catalogue) -> SearchIndex {
        let mut vocab_ids: HashMap<String, u32> = HashMap::new();
        let mut vocab: Vec<String> = Vec::new();
        let mut postings: Vec<Vec<u32>> = Vec::new();
        let mut product_tokens: Vec<Vec<u32>> = Vec::with_capacity(c.products.len());
        for (pi, p) in c.products.iter().enumerate() {
            let mut ids = Vec::new();
            for t in tokens(&format!("{} {}", p.brand, p.name)) {
                let id = *vocab_ids.entry(t.clone()).or_insert_with(|| {
                    vocab.push(t);
                    postings.push(Vec::new());
                    (vocab.len() - 1) as u32
                });
                postings[id as usize].push(pi as u32);
                ids.push(id);
            }
            product_tokens.push(ids);
        }
        let n = c.products.len() as f64;
        let idf: Vec<f64> = postings
            .iter()
            .map(|p| (1.0 + n / p.len() as f64).ln())
            .collect();
        let name_weight = product_tokens
            .iter()
            .map(|ids| ids.iter().map(|&i| idf[i as usize]).sum())
            .collect();
        let mut brands: Vec<String> = c.products.iter().map(|p| normalise(&p.brand)).collect();
        brands.sort();
        brands.dedup();
        SearchIndex {
            vocab,
            vocab_ids,
            idf,
            postings,
            name_weight,
            brands,
        }
    }

    /// Vocabulary tokens a query token matches, with the match's weight and kind.
    fn expand(&self, q: &str) -> Vec<(u32, f64, char)> {
        let mut out = Vec::new();
        if let Some(&id) = self.vocab_ids.get(q) {
            out.push((id, 1.0, '='));
        }
        let numeric = is_number(q);
        for (id, t) in self.vocab.iter().enumerate() {
            if t == q {
                continue;
            }
            if q.len() >= 3 && t.starts_with(q) && !numeric {
                out.push((id as u32, 0.8, '>'));
            } else if q.len() >= 4
                && !numeric
                && !is_number(t)
                && within_one_edit(q.as_bytes(), t.as_bytes())
            {
                out.push((id as u32, 0.7, '~'));
            }
        }
        out
    }

    /// Ranked products for free text, best first.
    pub fn search<'a>(
        &self,
        c: &'a Catalogue,
        text: &str,
        filter: &Filter,
        limit: usize,
    ) -> Vec<Hit<'a>> {
        let qtokens = tokens(text);
        if qtokens.is_empty() {
            return Vec::new();
        }
        let brand = filter.brand.map(normalise);
        let n = c.products.len();
        // Per product: matched query weight, matched name weight, evidence.
        let mut q_score = vec![0.0f64; n];
        let mut name_score = vec![0.0f64; n];
        let mut evidence: Vec<Vec<String>> = vec![Vec::new(); n];
        let mut q_total = 0.0;
        for q in &qtokens {
            // A query token unknown to the catalogue weighs like a rare one.
            let q_idf = self
                .vocab_ids
                .get(q)
                .map(|&i| self.idf[i as usize])
                .unwrap_or((1.0 + n as f64).ln());
            q_total += q_idf;
            let mut best: HashMap<u32, (f64, u32, char)> = HashMap::new();
            for (vid, w, kind) in self.expand(q) {
                for &pi in &self.postings[vid as usize] {
                    let e = best.entry(pi).or_insert((0.0, vid, kind));
                    if w > e.0 {
                        *e = (w, vid, kind);
                    }
                }
            }
            for (pi, (w, vid, kind)) in best {
                let pi = pi as usize;
                q_score[pi] += w * q_idf;
                name_score[pi] += w * self.idf[vid as usize];
                let t = &self.vocab[vid as usize];
                evidence[pi].push(match kind {
                    '=' => t.clone(),
                    '>' => format!("{q}→{t}"),
                    _ => format!("{q}~{t}"),
                });
            }
        }
        let mut hits: Vec<Hit<'a>> = (0..n)
            .filter(|&i| q_score[i] > 0.0)
            .filter(|&i| {
                let p = &c.products[i];
                filter.category.is_none_or(|cat| p.category == cat)
                    && brand.as_deref().is_none_or(|b| normalise(&p.brand) == b)
            })
            .map(|i| {
                let qc = q_score[i] / q_total;
                let nc = (name_score[i] / self.name_weight[i]).min(1.0);
                Hit {
                    product: &c.products[i],
                    score: 0.6 * qc + 0.4 * nc,
                    query_coverage: qc,
                    name_coverage: nc,
                    evidence: std::mem::take(&mut evidence[i]),
                }
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.product.id.cmp(&b.product.id))
        });
        hits.truncate(limit);
        hits
    }

    /// Whether a brand is in the catalogue (normalised).
    pub fn knows_brand(&self, brand: &str) -> bool {
        self.brands.binary_search(&normalise(brand)).is_ok()
    }
}

/// Most results of one search page.
pub const MAX_LIMIT: usize = 50;

/// A `GET /products/search` query, validated: the text, its filters, the page size and where
/// the page starts (from the cursor a previous page gave).
#[derive(Debug, PartialEq)]
pub struct Query {
    pub q: String,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub limit: usize,
    pub offset: usize,
    /// Ties a cursor to the query that issued it.
    fingerprint: String,
}

/// The query parameters as sent.
#[derive(Debug, Default)]
pub struct QueryParams {
    pub q: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl Query {
    /// Validate, naming every bad parameter. `known_category` says whether the factor set has
    /// a category. An empty `cursor` is the first page (clients send `cursor=${next ?? ''}`).
    pub fn parse(
        p: QueryParams,
        known_category: impl Fn(&str) -> bool,
    ) -> Result<Query, Vec<crate::validation::FieldError>> {
        use crate::validation::FieldError;
        let mut errors = Vec::new();
        let q = p.q.map(|q| q.trim().to_string()).unwrap_or_default();
        if q.is_empty() || q.chars().count() > 200 {
            errors.push(FieldError::new(
                "q",
                "required: 1 to 200 characters of free text",
            ));
        }
        if let Some(c) = p.category.as_deref().filter(|c| !known_category(c)) {
            errors.push(FieldError::new(
                "category",
                format!("unknown category `{c}`"),
            ));
        }
        let limit = match p.limit.map(|l| l.parse::<usize>()) {
            None => 10,
            Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => l,
            Some(_) => {
                errors.push(FieldError::new(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_LIMIT}"),
                ));
                10
            }
        };
        let fingerprint: String = normalise(&format!(
            "{q}|{}|{}",
            p.category.as_deref().unwrap_or(""),
            p.brand.as_deref().unwrap_or("")
        ))
        .chars()
        .take(24)
        .collect();
        let offset = match p.cursor.filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => read_cursor(&c, &fingerprint).unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "cursor",
                    "not a cursor of this query; use next_cursor as returned",
                ));
                0
            }),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Query {
            q,
            category: p.category,
            brand: p.brand,
            limit,
            offset,
            fingerprint,
        })
    }

    pub fn filter(&self) -> Filter<'_> {
        Filter {
            category: self.category.as_deref(),
            brand: self.brand.as_deref(),
        }
    }

    /// The cursor of the next page, if `hits` (up to `offset + limit + 1`) hold more.
    pub fn next_cursor(&self, hits: usize) -> Option<String> {
        use base64::Engine as _;
        let next = self.offset + self.limit;
        (hits > next).then(|| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!("{next}:{}", self.fingerprint))
        })
    }
}

fn read_cursor(c: &str, fingerprint: &str) -> Option<usize> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (offset, fp) = text.split_once(':')?;
    (fp == fingerprint).then(|| offset.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_query_pages_with_cursors_of_its_own() {
        let params = |q: &str, cursor: Option<String>| QueryParams {
            q: Some(q.into()),
            limit: Some("2".into()),
            cursor,
            ..Default::default()
        };
        let first = Query::parse(params("latitude", Some(String::new())), |_| true).unwrap();
        assert_eq!(
            (first.offset, first.limit),
            (0, 2),
            "an empty cursor is the first page"
        );
        let next = first.next_cursor(3).unwrap();
        assert_eq!(first.next_cursor(2), None, "no more hits, no cursor");
        let second = Query::parse(params("latitude", Some(next.clone())), |_| true).unwrap();
        assert_eq!(second.offset, 2);
        let e = Query::parse(params("thinkpad", Some(next)), |_| true).unwrap_err();
        assert_eq!(e[0].field, "cursor", "another query's cursor");
        let e = Query::parse(
            QueryParams {
                q: Some(" ".into()),
                category: Some("toaster".into()),
                limit: Some("51".into()),
                ..Default::default()
            },
            |c| c == "laptop",
        )
        .unwrap_err();
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["q", "category", "limit"]);
    }

    #[test]
    fn tokens_split_letters_digits_and_punctuation() {
        assert_eq!(tokens("Latitude 5420"), vec!["5420", "latitude"]);
        assert_eq!(tokens("latitude-5420"), vec!["5420", "latitude"]);
        assert_eq!(tokens("LAT5420"), vec!["5420", "lat", "lat5420"]);
        assert_eq!(tokens("E2422HN"), vec!["2422", "e2422hn", "hn"]);
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit(b"latitude", b"lattitude"));
        assert!(within_one_edit(b"latitude", b"latitdue"));
        assert!(within_one_edit(b"latitude", b"latitude"));
        assert!(within_one_edit(b"optiplex", b"optiplx"));
        assert!(!within_one_edit(b"latitude", b"longitude"));
    }

    #[test]
    fn finds_model_number_spellings() {
        let c = Catalogue::builtin();
        let idx = SearchIndex::build(c);
        let target = c.get("dell--latitude-5420").expect("in catalogue");
        for q in [
            "Latitude 5420",
            "latitude-5420",
            "LAT5420",
            "dell lattitude 5420",
            "5420 latitude",
        ] {
            let hits = idx.search(c, q, &Filter::default(), 5);
            assert_eq!(
                hits.first().map(|h| h.product),
                Some(target),
                "{q}: {:?}",
                hits.iter().map(|h| &h.product.id).collect::<Vec<_>>()
            );
        }
        let filtered = idx.search(
            c,
            "latitude",
            &Filter {
                category: Some("monitor"),
                brand: None,
            },
            5,
        );
        assert!(filtered.is_empty());
        assert!(idx.knows_brand("dell"));
    }
}
