//! The store's one query interface over its two drivers: sqlx on PostgreSQL, rusqlite on SQLite.
//!
//! Why two: sqlx runs each SQLite connection on a thread of its own, and every statement is a
//! hand-off to that thread and back. SQLite is a library, and a statement on a hot page costs a few
//! microseconds — less than the two thread wake-ups around it (bench/README.md, "Inline SQLite").
//! So on SQLite the store calls the library directly, on the calling task's thread; only the calls
//! that may wait (`BEGIN IMMEDIATE`, `COMMIT`'s fsync) go to tokio's blocking pool (`writer.rs`).
//! PostgreSQL is a server: sqlx's async driver is the right tool there.
//!
//! Both run the same SQL text, with `$N` parameters, through the same calls as sqlx's
//! (`query(sql).bind(v).fetch_one(tx.conn())`), so each statement of the store is written once.

use sqlx::any::AnyRow;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Executor};
use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

/// The connection a statement runs on.
pub(crate) enum Conn<'c> {
    Any(&'c mut AnyConnection),
    /// PostgreSQL: a write transaction that begins with its first statement ([`LazyTx`]).
    Lazy(&'c mut LazyTx),
    Lite(&'c mut rusqlite::Connection),
}

/// A connection a statement can run on now: a [`LazyTx`] has begun.
enum Ready<'c> {
    Any(&'c mut AnyConnection),
    Lite(&'c mut rusqlite::Connection),
}

impl<'c> Conn<'c> {
    async fn ready(self) -> Result<Ready<'c>, sqlx::Error> {
        Ok(match self {
            Conn::Any(c) => Ready::Any(c),
            Conn::Lazy(l) => Ready::Any(l.connection().await?),
            Conn::Lite(c) => Ready::Lite(c),
        })
    }
}

/// PostgreSQL: a write transaction's pooled connection, whose `BEGIN` is sent with its first
/// statement, not before.
///
/// Why: a transaction whose only statement is the one it makes at commit (creating a transaction
/// and its payments, `batch.rs`) then runs as that statement [`alone`](LazyTx::run_alone), outside
/// a transaction: one round trip instead of three (`BEGIN`, the statement, `COMMIT`). A statement
/// of PostgreSQL is atomic on its own: it is written whole or not at all.
pub(crate) struct LazyTx {
    /// The connection until the transaction begins.
    conn: Option<PoolConnection<Any>>,
    tx: Option<sqlx::Transaction<'static, Any>>,
    /// The next statement runs alone, outside a transaction.
    alone: bool,
    /// A statement ran alone: no other may run, it would not be atomic with it.
    ran_alone: bool,
}

impl LazyTx {
    pub(crate) fn new(conn: PoolConnection<Any>) -> LazyTx {
        LazyTx {
            conn: Some(conn),
            tx: None,
            alone: false,
            ran_alone: false,
        }
    }

    /// True once `BEGIN` was sent.
    pub(crate) fn begun(&self) -> bool {
        self.tx.is_some()
    }

    /// Makes the next statement run alone, outside a transaction; only if none ran yet.
    pub(crate) fn run_alone(&mut self) {
        debug_assert!(!self.begun() && !self.ran_alone);
        self.alone = !self.begun() && !self.ran_alone;
    }

    /// The connection, in the transaction unless the statement runs alone: begins it first.
    async fn connection(&mut self) -> Result<&mut AnyConnection, sqlx::Error> {
        if self.tx.is_none() {
            if self.ran_alone {
                return Err(sqlx::Error::Protocol(
                    "a statement after the one run alone would not be atomic with it".into(),
                ));
            }
            if std::mem::take(&mut self.alone) {
                self.ran_alone = true;
                return self.conn.as_deref_mut().ok_or(sqlx::Error::PoolClosed);
            }
            let conn = self.conn.take().ok_or(sqlx::Error::PoolClosed)?;
            self.tx = Some(sqlx::Transaction::begin(conn, None).await?);
        }
        match &mut self.tx {
            Some(tx) => Ok(&mut **tx),
            None => Err(sqlx::Error::PoolClosed),
        }
    }

    /// The connection for a statement that need not be in the transaction (drawing ids from a
    /// sequence): outside it until it has begun. `BEGIN` is not sent for it.
    pub(crate) fn outside(&mut self) -> Conn<'_> {
        if self.tx.is_none() && self.conn.is_some() {
            return Conn::Any(self.conn.as_deref_mut().expect("checked just above"));
        }
        Conn::Lazy(self)
    }

    /// Commits what began; a statement that ran alone is committed already.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self.tx {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        }
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.tx {
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        }
    }
}

