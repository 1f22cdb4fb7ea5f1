//! A statement's parameters: each a [`Value`], given all at once as a [`Params`] (a tuple).

use wallet_core::ids::{
    AccountId, AllowanceId, ClientId, HoldId, LocationId, PaymentId, ProjectId, TransactionKey,
    UserId, WalletId,
};

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

macro_rules! value_from_id {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::I64(Some(v.get()))
            }
        }
        impl From<&$t> for Value {
            fn from(v: &$t) -> Value {
                Value::I64(Some(v.get()))
            }
        }
        impl From<Option<$t>> for Value {
            fn from(v: Option<$t>) -> Value {
                Value::I64(v.map(<$t>::get))
            }
        }
        impl From<&Option<$t>> for Value {
            fn from(v: &Option<$t>) -> Value {
                Value::I64(v.map(<$t>::get))
            }
        }
    )*};
}

value_from_id!(
    WalletId,
    UserId,
    ProjectId,
    ClientId,
    PaymentId,
    AllowanceId,
    AccountId,
    HoldId,
    LocationId
);
value_from!(Text:
    &TransactionKey => |v: &TransactionKey| Some(v.as_str().to_string()),
    TransactionKey => |v: TransactionKey| Some(v.into_string()),
    Option<&TransactionKey> => |v: Option<&TransactionKey>| v.map(|k| k.as_str().to_string()),
    &Option<TransactionKey> => |v: &Option<TransactionKey>| v.as_ref().map(|k| k.as_str().to_string()),
);

/// A statement's parameters, given at once, `$1`, `$2`, … in order: a tuple of values (`(id,)`,
/// `(a, b)`, up to 22), `()` for none, or a `Vec<Value>` built by code that writes the SQL too.
///
/// Why a tuple and not one `bind` call per parameter: the statement and its parameters are the
/// whole of what a typed method says, and a tuple says it in one expression. It costs what the
/// binds did: one `Vec`, allocated once at the right size (the binds grew theirs).
pub(crate) trait Params {
    /// How many parameters.
    fn len(&self) -> usize;

    /// Appends the parameters to `values`, in order.
    fn push_onto(self, values: &mut Vec<Value>);

    fn into_values(self) -> Vec<Value>
    where
        Self: Sized,
    {
        let mut values = Vec::with_capacity(self.len());
        self.push_onto(&mut values);
        values
    }
}

impl Params for () {
    fn len(&self) -> usize {
        0
    }

    fn push_onto(self, _: &mut Vec<Value>) {}
}

impl Params for Vec<Value> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn push_onto(mut self, values: &mut Vec<Value>) {
        values.append(&mut self);
    }

    fn into_values(self) -> Vec<Value> {
        self
    }
}

/// [`Params`] for the tuples of every length from the one given down to one.
macro_rules! tuple_params {
    ($t:ident $v:ident $(, $ts:ident $vs:ident)*) => {
        impl<$t: Into<Value> $(, $ts: Into<Value>)*> Params for ($t, $($ts,)*) {
            fn len(&self) -> usize {
                1 + <[&str]>::len(&[$(stringify!($ts)),*])
            }

            fn push_onto(self, values: &mut Vec<Value>) {
                let ($v, $($vs,)*) = self;
                values.push($v.into());
                $(values.push($vs.into());)*
            }
        }
        tuple_params!($($ts $vs),*);
    };
    () => {};
}

tuple_params!(
    A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k, L l, M m, N n, O o, P p, Q q, R r,
    S s, T t, U u, V v, W w, X x
);
