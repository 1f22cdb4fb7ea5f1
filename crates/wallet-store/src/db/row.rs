//! Rows of a result and their decoding: a column into a Rust value ([`Get`]), a row into a tuple
//! ([`FromRow`]), one table's columns into a row type of the store ([`Decode`]).

use crate::{ErrorKind, Result, StoreError};
use rusqlite::types::Value as Lite;
use sqlx::Any;
use sqlx::any::AnyRow;
use std::sync::Arc;

/// One row of a result: sqlx's own on PostgreSQL, copied out of SQLite on SQLite.
pub(crate) enum Row {
    Any(AnyRow),
    Lite(LiteRow),
}

/// A row read from SQLite: its column names (shared by the rows of one result) and values.
pub(crate) struct LiteRow {
    pub(super) names: Arc<[String]>,
    pub(super) values: Vec<Lite>,
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

/// A column named `{prefix}{name}`: one table's in a join that aliases them ([`aliased`]). Found
/// without building the name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prefixed<'a> {
    prefix: &'static str,
    name: &'a str,
}

impl Prefixed<'_> {
    fn is(&self, column: &str) -> bool {
        column.strip_prefix(self.prefix) == Some(self.name)
    }
}

impl std::fmt::Display for Prefixed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.prefix, self.name)
    }
}

impl sqlx::ColumnIndex<AnyRow> for Prefixed<'_> {
    fn index(&self, row: &AnyRow) -> std::result::Result<usize, sqlx::Error> {
        use sqlx::{Column, Row};
        row.columns()
            .iter()
            .position(|c| self.is(c.name()))
            .ok_or_else(|| sqlx::Error::ColumnNotFound(self.to_string()))
    }
}

impl Col for Prefixed<'_> {
    fn position(self, names: &[String]) -> Option<usize> {
        names.iter().position(|n| self.is(n))
    }
}

impl Row {
    /// The value of column `col` as a `T`.
    pub(crate) fn try_get<T: Get, C: Col>(&self, col: C) -> Result<T> {
        match self {
            Row::Any(r) => sqlx::Row::try_get(r, col).map_err(StoreError::from_sqlx),
            Row::Lite(r) => {
                let i = col.position(&r.names).ok_or_else(|| {
                    StoreError::db(ErrorKind::Other, format!("no column {col} in the result"))
                })?;
                T::from_lite(&r.values[i]).ok_or_else(|| {
                    StoreError::db(
                        ErrorKind::Other,
                        format!(
                            "column {col}: SQLite value {:?} is not a {}",
                            r.values[i],
                            std::any::type_name::<T>()
                        ),
                    )
                })
            }
        }
    }
}

/// A Rust type a column decodes into, on both drivers.
pub(crate) trait Get: Sized + for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> {
    fn from_lite(v: &Lite) -> Option<Self>;
}

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
    fn from_row(row: &Row) -> Result<Self>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Get),+> FromRow for ($($t,)+) {
            fn from_row(row: &Row) -> Result<Self> {
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

/// One table's columns in a result row, by name: as selected (`prefix` empty), or aliased
/// `{prefix}{name}` where a join selects two tables with columns of the same name ([`aliased`]).
#[derive(Clone, Copy)]
pub(crate) struct Cols<'r> {
    row: &'r Row,
    prefix: &'static str,
}

impl<'r> Cols<'r> {
    pub(crate) fn new(row: &'r Row, prefix: &'static str) -> Cols<'r> {
        Cols { row, prefix }
    }

    pub(crate) fn get<T: Get>(&self, name: &str) -> Result<T> {
        if self.prefix.is_empty() {
            self.row.try_get(name)
        } else {
            self.row.try_get(Prefixed {
                prefix: self.prefix,
                name,
            })
        }
    }
}

/// `value` of column `column` as a `T`; [`StoreError::Corrupt`] if it is not one.
pub(crate) fn parse<T: std::str::FromStr>(column: &str, value: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} = {value:?}")))
}

/// `columns` (a `, `-separated list) of table alias `table`, each selected as `{prefix}{name}`.
pub(crate) fn aliased(table: &str, columns: &str, prefix: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{table}.{c} AS {prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