impl Conn<'_> {
    /// Runs SQL text as given, possibly several statements, with no parameters (migrations,
    /// session statements). Returns the rows changed by the last one.
    pub(crate) async fn execute_batch(self, sql: &str) -> Result<u64, sqlx::Error> {
        match self.ready().await? {
            Ready::Any(c) => Ok(c
                .execute(sqlx::raw_sql(AssertSqlSafe(sql.to_string())))
                .await?
                .rows_affected()),
            Ready::Lite(c) => {
                c.execute_batch(sql).map_err(lite_error)?;
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

/// A bound parameter. Typed even when NULL: PostgreSQL needs the type of every parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    I64(Option<i64>),
    F64(Option<f64>),
    Text(Option<String>),
}

macro_rules! value_from {
    ($variant:ident: $($t:ty => $conv:expr),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                #[allow(clippy::redundant_closure_call)]
                Value::$variant(($conv)(v))
            }
        }
    )*};
}

value_from!(I64:
    i64 => Some,
    i32 => |v| Some(i64::from(v)),
    &i64 => |v: &i64| Some(*v),
    Option<i64> => |v| v,
    &Option<i64> => |v: &Option<i64>| *v,
);
value_from!(F64: f64 => Some, Option<f64> => |v| v);
value_from!(Text:
    &str => |v: &str| Some(v.to_string()),
    String => Some,
    &String => |v: &String| Some(v.clone()),
    Option<&str> => |v: Option<&str>| v.map(str::to_string),
    Option<String> => |v| v,
    Option<&String> => |v: Option<&String>| v.cloned(),
    &Option<String> => |v: &Option<String>| v.clone(),
);

/// One row of a result: sqlx's own on PostgreSQL, copied out of SQLite on SQLite.
pub(crate) enum Row {
    Any(AnyRow),
    Lite(LiteRow),
}

/// A row read from SQLite: its column names (shared by the rows of one result) and values.
pub(crate) struct LiteRow {
    names: Arc<[String]>,
    values: Vec<rusqlite::types::Value>,
}

/// A column, by name or position.
pub(crate) trait Col: Copy + std::fmt::Display + sqlx::ColumnIndex<AnyRow> {
    fn position(self, names: &[String]) -> Option<usize>;
}

impl Col for &str {
    fn position(self, names: &[String]) -> Option<usize> {
        names.iter().position(|n| n == self)
    }
}

impl Col for usize {
    fn position(self, names: &[String]) -> Option<usize> {
        (self < names.len()).then_some(self)
    }
}

impl Row {
    /// The value of column `col` as a `T`.
    pub(crate) fn try_get<T: Get, C: Col>(&self, col: C) -> Result<T, sqlx::Error> {
        match self {
            Row::Any(r) => sqlx::Row::try_get(r, col),
            Row::Lite(r) => {
                let i = col
                    .position(&r.names)
                    .ok_or_else(|| sqlx::Error::ColumnNotFound(col.to_string()))?;
                T::from_lite(&r.values[i]).ok_or_else(|| sqlx::Error::ColumnDecode {
                    index: col.to_string(),
                    source: format!(
                        "SQLite value {:?} is not a {}",
                        r.values[i],
                        std::any::type_name::<T>()
                    )
                    .into(),
                })
            }
        }
    }
}

/// A Rust type a column decodes into, on both drivers.
pub(crate) trait Get: Sized + for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> {
    fn from_lite(v: &rusqlite::types::Value) -> Option<Self>;
}

use rusqlite::types::Value as Lite;

impl Get for i64 {
    fn from_lite(v: &Lite) -> Option<i64> {
        match v {
            Lite::Integer(i) => Some(*i),
            _ => None,
        }
    }
}

impl Get for i32 {
    fn from_lite(v: &Lite) -> Option<i32> {
        match v {
            Lite::Integer(i) => i32::try_from(*i).ok(),
            _ => None,
        }
    }
}

impl Get for bool {
    fn from_lite(v: &Lite) -> Option<bool> {
        match v {
            Lite::Integer(i) => Some(*i != 0),
            _ => None,
        }
    }
}

