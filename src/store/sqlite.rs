//! The store's native test database: an in-memory SQLite (the same engine D1 runs) with every
//! migration of `migrations/` applied, implementing [`Db`] so that each store function is
//! tested with exactly the SQL the worker deploys. Compiled for native tests only.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{params_from_iter, Connection};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::db::{Db, Error, Param, Result, Stmt};

/// An in-memory database at the latest migration.
pub struct Sqlite {
    conn: RefCell<Connection>,
}

impl Sqlite {
    pub fn migrated() -> Sqlite {
        let conn = Connection::open_in_memory().expect("in-memory SQLite");
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("migrations/")
            .map(|e| e.expect("migration entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no migrations found in {dir}");
        for f in files {
            let sql = std::fs::read_to_string(&f).expect("migration text");
            conn.execute_batch(&sql)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
        Sqlite {
            conn: RefCell::new(conn),
        }
    }

    /// Run raw SQL (test set-up only: the code under test goes through the store).
    pub fn exec(&self, sql: &str) {
        self.conn
            .borrow()
            .execute_batch(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn rows(&self, s: &Stmt) -> Result<Vec<Map<String, Value>>> {
        let conn = self.conn.borrow();
        let mut st = conn.prepare(&s.sql).map_err(|e| Error::about(&s.sql, e))?;
        let names: Vec<String> = st.column_names().iter().map(|c| c.to_string()).collect();
        let mut rows = st
            .query(params_from_iter(s.params.iter().map(to_sql)))
            .map_err(|e| Error::about(&s.sql, e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| Error::about(&s.sql, e))? {
            let mut m = Map::new();
            for (i, name) in names.iter().enumerate() {
                let v = match row.get_ref(i).map_err(|e| Error::about(&s.sql, e))? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::from(n),
                    ValueRef::Real(x) => Value::from(x),
                    ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::from(b.to_vec()),
                };
                m.insert(name.clone(), v);
            }
            out.push(m);
        }
        Ok(out)
    }

    fn execute(conn: &Connection, s: &Stmt) -> Result<usize> {
        conn.execute(&s.sql, params_from_iter(s.params.iter().map(to_sql)))
            .map_err(|e| Error::about(&s.sql, e))
    }
}

fn to_sql(p: &Param) -> Sql {
    match p {
        Param::Null => Sql::Null,
        Param::Int(n) => Sql::Integer(*n),
        Param::Real(x) => Sql::Real(*x),
        Param::Text(t) => Sql::Text(t.clone()),
    }
}

fn decode<T: DeserializeOwned>(sql: &str, m: Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(m)).map_err(|e| Error::about(sql, e))
}

impl Db for Sqlite {
    async fn first<T: DeserializeOwned>(&self, s: Stmt) -> Result<Option<T>> {
        match self.rows(&s)?.into_iter().next() {
            Some(m) => decode(&s.sql, m).map(Some),
            None => Ok(None),
        }
    }

    async fn all<T: DeserializeOwned>(&self, s: Stmt) -> Result<Vec<T>> {
        self.rows(&s)?
            .into_iter()
            .map(|m| decode(&s.sql, m))
            .collect()
    }

    async fn run(&self, s: Stmt) -> Result<usize> {
        // `RETURNING` statements change rows but are queries to rusqlite.
        if s.sql.contains("RETURNING") {
            let conn = self.conn.borrow();
            let mut st = conn.prepare(&s.sql).map_err(|e| Error::about(&s.sql, e))?;
            let mut rows = st
                .query(params_from_iter(s.params.iter().map(to_sql)))
                .map_err(|e| Error::about(&s.sql, e))?;
            let mut n = 0;
            while rows.next().map_err(|e| Error::about(&s.sql, e))?.is_some() {
                n += 1;
            }
            return Ok(n);
        }
        Self::execute(&self.conn.borrow(), &s)
    }

    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<usize>> {
        let mut conn = self.conn.borrow_mut();
        let tx = conn
            .transaction()
            .map_err(|e| Error(format!("begin: {e}")))?;
        let mut out = Vec::with_capacity(stmts.len());
        for s in &stmts {
            out.push(Self::execute(&tx, s)?); // dropped without commit: rolled back
        }
        tx.commit().map_err(|e| Error(format!("commit: {e}")))?;
        Ok(out)
    }
}

/// Run a store future to completion. Every [`Sqlite`] call is synchronous underneath, so the
/// future is ready at its first poll; a pending one is a bug in the test.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a store future waited on something other than SQLite"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_and_statements_round_trip() {
        let db = Sqlite::migrated();
        #[derive(serde::Deserialize)]
        struct V {
            value: String,
        }
        let v: Option<V> = block_on(
            db.first(Stmt::new("SELECT value FROM meta WHERE key = ?1").bind("schema_version")),
        )
        .unwrap();
        assert!(v.unwrap().value.parse::<u32>().unwrap() >= 11);
        let bad = block_on(db.run(Stmt::new("INSERT INTO nowhere VALUES (1)")));
        assert!(bad.unwrap_err().0.contains("nowhere"));
    }

    #[test]
    fn a_failed_batch_leaves_nothing_written() {
        let db = Sqlite::migrated();
        let ok =
            Stmt::new("INSERT INTO organisations (id, name, created_at) VALUES ('o1', 'A', 'x')");
        let dup =
            Stmt::new("INSERT INTO organisations (id, name, created_at) VALUES ('o2', 'A', 'x')");
        assert!(block_on(db.batch(vec![ok, dup])).is_err());
        let n: Vec<super::super::db::Count> =
            block_on(db.all(Stmt::new("SELECT COUNT(*) AS n FROM organisations"))).unwrap();
        assert_eq!(n[0].n, 0.0);
    }
}
