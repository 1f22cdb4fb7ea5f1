//! Rows of transactions and payments, decoded into domain types.

use crate::Result;
use crate::db::{self, Cols};
use wallet_core::reserve::ReserveSpec;
use wallet_core::{
    ClientId, Currency, HoldId, LocationId, PaymentId, PaymentStatus, ProjectId, TransactionKey,
    TransactionStatus, TransactionType, UserId, WalletId,
};

db::row_type! {
    columns = "transaction_key, project_id, client_id, status, kind, wallet_id, created_at, confirmed_at, reserve_for, reserve_until, reserve_flat, reserved_until, use_allowance, suggest_allowance, auto_confirm, redirect_uri, callback_uri, callbacks_disabled, user_json, inquiries_json, restrictions_json, correlation_key, manager_id, location_id";
    /// A stored transaction.
    #[derive(Debug, Clone, PartialEq)]
    pub struct TransactionRow {
        pub transaction_key: TransactionKey,
        pub project_id: ProjectId,
        pub client_id: ClientId,
        pub status: TransactionStatus,
        pub kind: Option<TransactionType>,
        pub wallet_id: Option<WalletId>,
        pub created_at: i64,
        pub confirmed_at: Option<i64>,
        /// Stored as `reserve_for`, `reserve_until` and `reserve_flat`.
        pub reserve: ReserveSpec = reserve_spec,
        /// The deadline, set when funds were reserved.
        pub reserved_until: Option<i64>,
        pub use_allowance: bool,
        pub suggest_allowance: bool,
        pub auto_confirm: bool,
        pub redirect_uri: Option<String>,
        pub callback_uri: Option<String>,
        pub callbacks_disabled: bool,
        pub user_json: Option<String>,
        pub inquiries_json: Option<String>,
        /// `restrictions` as given at creation (checked against the payer at reservation).
        pub restrictions_json: Option<String>,
        /// Shown to the holder with a FLASH SMS while the transaction is `waiting`.
        pub correlation_key: Option<String>,
        /// The holder whose access token created it (the client's manager), if one did.
        pub manager_id: Option<UserId>,
        /// The location the client named when creating it (MAC `ext` `location_id`).
        pub location_id: Option<LocationId>,
    }
}

impl TransactionRow {
    /// The mutable part of the row.
    pub fn state(&self) -> TransactionState {
        TransactionState {
            status: self.status,
            kind: self.kind,
            wallet_id: self.wallet_id,
            reserved_until: self.reserved_until,
            confirmed_at: self.confirmed_at,
        }
    }
}

/// The part of a transaction that changes as it moves through its statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionState {
    pub status: TransactionStatus,
    pub kind: Option<TransactionType>,
    pub wallet_id: Option<WalletId>,
    pub reserved_until: Option<i64>,
    pub confirmed_at: Option<i64>,
}

impl TransactionState {
    /// `t` as it is once this state is written: what a read after the write answers.
    pub fn applied_to(&self, t: &TransactionRow) -> TransactionRow {
        TransactionRow {
            status: self.status,
            kind: self.kind,
            wallet_id: self.wallet_id,
            reserved_until: self.reserved_until,
            confirmed_at: self.confirmed_at,
            ..t.clone()
        }
    }
}

/// A payment's new state, as [`crate::Tx::update_payment`] writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentChange {
    pub id: PaymentId,
    pub status: PaymentStatus,
    pub price: i64,
    pub payer_wallet_id: Option<WalletId>,
    pub hold_id: Option<HoldId>,
    pub confirmed_at: Option<i64>,
}

impl PaymentChange {
    /// `p` as it is once this change is written: what a read after the write answers.
    pub fn applied_to(&self, p: &PaymentRow) -> PaymentRow {
        PaymentRow {
            status: self.status,
            price: self.price,
            payer_wallet_id: self.payer_wallet_id,
            hold_id: self.hold_id,
            confirmed_at: self.confirmed_at,
            ..p.clone()
        }
    }
}

/// What is needed to insert a transaction.
pub type NewTransactionRow = TransactionRow;

db::row_and_new! {
    /// A stored payment.
    #[derive(Debug, Clone, PartialEq)]
    pub struct PaymentRow {
        #[stored = id]
        pub id: PaymentId,
        pub transaction_key: TransactionKey,
        pub project_id: ProjectId,
        #[stored = PaymentStatus::New]
        pub status: PaymentStatus,
        pub price: i64,
        pub currency: Currency,
        pub description: Option<String>,
        pub parameters: Option<String>,
        pub price_rules: Option<String>,
        pub purpose: Option<String>,
        pub beneficiary_wallet_id: WalletId,
        pub beneficiary_json: Option<String>,
        /// The password's public part as shown (`wallet_core::password::PaymentPassword`), if
        /// the payment has one; its value is hashed in `payment_passwords`.
        pub password_json: Option<String>,
        #[stored = None]
        pub payer_wallet_id: Option<WalletId>,
        pub freeze_for: Option<i64>,
        pub freeze_until: Option<i64>,
        #[stored = None]
        pub hold_id: Option<HoldId>,
        pub created_at: i64,
        #[stored = None]
        pub confirmed_at: Option<i64>,
    }
    /// What is needed to insert a payment (`id` is assigned by the database); stored as a new
    /// payment, with no payer yet.
    #[derive(Debug, Clone, PartialEq)]
    pub struct NewPaymentRow;
    fn stored_as(id: PaymentId);
}

/// How a transaction's funds are reserved: for a while, until a time, or as by default.
fn reserve_spec(c: &Cols<'_>) -> Result<ReserveSpec> {
    let flat = c.flag("reserve_flat")?;
    Ok(match (c.get("reserve_for")?, c.get("reserve_until")?) {
        (Some(seconds), _) => ReserveSpec::For { seconds, flat },
        (None, Some(at)) => ReserveSpec::Until { at, flat },
        (None, None) => ReserveSpec::Default,
    })
}
