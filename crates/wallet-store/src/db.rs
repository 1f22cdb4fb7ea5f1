//! The store's one query interface over its two drivers: sqlx on PostgreSQL, rusqlite on SQLite.
//!
//! Why two: sqlx runs each SQLite connection on a thread of its own, and every statement is a
//! hand-off to that thread and back. SQLite is a library, and a statement on a hot page costs a few
//! microseconds — less than the two thread wake-ups around it (docs/decisions.md, "SQLite store").
//! So on SQLite the store calls the library directly, on the calling task's thread; only the calls
//! that may wait (`BEGIN IMMEDIATE`, `COMMIT`'s fsync) go to tokio's blocking pool (`writer.rs`).
//! PostgreSQL is a server: sqlx's async driver is the right tool there.
//!
//! Both run the same SQL text, with `$N` parameters, so each statement of the store is written
//! once. Its parameters are given at once, as a tuple ([`Params`]): a typed method of [`Tx`] is
//! one call of the statement and its parameters, named for what it answers —
//! `self.optional(db::select("FROM wallets WHERE id = $1"), (id,))`, `self.exec(sql, (a, b))`
//! (the [`Tx`] methods below: `exec`, `changed`, `one`, `optional`, `all`, and `one_scalar`,
//! `optional_scalar`, `all_scalars` for a first column). A statement kept to run later (at
//! commit, `batch.rs`) is a [`query_with`], run on a [`Conn`] as sqlx's are.
//! A row type of the store is read by its one decoder ([`Decode`], `db/row.rs`); SQLite's runner
//! is `db/sqlite.rs`, PostgreSQL's lazily begun write transaction `db/lazy.rs`, and each driver's
//! errors become a [`StoreError`] in `error.rs`.

mod lazy;
mod row;
mod sqlite;
mod value;

pub(crate) use lazy::LazyTx;
pub(crate) use row::{
    Cols, Column, Decode, FromRow, Get, Row, aliased, debug_but_secrets, parse, read_with,
    row_and_new, row_type,
};
pub(crate) use value::{Params, Value};

use crate::{Result, StoreError, Tx};
use sqlx::{Any, AnyConnection, AssertSqlSafe, Executor};
use std::borrow::Cow;
use std::marker::PhantomData;

/// How PostgreSQL is sent the statements that have parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Statements {
    /// Prepared under a name once per connection and kept there (sqlx's statement cache): the
    /// default, one round trip per statement once prepared.
    Cached,
    /// Behind a pooler in transaction mode (`?pgbouncer=true`, PgBouncer before 1.21): unnamed,
    /// parsed each time, and only inside a transaction. A named statement lives on one server
    /// connection, which the next transaction may not get; and sqlx parses a statement and runs
    /// it in two exchanges, which outside a transaction the pooler may send to two servers.
    Unnamed,
}

