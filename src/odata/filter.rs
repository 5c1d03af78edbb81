//! `$filter` → AST, bounded; the store writes it as SQL with bound parameters
//! (`store::odata`).
//!
//! Grammar (what Power Query, Excel and Tableau send):
//! ```text
//! or      := and ('or' and)*
//! and     := not ('and' not)*
//! not     := 'not' not | compare
//! compare := operand (('eq'|'ne'|'gt'|'ge'|'lt'|'le') operand | 'in' '(' literal (',' literal)* ')')?
//! operand := '(' or ')' | function '(' args ')' | property | literal
//! ```
//! Functions: contains, startswith, endswith (string, string); year, month, day (date);
//! tolower, toupper. Literals: 'text' ('' escapes a quote), numbers, true, false, null, and
//! unquoted date-times (`2026-01-01T00:00:00Z`) or dates, normalised to the stored form.

use super::model::{EntitySet, Prop, QueryError};

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Prop(&'static Prop),
    Lit(Lit),
    Cmp(Box<Expr>, &'static str, Box<Expr>),
    In(Box<Expr>, Vec<Lit>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Func(&'static str, Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    DateTime(String),
    LParen,
    RParen,
    Comma,
}

fn err(pos: usize, msg: impl Into<String>) -> QueryError {
    QueryError::new("$filter", format!("{} (at position {pos})", msg.into()))
}

/// Stored timestamps look like JavaScript's `toISOString()`: `2026-01-01T00:00:00.000Z`.
fn normalise_datetime(s: &str) -> String {
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00:00Z"));
    let time = time.trim_end_matches('Z');
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let hms = if hms.len() == 5 {
        format!("{hms}:00")
    } else {
        hms.to_string()
    };
    let ms: String = format!("{frac:0<3}").chars().take(3).collect();
    format!("{date}T{hms}.{ms}Z")
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' => i += 1,
            b'(' => {
                out.push((start, Tok::LParen));
                i += 1;
            }
            b')' => {
                out.push((start, Tok::RParen));
                i += 1;
            }
            b',' => {
                out.push((start, Tok::Comma));
                i += 1;
            }
            b'\'' => {
                i += 1;
                let mut text = String::new();
                loop {
                    match b.get(i) {
                        None => return Err(err(start, "unterminated string literal")),
                        Some(b'\'') if b.get(i + 1) == Some(&b'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => {
                            let ch = s[i..].chars().next().unwrap_or('?');
                            text.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                out.push((start, Tok::Str(text)));
            }
            b'0'..=b'9' | b'-' => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'.' | b'-' | b':' | b'+'))
                {
                    i += 1;
                }
                let word = &s[start..i];
                if word.len() >= 10 && word.as_bytes()[4] == b'-' && word.as_bytes()[7] == b'-' {
                    out.push((start, Tok::DateTime(normalise_datetime(word))));
                } else {
                    let v: f64 = word
                        .trim_end_matches(['d', 'D', 'm', 'M', 'f', 'F', 'L'])
                        .parse()
                        .map_err(|_| err(start, format!("`{word}` is not a number or date")))?;
                    out.push((start, Tok::Num(v)));
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'/')
                {
                    i += 1;
                }
                out.push((start, Tok::Ident(s[start..i].to_string())));
            }
            _ => {
                return Err(err(
                    start,
                    format!(
                        "unexpected character `{}`",
                        s[start..].chars().next().unwrap_or('?')
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// Longest `$filter` accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 2048;
/// Most tokens in a `$filter` (which also bounds the size of its tree).
pub const MAX_TOKENS: usize = 256;
/// Deepest nesting of parentheses, `not` and function calls.
pub const MAX_DEPTH: usize = 16;
/// Most literals in one `in (…)` list.
pub const MAX_IN_ITEMS: usize = 100;
/// Longest LIKE pattern the database takes (D1: 50 bytes); `contains`, `startswith` and
/// `endswith` texts must fit in it with their wildcards and escapes.
pub const MAX_PATTERN_BYTES: usize = 50;
/// Most values one `$filter` binds: D1 binds at most 100 parameters a statement, and the
/// organisation takes one.
pub const MAX_BOUND_VALUES: usize = 99;

struct Parser<'a> {
    set: &'static EntitySet,
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
    /// Current nesting; no recursion in the parser goes deeper than [`MAX_DEPTH`].
    depth: usize,
    _src: &'a str,
}

const FUNCS: [&str; 8] = [
    "contains",
    "startswith",
    "endswith",
    "year",
    "month",
    "day",
    "tolower",
    "toupper",
];
const CMPS: [&str; 6] = ["eq", "ne", "gt", "ge", "lt", "le"];

impl Parser<'_> {
    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|t| t.0).unwrap_or(self.len)
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == k)
    }
    /// Enter one more level of nesting, or refuse past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                self.at(),
                format!("nested more than {MAX_DEPTH} levels deep (limit)"),
            ));
        }
        Ok(())
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<(), QueryError> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(err(self.at(), format!("expected {what}")))
        }
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut e = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut e = self.not()?;
        while self.keyword("and") {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }
    fn not(&mut self) -> Result<Expr, QueryError> {
        if self.keyword("not") {
            self.pos += 1;
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.compare()
    }
    fn compare(&mut self) -> Result<Expr, QueryError> {
        let left = self.operand()?;
        if let Some(Tok::Ident(w)) = self.peek() {
            if let Some(op) = CMPS.iter().find(|c| **c == w.as_str()) {
                self.pos += 1;
                let right = self.operand()?;
                return Ok(Expr::Cmp(Box::new(left), op, Box::new(right)));
            }
            if w == "in" {
                self.pos += 1;
                self.expect(Tok::LParen, "`(` after in")?;
                let mut items = Vec::new();
                loop {
                    let at = self.at();
                    match self.operand()? {
                        Expr::Lit(l) => items.push(l),
                        _ => return Err(err(at, "`in` takes a list of literals")),
                    }
                    if items.len() > MAX_IN_ITEMS {
                        return Err(err(
                            at,
                            format!("more than {MAX_IN_ITEMS} items in an `in` list (limit)"),
                        ));
                    }
                    if self.peek() == Some(&Tok::Comma) {
                        self.pos += 1;
                        continue;
                    }
                    self.expect(Tok::RParen, "`,` or `)` in the in-list")?;
                    break;
                }
                return Ok(Expr::In(Box::new(left), items));
            }
        }
        Ok(left)
    }
    fn operand(&mut self) -> Result<Expr, QueryError> {
        let at = self.at();
        let Some((_, tok)) = self.toks.get(self.pos).cloned() else {
            return Err(err(at, "expression expected"));
        };
        self.pos += 1;
        Ok(match tok {
            Tok::LParen => {
                self.enter()?;
                let e = self.or()?;
                self.expect(Tok::RParen, "`)`")?;
                self.depth -= 1;
                e
            }
            Tok::Str(s) => Expr::Lit(Lit::Text(s)),
            Tok::Num(n) => Expr::Lit(Lit::Number(n)),
            Tok::DateTime(d) => Expr::Lit(Lit::Text(d)),
            Tok::Ident(w) => match w.as_str() {
                "true" => Expr::Lit(Lit::Bool(true)),
                "false" => Expr::Lit(Lit::Bool(false)),
                "null" => Expr::Lit(Lit::Null),
                f if self.peek() == Some(&Tok::LParen) => {
                    let name = FUNCS
                        .iter()
                        .find(|x| **x == f)
                        .ok_or_else(|| err(at, format!("unsupported function `{f}`")))?;
                    self.pos += 1;
                    self.enter()?;
                    let mut args = vec![self.or()?];
                    while self.peek() == Some(&Tok::Comma) {
                        self.pos += 1;
                        args.push(self.or()?);
                    }
                    self.expect(Tok::RParen, "`)` closing the function")?;
                    self.depth -= 1;
                    let want = if matches!(*name, "contains" | "startswith" | "endswith") {
                        2
                    } else {
                        1
                    };
                    if args.len() != want {
                        return Err(err(at, format!("{name} takes {want} argument(s)")));
                    }
                    if let (2, Some(Expr::Lit(Lit::Text(t)))) = (want, args.get(1)) {
                        // The store matches it with LIKE, whose pattern the database bounds.
                        let escaped = t.len() + t.matches(['\\', '%', '_']).count();
                        if escaped + 2 > MAX_PATTERN_BYTES {
                            return Err(err(
                                at,
                                format!(
                                    "{name}'s text is longer than {} bytes (limit)",
                                    MAX_PATTERN_BYTES - 2
                                ),
                            ));
                        }
                    }
                    Expr::Func(name, args)
                }
                name => Expr::Prop(self.set.prop(name).ok_or_else(|| {
                    err(
                        at,
                        format!("unknown property `{name}` of {}", self.set.name),
                    )
                })?),
            },
            Tok::RParen | Tok::Comma => return Err(err(at, "expression expected")),
        })
    }
}

