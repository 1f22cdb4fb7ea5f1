#![no_main]
//! Amounts and currencies (wallet-core `money`): what every `currency`, `price_decimal` and
//! `max_price_decimal` of a request goes through. Properties: no panic; a parsed amount is the
//! exact value of the text (formatted back, it is the same number, with no float anywhere); every
//! amount formats to a text that parses back to it.

use libfuzzer_sys::fuzz_target;
use wallet_core::money::{Currency, MoneyError, format_decimal, parse_decimal};

/// The canonical form of a decimal text: no leading zeros, no trailing fraction zeros, `-0` as `0`.
fn canonical(text: &str) -> String {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let digits = match (int.is_empty(), frac.is_empty()) {
        (true, true) => return "0".into(),
        (_, true) => int.to_string(),
        (true, false) => format!("0.{frac}"),
        (false, false) => format!("{int}.{frac}"),
    };
    if negative {
        format!("-{digits}")
    } else {
        digits
    }
}

// Input: the currency, a decimal text, and an amount in minor units, one a line.
fuzz_target!(|data: &[u8]| {
    let Some([code, text, amount]) = walletd_fuzz::fields(data) else {
        return;
    };
    let Ok(currency) = Currency::parse(code) else {
        return;
    };
    assert!(code.eq_ignore_ascii_case(currency.code()));
    assert_eq!(Currency::parse(currency.code()), Ok(currency));

    if let Ok(amount) = amount.parse::<i64>() {
        let formatted = format_decimal(amount, currency);
        assert_eq!(
            parse_decimal(&formatted, currency),
            Ok(amount),
            "{formatted:?} does not parse back to {amount}"
        );
    }

    match parse_decimal(text, currency) {
        Ok(amount) => {
            let back = format_decimal(amount, currency);
            assert_eq!(
                canonical(&back),
                canonical(text),
                "{:?} became {amount}",
                text
            );
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
            );
        }
        Err(MoneyError::TooPrecise { exponent, .. }) => assert_eq!(exponent, currency.exponent()),
        Err(_) => {}
    }
});
