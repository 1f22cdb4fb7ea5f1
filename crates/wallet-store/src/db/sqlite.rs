//! SQLite's runner: one statement on the calling thread, its rows copied out.

use super::row::{LiteRow, Row};
use super::{Value, Want};
use crate::{ErrorKind, Result, StoreError};
use rusqlite::types::Value as Lite;
use std::sync::Arc;

/// Runs one statement on SQLite (a cached prepared statement), binding `$N` to `args[N - 1]`;
/// answers its rows (as `want`s) and the rows it changed.
pub(super) fn run(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Value],
    want: Want,
) -> Result<(Vec<Row>, u64)> {
    let mut stmt = conn.prepare_cached(sql).map_err(StoreError::from_sqlite)?;
    for i in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(i) {
            Some(name) => name
                .trim_start_matches(['$', '?'])
                .parse::<usize>()
                .map_err(|_| misuse(format!("parameter {name} of {sql:?} is not $N")))?,
            None => i,
        };
        let value = n
            .checked_sub(1)
            .and_then(|i| args.get(i))
            .ok_or_else(|| misuse(format!("parameter ${n} of {sql:?} is not bound")))?;
        let bound = match value {
            Value::I64(v) => stmt.raw_bind_parameter(i, v),
            Value::F64(v) => stmt.raw_bind_parameter(i, v),
            Value::Text(v) => stmt.raw_bind_parameter(i, v),
        };
        bound.map_err(StoreError::from_sqlite)?;
    }
    let width = stmt.column_count();
    let mut names = None;
    let mut out = Vec::new();
    {
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(StoreError::from_sqlite)? {
            if want == Want::None {
                continue;
            }
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(owned(row.get_ref(i).map_err(StoreError::from_sqlite)?)?);
            }
            let names = names
                .get_or_insert_with(|| column_names(row.as_ref(), sql))
                .clone();
            out.push(Row::Lite(LiteRow {
                names,
                values,
                next: Default::default(),
            }));
            if want == Want::One {
                // A `RETURNING` statement made all its changes at its first step.
                break;
            }
        }
    }
    Ok((out, conn.changes()))
}

/// The most statements whose column names a thread keeps (the store's SQL is a few hundred texts;
/// searches make more, which this bounds).
pub(super) const COLUMN_NAMES_KEPT: usize = 1024;

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

fn owned(v: rusqlite::types::ValueRef<'_>) -> Result<Lite> {
    use rusqlite::types::ValueRef;
    Ok(match v {
        ValueRef::Null => Lite::Null,
        ValueRef::Integer(i) => Lite::Integer(i),
        ValueRef::Real(f) => Lite::Real(f),
        ValueRef::Text(t) => Lite::Text(
            std::str::from_utf8(t)
                .map_err(|e| StoreError::db(ErrorKind::Other, e))?
                .to_string(),
        ),
        ValueRef::Blob(b) => Lite::Blob(b.to_vec()),
    })
}

/// A statement the store got wrong (its SQL and its parameters disagree).
fn misuse(what: String) -> StoreError {
    StoreError::db(ErrorKind::Other, what)
}
