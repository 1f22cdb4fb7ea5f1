//! Money as integer minor units of an ISO 4217 currency.
//!
//! Decimal strings (`price_decimal`) are parsed digit by digit and formatted
//! from integers: no float ever touches an amount.

use std::fmt;

/// Why an amount or currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency {0:?}: expected an ISO 4217 code such as EUR")]
    UnknownCurrency(String),
    #[error("{0:?} is not a decimal amount (expected digits with an optional '.' and fraction)")]
    NotDecimal(String),
    #[error("{amount:?} has more decimal places than {currency} allows ({exponent})")]
    TooPrecise {
        amount: String,
        currency: Currency,
        exponent: u32,
    },
    #[error("amount is too large")]
    Overflow,
}

/// An ISO 4217 currency that has minor units (so not XAU, XDR, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses a three-letter code; lower case is accepted and upper-cased, as the PHP client does.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper = code.to_ascii_uppercase();
        if upper.len() != 3 {
            return Err(MoneyError::UnknownCurrency(code.to_string()));
        }
        match iso_currency::Currency::from_code(&upper) {
            Some(c) if c.exponent().is_some() => Ok(Currency(c)),
            _ => Err(MoneyError::UnknownCurrency(code.to_string())),
        }
    }

    /// The three-letter code, e.g. `EUR`.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Number of decimal places of the minor unit (EUR 2, JPY 0, KWD 3).
    pub fn exponent(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(0))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

/// An amount in minor units with its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Money { amount, currency }
    }

    /// Parses a decimal string such as `"12.99"`, `"50"` or `"0.05"` into minor units.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        parse_decimal(text, currency).map(|amount| Money { amount, currency })
    }

    /// The amount as a decimal string with exactly the currency's decimals (`"50.00"`).
    pub fn to_decimal(self) -> String {
        format_decimal(self.amount, self.currency)
    }
}

/// Parses `[-]digits[.digits]` into minor units of `currency`, refusing more
/// precision than the currency has (trailing zeros beyond it are fine).
pub fn parse_decimal(text: &str, currency: Currency) -> Result<i64, MoneyError> {
    let not_decimal = || MoneyError::NotDecimal(text.to_string());
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_decimal());
    }
    let exponent = currency.exponent();
    let mut frac_digits: Vec<u8> = Vec::new();
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_decimal());
        }
        let significant = frac.trim_end_matches('0');
        if significant.len() > exponent as usize {
            return Err(MoneyError::TooPrecise {
                amount: text.to_string(),
                currency,
                exponent,
            });
        }
        frac_digits.extend(significant.bytes().map(|b| b - b'0'));
    }
    // The magnitude in u64, so that the most negative amount (one more than the most positive)
    // parses too: `format_decimal(i64::MIN)` reads back.
    let mut value: u64 = 0;
    for b in int_part.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(MoneyError::Overflow)?;
    }
    for i in 0..exponent as usize {
        let digit = frac_digits.get(i).copied().unwrap_or(0);
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit)))
            .ok_or(MoneyError::Overflow)?;
    }
    if negative {
        0i64.checked_sub_unsigned(value)
    } else {
        i64::try_from(value).ok()
    }
    .ok_or(MoneyError::Overflow)
}

/// Formats minor units as a decimal string with the currency's number of decimals.
pub fn format_decimal(amount: i64, currency: Currency) -> String {
    let exponent = currency.exponent();
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(exponent);
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = exponent as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn parses_the_php_clients_decimal_forms() {
        assert_eq!(parse_decimal("50", eur()), Ok(5000));
        assert_eq!(parse_decimal("12.1", eur()), Ok(1210));
        assert_eq!(parse_decimal("0.05", eur()), Ok(5));
        assert_eq!(parse_decimal("12.99", eur()), Ok(1299));
        assert_eq!(parse_decimal("50.00", eur()), Ok(5000));
        assert_eq!(parse_decimal("1.2300", eur()), Ok(123));
        assert_eq!(parse_decimal("-3.5", eur()), Ok(-350));
    }

    #[test]
    fn refuses_what_is_not_an_exact_amount() {
        for bad in [
            "", ".5", "5.", "1e3", "12,50", " 1", "1.2.3", "abc", "+1", "--1",
        ] {
            assert!(parse_decimal(bad, eur()).is_err(), "{bad:?} accepted");
        }
        assert!(matches!(
            parse_decimal("1.234", eur()),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert_eq!(
            parse_decimal("99999999999999999999", eur()),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn currencies_follow_iso_4217_exponents() {
        let jpy = Currency::parse("jpy").unwrap();
        assert_eq!(jpy.code(), "JPY");
        assert_eq!(format_decimal(500, jpy), "500");
        assert!(parse_decimal("1.5", jpy).is_err());
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(format_decimal(1234, kwd), "1.234");
        assert!(Currency::parse("XAU").is_err(), "no minor unit");
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("ZZZ").is_err());
    }

    #[test]
    fn formats_with_all_decimals() {
        assert_eq!(format_decimal(5000, eur()), "50.00");
        assert_eq!(format_decimal(5, eur()), "0.05");
        assert_eq!(format_decimal(-1210, eur()), "-12.10");
        assert_eq!(format_decimal(0, eur()), "0.00");
    }

    /// Found by fuzzing (`fuzz/corpus/money/crash-i64-min`): the most negative amount formatted
    /// to a text that did not parse back (its magnitude overflowed i64 before the sign).
    #[test]
    fn the_extreme_amounts_round_trip() {
        for code in ["EUR", "JPY", "KWD"] {
            let c = Currency::parse(code).unwrap();
            for amount in [i64::MIN, i64::MIN + 1, i64::MAX] {
                assert_eq!(
                    parse_decimal(&format_decimal(amount, c), c),
                    Ok(amount),
                    "{code}"
                );
            }
        }
        assert_eq!(
            parse_decimal("-9223372036854775809", Currency::parse("JPY").unwrap()),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            parse_decimal("92233720368547758.08", eur()),
            Err(MoneyError::Overflow)
        );
    }

    proptest! {
        #[test]
        fn decimal_round_trips(amount in -1_000_000_000_000i64..1_000_000_000_000i64) {
            for code in ["EUR", "JPY", "KWD"] {
                let c = Currency::parse(code).unwrap();
                prop_assert_eq!(parse_decimal(&format_decimal(amount, c), c), Ok(amount));
            }
        }
    }
}
