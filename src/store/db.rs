//! The one interface every SQL statement of the worker runs through. A [`Stmt`] is the SQL
//! text and its bound [`Param`]s; a [`Db`] runs it. Two implementations, one SQL: D1 on the
//! edge (`edge::d1`, for `worker::Env`) and an in-memory SQLite with the real migrations in
//! native tests (`store::sqlite`), so what the store's tests run is what is deployed.
//!
//! Rows come back as serde types. Both engines hand numbers over as JSON numbers (D1 as JS
//! numbers, SQLite as integers or reals), so row types read counts as `f64` or any integer
//! type that fits.

use std::borrow::Cow;

use serde::de::DeserializeOwned;

/// A failed statement: what the engine said, with the statement's first words for context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// An engine's error about `sql` (its first 60 characters go into the message).
    pub fn about(sql: &str, e: impl std::fmt::Display) -> Self {
        let head: String = sql.chars().take(60).collect();
        Error(format!("{e} (in `{head}…`)"))
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// A value bound to a statement's `?N`.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(v.to_string())
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(v.clone())
    }
}
impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}
impl From<u32> for Param {
    fn from(v: u32) -> Self {
        Param::Int(i64::from(v))
    }
}
impl From<usize> for Param {
    fn from(v: usize) -> Self {
        Param::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Param {
    fn from(v: f64) -> Self {
        Param::Real(v)
    }
}
impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Int(i64::from(v))
    }
}
impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Param::Null)
    }
}

/// A statement: SQL text (with `?1`, `?2` … placeholders) and its parameters in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub sql: Cow<'static, str>,
    pub params: Vec<Param>,
}

impl Stmt {
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Stmt {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    /// Bind the next parameter (`?1`, then `?2` …).
    pub fn bind(mut self, p: impl Into<Param>) -> Self {
        self.params.push(p.into());
        self
    }
}

/// A database that runs statements: D1 on the edge, SQLite in native tests. Futures are not
/// `Send` (a Worker isolate is single-threaded), hence `async fn` in a public trait.
#[allow(async_fn_in_trait)]
pub trait Db {
    /// The first row, if any.
    async fn first<T: DeserializeOwned>(&self, s: Stmt) -> Result<Option<T>>;
    /// Every row.
    async fn all<T: DeserializeOwned>(&self, s: Stmt) -> Result<Vec<T>>;
    /// Run a statement; the number of rows it changed.
    async fn run(&self, s: Stmt) -> Result<usize>;
    /// Run statements as one transaction (all or nothing); each one's change count.
    async fn batch(&self, s: Vec<Stmt>) -> Result<Vec<usize>>;
}

/// `SELECT COUNT(*) AS n …` and the like: one number.
#[derive(serde::Deserialize)]
pub(crate) struct Count {
    pub n: f64,
}

impl Count {
    pub fn of(c: Option<Count>) -> usize {
        c.map(|c| c.n.max(0.0) as usize).unwrap_or(0)
    }
}