impl Get for f64 {
    fn from_lite(v: &Lite) -> Option<f64> {
        match v {
            Lite::Real(f) => Some(*f),
            Lite::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl Get for String {
    fn from_lite(v: &Lite) -> Option<String> {
        match v {
            Lite::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<T: Get> Get for Option<T> {
    fn from_lite(v: &Lite) -> Option<Option<T>> {
        match v {
            Lite::Null => Some(None),
            v => T::from_lite(v).map(Some),
        }
    }
}

/// A row decoded as a tuple of columns, by position (`query_as`).
pub(crate) trait FromRow: Sized {
    fn from_row(row: &Row) -> Result<Self, sqlx::Error>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Get),+> FromRow for ($($t,)+) {
            fn from_row(row: &Row) -> Result<Self, sqlx::Error> {
                Ok(($(row.try_get::<$t, usize>($i)?,)+))
            }
        }
    };
}

tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// What a statement changed.
pub(crate) struct Done {
    rows_affected: u64,
}

impl Done {
    pub(crate) fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// A statement and its parameters.
pub(crate) struct Query {
    sql: Sql,
    args: Vec<Value>,
}

/// A statement (as sqlx's `query`).
pub(crate) fn query(sql: impl Into<Sql>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// A statement whose rows decode into tuples (as sqlx's `query_as`).
pub(crate) fn query_as<O: FromRow>(sql: impl Into<Sql>) -> QueryAs<O> {
    QueryAs {
        query: query(sql),
        row: PhantomData,
    }
}

/// A statement whose first column is the answer (as sqlx's `query_scalar`).
pub(crate) fn query_scalar<T: Get>(sql: impl Into<Sql>) -> QueryScalar<T> {
    QueryScalar {
        query: query(sql),
        value: PhantomData,
    }
}

/// How many rows a statement's caller wants.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    None,
    One,
    All,
}

impl Query {
    /// Binds the next parameter (`$1`, `$2`, … in order).
    pub(crate) fn bind(mut self, v: impl Into<Value>) -> Query {
        self.args.push(v.into());
        self
    }

    pub(crate) async fn execute(self, conn: Conn<'_>) -> Result<Done, sqlx::Error> {
        match conn.ready().await? {
            Ready::Any(c) => Ok(Done {
                rows_affected: self.into_sqlx().execute(&mut *c).await?.rows_affected(),
            }),
            Ready::Lite(c) => {
                run_lite(c, &self.sql.0, &self.args, Want::None).map(|(_, done)| done)
            }
        }
    }

    pub(crate) async fn fetch_optional(self, conn: Conn<'_>) -> Result<Option<Row>, sqlx::Error> {
        match conn.ready().await? {
            Ready::Any(c) => Ok(self
                .into_sqlx()
                .fetch_optional(&mut *c)
                .await?
                .map(Row::Any)),
            Ready::Lite(c) => {
                let (rows, _) = run_lite(c, &self.sql.0, &self.args, Want::One)?;
                Ok(rows.into_iter().next())
            }
        }
    }

    pub(crate) async fn fetch_one(self, conn: Conn<'_>) -> Result<Row, sqlx::Error> {
        self.fetch_optional(conn)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    pub(crate) async fn fetch_all(self, conn: Conn<'_>) -> Result<Vec<Row>, sqlx::Error> {
        match conn.ready().await? {
            Ready::Any(c) => Ok(self
                .into_sqlx()
                .fetch_all(&mut *c)
                .await?
                .into_iter()
                .map(Row::Any)
                .collect()),
            Ready::Lite(c) => Ok(run_lite(c, &self.sql.0, &self.args, Want::All)?.0),
        }
    }

    /// The SQL text and the bound parameters (to combine statements, `batch.rs`).
    pub(crate) fn into_parts(self) -> (String, Vec<Value>) {
        (self.sql.0.into_owned(), self.args)
    }

    fn into_sqlx(self) -> sqlx::query::Query<'static, Any, sqlx::any::AnyArguments> {
        let mut q = match self.sql.0 {
            Cow::Borrowed(s) => sqlx::query(s),
            Cow::Owned(s) => sqlx::query(AssertSqlSafe(s)),
        };
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

/// What binds parameters: the three kinds of statement, for code that builds any of them.
pub(crate) trait Bind: Sized {
    fn bind_value(self, v: Value) -> Self;
}

impl Bind for Query {
    fn bind_value(self, v: Value) -> Self {
        self.bind(v)
    }
}

impl<O: FromRow> Bind for QueryAs<O> {
    fn bind_value(self, v: Value) -> Self {
        self.bind(v)
    }
}

impl<T: Get> Bind for QueryScalar<T> {
    fn bind_value(self, v: Value) -> Self {
        self.bind(v)
    }
}

/// [`query_as`]: a [`Query`] whose rows decode into `O`.
pub(crate) struct QueryAs<O> {
    query: Query,
    row: PhantomData<fn() -> O>,
}

impl<O: FromRow> QueryAs<O> {
    pub(crate) fn bind(mut self, v: impl Into<Value>) -> Self {
        self.query = self.query.bind(v);
        self
    }

    pub(crate) async fn fetch_optional(self, conn: Conn<'_>) -> Result<Option<O>, sqlx::Error> {
        match self.query.fetch_optional(conn).await? {
            Some(row) => Ok(Some(O::from_row(&row)?)),
            None => Ok(None),
        }
    }

    pub(crate) async fn fetch_one(self, conn: Conn<'_>) -> Result<O, sqlx::Error> {
        O::from_row(&self.query.fetch_one(conn).await?)
    }

    pub(crate) async fn fetch_all(self, conn: Conn<'_>) -> Result<Vec<O>, sqlx::Error> {
        self.query
            .fetch_all(conn)
            .await?
            .iter()
            .map(O::from_row)
            .collect()
    }
}

/// [`query_scalar`]: a [`Query`] whose answer is its first column.
pub(crate) struct QueryScalar<T> {
    query: Query,
    value: PhantomData<fn() -> T>,
}

impl<T: Get> QueryScalar<T> {
    pub(crate) fn bind(mut self, v: impl Into<Value>) -> Self {
        self.query = self.query.bind(v);
        self
    }

    pub(crate) async fn fetch_optional(self, conn: Conn<'_>) -> Result<Option<T>, sqlx::Error> {
        match self.query.fetch_optional(conn).await? {
            Some(row) => Ok(Some(row.try_get(0usize)?)),
            None => Ok(None),
        }
    }

    pub(crate) async fn fetch_one(self, conn: Conn<'_>) -> Result<T, sqlx::Error> {
        self.query.fetch_one(conn).await?.try_get(0usize)
    }

    pub(crate) async fn fetch_all(self, conn: Conn<'_>) -> Result<Vec<T>, sqlx::Error> {
        self.query
            .fetch_all(conn)
            .await?
            .iter()
            .map(|r| r.try_get(0usize))
            .collect()
    }
}

/// Runs one statement on SQLite (a cached prepared statement), binding `$N` to `args[N - 1]`.
fn run_lite(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Value],
    want: Want,
) -> Result<(Vec<Row>, Done), sqlx::Error> {
    let mut stmt = conn.prepare_cached(sql).map_err(lite_error)?;
    for i in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(i) {
            Some(name) => name
                .trim_start_matches(['$', '?'])
                .parse::<usize>()
                .map_err(|_| {
                    sqlx::Error::Protocol(format!("parameter {name} of {sql:?} is not $N"))
                })?,
            None => i,
        };
        let value = args.get(n - 1).ok_or_else(|| {
            sqlx::Error::Protocol(format!("parameter ${n} of {sql:?} is not bound"))
        })?;
        let bound = match value {
            Value::I64(v) => stmt.raw_bind_parameter(i, v),
            Value::F64(v) => stmt.raw_bind_parameter(i, v),
            Value::Text(v) => stmt.raw_bind_parameter(i, v),
        };
        bound.map_err(lite_error)?;
    }
    let width = stmt.column_count();
    let mut names = None;
    let mut out = Vec::new();
    {
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(lite_error)? {
            if want == Want::None {
                continue;
            }
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(owned(row.get_ref(i).map_err(lite_error)?)?);
            }
            let names = names
                .get_or_insert_with(|| column_names(row.as_ref(), sql))
                .clone();
            out.push(Row::Lite(LiteRow { names, values }));
            if want == Want::One {
                // A `RETURNING` statement made all its changes at its first step.
                break;
            }
        }
    }
    let rows_affected = conn.changes();
    Ok((out, Done { rows_affected }))
}

/// The most statements whose column names a thread keeps (the store's SQL is a few hundred texts;
/// searches make more, which this bounds).
const COLUMN_NAMES_KEPT: usize = 1024;

thread_local! {
    /// Column names by SQL text, so that a statement's rows do not allocate them anew at every
    /// execution (2.7 % of the server's CPU, `perf`, bench/README.md). The text decides the names:
    /// the store never selects `*`. Kept per thread, as SQLite runs on the calling thread.
    static COLUMN_NAMES: std::cell::RefCell<
        std::collections::HashMap<Box<str>, Arc<[String]>, foldhash::fast::RandomState>,
    > = std::cell::RefCell::default();
}

/// The column names of `stmt`, whose text is `sql`.
fn column_names(stmt: &rusqlite::Statement<'_>, sql: &str) -> Arc<[String]> {
    COLUMN_NAMES.with_borrow_mut(|kept| {
        if let Some(names) = kept.get(sql).filter(|n| n.len() == stmt.column_count()) {
            return names.clone();
        }
        let names: Arc<[String]> = stmt.column_names().iter().map(|n| n.to_string()).collect();
        if kept.len() >= COLUMN_NAMES_KEPT {
            kept.clear();
        }
        kept.insert(sql.into(), names.clone());
        names
    })
}

fn owned(v: rusqlite::types::ValueRef<'_>) -> Result<Lite, sqlx::Error> {
    use rusqlite::types::ValueRef;
    Ok(match v {
        ValueRef::Null => Lite::Null,
        ValueRef::Integer(i) => Lite::Integer(i),
        ValueRef::Real(f) => Lite::Real(f),
        ValueRef::Text(t) => Lite::Text(
            std::str::from_utf8(t)
                .map_err(|e| sqlx::Error::Decode(e.into()))?
                .to_string(),
        ),
        ValueRef::Blob(b) => Lite::Blob(b.to_vec()),
    })
}

/// A SQLite error as sqlx reports database errors, so that callers handle both drivers alike
/// (a unique violation is [`sqlx::error::ErrorKind::UniqueViolation`] on both).
pub(crate) fn lite_error(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            sqlx::Error::Database(Box::new(LiteError { code, message }))
        }
        other => sqlx::Error::Protocol(format!("SQLite: {other}")),
    }
}

#[derive(Debug)]
struct LiteError {
    code: rusqlite::ffi::Error,
    message: Option<String>,
}

impl std::fmt::Display for LiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(m) => write!(f, "{m} ({})", self.code),
            None => write!(f, "{}", self.code),
        }
    }
}