/// The connection a statement runs on.
pub(crate) enum Conn<'c> {
    Any(&'c mut AnyConnection, Statements),
    /// PostgreSQL: a write transaction that begins with its first statement ([`LazyTx`]).
    Lazy(&'c mut LazyTx),
    Lite(&'c mut rusqlite::Connection),
}

/// A connection a statement can run on now: a [`LazyTx`] has begun.
enum Ready<'c> {
    Any(&'c mut AnyConnection, Statements),
    Lite(&'c mut rusqlite::Connection),
}

impl<'c> Conn<'c> {
    async fn ready(self) -> Result<Ready<'c>> {
        Ok(match self {
            Conn::Any(c, s) => Ready::Any(c, s),
            Conn::Lazy(l) => {
                let statements = l.statements();
                Ready::Any(l.connection().await?, statements)
            }
            Conn::Lite(c) => Ready::Lite(c),
        })
    }
}

impl Conn<'_> {
    /// Runs SQL text as given, possibly several statements, with no parameters (migrations,
    /// session statements). Returns the rows changed by the last one.
    pub(crate) async fn execute_batch(self, sql: &str) -> Result<u64> {
        match self.ready().await? {
            Ready::Any(c, _) => Ok(c
                .execute(sqlx::raw_sql(AssertSqlSafe(sql.to_string())))
                .await
                .map_err(StoreError::from_sqlx)?
                .rows_affected()),
            Ready::Lite(c) => {
                c.execute_batch(sql).map_err(StoreError::from_sqlite)?;
                Ok(c.changes())
            }
        }
    }
}

/// SQL text: a literal, or one built at run time from literals (never from input: input is bound).
pub(crate) struct Sql(Cow<'static, str>);

impl From<&'static str> for Sql {
    fn from(s: &'static str) -> Sql {
        Sql(Cow::Borrowed(s))
    }
}

impl From<AssertSqlSafe<String>> for Sql {
    fn from(s: AssertSqlSafe<String>) -> Sql {
        Sql(Cow::Owned(s.0))
    }
}

/// A statement and its parameters.
pub(crate) struct Query {
    sql: Sql,
    args: Vec<Value>,
}

/// A statement and its parameters (as sqlx's `query_with`).
pub(crate) fn query_with(sql: impl Into<Sql>, params: impl Params) -> Query {
    Query {
        sql: sql.into(),
        args: params.into_values(),
    }
}

/// A statement whose rows decode into tuples or row types (as sqlx's `query_as`); its parameters
/// are given with [`QueryAs::with`], or by the [`Tx`] method that runs it.
pub(crate) fn query_as<O: FromRow>(sql: impl Into<Sql>) -> QueryAs<O> {
    QueryAs {
        query: query_with(sql, ()),
        row: PhantomData,
    }
}

/// `SELECT` of the columns of `T` (its [`Decode::COLUMNS`]), then `rest` (`FROM …`).
pub(crate) fn select<T: Decode>(rest: impl std::fmt::Display) -> QueryAs<T> {
    query_as(AssertSqlSafe(format!("SELECT {} {rest}", T::COLUMNS)))
}

/// `write` (an `INSERT` or `UPDATE`) answering the rows it wrote as `T`s: `RETURNING` the
/// columns of `T`.
pub(crate) fn returning<T: Decode>(write: impl std::fmt::Display) -> QueryAs<T> {
    query_as(AssertSqlSafe(format!("{write} RETURNING {}", T::COLUMNS)))
}

/// How many rows a statement's caller wants.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    None,
    One,
    All,
}

impl Query {
    /// Runs the statement; answers the rows it changed.
    pub(crate) async fn execute(self, conn: Conn<'_>) -> Result<u64> {
        match conn.ready().await? {
            Ready::Any(c, statements) => Ok(self
                .into_sqlx(statements)
                .execute(&mut *c)
                .await
                .map_err(StoreError::from_sqlx)?
                .rows_affected()),
            Ready::Lite(c) => Ok(sqlite::run(c, &self.sql.0, &self.args, Want::None)?.1),
        }
    }

    pub(crate) async fn fetch_optional(self, conn: Conn<'_>) -> Result<Option<Row>> {
        match conn.ready().await? {
            Ready::Any(c, statements) => Ok(self
                .into_sqlx(statements)
                .fetch_optional(&mut *c)
                .await
                .map_err(StoreError::from_sqlx)?
                .map(Row::Any)),
            Ready::Lite(c) => {
                let (rows, _) = sqlite::run(c, &self.sql.0, &self.args, Want::One)?;
                Ok(rows.into_iter().next())
            }
        }
    }

    /// The first row; [`crate::ErrorKind::NotFound`] if there is none.
    pub(crate) async fn fetch_one(self, conn: Conn<'_>) -> Result<Row> {
        self.fetch_optional(conn).await?.ok_or_else(|| {
            StoreError::db(crate::ErrorKind::NotFound, "the statement answered no row")
        })
    }

    pub(crate) async fn fetch_all(self, conn: Conn<'_>) -> Result<Vec<Row>> {
        match conn.ready().await? {
            Ready::Any(c, statements) => Ok(self
                .into_sqlx(statements)
                .fetch_all(&mut *c)
                .await
                .map_err(StoreError::from_sqlx)?
                .into_iter()
                .map(Row::Any)
                .collect()),
            Ready::Lite(c) => Ok(sqlite::run(c, &self.sql.0, &self.args, Want::All)?.0),
        }
    }

    /// The SQL text and the bound parameters (to combine statements, `batch.rs`).
    pub(crate) fn into_parts(self) -> (String, Vec<Value>) {
        (self.sql.0.into_owned(), self.args)
    }

