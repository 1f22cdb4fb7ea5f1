//! How long a reservation lasts: the spec's `reserve{for|until}` and the deprecated flat forms.

/// Default reservation time (`reserve_for` defaults to 24 hours).
pub const DEFAULT_RESERVE_SECS: i64 = 24 * 3600;
/// Longest reservation walletd accepts: money is not held for longer than 30 days.
pub const MAX_RESERVE_SECS: i64 = 30 * 24 * 3600;

/// What the client asked for when creating the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReserveSpec {
    /// Nothing given: 24 hours from reservation.
    #[default]
    Default,
    /// Seconds from the moment of reservation (`reserve.for`, or `reserve_for` hours × 3600).
    For { seconds: i64, flat: bool },
    /// A fixed moment (`reserve.until` or `reserve_until`).
    Until { at: i64, flat: bool },
}

/// Why a reservation time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReserveError {
    #[error("only one of reserve, reserve_for and reserve_until may be given")]
    Ambiguous,
    #[error("reserve must have exactly one of 'for' and 'until'")]
    NeedsOne,
    #[error("reservation time must be positive and at most {} days", MAX_RESERVE_SECS / 86400)]
    OutOfRange,
    #[error("reservation deadline is in the past")]
    InPast,
}

impl ReserveSpec {
    /// Builds the spec from the request's four optional inputs, checking it against `now`.
    pub fn from_request(
        nested_for: Option<i64>,
        nested_until: Option<i64>,
        nested_present: bool,
        flat_for_hours: Option<i64>,
        flat_until: Option<i64>,
        now: i64,
    ) -> Result<Self, ReserveError> {
        let given = [
            nested_present,
            flat_for_hours.is_some(),
            flat_until.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(ReserveError::Ambiguous);
        }
        let spec = if nested_present {
            match (nested_for, nested_until) {
                (Some(seconds), None) => ReserveSpec::For {
                    seconds,
                    flat: false,
                },
                (None, Some(at)) => ReserveSpec::Until { at, flat: false },
                _ => return Err(ReserveError::NeedsOne),
            }
        } else if let Some(hours) = flat_for_hours {
            ReserveSpec::For {
                seconds: hours.checked_mul(3600).ok_or(ReserveError::OutOfRange)?,
                flat: true,
            }
        } else if let Some(at) = flat_until {
            ReserveSpec::Until { at, flat: true }
        } else {
            ReserveSpec::Default
        };
        match spec {
            ReserveSpec::For { seconds, .. } if !(1..=MAX_RESERVE_SECS).contains(&seconds) => {
                Err(ReserveError::OutOfRange)
            }
            ReserveSpec::Until { at, .. } if at <= now => Err(ReserveError::InPast),
            ReserveSpec::Until { at, .. } if at - now > MAX_RESERVE_SECS => {
                Err(ReserveError::OutOfRange)
            }
            spec => Ok(spec),
        }
    }

    /// The deadline for a reservation made at `now`.
    pub fn deadline(self, now: i64) -> Result<i64, ReserveError> {
        match self {
            ReserveSpec::Default => Ok(now + DEFAULT_RESERVE_SECS),
            ReserveSpec::For { seconds, .. } => Ok(now + seconds),
            ReserveSpec::Until { at, .. } if at > now => Ok(at),
            ReserveSpec::Until { .. } => Err(ReserveError::InPast),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_defaults() {
        let now = 1_000_000;
        let s = ReserveSpec::from_request(None, None, false, None, None, now).unwrap();
        assert_eq!(s.deadline(now), Ok(now + 86400));
        let s = ReserveSpec::from_request(Some(300), None, true, None, None, now).unwrap();
        assert_eq!(s.deadline(now + 10), Ok(now + 310));
        let s = ReserveSpec::from_request(None, None, false, Some(2), None, now).unwrap();
        assert_eq!(
            s,
            ReserveSpec::For {
                seconds: 7200,
                flat: true
            }
        );
        let s = ReserveSpec::from_request(None, None, false, None, Some(now + 60), now).unwrap();
        assert_eq!(s.deadline(now + 59), Ok(now + 60));
        assert_eq!(s.deadline(now + 60), Err(ReserveError::InPast));
    }

    #[test]
    fn refusals() {
        let now = 1_000_000;
        assert_eq!(
            ReserveSpec::from_request(Some(1), None, true, Some(1), None, now),
            Err(ReserveError::Ambiguous)
        );
        assert_eq!(
            ReserveSpec::from_request(Some(1), Some(now + 5), true, None, None, now),
            Err(ReserveError::NeedsOne)
        );
        assert_eq!(
            ReserveSpec::from_request(None, None, true, None, None, now),
            Err(ReserveError::NeedsOne)
        );
        assert_eq!(
            ReserveSpec::from_request(Some(0), None, true, None, None, now),
            Err(ReserveError::OutOfRange)
        );
        assert_eq!(
            ReserveSpec::from_request(None, Some(now), true, None, None, now),
            Err(ReserveError::InPast)
        );
        assert_eq!(
            ReserveSpec::from_request(None, None, false, Some(24 * 31), None, now),
            Err(ReserveError::OutOfRange)
        );
    }
}
