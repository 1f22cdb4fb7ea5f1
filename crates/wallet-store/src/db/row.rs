//! Rows of a result and their decoding: a column into a Rust value ([`Get`]), a row into a tuple
//! ([`FromRow`]), one table's columns into a row type of the store ([`Decode`]); and how a row
//! type is declared, its fields, columns and decoder together ([`row_type!`], with the form it is
//! inserted in [`row_and_new!`]).

use crate::{ErrorKind, Result, StoreError};
use rusqlite::types::Value as Lite;
use sqlx::Any;
use sqlx::any::AnyRow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use wallet_core::ids::{
    AccountId, AllowanceId, ClientId, HoldId, LocationId, PaymentId, ProjectId, TransactionKey,
    UserId, WalletId,
};

/// One row of a result: sqlx's own on PostgreSQL, copied out of SQLite on SQLite.
pub(crate) enum Row {
    Any(AnyRow),
    Lite(LiteRow),
}

/// A row read from SQLite: its column names (shared by the rows of one result) and values.
pub(crate) struct LiteRow {
    pub(super) names: Arc<[String]>,
    pub(super) values: Vec<Lite>,
    /// Where the column after the last one read is: a decoder reads the columns in the order
    /// they are selected, so looking there first finds each by one comparison, not a scan.
    pub(super) next: AtomicUsize,
}

/// A column, by name or position.
pub(crate) trait Col: Copy + std::fmt::Display + sqlx::ColumnIndex<AnyRow> {
    /// Its position among `names`, looked for at `hint` first.
    fn position(self, names: &[String], hint: usize) -> Option<usize>;
}

/// The position of the first of `names` that `is`, `hint` tried first.
fn find(names: &[String], hint: usize, is: impl Fn(&str) -> bool) -> Option<usize> {
    match names.get(hint) {
        Some(n) if is(n) => Some(hint),
        _ => names.iter().position(|n| is(n)),
    }
}

impl Col for &str {
    fn position(self, names: &[String], hint: usize) -> Option<usize> {
        find(names, hint, |n| n == self)
    }
}