    fn into_sqlx(
        self,
        statements: Statements,
    ) -> sqlx::query::Query<'static, Any, sqlx::any::AnyArguments> {
        let mut q = match self.sql.0 {
            Cow::Borrowed(s) => sqlx::query(s),
            Cow::Owned(s) => sqlx::query(AssertSqlSafe(s)),
        };
        if statements == Statements::Unnamed {
            q = q.persistent(false);
        }
        for v in self.args {
            q = match v {
                Value::I64(v) => q.bind(v),
                Value::F64(v) => q.bind(v),
                Value::Text(v) => q.bind(v),
            };
        }
        q
    }
}

/// [`query_as`]: a [`Query`] whose rows decode into `O`.
pub(crate) struct QueryAs<O> {
    query: Query,
    row: PhantomData<fn() -> O>,
}

/// SQL text as a [`query_as`], for the [`Tx`] methods that take either.
impl<O: FromRow> From<&'static str> for QueryAs<O> {
    fn from(sql: &'static str) -> QueryAs<O> {
        query_as(sql)
    }
}

impl<O: FromRow> From<AssertSqlSafe<String>> for QueryAs<O> {
    fn from(sql: AssertSqlSafe<String>) -> QueryAs<O> {
        query_as(sql)
    }
}

impl<O: FromRow> QueryAs<O> {
    /// The statement with its parameters.
    pub(crate) fn with(mut self, params: impl Params) -> Self {
        self.query.args = params.into_values();
        self
    }

    pub(crate) async fn fetch_optional(self, conn: Conn<'_>) -> Result<Option<O>> {
        match self.query.fetch_optional(conn).await? {
            Some(row) => Ok(Some(O::from_row(&row)?)),
            None => Ok(None),
        }
    }

    pub(crate) async fn fetch_one(self, conn: Conn<'_>) -> Result<O> {
        O::from_row(&self.query.fetch_one(conn).await?)
    }

    pub(crate) async fn fetch_all(self, conn: Conn<'_>) -> Result<Vec<O>> {
        let rows = self.query.fetch_all(conn).await?;
        rows.iter().map(O::from_row).collect()
    }
}

// The statements of the typed methods, run in the transaction: SQL (or a `QueryAs`) and its
// `Params` in one call, what each answers in the method's name. A method of the store is then its
// statement and parameters, one expression.
impl Tx {
    /// Runs a statement that answers nothing (an `INSERT`, `UPDATE` or `DELETE`).
    pub(crate) async fn exec(&mut self, sql: impl Into<Sql>, params: impl Params) -> Result<()> {
        self.changed(sql, params).await?;
        Ok(())
    }

    /// Runs a statement; answers the rows it changed.
    pub(crate) async fn changed(
        &mut self,
        sql: impl Into<Sql>,
        params: impl Params,
    ) -> Result<u64> {
        self.run(query_with(sql, params)).await
    }

    /// Runs a statement built beforehand ([`query_with`]); answers the rows it changed.
    pub(crate) async fn run(&mut self, q: Query) -> Result<u64> {
        q.execute(self.conn()).await
    }

    /// The first row, if any, as an `O` (a tuple of columns, or a row type).
    pub(crate) async fn optional<O: FromRow>(
        &mut self,
        q: impl Into<QueryAs<O>>,
        params: impl Params,
    ) -> Result<Option<O>> {
        q.into().with(params).fetch_optional(self.conn()).await
    }

    /// The first row as an `O`; [`crate::ErrorKind::NotFound`] if there is none.
    pub(crate) async fn one<O: FromRow>(
        &mut self,
        q: impl Into<QueryAs<O>>,
        params: impl Params,
    ) -> Result<O> {
        q.into().with(params).fetch_one(self.conn()).await
    }

    /// Every row, as `O`s.
    pub(crate) async fn all<O: FromRow>(
        &mut self,
        q: impl Into<QueryAs<O>>,
        params: impl Params,
    ) -> Result<Vec<O>> {
        q.into().with(params).fetch_all(self.conn()).await
    }

