//! What a call must answer, and the check of its answer.

use rand::{Rng, RngExt};
use walletd::error::ApiResult;

/// What a call must answer: success, or a refusal with one of these codes.
pub enum Expect {
    Ok,
    Refused(Vec<&'static str>),
}

impl Expect {
    /// The refusals that apply (none: it must succeed).
    pub fn of(refusals: Vec<&'static str>) -> Expect {
        if refusals.is_empty() {
            Expect::Ok
        } else {
            Expect::Refused(refusals)
        }
    }
}

/// Checks an answer against the expectation: the answer when it succeeded (as it had to).
pub fn answered<T>(what: &str, got: ApiResult<T>, want: Expect) -> Result<Option<T>, String> {
    match (got, want) {
        (Ok(v), Expect::Ok) => Ok(Some(v)),
        (Ok(_), Expect::Refused(codes)) => {
            Err(format!("{what} succeeded; expected one of {codes:?}"))
        }
        (Err(e), Expect::Ok) => Err(format!(
            "{what} refused ({}: {e}); expected success",
            e.code()
        )),
        (Err(e), Expect::Refused(codes)) if codes.contains(&e.code()) => Ok(None),
        (Err(e), Expect::Refused(codes)) => Err(format!(
            "{what}: {} ({e}); expected one of {codes:?}",
            e.code()
        )),
    }
}

/// A random wallet-independent choice, for the payments' steps.
pub fn pick<T: Clone>(rng: &mut impl Rng, items: &[T]) -> Option<T> {
    (!items.is_empty()).then(|| items[rng.random_range(0..items.len())].clone())
}
