//! Allowance and spending limits: how much may still be reserved without asking the holder.
//!
//! An allowance caps each transaction (`max_price`) and the sum over rolling windows
//! (`limits[]`: at most `max_price` in any `time` seconds). The same windows express a wallet's
//! own spending limits. A window ending now is `(now - time, now]`: a spend made at `t` counts
//! until `t + time` and no longer, so the answer is exact at the window's edge.

/// At most `max_price` minor units in any `time` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WindowLimit {
    pub max_price: i64,
    /// Seconds.
    pub time: i64,
}

/// Longest window walletd accepts: one year.
pub const MAX_WINDOW_SECS: i64 = 366 * 86_400;

/// Why allowance terms were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    #[error("max_price must be positive")]
    MaxPrice,
    #[error("limits[{0}]: max_price must be positive")]
    LimitPrice(usize),
    #[error("limits[{0}]: time must be from 1 second to {MAX_WINDOW_SECS} seconds")]
    LimitTime(usize),
    #[error(
        "an allowance needs max_price or at least one limit; without them it would be unlimited"
    )]
    Unlimited,
    #[error("at most 10 limits")]
    TooManyLimits,
}

/// What an allowance allows, in its one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// Cap per transaction.
    pub max_price: Option<i64>,
    pub limits: Vec<WindowLimit>,
}

/// How long an allowance walletd suggests is valid: 90 days from its activation.
pub const SUGGESTED_VALID_SECS: i64 = 90 * 86_400;
/// The window of a suggested allowance's limit: 30 days.
pub const SUGGESTED_WINDOW_SECS: i64 = 30 * 86_400;

/// The terms walletd suggests to the holder of a transaction of `total` minor units (one
/// currency): up to twice this total per transaction and ten times it in any 30 days.
pub fn suggested_terms(total: i64) -> Terms {
    Terms {
        max_price: Some(total.saturating_mul(2)),
        limits: vec![WindowLimit {
            max_price: total.saturating_mul(10),
            time: SUGGESTED_WINDOW_SECS,
        }],
    }
}

/// An amount reserved at a moment (a payment reserved under the allowance or from the wallet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spend {
    pub at: i64,
    pub amount: i64,
}

/// Which cap a transaction would break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    #[error("the transaction total {total} is above the allowance's max_price {max_price}")]
    PerTransaction { total: i64, max_price: i64 },
    #[error(
        "{spent} already reserved in the last {time} seconds plus {total} would be above the limit of {max_price}"
    )]
    Window {
        total: i64,
        spent: i64,
        max_price: i64,
        time: i64,
    },
}

impl Terms {
    /// Checks terms as a client gives them.
    pub fn validate(&self) -> Result<(), TermsError> {
        if self.max_price.is_some_and(|m| m <= 0) {
            return Err(TermsError::MaxPrice);
        }
        if self.limits.len() > 10 {
            return Err(TermsError::TooManyLimits);
        }
        for (i, l) in self.limits.iter().enumerate() {
            if l.max_price <= 0 {
                return Err(TermsError::LimitPrice(i));
            }
            if !(1..=MAX_WINDOW_SECS).contains(&l.time) {
                return Err(TermsError::LimitTime(i));
            }
        }
        if self.max_price.is_none() && self.limits.is_empty() {
            return Err(TermsError::Unlimited);
        }
        Ok(())
    }

    /// The longest window: spends older than `now - longest_window()` never matter.
    pub fn longest_window(&self) -> i64 {
        self.limits.iter().map(|l| l.time).max().unwrap_or(0)
    }

    /// May a transaction of `total` be reserved now, given what was spent?
    pub fn check(&self, spent: &[Spend], now: i64, total: i64) -> Result<(), Exceeded> {
        if let Some(max_price) = self.max_price
            && total > max_price
        {
            return Err(Exceeded::PerTransaction { total, max_price });
        }
        for l in &self.limits {
            let spent = spent_in_window(spent, now, l.time);
            if spent.saturating_add(total) > l.max_price {
                return Err(Exceeded::Window {
                    total,
                    spent,
                    max_price: l.max_price,
                    time: l.time,
                });
            }
        }
        Ok(())
    }

