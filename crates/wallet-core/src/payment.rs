//! Rules on a payment's price: `price_rules` at reservation and reductions at confirmation.

use crate::ids::PaymentId;
use serde::{Deserialize, Serialize};

/// A payment's allowed prices in minor units (e.g. tips: `{"min": 0}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<i64>>,
}

/// Why a price was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("{0}")]
    InvalidRules(String),
    #[error("price {price} is outside the payment's price_rules")]
    OutsideRules { price: i64 },
    #[error("payment {payment_id} has no price_rules, so its price cannot be selected")]
    NoRules { payment_id: PaymentId },
    #[error("confirmed price {requested} is higher than the reserved {reserved}")]
    AboveReserved { requested: i64, reserved: i64 },
    #[error("price must be positive")]
    NotPositive,
}

impl PriceRules {
    /// Rules must make sense on their own: non-negative bounds, `min <= max`.
    pub fn validate(&self) -> Result<(), PriceError> {
        let neg = |v: Option<i64>| v.is_some_and(|v| v < 0);
        if neg(self.min) || neg(self.max) {
            return Err(PriceError::InvalidRules(
                "price_rules bounds must not be negative".into(),
            ));
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return Err(PriceError::InvalidRules(
                "price_rules.min is above price_rules.max".into(),
            ));
        }
        if let Some(choices) = &self.choices
            && (choices.is_empty() || choices.iter().any(|c| *c < 0))
        {
            return Err(PriceError::InvalidRules(
                "price_rules.choices must be a non-empty list of non-negative prices".into(),
            ));
        }
        Ok(())
    }

    /// Whether `price` is one the rules allow.
    pub fn allows(&self, price: i64) -> bool {
        price >= self.min.unwrap_or(0)
            && self.max.is_none_or(|max| price <= max)
            && self.choices.as_ref().is_none_or(|c| c.contains(&price))
    }
}

/// The price to reserve for a payment: the selected one (only where rules allow a choice), else its own.
pub fn select_price(
    payment_id: PaymentId,
    own_price: i64,
    rules: Option<&PriceRules>,
    selected: Option<i64>,
) -> Result<i64, PriceError> {
    match (rules, selected) {
        (_, None) => Ok(own_price),
        (None, Some(_)) => Err(PriceError::NoRules { payment_id }),
        (Some(rules), Some(price)) if rules.allows(price) => Ok(price),
        (Some(_), Some(price)) => Err(PriceError::OutsideRules { price }),
    }
}