impl Col for usize {
    fn position(self, names: &[String], _hint: usize) -> Option<usize> {
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
    fn position(self, names: &[String], hint: usize) -> Option<usize> {
        find(names, hint, |n| self.is(n))
    }
}

impl Row {
    /// The value of column `col` as a `T`.
    pub(crate) fn try_get<T: Get, C: Col>(&self, col: C) -> Result<T> {
        match self {
            Row::Any(r) => sqlx::Row::try_get::<T::Raw, C>(r, col)
                .map(T::from_raw)
                .map_err(StoreError::from_sqlx),
            Row::Lite(r) => {
                let i = col
                    .position(&r.names, r.next.load(Ordering::Relaxed))
                    .ok_or_else(|| {
                        StoreError::db(ErrorKind::Other, format!("no column {col} in the result"))
                    })?;
                r.next.store(i + 1, Ordering::Relaxed);
                T::Raw::from_lite(&r.values[i])
                    .map(T::from_raw)
                    .ok_or_else(|| {
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

    /// True when column `col` is NULL, whatever its type.
    fn is_null<C: Col>(&self, col: C) -> Result<bool> {
        match self {
            Row::Any(r) => {
                use sqlx::{Row, ValueRef};
                let value = r.try_get_raw(col).map_err(StoreError::from_sqlx)?;
                Ok(value.is_null())
            }
            Row::Lite(r) => match col.position(&r.names, r.next.load(Ordering::Relaxed)) {
                Some(i) => Ok(r.values[i] == Lite::Null),
                None => Err(StoreError::db(
                    ErrorKind::Other,
                    format!("no column {col} in the result"),
                )),
            },
        }
    }

    /// The row as a `T`, from its columns as [`Decode::COLUMNS`] names them.
    pub(crate) fn decode<T: Decode>(&self) -> Result<T> {
        T::decode(Cols::new(self, ""))
    }
}

/// What a driver decodes a column into: integers, floats, text, maybe NULL.
pub(crate) trait Primitive: Sized + for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> {
    fn from_lite(v: &Lite) -> Option<Self>;
}

impl Primitive for i64 {
    fn from_lite(v: &Lite) -> Option<i64> {
        match v {
            Lite::Integer(i) => Some(*i),
            _ => None,
        }
    }
}

impl Primitive for i32 {
    fn from_lite(v: &Lite) -> Option<i32> {
        match v {
            Lite::Integer(i) => i32::try_from(*i).ok(),
            _ => None,
        }
    }
}

impl Primitive for f64 {
    fn from_lite(v: &Lite) -> Option<f64> {
        match v {
            Lite::Real(f) => Some(*f),
            Lite::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl Primitive for String {
    fn from_lite(v: &Lite) -> Option<String> {
        match v {
            Lite::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<T: Primitive> Primitive for Option<T> {
    fn from_lite(v: &Lite) -> Option<Option<T>> {
        match v {
            Lite::Null => Some(None),
            v => T::from_lite(v).map(Some),
        }
    }
}

/// A Rust type a column decodes into, on both drivers: a [`Primitive`], or a type of the domain
/// made from one (the ids of `wallet_core::ids`, which sqlx's traits cannot be implemented for
/// here).
pub(crate) trait Get: Sized {
    type Raw: Primitive;
    fn from_raw(raw: Self::Raw) -> Self;
}

macro_rules! get_as_is {
    ($($t:ty),*) => {$(
        impl Get for $t {
            type Raw = $t;
            fn from_raw(raw: $t) -> $t {
                raw
            }
        }
        impl Get for Option<$t> {
            type Raw = Option<$t>;
            fn from_raw(raw: Option<$t>) -> Option<$t> {
                raw
            }
        }
    )*};
}

get_as_is!(i64, i32, f64, String);

macro_rules! get_id {
    ($($t:ty: $raw:ty => $make:expr),* $(,)?) => {$(
        impl Get for $t {
            type Raw = $raw;
            fn from_raw(raw: $raw) -> $t {
                $make(raw)
            }
        }
        impl Get for Option<$t> {
            type Raw = Option<$raw>;
            fn from_raw(raw: Option<$raw>) -> Option<$t> {
                raw.map($make)
            }
        }
    )*};
}

get_id!(
    WalletId: i64 => WalletId::new,
    UserId: i64 => UserId::new,
    ProjectId: i64 => ProjectId::new,
    ClientId: i64 => ClientId::new,
    PaymentId: i64 => PaymentId::new,
    AllowanceId: i64 => AllowanceId::new,
    AccountId: i64 => AccountId::new,
    HoldId: i64 => HoldId::new,
    LocationId: i64 => LocationId::new,
    TransactionKey: String => TransactionKey::issued,
);

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

/// A row type of the store: the columns it is read from and its one decoder, side by side, so
/// that every statement reading it selects the same columns and decodes them alike.
pub(crate) trait Decode: Sized {
    /// The columns [`Decode::decode`] reads, `, `-separated, as its table names them.
    const COLUMNS: &'static str;

    fn decode(c: Cols<'_>) -> Result<Self>;
}

/// A field of a row type read from its column of the same name (see [`row_type!`]): a value as it
/// is stored, a flag (SQLite has no booleans: 0 or 1), or a value stored as text (a status, a
/// currency).
pub(crate) trait Column: Sized {
    fn read(c: &Cols<'_>, name: &str) -> Result<Self>;
}

impl<T: Get> Column for T {
    fn read(c: &Cols<'_>, name: &str) -> Result<T> {
        c.get(name)
    }
}

impl Column for bool {
    fn read(c: &Cols<'_>, name: &str) -> Result<bool> {
        c.flag(name)
    }
}

macro_rules! parsed_columns {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn read(c: &Cols<'_>, name: &str) -> Result<$t> {
                c.parsed(name)
            }
        }
        impl Column for Option<$t> {
            fn read(c: &Cols<'_>, name: &str) -> Result<Option<$t>> {
                c.parsed_opt(name)
            }
        }
    )*};
}

parsed_columns!(
    wallet_core::Currency,
    wallet_core::PaymentStatus,
    wallet_core::TransactionStatus,
    wallet_core::TransactionType
);

/// A row type whose fields are its columns, of the same names and in the same order, and its
/// [`Decode`]: the column list and the decoder are made from the fields, so that they cannot
/// drift apart. `columns = "…";` first gives the select list instead, for columns computed,
/// renamed or stored otherwise than their field: such a field says how it is read from the row,
/// `pub active: bool = |c| …,` (a function of the row's [`Cols`], see [`read_with`]).
macro_rules! row_type {
    (@define [$($columns:expr)?]
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$doc:meta])* pub $field:ident: $ty:ty $(= $read:expr)?,)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name { $($(#[$doc])* pub $field: $ty,)* }

        impl $crate::db::Decode for $name {
            const COLUMNS: &'static str =
                $crate::db::row_type!(@columns [$($columns)?] $($field)*);

            fn decode(c: $crate::db::Cols<'_>) -> $crate::Result<$name> {
                Ok($name { $($field: $crate::db::row_type!(@read c $field $($read)?),)* })
            }
        }
    };
    (@read $c:ident $field:ident) => {
        $crate::db::Column::read(&$c, stringify!($field))?
    };
    (@read $c:ident $field:ident $read:expr) => {
        $crate::db::read_with(&$c, $read)?
    };
    (@columns [$columns:expr] $($field:ident)*) => { $columns };
    (@columns [] $first:ident $($field:ident)*) => {
        concat!(stringify!($first) $(, ", ", stringify!($field))*)
    };
    (columns = $columns:expr; $($row:tt)*) => {
        $crate::db::row_type!(@define [$columns] $($row)*);
    };
    ($($row:tt)*) => {
        $crate::db::row_type!(@define [] $($row)*);
    };
}

pub(crate) use row_type;

/// A [`row_type!`] and the form its rows are inserted in, which has the same fields but those
/// the database or the row's life gives it: those are marked `#[stored]` (before their
/// documentation). `fn stored_as(id: …);` after the new form also makes
/// `new.stored_as(id)`, the row a new one is stored as, each marked field then given its value
/// in a new row: `#[stored = None]`.
macro_rules! row_and_new {
    (
        $(columns = $columns:expr;)?
        $(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }
        $(#[$new_meta:meta])* pub struct $new:ident;
        $(fn stored_as($id:ident: $id_ty:ty);)?
    ) => {
        $crate::db::row_and_new!(@field [$($columns)?] [$(#[$meta])* $name]
            [$(#[$new_meta])* $new] [$($id: $id_ty)?] [] [] [] [] $($fields)*);
    };
    // A field the database or the row's life gives: not in the new form.
    (@field $columns:tt $row:tt $new:tt $stored_as:tt
        [$($all:tt)*] [$($given:tt)*] [$($names:ident)*] [$($init:tt)*]
        #[stored $(= $value:expr)?] $(#[$doc:meta])* pub $f:ident: $t:ty $(= $read:expr)?,
        $($rest:tt)*
    ) => {
        $crate::db::row_and_new!(@field $columns $row $new $stored_as
            [$($all)* $(#[$doc])* pub $f: $t $(= $read)?,] [$($given)*] [$($names)*]
            [$($init)* $f: $($value)?,] $($rest)*);
    };
    // A field the new form gives.
    (@field $columns:tt $row:tt $new:tt $stored_as:tt
        [$($all:tt)*] [$($given:tt)*] [$($names:ident)*] [$($init:tt)*]
        $(#[$doc:meta])* pub $f:ident: $t:ty $(= $read:expr)?,
        $($rest:tt)*
    ) => {
        $crate::db::row_and_new!(@field $columns $row $new $stored_as
            [$($all)* $(#[$doc])* pub $f: $t $(= $read)?,] [$($given)* $(#[$doc])* pub $f: $t,]
            [$($names)* $f] [$($init)* $f,] $($rest)*);
    };
    (@field [$($columns:expr)?] [$(#[$meta:meta])* $name:ident] [$(#[$new_meta:meta])* $new:ident]
        $stored_as:tt [$($all:tt)*] [$($given:tt)*] $names:tt $init:tt
    ) => {
        $crate::db::row_type! { $(columns = $columns;)? $(#[$meta])* pub struct $name { $($all)* } }

        $(#[$new_meta])*
        pub struct $new { $($given)* }

        $crate::db::row_and_new!(@stored_as $stored_as $name $new $names $init);
    };
    (@stored_as [] $($unused:tt)*) => {};
    (@stored_as [$id:ident: $id_ty:ty] $name:ident $new:ident [$($names:ident)*] [$($init:tt)*]) => {
        impl $new {
            /// The row as stored with `id`: the fields of this one, and those of a new row.
            pub(crate) fn stored_as(&self, $id: $id_ty) -> $name {
                let $new { $($names),* } = self.clone();
                $name { $($init)* }
            }
        }
    };
}

pub(crate) use row_and_new;

/// `Debug` for a row type that holds secrets: only the fields named, then `..`, so that logging
/// the row never logs a secret.
macro_rules! debug_but_secrets {
    ($name:ident: $($field:ident),+) => {
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($field), &self.$field))+
                    .finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use debug_but_secrets;

/// A field of a [`row_type!`] read by `read` (gives `read` its argument's type).
pub(crate) fn read_with<T>(c: &Cols<'_>, read: impl FnOnce(&Cols<'_>) -> Result<T>) -> Result<T> {
    read(c)
}

impl<T: Decode> FromRow for T {
    fn from_row(row: &Row) -> Result<Self> {
        row.decode()
    }
}

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

    /// An integer column that holds a flag (0 or 1: SQLite has no booleans).
    pub(crate) fn flag(&self, name: &str) -> Result<bool> {
        Ok(self.get::<i64>(name)? != 0)
    }

    /// A text column that holds a value of `T` (a status, a currency).
    pub(crate) fn parsed<T: std::str::FromStr>(&self, name: &str) -> Result<T> {
        parse(name, &self.get::<String>(name)?)
    }

    /// [`Cols::parsed`] of a column that may be NULL.
    pub(crate) fn parsed_opt<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>> {
        self.get::<Option<String>>(name)?
            .map(|v| parse(name, &v))
            .transpose()
    }

    /// The row as a `T` unless the first of its columns is NULL: the other side of an outer
    /// join found no row (the first column of each row type is never NULL).
    pub(crate) fn decode_if_any<T: Decode>(self) -> Result<Option<T>> {
        let first = T::COLUMNS.split(", ").next().unwrap_or(T::COLUMNS);
        let first = first.split_once(" AS ").map_or(first, |(_, name)| name);
        let first = Prefixed {
            prefix: self.prefix,
            name: first,
        };
        match self.row.is_null(first)? {
            true => Ok(None),
            false => T::decode(self).map(Some),
        }
    }
}

/// `value` of column `column` as a `T`; [`StoreError::Corrupt`] if it is not one.
pub(crate) fn parse<T: std::str::FromStr>(column: &str, value: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} = {value:?}")))
}

/// The columns of `T` in table alias `table`, each selected as `{prefix}{name}` (see [`Cols`]);
/// a column `c AS name` of [`Decode::COLUMNS`] as `{table}.c AS {prefix}name`.
pub(crate) fn aliased<T: Decode>(table: &str, prefix: &str) -> String {
    T::COLUMNS
        .split(", ")
        .map(|c| {
            let (column, name) = c.split_once(" AS ").unwrap_or((c, c));
            format!("{table}.{column} AS {prefix}{name}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
