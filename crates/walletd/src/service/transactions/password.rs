//! A payment's `password{type,value,optional,cancelable}` as a request gives it (pure: read and
//! checked before anything is written), and as a payment row shows it (`password_json`). The
//! operations that give a password are in [`super::unlock`].

use crate::error::{ApiError, ApiResult};
use serde_json::Value;
use wallet_client::types::PaymentRef;
use wallet_core::password::{PasswordKind, PaymentPassword};
use wallet_store::PaymentRow;

/// Longest password walletd accepts, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A payment's password as requested: what is shown, and the value to keep as a hash (none for an
/// optional password, which is never asked).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordDraft {
    pub shown: PaymentPassword,
    pub value: Option<String>,
}

const SHAPE: &str = "password must be an object {\"type\": \"provided\", \"value\": …, \"optional\": bool, \"cancelable\": bool}";

fn flag(o: &serde_json::Map<String, Value>, name: &str) -> ApiResult<bool> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::invalid(format!(
            "password.{name} must be true or false"
        ))),
    }
}

/// Reads a payment's `password`: absent or null, or an object of `type` `provided` with a string
/// `value`, and optional booleans `optional` and `cancelable`. `status` is read-only; `generated`
/// is refused (walletd has no way to hand a generated password to anyone).
pub fn parse_password(v: Option<&Value>) -> ApiResult<Option<PasswordDraft>> {
    let o = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(ApiError::invalid(SHAPE)),
    };
    if let Some(field) = o
        .keys()
        .find(|k| !matches!(k.as_str(), "type" | "value" | "optional" | "cancelable"))
    {
        return Err(ApiError::invalid(match field.as_str() {
            "status" => {
                "password.status is read-only: it shows whether the password was given".to_string()
            }
            other => format!("password has an unknown field {other:?}; {SHAPE}"),
        }));
    }
    let kind = match o.get("type").and_then(Value::as_str) {
        Some("provided") => PasswordKind::Provided,
        Some("generated") => {
            return Err(ApiError::invalid(
                "password.type generated is not supported: walletd generates no payment passwords; send type provided with a value",
            ));
        }
        _ => {
            return Err(ApiError::invalid(
                "password.type is required and must be \"provided\"",
            ));
        }
    };
    let value = match o.get("value") {
        Some(Value::String(s)) => check_value(s, "password.value")?,
        _ => {
            return Err(ApiError::invalid(
                "password.value is required with type provided and must be a string",
            ));
        }
    };
    let (optional, cancelable) = (flag(o, "optional")?, flag(o, "cancelable")?);
    let shown = PaymentPassword::new(kind, optional, cancelable);
    Ok(Some(PasswordDraft {
        value: shown.awaited().then_some(value),
        shown,
    }))
}

/// A password's value as given (on creation or to unlock a payment): 1 to
/// [`MAX_PASSWORD_CHARS`] characters, kept exactly as sent.
pub fn check_value(s: &str, field: &str) -> ApiResult<String> {
    let n = s.chars().count();
    if n == 0 || n > MAX_PASSWORD_CHARS {
        return Err(ApiError::invalid(format!(
            "{field} must be 1 to {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(s.to_string())
}

/// The hashes of the passwords of `POST transaction`'s inline payments, by position (none for a
/// payment id, or a payment without an awaited password): hashed before the database
/// transaction opens, off the async threads, so that no lock waits for Argon2.
pub async fn hash_passwords(payments: &[PaymentRef]) -> ApiResult<Vec<Option<String>>> {
    let mut values = Vec::with_capacity(payments.len());
    for (i, p) in payments.iter().enumerate() {
        let value = match p {
            PaymentRef::New(p) => parse_password(p.password.as_ref())
                .map_err(|e| e.prefixed(&format!("payments[{i}]: ")))?
                .and_then(|d| d.value),
            PaymentRef::Id(_) => None,
        };
        values.push(value);
    }
    if values.iter().all(Option::is_none) {
        return Ok(values.into_iter().map(|_| None).collect());
    }
    tokio::task::spawn_blocking(move || {
        values
            .into_iter()
            .map(|v| v.map(|v| crate::credentials::hash_secret(&v)).transpose())
            .collect()
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
}

/// A payment row's password, if it has one.
pub(crate) fn password_of(p: &PaymentRow) -> Option<PaymentPassword> {
    p.password_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
}

/// Whether payment `p`'s money still waits for its password.
pub(crate) fn awaits_password(p: &PaymentRow) -> bool {
    password_of(p).is_some_and(|pw| pw.awaited())
}

/// The text of `password_json` for a password.
pub(crate) fn stored(p: &PaymentPassword) -> String {
    serde_json::to_string(p).expect("a password serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(v: Value) -> ApiResult<Option<PasswordDraft>> {
        parse_password(Some(&v))
    }

    #[test]
    fn a_provided_password_is_kept_to_hash_unless_optional() {
        let d = parsed(json!({"type": "provided", "value": "s3cret", "cancelable": true}))
            .unwrap()
            .expect("a password");
        assert_eq!(d.value.as_deref(), Some("s3cret"));
        assert!(d.shown.awaited() && d.shown.cancelable);
        let d = parsed(json!({"type": "provided", "value": "s3cret", "optional": true}))
            .unwrap()
            .unwrap();
        assert_eq!(d.value, None);
        assert!(!d.shown.awaited());
        assert!(parse_password(None).unwrap().is_none());
        assert!(parsed(Value::Null).unwrap().is_none());
    }

    #[test]
    fn bad_shapes_are_refused() {
        for bad in [
            json!("s3cret"),
            json!({}),
            json!({"type": "provided"}),
            json!({"type": "provided", "value": ""}),
            json!({"type": "provided", "value": 1234}),
            json!({"type": "provided", "value": "x".repeat(MAX_PASSWORD_CHARS + 1)}),
            json!({"type": "generated"}),
            json!({"type": "other", "value": "x"}),
            json!({"type": "provided", "value": "x", "optional": "yes"}),
            json!({"type": "provided", "value": "x", "status": "unlocked"}),
            json!({"type": "provided", "value": "x", "hint": "y"}),
        ] {
            assert!(
                matches!(parsed(bad.clone()), Err(ApiError::InvalidRequest(_))),
                "{bad}"
            );
        }
    }
}