/// Parse a `$filter` for an entity set.
/// Bounded: length, token count, nesting depth and `in` lists are checked before or while
/// parsing, so no input makes the parser (or anything that walks its tree) recurse deeply.
pub fn parse_filter(set: &'static EntitySet, text: &str) -> Result<Expr, QueryError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(err(
            MAX_FILTER_LEN,
            format!("longer than {MAX_FILTER_LEN} bytes (limit)"),
        ));
    }
    let toks = lex(text)?;
    if toks.len() > MAX_TOKENS {
        return Err(err(
            toks[MAX_TOKENS].0,
            format!("more than {MAX_TOKENS} tokens (limit)"),
        ));
    }
    let mut p = Parser {
        set,
        toks,
        pos: 0,
        len: text.len(),
        depth: 0,
        _src: text,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(err(p.at(), "unexpected text after the expression"));
    }
    let bound = e.bound_values();
    if bound > MAX_BOUND_VALUES {
        return Err(QueryError::new(
            "$filter",
            format!(
                "binds {bound} values; at most {MAX_BOUND_VALUES} (with the organisation, the database's limit of 100 a query)"
            ),
        ));
    }
    Ok(e)
}

/// The filter selecting one entity by its key: `text` must be exactly one literal (a quoted
/// string or a number), never an expression, so `Sets('a' or Id ne 'b')` is refused.
pub fn key_filter(set: &'static EntitySet, text: &str) -> Result<Expr, QueryError> {
    if text.len() > 256 {
        return Err(err(0, "a key is at most 256 bytes (limit)"));
    }
    let lit = match lex(text)?.as_slice() {
        [(_, Tok::Str(s))] => Lit::Text(s.clone()),
        [(_, Tok::Num(n))] => Lit::Number(*n),
        _ => {
            return Err(err(
                0,
                "the key must be one literal: a quoted string or a number",
            ))
        }
    };
    let key = set
        .prop(set.key)
        .ok_or_else(|| err(0, "this entity set has no key"))?;
    Ok(Expr::Cmp(
        Box::new(Expr::Prop(key)),
        "eq",
        Box::new(Expr::Lit(lit)),
    ))
}

