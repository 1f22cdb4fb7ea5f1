//! One-time reservation codes: what a wallet holder shows at the till.
//!
//! A code is 28 decimal digits bound to one wallet. Only a keyed hash of it is
//! ever stored, so a leaked database does not leak spendable codes.

use crate::ids::WalletId;
use crate::money::{Currency, Money};
use hmac::{KeyInit, Mac};
use rand::{CryptoRng, RngExt};
use sha2::Sha256;

/// Number of digits in a reservation code.
pub const CODE_LEN: usize = 28;
/// Prefix of the QR form of a code.
pub const QR_PREFIX: &str = "PAYSERA$";
/// Prefix of the Code128 barcode form of a code.
pub const BARCODE_PREFIX: &str = "9999";
/// Default validity of a new code, in seconds.
pub const DEFAULT_VALIDITY_SECS: i64 = 300;

/// A well-formed reservation code. `Debug` hides the digits: codes are secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct ReservationCode(String);

impl std::fmt::Debug for ReservationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReservationCode(****)")
    }
}

impl ReservationCode {
    /// A fresh code (about 93 bits) drawn from `rng`: outside tests a CSPRNG (`ThreadRng`),
    /// because a guessed code spends the holder's money ([`crate::keys`] says why it is passed in).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        ReservationCode(
            (0..CODE_LEN)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect(),
        )
    }

    /// Accepts exactly 28 digits, or the same behind the QR (`PAYSERA$`) or barcode (`9999`) prefix.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let bare = if let Some(rest) = text.strip_prefix(QR_PREFIX) {
            rest
        } else if text.len() == BARCODE_PREFIX.len() + CODE_LEN {
            text.strip_prefix(BARCODE_PREFIX)?
        } else {
            text
        };
        (bare.len() == CODE_LEN && bare.bytes().all(|b| b.is_ascii_digit()))
            .then(|| ReservationCode(bare.to_string()))
    }

    /// The digits, to show to the holder once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Contents of the QR code.
    pub fn qr_text(&self) -> String {
        format!("{QR_PREFIX}{}", self.0)
    }

    /// Contents of the Code128 barcode.
    pub fn barcode_text(&self) -> String {
        format!("{BARCODE_PREFIX}{}", self.0)
    }

    /// HMAC-SHA256 of the code under the server's key, hex: what the store keeps and looks up.
    pub fn keyed_hash(&self, key: &[u8]) -> String {
        let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
        mac.update(self.0.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Optional limits a holder put on a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CodeRestriction {
    /// The most the transaction may take, in this money's currency.
    pub max_amount: Option<Money>,
    /// The only currency the transaction may be in.
    pub currency: Option<Currency>,
}

/// What the store knows about an issued code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub wallet_id: WalletId,
    pub restriction: CodeRestriction,
    pub expires_at: i64,
    pub used: bool,
}

/// Why a code cannot reserve this transaction; each maps to the spec's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error(
        "reservation code is incorrect or was already used; the holder should generate a new one"
    )]
    Invalid,
    #[error("reservation code has expired; the holder should generate a new one")]
    Expired,
    #[error("{0}")]
    RestrictionViolation(String),
}

