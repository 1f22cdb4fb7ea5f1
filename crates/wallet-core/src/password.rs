//! Payment passwords (the PHP client's `password{type,value,optional,cancelable}`): a payment
//! whose money the beneficiary gets only once its password is given, by the client or by the
//! beneficiary on walletd's pages. Only the public part lives here; the value is kept as a hash.

use serde::{Deserialize, Serialize};

/// Who chose the password: the client (`provided`, with a value), or the server (`generated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PasswordKind {
    Provided,
    Generated,
}

/// Where a payment's password is: not asked (`disabled`), awaited (`pending`), given (`unlocked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PasswordStatus {
    Disabled,
    Pending,
    Unlocked,
}

/// A payment's password as stored with the payment and shown: never its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentPassword {
    #[serde(rename = "type")]
    pub kind: PasswordKind,
    pub status: PasswordStatus,
    /// The payment does not wait for it: an optional password is never asked (`disabled`).
    pub optional: bool,
    /// While it is awaited, the client may cancel the payment alone (its hold released).
    pub cancelable: bool,
}

impl PaymentPassword {
    /// A new payment's password: awaited, unless it is optional.
    pub fn new(kind: PasswordKind, optional: bool, cancelable: bool) -> PaymentPassword {
        let status = match optional {
            true => PasswordStatus::Disabled,
            false => PasswordStatus::Pending,
        };
        PaymentPassword {
            kind,
            status,
            optional,
            cancelable,
        }
    }

    /// Whether the payment's money waits for this password.
    pub fn awaited(&self) -> bool {
        self.status == PasswordStatus::Pending
    }

    /// The password given: the payment waits for it no more.
    pub fn unlocked(self) -> PaymentPassword {
        PaymentPassword {
            status: PasswordStatus::Unlocked,
            ..self
        }
    }

    /// The password of a copy of the payment (a renewed transaction): awaited again.
    pub fn renewed(self) -> PaymentPassword {
        PaymentPassword::new(self.kind, self.optional, self.cancelable)
    }

    /// Whether the client may cancel the payment alone now: its password is awaited and it was
    /// created `cancelable`.
    pub fn cancelable_now(&self) -> bool {
        self.awaited() && self.cancelable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_password_is_never_awaited() {
        let p = PaymentPassword::new(PasswordKind::Provided, true, true);
        assert_eq!(p.status, PasswordStatus::Disabled);
        assert!(!p.awaited());
        assert!(!p.cancelable_now());
    }

    #[test]
    fn a_password_is_awaited_until_given_and_again_in_a_copy() {
        let p = PaymentPassword::new(PasswordKind::Provided, false, true);
        assert!(p.awaited() && p.cancelable_now());
        let given = p.unlocked();
        assert_eq!(given.status, PasswordStatus::Unlocked);
        assert!(!given.awaited() && !given.cancelable_now());
        assert_eq!(given.renewed(), p);
        let fixed = PaymentPassword::new(PasswordKind::Provided, false, false);
        assert!(fixed.awaited() && !fixed.cancelable_now());
    }

    #[test]
    fn shown_in_the_clients_words() {
        let p = PaymentPassword::new(PasswordKind::Provided, false, true);
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(
            text,
            r#"{"type":"provided","status":"pending","optional":false,"cancelable":true}"#
        );
        assert_eq!(serde_json::from_str::<PaymentPassword>(&text).unwrap(), p);
    }
}