/// A confirmation may keep or reduce a reserved price, never raise it.
pub fn reduce_price(reserved: i64, requested: i64) -> Result<i64, PriceError> {
    if requested <= 0 {
        return Err(PriceError::NotPositive);
    }
    if requested > reserved {
        return Err(PriceError::AboveReserved {
            requested,
            reserved,
        });
    }
    Ok(requested)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tips_rules_allow_a_choice() {
        let tips = PriceRules {
            min: Some(0),
            ..Default::default()
        };
        assert_eq!(
            select_price(PaymentId::new(1), 100, Some(&tips), Some(80)),
            Ok(80)
        );
        assert_eq!(
            select_price(PaymentId::new(1), 100, Some(&tips), None),
            Ok(100)
        );
        assert_eq!(
            select_price(PaymentId::new(1), 100, None, Some(80)),
            Err(PriceError::NoRules {
                payment_id: PaymentId::new(1)
            })
        );
        let bounded = PriceRules {
            min: Some(50),
            max: Some(200),
            choices: None,
        };
        assert_eq!(
            select_price(PaymentId::new(1), 100, Some(&bounded), Some(201)),
            Err(PriceError::OutsideRules { price: 201 })
        );
        let choices = PriceRules {
            choices: Some(vec![100, 200]),
            ..Default::default()
        };
        assert!(choices.allows(200) && !choices.allows(150));
    }

    #[test]
    fn rules_are_validated() {
        assert!(
            PriceRules {
                min: Some(5),
                max: Some(1),
                choices: None
            }
            .validate()
            .is_err()
        );
        assert!(
            PriceRules {
                min: Some(-1),
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            PriceRules {
                choices: Some(vec![]),
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            PriceRules {
                min: Some(0),
                max: Some(10),
                choices: Some(vec![5])
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn confirmation_never_raises() {
        assert_eq!(reduce_price(1299, 799), Ok(799));
        assert_eq!(reduce_price(1299, 1299), Ok(1299));
        assert!(reduce_price(1299, 1300).is_err());
        assert!(reduce_price(1299, 0).is_err());
    }
}

/// Longest freeze walletd accepts (a year): frozen money is held for the payer until then.
pub const MAX_FREEZE_SECS: i64 = 366 * 86_400;

/// A payment's freeze as requested: `freeze{for|until}`, `freeze_for` (hours) or `freeze_until`.
/// After confirmation the money stays reserved for the payer and shows as incoming for the
/// beneficiary until the freeze ends, the client finalizes, or the client cancels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezeSpec {
    /// Seconds from confirmation.
    For(i64),
    /// A fixed UNIX time.
    Until(i64),
}

/// Why a freeze was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FreezeError {
    #[error("only one of freeze, freeze_for and freeze_until may be given")]
    Ambiguous,
    #[error("freeze must have exactly one of 'for' and 'until'")]
    NeedsOne,
    #[error("freeze must end in the future and within {} days", MAX_FREEZE_SECS / 86_400)]
    OutOfRange,
}

impl FreezeSpec {
    /// The freeze a payment asked for, from its stored `freeze_for` (seconds) and `freeze_until`.
    pub fn stored(freeze_for: Option<i64>, freeze_until: Option<i64>) -> Option<FreezeSpec> {
        match (freeze_for, freeze_until) {
            (Some(seconds), _) => Some(FreezeSpec::For(seconds)),
            (None, Some(at)) => Some(FreezeSpec::Until(at)),
            (None, None) => None,
        }
    }

    /// Reads the request's forms; zeros (as the PHP client and the guide send them) mean no freeze.
    pub fn from_request(
        nested: Option<(Option<i64>, Option<i64>)>,
        flat_for_hours: Option<i64>,
        flat_until: Option<i64>,
        now: i64,
    ) -> Result<Option<FreezeSpec>, FreezeError> {
        let nonzero = |v: Option<i64>| v.filter(|v| *v != 0);
        let nested = nested.map(|(f, u)| (nonzero(f), nonzero(u)));
        let nested_given = nested.is_some_and(|(f, u)| f.is_some() || u.is_some());
        let (flat_for, flat_until) = (nonzero(flat_for_hours), nonzero(flat_until));
        if [nested_given, flat_for.is_some(), flat_until.is_some()]
            .iter()
            .filter(|g| **g)
            .count()
            > 1
        {
            return Err(FreezeError::Ambiguous);
        }
        let spec = match (nested, flat_for, flat_until) {
            (Some((Some(_), Some(_))), _, _) => return Err(FreezeError::NeedsOne),
            (Some((Some(seconds), None)), _, _) => Some(FreezeSpec::For(seconds)),
            (Some((None, Some(at))), _, _) => Some(FreezeSpec::Until(at)),
            (_, Some(hours), _) => Some(FreezeSpec::For(
                hours.checked_mul(3600).ok_or(FreezeError::OutOfRange)?,
            )),
            (_, _, Some(at)) => Some(FreezeSpec::Until(at)),
            _ => None,
        };
        match spec {
            Some(FreezeSpec::For(s)) if !(1..=MAX_FREEZE_SECS).contains(&s) => {
                Err(FreezeError::OutOfRange)
            }
            Some(FreezeSpec::Until(at)) if at <= now || at - now > MAX_FREEZE_SECS => {
                Err(FreezeError::OutOfRange)
            }
            spec => Ok(spec),
        }
    }

    /// When the freeze of a payment confirmed at `confirmed_at` ends.
    pub fn ends_at(self, confirmed_at: i64) -> i64 {
        match self {
            FreezeSpec::For(seconds) => confirmed_at + seconds,
            FreezeSpec::Until(at) => at.max(confirmed_at),
        }
    }
}

#[cfg(test)]
mod freeze_tests {
    use super::*;

    #[test]
    fn forms_zeros_and_refusals() {
        let now = 1_000;
        assert_eq!(FreezeSpec::from_request(None, None, None, now), Ok(None));
        assert_eq!(
            FreezeSpec::from_request(Some((Some(0), None)), Some(0), Some(0), now),
            Ok(None)
        );
        assert_eq!(
            FreezeSpec::from_request(None, Some(2), None, now),
            Ok(Some(FreezeSpec::For(7200)))
        );
        assert_eq!(
            FreezeSpec::from_request(Some((None, Some(5000))), None, None, now),
            Ok(Some(FreezeSpec::Until(5000)))
        );
        assert_eq!(
            FreezeSpec::from_request(Some((Some(60), None)), Some(1), None, now),
            Err(FreezeError::Ambiguous)
        );
        assert_eq!(
            FreezeSpec::from_request(None, None, Some(10), now),
            Err(FreezeError::OutOfRange)
        );
        assert_eq!(FreezeSpec::For(60).ends_at(100), 160);
        assert_eq!(
            FreezeSpec::Until(50).ends_at(100),
            100,
            "a freeze already over ends at confirmation"
        );
    }
}