impl std::error::Error for LiteError {}

impl sqlx::error::DatabaseError for LiteError {
    fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("SQLite error")
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.extended_code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match self.code.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
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
            .bind("one")
            .bind(7i64)
            .bind(None::<String>)
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
            for i in 0..COLUMN_NAMES_KEPT + 5 {
                let sql = format!("SELECT $1 AS c{i}, $2 AS r");
                let row = query(AssertSqlSafe(sql))
                    .bind(i as i64)
                    .bind(round)
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
            query("INSERT INTO t (name) VALUES ($1)")
                .bind(name)
                .execute(Conn::Lite(&mut c))
                .await
                .expect("insert");
        }
        let again = query("INSERT INTO t (name) VALUES ($1)")
            .bind("a")
            .execute(Conn::Lite(&mut c))
            .await
            .err()
            .expect("a duplicate is refused");
        assert!(
            matches!(&again, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation),
            "{again:?}"
        );
        let done = query("UPDATE t SET name = name || '!'")
            .execute(Conn::Lite(&mut c))
            .await
            .expect("update");
        assert_eq!(done.rows_affected(), 2);
        let rows = query("SELECT id, name FROM t ORDER BY id")
            .fetch_all(Conn::Lite(&mut c))
            .await
            .expect("select");
        let names: Vec<String> = rows.iter().map(|r| r.try_get("name").unwrap()).collect();
        assert_eq!(names, ["a!", "b!"]);
        assert!(matches!(
            rows[0].try_get::<String, _>("id"),
            Err(sqlx::Error::ColumnDecode { .. })
        ));
        assert!(matches!(
            rows[0].try_get::<i64, _>("missing"),
            Err(sqlx::Error::ColumnNotFound(_))
        ));
        let none: Option<i64> = query_scalar("SELECT id FROM t WHERE name = $1")
            .bind("zzz")
            .fetch_optional(Conn::Lite(&mut c))
            .await
            .expect("select");
        assert_eq!(none, None);
    }
}
