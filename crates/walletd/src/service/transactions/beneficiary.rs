//! A payment's `beneficiary` as a request gives it: a wallet, the project's by default, a person
//! by email or phone (normalized), or a wallet's barcode. Pure; [`super::people`] looks them up.

use crate::error::{ApiError, ApiResult};
use serde_json::{Value, json};
use wallet_core::WalletId;

/// A person named as a payment's beneficiary, normalized: an email lowercased, a phone as `+`
/// and its digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Contact {
    Email(String),
    Phone(String),
}

impl Contact {
    /// `(email, phone)`, one of them set.
    pub(crate) fn parts(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Contact::Email(e) => (Some(e), None),
            Contact::Phone(p) => (None, Some(p)),
        }
    }

    /// The beneficiary as the API shows it: the contact, with the wallet once known.
    pub(crate) fn shown(&self, wallet: Option<WalletId>) -> Value {
        let mut shown = match self {
            Contact::Email(e) => json!({ "email": e }),
            Contact::Phone(p) => json!({ "phone": p }),
        };
        if let Some(w) = wallet {
            shown["id"] = json!(w);
        }
        shown
    }
}

/// A payment's `beneficiary` as the request gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Beneficiary {
    /// None given: the project's own wallet.
    Project,
    Wallet(WalletId),
    Person(Contact),
    /// A wallet's barcode (`GET wallet/barcode`).
    Barcode(String),
}

const SHAPES: &str = "beneficiary must be a wallet id or one of {\"id\": …}, {\"email\": …}, {\"phone\": …}, {\"barcode\": …}";

/// Reads `beneficiary`: absent or null, a bare wallet id, or an object with exactly one of
/// `id`, `email`, `phone`, `barcode` (what the PHP client's `encodeWalletIdentifier` sends).
pub(crate) fn parse_beneficiary(v: Option<&Value>) -> ApiResult<Beneficiary> {
    let o = match v {
        None | Some(Value::Null) => return Ok(Beneficiary::Project),
        Some(Value::Number(n)) => {
            return wallet_id(n.as_i64()).map(Beneficiary::Wallet);
        }
        Some(Value::Object(o)) if o.len() == 1 => o,
        Some(_) => return Err(ApiError::invalid(SHAPES)),
    };
    let (name, value) = o.iter().next().expect("one entry");
    let text = || {
        value
            .as_str()
            .ok_or_else(|| ApiError::invalid(format!("beneficiary.{name} must be a string")))
    };
    match name.as_str() {
        "id" => wallet_id(value.as_i64()).map(Beneficiary::Wallet),
        "email" => Ok(Beneficiary::Person(Contact::Email(normalize_email(
            text()?
        )?))),
        "phone" => Ok(Beneficiary::Person(Contact::Phone(normalize_phone(
            text()?
        )?))),
        "barcode" => {
            let code = text()?.trim();
            if code.is_empty() || code.len() > 64 {
                return Err(ApiError::invalid(
                    "beneficiary.barcode must be 1 to 64 characters",
                ));
            }
            Ok(Beneficiary::Barcode(code.to_string()))
        }
        _ => Err(ApiError::invalid(SHAPES)),
    }
}

fn wallet_id(id: Option<i64>) -> ApiResult<WalletId> {
    id.filter(|id| *id > 0)
        .map(WalletId::new)
        .ok_or_else(|| ApiError::invalid("beneficiary.id must be a wallet id (a positive integer)"))
}

/// An email address, trimmed and lowercased: one `@` with text on both sides, no spaces, at
/// most 254 characters.
pub(crate) fn normalize_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !ok {
        return Err(ApiError::invalid(format!(
            "{email:?} is not an email address"
        )));
    }
    Ok(email)
}

/// A phone number in international form: an optional `+`, then 8 to 15 digits (spaces, dashes
/// and parentheses are dropped); answered as `+` and the digits.
pub(crate) fn normalize_phone(phone: &str) -> ApiResult<String> {
    let trimmed = phone.trim();
    let rest = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let digits: String = rest
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    if !(8..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid(format!(
            "{phone:?} is not a phone number in international form (e.g. +37060000001)"
        )));
    }
    Ok(format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beneficiaries_take_the_clients_shapes() {
        let parse = |v: Value| parse_beneficiary(Some(&v));
        assert_eq!(
            parse(json!(7)).unwrap(),
            Beneficiary::Wallet(WalletId::new(7))
        );
        assert_eq!(
            parse(json!({"id": 7})).unwrap(),
            Beneficiary::Wallet(WalletId::new(7))
        );
        assert_eq!(
            parse(json!({"email": " Ann@Example.COM "})).unwrap(),
            Beneficiary::Person(Contact::Email("ann@example.com".into()))
        );
        assert_eq!(
            parse(json!({"phone": "370 600-00001"})).unwrap(),
            Beneficiary::Person(Contact::Phone("+37060000001".into()))
        );
        assert_eq!(
            parse(json!({"barcode": "123"})).unwrap(),
            Beneficiary::Barcode("123".into())
        );
        assert_eq!(parse_beneficiary(None).unwrap(), Beneficiary::Project);
    }

    #[test]
    fn malformed_beneficiaries_are_refused() {
        for bad in [
            json!({}),
            json!({"id": 1, "email": "a@b.c"}),
            json!({"name": "Ann"}),
            json!({"id": "7"}),
            json!({"id": -1}),
            json!({"email": 5}),
            json!({"email": "not-an-address"}),
            json!({"email": "a@b"}),
            json!({"phone": "12"}),
            json!({"phone": "+3706000000x"}),
            json!({"barcode": ""}),
            json!("ann@example.com"),
            json!([1]),
        ] {
            let e = parse_beneficiary(Some(&bad)).unwrap_err();
            assert!(matches!(e, ApiError::InvalidRequest(_)), "{bad}: {e:?}");
        }
    }
}
