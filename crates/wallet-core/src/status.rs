//! Statuses and types in the spec's own words, and the transaction state machine.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        /// The spec's spellings (utoipa's derive does not see a `rename` a macro passes it).
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            /// The spec's spelling, as stored and sent.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+ _ => Err(UnknownValue(s.to_string())) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// A status or type string that is not one of the spec's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

/// [`TransactionStatus`] and [`PaymentStatus`] from one list of the statuses they share, so that
/// they cannot drift apart: a payment follows its transaction up to `confirmed`, then has two
/// statuses of its own. The `From` conversion is generated from the same list.
macro_rules! statuses {
    (
        shared { $($variant:ident => $text:literal),+ $(,)? }
        $(#[$transaction_meta:meta])* $transaction:ident;
        $(#[$payment_meta:meta])* $payment:ident { $($own:ident => $own_text:literal),+ $(,)? }
    ) => {
        string_enum!($(#[$transaction_meta])* $transaction { $($variant => $text),+ });
        string_enum!($(#[$payment_meta])* $payment { $($variant => $text,)+ $($own => $own_text),+ });

        impl From<$transaction> for $payment {
            fn from(s: $transaction) -> Self {
                match s { $($transaction::$variant => $payment::$variant),+ }
            }
        }
    };
}

statuses!(
    shared {
        New => "new",
        Waiting => "waiting",
        WaitingFunds => "waiting_funds",
        WaitingRegistration => "waiting_registration",
        WaitingPassword => "waiting_password",
        Reserved => "reserved",
        Confirmed => "confirmed",
        Revoked => "revoked",
        Rejected => "rejected",
        Failed => "failed",
        Deleted => "deleted",
    }
    /// Status of a transaction (`transactions.txt`, "Meaning of transaction status codes").
    TransactionStatus;
    /// Status of a payment: the transaction's status up to `confirmed`, then `done` or `canceled`.
    PaymentStatus {
        Done => "done",
        Canceled => "canceled",
    }
);

string_enum!(
    /// How the confirmation was presented to the wallet holder (the transaction's `type`).
    TransactionType {
        Automatic => "automatic",
        Page => "page",
        Flash => "flash",
        UserInitiated => "user_initiated",
        Pin => "pin",
        ReservationCode => "reservation_code",
        MobileApp => "mobile_app",
    }
);

/// Something that happens to a transaction; the state machine says where it leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Funds were reserved (code, PIN, allowance, or the holder accepting).
    Reserve,
    /// Funds were reserved, but a payment's beneficiary (an email or phone) belongs to nobody
    /// yet: the transaction waits for that person to register.
    AwaitRegistration,
    /// Funds were reserved (or the last beneficiary registered), but a payment's password is
    /// still to be given.
    AwaitPassword,
    /// What a held transaction waited for happened: every beneficiary registered, every
    /// password was given.
    Unblock,
    /// The client confirmed the reserved transaction.
    Confirm,
    /// The client revoked (`DELETE transaction/{key}`).
    Revoke,
    /// The reservation deadline passed.
    Expire,
    /// A `new` transaction reached its age limit.
    Age,
}

impl Event {
    /// Where holding the funds (`Reserve`) or the end of a wait (`Unblock`) leads while
    /// something is still awaited: a beneficiary's registration first, then a password (a
    /// password is asked once every beneficiary is known).
    pub fn unless_awaiting(self, registration: bool, password: bool) -> Event {
        match (registration, password) {
            (true, _) => Event::AwaitRegistration,
            (false, true) => Event::AwaitPassword,
            (false, false) => self,
        }
    }

    /// Every event, for checks that try them all.
    pub const ALL: [Event; 8] = [
        Event::Reserve,
        Event::AwaitRegistration,
        Event::AwaitPassword,
        Event::Unblock,
        Event::Confirm,
        Event::Revoke,
        Event::Expire,
        Event::Age,
    ];
}

/// A transition the current status does not allow: `invalid_state` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("transaction is {from}; it cannot be {}", event_verb(*.event))]
pub struct InvalidTransition {
    pub from: TransactionStatus,
    pub event: Event,
}

fn event_verb(e: Event) -> &'static str {
    match e {
        Event::Reserve | Event::Unblock => "reserved",
        Event::AwaitRegistration => "left waiting for registration",
        Event::AwaitPassword => "left waiting for a password",
        Event::Confirm => "confirmed",
        Event::Revoke => "revoked",
        Event::Expire => "expired",
        Event::Age => "deleted by age",
    }
}

impl TransactionStatus {
    /// Whether money is held for this transaction in this status.
    pub fn holds_funds(self) -> bool {
        matches!(
            self,
            TransactionStatus::Reserved
                | TransactionStatus::WaitingRegistration
                | TransactionStatus::WaitingPassword
        )
    }

    /// Whether nothing can happen to the transaction any more (renew creates a new one).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TransactionStatus::Confirmed
                | TransactionStatus::Revoked
                | TransactionStatus::Rejected
                | TransactionStatus::Failed
                | TransactionStatus::Deleted
        )
    }

    /// The state machine of `DESIGN.md` "Status flow": where `event` leads from `self`.
    pub fn apply(self, event: Event) -> Result<TransactionStatus, InvalidTransition> {
        use TransactionStatus as S;
        let to = match (self, event) {
            (S::New | S::Waiting | S::WaitingFunds, Event::Reserve) => S::Reserved,
            (S::New | S::Waiting | S::WaitingFunds, Event::AwaitRegistration) => {
                S::WaitingRegistration
            }
            (
                S::New | S::Waiting | S::WaitingFunds | S::WaitingRegistration,
                Event::AwaitPassword,
            ) => S::WaitingPassword,
            (S::WaitingRegistration | S::WaitingPassword, Event::Unblock) => S::Reserved,
            (S::Reserved, Event::Confirm) => S::Confirmed,
            (S::New, Event::Revoke) => S::Deleted,
            (
                S::Waiting
                | S::WaitingFunds
                | S::WaitingRegistration
                | S::WaitingPassword
                | S::Reserved,
                Event::Revoke,
            ) => S::Revoked,
            (
                S::Reserved
                | S::WaitingRegistration
                | S::WaitingPassword
                | S::Waiting
                | S::WaitingFunds,
                Event::Expire,
            ) => S::Failed,
            (S::New, Event::Age) => S::Deleted,
            (from, event) => return Err(InvalidTransition { from, event }),
        };
        Ok(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TransactionStatus as S;

    #[test]
    fn strings_round_trip() {
        for s in S::ALL {
            assert_eq!(s.as_str().parse::<S>(), Ok(*s));
        }
        for s in PaymentStatus::ALL {
            assert_eq!(s.as_str().parse::<PaymentStatus>(), Ok(*s));
        }
        assert!("bogus".parse::<S>().is_err());
    }

    #[test]
    fn the_cash_out_path() {
        assert_eq!(S::New.apply(Event::Reserve), Ok(S::Reserved));
        assert_eq!(S::Reserved.apply(Event::Confirm), Ok(S::Confirmed));
    }

    #[test]
    fn a_held_wait_for_people_ends_reserved_or_released() {
        assert_eq!(
            S::New.apply(Event::AwaitRegistration),
            Ok(S::WaitingRegistration)
        );
        assert_eq!(
            S::WaitingRegistration.apply(Event::AwaitPassword),
            Ok(S::WaitingPassword)
        );
        for s in [S::WaitingRegistration, S::WaitingPassword] {
            assert!(s.holds_funds());
            assert_eq!(s.apply(Event::Unblock), Ok(S::Reserved));
            assert_eq!(s.apply(Event::Revoke), Ok(S::Revoked));
            assert_eq!(s.apply(Event::Expire), Ok(S::Failed));
            assert!(s.apply(Event::Confirm).is_err());
            assert!(s.apply(Event::Reserve).is_err());
        }
        assert!(S::Reserved.apply(Event::Unblock).is_err());
        assert!(S::Reserved.apply(Event::AwaitRegistration).is_err());
    }

    #[test]
    fn registration_is_awaited_before_a_password() {
        let held = |registration, password| {
            S::New.apply(Event::Reserve.unless_awaiting(registration, password))
        };
        assert_eq!(held(false, false), Ok(S::Reserved));
        assert_eq!(held(true, false), Ok(S::WaitingRegistration));
        assert_eq!(held(true, true), Ok(S::WaitingRegistration));
        assert_eq!(held(false, true), Ok(S::WaitingPassword));
        // The last beneficiary registered: on to the password, or reserved.
        let registered = |password| {
            S::WaitingRegistration.apply(Event::Unblock.unless_awaiting(false, password))
        };
        assert_eq!(registered(true), Ok(S::WaitingPassword));
        assert_eq!(registered(false), Ok(S::Reserved));
        // Every password given.
        assert_eq!(
            S::WaitingPassword.apply(Event::Unblock.unless_awaiting(false, false)),
            Ok(S::Reserved)
        );
        assert!(S::WaitingPassword.apply(Event::AwaitPassword).is_err());
        assert!(S::WaitingPassword.apply(Event::AwaitRegistration).is_err());
        assert!(S::Reserved.apply(Event::AwaitPassword).is_err());
    }

    #[test]
    fn revoke_deletes_new_and_revokes_held() {
        assert_eq!(S::New.apply(Event::Revoke), Ok(S::Deleted));
        assert_eq!(S::Reserved.apply(Event::Revoke), Ok(S::Revoked));
        assert_eq!(S::Waiting.apply(Event::Revoke), Ok(S::Revoked));
    }

    #[test]
    fn final_states_accept_nothing() {
        for s in S::ALL.iter().filter(|s| s.is_final()) {
            for e in Event::ALL {
                assert!(s.apply(e).is_err(), "{s} accepted {e:?}");
            }
        }
    }

    #[test]
    fn only_reserved_confirms_and_only_new_ages() {
        for s in S::ALL {
            assert_eq!(s.apply(Event::Confirm).is_ok(), *s == S::Reserved);
            assert_eq!(s.apply(Event::Age).is_ok(), *s == S::New);
        }
        assert_eq!(
            S::New.apply(Event::Confirm).unwrap_err().to_string(),
            "transaction is new; it cannot be confirmed"
        );
    }
}