impl Expr {
    /// How many values the store binds for this expression: one per text or number literal
    /// and per `contains`/`startswith`/`endswith` pattern (`true`, `false` and `null` are
    /// written in the SQL). `store::odata` checks its statements agree.
    pub fn bound_values(&self) -> usize {
        match self {
            Expr::Prop(_) => 0,
            Expr::Lit(Lit::Text(_) | Lit::Number(_)) => 1,
            Expr::Lit(Lit::Bool(_) | Lit::Null) => 0,
            Expr::Cmp(l, _, r) => match (&**l, &**r) {
                (Expr::Lit(Lit::Null), side) | (side, Expr::Lit(Lit::Null)) => side.bound_values(),
                _ => l.bound_values() + r.bound_values(),
            },
            Expr::In(l, items) => {
                l.bound_values()
                    + items
                        .iter()
                        .filter(|i| matches!(i, Lit::Text(_) | Lit::Number(_)))
                        .count()
            }
            Expr::And(a, b) | Expr::Or(a, b) => a.bound_values() + b.bound_values(),
            Expr::Not(a) => a.bound_values(),
            Expr::Func(_, args) => args.iter().map(Expr::bound_values).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::model::set;
    use crate::testing::{within, Rng};

    #[test]
    fn nesting_tokens_and_lists_are_bounded() {
        let assets = set("Assets").unwrap();
        let deep = format!("{}Model eq 'x'{}", "(".repeat(5000), ")".repeat(5000));
        let e = parse_filter(assets, &deep).unwrap_err();
        assert!(e.message.contains("limit"), "{}", e.message);
        let nots = format!("{}Model eq 'x'", "not ".repeat(100));
        assert!(parse_filter(assets, &nots)
            .unwrap_err()
            .message
            .contains("levels deep"));
        let chain = vec!["Model eq 'x'"; 100].join(" and ");
        assert!(parse_filter(assets, &chain)
            .unwrap_err()
            .message
            .contains("tokens"));
        let list = (0..120)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse_filter(assets, &format!("RamGb in ({list})"))
            .unwrap_err()
            .message
            .contains("in` list"));
        assert!(parse_filter(assets, &"a".repeat(MAX_FILTER_LEN + 1)).is_err());
        // 100 items in one `in` are within its own limit but bind 101 values with the
        // organisation: refused, naming the limit.
        let hundred: Vec<String> = (0..MAX_IN_ITEMS).map(|i| format!("'s{i}'")).collect();
        let e = parse_filter(assets, &format!("Serial in ({})", hundred.join(","))).unwrap_err();
        assert!(e.message.contains("at most 99"), "{}", e.message);
        let e99: Vec<String> = (0..MAX_BOUND_VALUES).map(|i| format!("'s{i}'")).collect();
        assert!(parse_filter(assets, &format!("Serial in ({})", e99.join(","))).is_ok());
        // A contains() text past the database's LIKE pattern bound is refused, naming it.
        let long = format!("contains(Model,'{}')", "x".repeat(49));
        assert!(parse_filter(assets, &long)
            .unwrap_err()
            .message
            .contains("48 bytes"));
        assert!(parse_filter(assets, &format!("contains(Model,'{}')", "x".repeat(48))).is_ok());
        assert!(parse_filter(assets, &format!("contains(Model,'{}')", "%".repeat(24))).is_ok());
        assert!(parse_filter(assets, &format!("contains(Model,'{}')", "%".repeat(25))).is_err());
        // Just inside the bounds is fine.
        let ok = format!(
            "{}Model eq 'x'{}",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        );
        assert!(parse_filter(assets, &ok).is_ok());
    }

    #[test]
    fn an_entity_key_is_one_literal() {
        let certs = set("Certificates").unwrap();
        assert!(key_filter(certs, "'cert_1'").is_ok());
        for bad in [
            "'a' or Id ne 'b'",
            "Id",
            "'a' 'b'",
            "",
            "(1)",
            "'unterminated",
        ] {
            assert!(key_filter(certs, bad).is_err(), "{bad} accepted");
        }
        let e = key_filter(certs, "'x'' or 1=1 --'").unwrap();
        assert_eq!(e.bound_values(), 1, "the quote is data");
    }

    #[test]
    fn random_and_adversarial_filters_never_panic() {
        let pieces = [
            "(",
            ")",
            " ",
            "Model",
            "RamGb",
            "eq",
            "ne",
            " and ",
            " or ",
            "not ",
            "'x'",
            "''",
            "'",
            "1",
            "-2.5e3",
            "2026-01-01",
            "contains(",
            "year(",
            ",",
            "in",
            "null",
            "true",
            "é",
            "$",
            "tolower(",
            "9999999999999999999999",
        ];
        let assets = set("Assets").unwrap();
        let mut rng = Rng::new(0x0DA7A);
        within(20_000, "5,000 random filters", || {
            for _ in 0..5000 {
                let len = rng.below(3000);
                let f = rng.text(&pieces, len);
                if let Ok(e) = parse_filter(assets, &f) {
                    assert!(e.bound_values() <= MAX_BOUND_VALUES);
                }
            }
        });
    }

    #[test]
    fn errors_name_the_position() {
        let s = set("Assets").unwrap();
        let e = parse_filter(s, "Category eq").unwrap_err();
        assert_eq!(e.target, "$filter");
        assert!(e.message.contains("position 11"), "{}", e.message);
        assert!(parse_filter(s, "Nope eq 1")
            .unwrap_err()
            .message
            .contains("unknown property `Nope`"));
        assert!(parse_filter(s, "Category eq 'x")
            .unwrap_err()
            .message
            .contains("unterminated"));
        assert!(parse_filter(s, "substringof('a',Model)")
            .unwrap_err()
            .message
            .contains("unsupported function"));
        assert!(parse_filter(s, "Category eq 'a' 'b'")
            .unwrap_err()
            .message
            .contains("position 16"));
        assert!(parse_filter(s, "Category ; drop").is_err());
    }
}
