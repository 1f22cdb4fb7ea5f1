//! Verifying callbacks: what a client's callback endpoint does with the POST it receives.
//!
//! The server POSTs a form with two fields: `event`, the JSON text
//! `{"type": "<status>", "object": "transaction|payment|allowance", "data": {…}}`, and `sign`,
//! base64 of an RSA PKCS#1 v1.5 SHA-256 signature of the exact `event` bytes. The public key is
//! served unauthenticated at `GET {base}/publickey` (PEM). This is the check the official PHP
//! client makes with `openssl_verify`, done with `aws-lc-rs` (the `rsa` crate is avoided:
//! RUSTSEC-2023-0071). It needs no HTTP client, so it works without the `http` feature.
//!
//! ```no_run
//! # fn handle(body: &str, public_key_pem: &str) -> Result<(), wallet_client::callback::Error> {
//! use wallet_client::callback::{parse_form, verify_callback};
//! let form = parse_form(body)?;
//! let event = verify_callback(&form.event, &form.sign, public_key_pem)?;
//! if let Some(t) = event.transaction() {
//!     println!("{} is now {}", t.transaction_key, event.kind);
//! }
//! # Ok(()) }
//! ```
//!
//! Verify before acting, and make the handler idempotent: delivery is at least once, so the same
//! event can arrive twice. Answer 2xx once it is handled; anything else makes the server retry.

use crate::types::{Payment, Transaction};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why a callback was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The form lacks `event` or `sign` (the PHP client's handler throws here too).
    #[error("the callback form has no {0:?} field")]
    MissingField(&'static str),
    /// The form body is not valid `application/x-www-form-urlencoded` UTF-8.
    #[error("the callback form is malformed: {0}")]
    MalformedForm(String),
    /// The public key is not a PEM RSA public key.
    #[error("the public key is unusable: {0}")]
    PublicKey(String),
    /// `sign` is not base64.
    #[error("the signature is not base64")]
    SignatureEncoding,
    /// The signature does not match the event and key: the callback must be ignored.
    #[error("the callback signature is invalid")]
    BadSignature,
    /// Signed correctly, but `event` is not the JSON object a callback carries.
    #[error("the callback event is malformed: {0}")]
    MalformedEvent(String),
}

/// The two fields of a callback form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackForm {
    pub event: String,
    pub sign: String,
}

/// A verified callback event.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackEvent {
    /// `type`: the object's new status (`reserved`, `failed`, `rejected`, `done`, …).
    pub kind: String,
    /// `object`: `transaction`, `payment` or `allowance`.
    pub object: String,
    /// `data`: the object as `GET` returns it.
    pub data: Value,
}

impl CallbackEvent {
    /// `"<object>.<type>"`, the name the PHP client dispatches (`transaction.reserved`).
    pub fn name(&self) -> String {
        format!("{}.{}", self.object, self.kind)
    }

    /// `data` as a transaction, when the event is about one and it decodes.
    pub fn transaction(&self) -> Option<Transaction> {
        (self.object == "transaction")
            .then(|| self.data_as().ok())
            .flatten()
    }

    /// `data` as a payment, when the event is about one and it decodes.
    pub fn payment(&self) -> Option<Payment> {
        (self.object == "payment")
            .then(|| self.data_as().ok())
            .flatten()
    }

    /// `data` decoded into any type (e.g. to read fields this SDK does not model).
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_value(self.data.clone()).map_err(|e| Error::MalformedEvent(e.to_string()))
    }
}

/// Checks `sign` against the exact bytes of `event` with the PEM public key (as served at
/// `GET /publickey`), then parses the event. Nothing in `event` is trusted before the check.
pub fn verify_callback(
    event: &str,
    sign_b64: &str,
    public_key_pem: &str,
) -> Result<CallbackEvent, Error> {
    let spki = public_key_der(public_key_pem)?;
    let signature = B64
        .decode(strip_whitespace(sign_b64))
        .map_err(|_| Error::SignatureEncoding)?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &spki)
        .verify(event.as_bytes(), &signature)
        .map_err(|_| Error::BadSignature)?;
    parse_event(event)
}