    /// The largest transaction total that [`Terms::check`] accepts now (0 when none).
    pub fn remaining(&self, spent: &[Spend], now: i64) -> i64 {
        let windows = self
            .limits
            .iter()
            .map(|l| l.max_price - spent_in_window(spent, now, l.time));
        windows
            .chain(self.max_price)
            .min()
            .unwrap_or(i64::MAX)
            .max(0)
    }
}

/// Sum of spends in `(now - time, now]`.
pub fn spent_in_window(spent: &[Spend], now: i64, time: i64) -> i64 {
    spent
        .iter()
        .filter(|s| s.at > now - time && s.at <= now)
        .map(|s| s.amount)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn weekly() -> Terms {
        Terms {
            max_price: Some(1500),
            limits: vec![WindowLimit {
                max_price: 3000,
                time: 604_800,
            }],
        }
    }

    #[test]
    fn caps_each_transaction_and_the_window() {
        let t = weekly();
        assert!(t.check(&[], 0, 1500).is_ok());
        assert!(matches!(
            t.check(&[], 0, 1501),
            Err(Exceeded::PerTransaction { .. })
        ));
        let spent = [Spend {
            at: 100,
            amount: 2000,
        }];
        assert!(t.check(&spent, 200, 1000).is_ok());
        assert!(matches!(
            t.check(&spent, 200, 1001),
            Err(Exceeded::Window { spent: 2000, .. })
        ));
        assert_eq!(t.remaining(&spent, 200), 1000);
    }

    #[test]
    fn a_spend_leaves_the_window_exactly_time_seconds_later() {
        let t = weekly();
        let spent = [Spend {
            at: 1000,
            amount: 3000,
        }];
        assert!(t.check(&spent, 1000 + 604_799, 1).is_err());
        assert!(t.check(&spent, 1000 + 604_800, 1).is_ok());
        assert_eq!(t.remaining(&spent, 1000 + 604_799), 0);
        assert_eq!(t.remaining(&spent, 1000 + 604_800), 1500);
    }

    #[test]
    fn terms_are_validated() {
        assert_eq!(
            Terms {
                max_price: None,
                limits: vec![]
            }
            .validate(),
            Err(TermsError::Unlimited)
        );
        let bad_time = Terms {
            max_price: None,
            limits: vec![WindowLimit {
                max_price: 1,
                time: 0,
            }],
        };
        assert_eq!(bad_time.validate(), Err(TermsError::LimitTime(0)));
        assert!(weekly().validate().is_ok());
    }

    fn terms() -> impl Strategy<Value = Terms> {
        (
            proptest::option::of(1i64..5000),
            proptest::collection::vec((1i64..5000, 1i64..1000), 0..3),
        )
            .prop_map(|(max_price, limits)| Terms {
                max_price,
                limits: limits
                    .into_iter()
                    .map(|(max_price, time)| WindowLimit { max_price, time })
                    .collect(),
            })
            .prop_filter("bounded", |t| t.validate().is_ok())
    }

    proptest! {
        /// `remaining` is exactly the boundary of `check`.
        #[test]
        fn remaining_is_the_largest_accepted_total(
            t in terms(),
            spends in proptest::collection::vec((0i64..2000, 1i64..800), 0..12),
            now in 0i64..2500,
        ) {
            let spent: Vec<Spend> = spends.into_iter().map(|(at, amount)| Spend { at, amount }).collect();
            let r = t.remaining(&spent, now);
            prop_assert!(r >= 0);
            if r > 0 {
                prop_assert!(t.check(&spent, now, r).is_ok());
            }
            prop_assert!(t.check(&spent, now, r + 1).is_err());
        }

        /// Reserving one by one what `check` accepts never puts any window above its cap.
        #[test]
        fn accepted_spends_never_exceed_a_window(
            t in terms(),
            attempts in proptest::collection::vec((0i64..50, 1i64..2000), 1..30),
        ) {
            let mut spent: Vec<Spend> = Vec::new();
            let mut now = 0;
            for (step, amount) in attempts {
                now += step;
                if t.check(&spent, now, amount).is_ok() {
                    spent.push(Spend { at: now, amount });
                }
                for l in &t.limits {
                    // The heaviest window ends at some spend.
                    for s in &spent {
                        prop_assert!(spent_in_window(&spent, s.at, l.time) <= l.max_price);
                    }
                }
            }
        }
    }
}