/// Checks that `record` may reserve a transaction of `prices` at time `now`.
pub fn check_use(record: &CodeRecord, now: i64, prices: &[Money]) -> Result<(), CodeError> {
    if record.used {
        return Err(CodeError::Invalid);
    }
    if now >= record.expires_at {
        return Err(CodeError::Expired);
    }
    let r = record.restriction;
    let limit_currency = r.max_amount.map(|m| m.currency).or(r.currency);
    if let Some(cur) = limit_currency
        && let Some(other) = prices.iter().find(|p| p.currency != cur)
    {
        return Err(CodeError::RestrictionViolation(format!(
            "reservation code allows only {cur}, transaction has a payment in {}",
            other.currency
        )));
    }
    if let Some(max) = r.max_amount {
        let total: i128 = prices.iter().map(|p| i128::from(p.amount)).sum();
        if total > i128::from(max.amount) {
            return Err(CodeError::RestrictionViolation(format!(
                "transaction total {} exceeds the reservation code's maximum of {} {}",
                crate::money::format_decimal(total as i64, max.currency),
                max.to_decimal(),
                max.currency
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn eur(n: i64) -> Money {
        Money::new(n, Currency::parse("EUR").unwrap())
    }

    fn record() -> CodeRecord {
        CodeRecord {
            wallet_id: WalletId::new(7),
            restriction: CodeRestriction::default(),
            expires_at: 1000,
            used: false,
        }
    }

    #[test]
    fn parses_bare_qr_and_barcode_forms() {
        let bare = "0154742514278159924687548051";
        assert_eq!(ReservationCode::parse(bare).unwrap().expose(), bare);
        assert_eq!(
            ReservationCode::parse(&format!("PAYSERA${bare}"))
                .unwrap()
                .expose(),
            bare
        );
        assert_eq!(
            ReservationCode::parse(&format!("9999{bare}"))
                .unwrap()
                .expose(),
            bare
        );
        assert!(ReservationCode::parse("123").is_none());
        assert!(ReservationCode::parse("015474251427815992468754805a").is_none());
        assert!(format!("{:?}", ReservationCode::parse(bare).unwrap()).contains("****"));
    }

    #[test]
    fn generated_codes_are_28_digits_and_hash_by_key() {
        let c = ReservationCode::generate(&mut StdRng::seed_from_u64(1));
        assert_eq!(ReservationCode::parse(c.expose()), Some(c.clone()));
        assert_eq!(c.keyed_hash(b"k1"), c.keyed_hash(b"k1"));
        assert_ne!(c.keyed_hash(b"k1"), c.keyed_hash(b"k2"));
        assert_eq!(c.keyed_hash(b"k1").len(), 64);
        assert_eq!(c.qr_text(), format!("PAYSERA${}", c.expose()));
        assert_eq!(c.barcode_text(), format!("9999{}", c.expose()));
    }

    #[test]
    fn a_seed_replays_the_same_code_and_every_seed_draws_digits() {
        let code = |seed| ReservationCode::generate(&mut StdRng::seed_from_u64(seed));
        assert_eq!(code(7), code(7));
        assert_ne!(code(7), code(8));
        let mut seen = std::collections::HashSet::new();
        for seed in 0..500 {
            let c = code(seed);
            assert_eq!(ReservationCode::parse(c.expose()).as_ref(), Some(&c));
            seen.insert(c.expose().to_string());
        }
        assert_eq!(seen.len(), 500, "93 bits: no two seeds give the same code");
    }

    #[test]
    fn used_expired_and_restricted_codes_are_refused() {
        assert_eq!(check_use(&record(), 999, &[eur(10)]), Ok(()));
        assert_eq!(
            check_use(&record(), 1000, &[eur(10)]),
            Err(CodeError::Expired)
        );
        assert_eq!(
            check_use(
                &CodeRecord {
                    used: true,
                    ..record()
                },
                0,
                &[]
            ),
            Err(CodeError::Invalid)
        );
        let capped = CodeRecord {
            restriction: CodeRestriction {
                max_amount: Some(eur(5000)),
                currency: None,
            },
            ..record()
        };
        assert_eq!(check_use(&capped, 0, &[eur(3000), eur(2000)]), Ok(()));
        assert!(matches!(
            check_use(&capped, 0, &[eur(3000), eur(2001)]),
            Err(CodeError::RestrictionViolation(_))
        ));
        let usd = Money::new(1, Currency::parse("USD").unwrap());
        assert!(matches!(
            check_use(&capped, 0, &[usd]),
            Err(CodeError::RestrictionViolation(_))
        ));
    }
}