/// [`parse_form`] then [`verify_callback`]: the whole check of a received body.
pub fn verify_form(body: &str, public_key_pem: &str) -> Result<CallbackEvent, Error> {
    let form = parse_form(body)?;
    verify_callback(&form.event, &form.sign, public_key_pem)
}

/// Reads `event` and `sign` from an `application/x-www-form-urlencoded` body.
pub fn parse_form(body: &str) -> Result<CallbackForm, Error> {
    let (mut event, mut sign) = (None, None);
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match form_decode(name)?.as_str() {
            "event" => &mut event,
            "sign" => &mut sign,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(form_decode(value)?);
        }
    }
    Ok(CallbackForm {
        event: event.ok_or(Error::MissingField("event"))?,
        sign: sign.ok_or(Error::MissingField("sign"))?,
    })
}

/// One form component: `+` is a space, `%XY` a byte; every `%` must begin such an escape, and the
/// bytes must be UTF-8.
fn form_decode(s: &str) -> Result<String, Error> {
    if let Some(i) = crate::mac::bad_escape(s) {
        return Err(Error::MalformedForm(format!("bad escape at byte {i}")));
    }
    crate::mac::urldecode(s).ok_or_else(|| Error::MalformedForm("not UTF-8".into()))
}

fn strip_whitespace(s: &str) -> String {
    s.chars().filter(|c| !c.is_ascii_whitespace()).collect()
}

/// The DER of a `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) or
/// `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1) PEM; aws-lc-rs accepts either encoding.
fn public_key_der(pem: &str) -> Result<Vec<u8>, Error> {
    for label in ["PUBLIC KEY", "RSA PUBLIC KEY"] {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(start) = pem.find(&begin).map(|i| i + begin.len()) {
            let len = pem[start..]
                .find(&end)
                .ok_or_else(|| Error::PublicKey(format!("{begin} without {end}")))?;
            return B64
                .decode(strip_whitespace(&pem[start..start + len]))
                .map_err(|_| Error::PublicKey("the PEM body is not base64".into()));
        }
    }
    Err(Error::PublicKey(
        "no -----BEGIN PUBLIC KEY----- block".into(),
    ))
}

fn parse_event(event: &str) -> Result<CallbackEvent, Error> {
    let mut value: Value =
        serde_json::from_str(event).map_err(|e| Error::MalformedEvent(e.to_string()))?;
    let field = |value: &mut Value, name: &'static str| -> Result<String, Error> {
        match value.get_mut(name).map(Value::take) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(Error::MalformedEvent(format!("{name} must be a string"))),
        }
    };
    let kind = field(&mut value, "type")?;
    let object = field(&mut value, "object")?;
    let data = value
        .get_mut("data")
        .map(Value::take)
        .filter(Value::is_object)
        .ok_or_else(|| Error::MalformedEvent("data must be an object".into()))?;
    Ok(CallbackEvent { kind, object, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        let f = parse_form("sign=a%2Bb%3D&x=1&event=%7B%22a%22%3A+1%7D").unwrap();
        assert_eq!(f.event, "{\"a\": 1}");
        assert_eq!(f.sign, "a+b=");
        assert_eq!(parse_form("event=x"), Err(Error::MissingField("sign")));
        assert!(matches!(
            parse_form("event=%ZZ&sign=1"),
            Err(Error::MalformedForm(_))
        ));
    }

    #[test]
    fn events_need_type_object_and_data() {
        let e = parse_event(r#"{"type":"failed","object":"transaction","data":{"a":1}}"#).unwrap();
        assert_eq!(e.name(), "transaction.failed");
        assert_eq!(e.data["a"], 1);
        assert!(parse_event(r#"{"type":"failed","object":"transaction"}"#).is_err());
        assert!(parse_event("[]").is_err());
    }

    #[test]
    fn a_key_that_is_not_pem_is_refused() {
        assert!(matches!(
            verify_callback("{}", "AAAA", "not a key"),
            Err(Error::PublicKey(_))
        ));
    }
}