    /// The first column of the first row, if any (as sqlx's `query_scalar`).
    pub(crate) async fn optional_scalar<T: Get>(
        &mut self,
        sql: impl Into<Sql>,
        params: impl Params,
    ) -> Result<Option<T>> {
        Ok(self
            .optional::<(T,)>(query_as(sql), params)
            .await?
            .map(|(v,)| v))
    }

    /// The first column of the first row; [`crate::ErrorKind::NotFound`] if there is none.
    pub(crate) async fn one_scalar<T: Get>(
        &mut self,
        sql: impl Into<Sql>,
        params: impl Params,
    ) -> Result<T> {
        Ok(self.one::<(T,)>(query_as(sql), params).await?.0)
    }

    /// The first column of every row.
    pub(crate) async fn all_scalars<T: Get>(
        &mut self,
        sql: impl Into<Sql>,
        params: impl Params,
    ) -> Result<Vec<T>> {
        let rows = self.all::<(T,)>(query_as(sql), params).await?;
        // Collected in place: `(T,)` is laid out as `T`.
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> rusqlite::Connection {
        rusqlite::Connection::open_in_memory().expect("in-memory SQLite")
    }

    #[tokio::test]
    async fn parameters_bind_by_their_number_in_any_order_and_repeated() {
        let mut c = memory();
        let row: (i64, String, i64, Option<String>) = query_as("SELECT $2, $1, $2 + 1, $3")
            .with(("one", 7i64, None::<String>))
            .fetch_one(Conn::Lite(&mut c))
            .await
            .expect("query");
        assert_eq!(row, (7, "one".to_string(), 8, None));
    }

    #[tokio::test]
    async fn rows_keep_the_column_names_of_their_own_statement() {
        let mut c = memory();
        // More statements than a thread keeps the names of, each run twice: the second run takes
        // them from what is kept (or, past the bound, anew), and never another statement's.
        for round in 0..2i64 {
            for i in 0..sqlite::COLUMN_NAMES_KEPT + 5 {
                let sql = format!("SELECT $1 AS c{i}, $2 AS r");
                let row = query_with(AssertSqlSafe(sql), (i as i64, round))
                    .fetch_one(Conn::Lite(&mut c))
                    .await
                    .expect("select");
                let value: i64 = row.try_get(format!("c{i}").as_str()).expect("its column");
                assert_eq!(value, i as i64);
                assert_eq!(row.try_get::<i64, _>("r").expect("r"), round);
                assert!(row.try_get::<i64, _>("c0").is_err() || i == 0);
            }
        }
    }

    #[tokio::test]
    async fn rows_decode_by_name_and_report_what_they_changed() {
        let mut c = memory();
        Conn::Lite(&mut c)
            .execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
            .await
            .expect("create");
        for name in ["a", "b"] {
            query_with("INSERT INTO t (name) VALUES ($1)", (name,))
                .execute(Conn::Lite(&mut c))
                .await
                .expect("insert");
        }
        let again = query_with("INSERT INTO t (name) VALUES ($1)", ("a",))
            .execute(Conn::Lite(&mut c))
            .await
            .expect_err("a duplicate is refused");
        assert_eq!(again.kind(), Some(crate::ErrorKind::Conflict), "{again:?}");
        let changed = query_with("UPDATE t SET name = name || '!'", ())
            .execute(Conn::Lite(&mut c))
            .await
            .expect("update");
        assert_eq!(changed, 2);
        let rows = query_with("SELECT id, name FROM t ORDER BY id", ())
            .fetch_all(Conn::Lite(&mut c))
            .await
            .expect("select");
        let names: Vec<String> = rows.iter().map(|r| r.try_get("name").unwrap()).collect();
        assert_eq!(names, ["a!", "b!"]);
        let undecoded = rows[0].try_get::<String, _>("id").expect_err("not text");
        assert!(undecoded.to_string().contains("is not a"), "{undecoded}");
        let missing = rows[0].try_get::<i64, _>("missing").expect_err("no such");
        assert!(missing.to_string().contains("no column"), "{missing}");
        let none: Option<(i64,)> = query_as("SELECT id FROM t WHERE name = $1")
            .with(("zzz",))
            .fetch_optional(Conn::Lite(&mut c))
            .await
            .expect("select");
        assert_eq!(none, None);
    }
}
