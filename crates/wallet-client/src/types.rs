//! Wire types of the Wallet API, shared by walletd (which renders them) and the SDK (which reads them).
//!
//! Field names are the spec's. Optional fields are left out when absent, as the PHP client expects;
//! unknown fields in requests are ignored (the PHP client sends some walletd does not use).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;
pub use wallet_core::password::{PasswordKind, PasswordStatus, PaymentPassword};
pub use wallet_core::payment::PriceRules;
pub use wallet_core::{
    AllowanceId, LocationId, PaymentId, PaymentStatus, ProjectId, TransactionKey,
    TransactionStatus, TransactionType, UserId, WalletId,
};

/// Declares a wire struct whose `Option<…>` fields are optional on the wire, as the PHP client
/// expects of every optional field: left out of the JSON when `None`, and `None` when absent.
/// The rule is written here once, as `#[serde(default, skip_serializing_if = "Option::is_none")]`
/// on each such field, instead of above each of some ninety fields. Other fields are declared
/// exactly as serde sees them. Only a type spelled `Option<…>` counts.
macro_rules! wire_struct {
    ($(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        wire_struct!(@fields [
            $(#[$meta])*
            #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
            pub struct $name
        ] [] $($fields)*);
    };
    (@fields [$($head:tt)*] [$($done:tt)*]
        $(#[$field_meta:meta])* pub $field:ident: Option<$inner:ty>, $($rest:tt)*) => {
        wire_struct!(@fields [$($head)*] [$($done)*
            $(#[$field_meta])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub $field: Option<$inner>,
        ] $($rest)*);
    };
    (@fields [$($head:tt)*] [$($done:tt)*]
        $(#[$field_meta:meta])* pub $field:ident: $type:ty, $($rest:tt)*) => {
        wire_struct!(@fields [$($head)*] [$($done)* $(#[$field_meta])* pub $field: $type,] $($rest)*);
    };
    (@fields [$($head:tt)*] [$($done:tt)*]) => {
        $($head)* { $($done)* }
    };
}

mod tokens;
pub use tokens::{OAuthSessionAnswer, OAuthSessionRequest, TokenAnswer, TokenRequest};
mod wallets;
pub use wallets::{
    Account, CurrencyBalance, Metadata, OtherParty, Statement, StatementPage, SufficientAmount,
    Wallet, WalletBalance,
};
mod users;
pub use users::{
    PoliticallyExposedPerson, User, UserAddress, UserIdentity, WalletBarcode, WalletsByContact,
};
#[cfg(feature = "openapi")]
mod schemas;
#[cfg(feature = "openapi")]
pub use schemas::schemas;

/// `callback_uri`: a URI, or `false` to disable callbacks for the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackUri {
    Uri(String),
    Disabled,
}

/// A URI, or `false`.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for CallbackUri {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::Custom("uri".into()))),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .enum_values(Some([false])),
            )
            .description(Some(
                "a callback URI, or false: no callbacks for this transaction",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for CallbackUri {}

impl Serialize for CallbackUri {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CallbackUri::Uri(u) => s.serialize_str(u),
            CallbackUri::Disabled => s.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for CallbackUri {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(CallbackUri::Uri(s)),
            Value::Bool(false) => Ok(CallbackUri::Disabled),
            _ => Err(D::Error::custom("callback_uri must be a string or false")),
        }
    }
}

wire_struct! {
    /// `{for|until}`: a time span as seconds from when it starts, or as the UNIX time it ends.
    /// The spec's `reserve`, `freeze` and `valid` objects all have this shape.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Period {
        #[serde(rename = "for")]
        pub for_seconds: Option<i64>,
        pub until: Option<i64>,
    }
}

/// `reserve{for|until}` of a transaction: seconds from reservation, or a UNIX time.
pub type Reserve = Period;

/// `freeze{for|until}` of a payment.
pub type Freeze = Period;

/// `valid{for|until}` of an allowance: seconds from activation, or a UNIX time.
pub type Valid = Period;

wire_struct! {
    /// A payment as `GET payment/{id}` and every transaction returns it.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Payment {
        pub id: PaymentId,
        pub transaction_key: TransactionKey,
        pub created_at: i64,
        pub status: PaymentStatus,
        /// Minor units.
        pub price: i64,
        pub currency: String,
        /// Decimal form of `price`, always with the currency's decimals (`"50.00"`).
        pub price_decimal: String,
        pub wallet: Option<WalletId>,
        pub confirmed_at: Option<i64>,
        pub freeze: Option<Freeze>,
        pub freeze_for: Option<i64>,
        pub freeze_until: Option<i64>,
        pub description: Option<String>,
        pub parameters: Option<Value>,
        pub price_rules: Option<PriceRules>,
        /// Its transfer (from reservation on): the `transfer_id` of its statement lines.
        pub transfer_id: Option<i64>,
        pub purpose: Option<String>,
        pub beneficiary: Option<Value>,
        /// `{type, status, optional, cancelable}`: never the value.
        pub password: Option<PaymentPassword>,
        pub cancelable: Option<bool>,
    }
}

wire_struct! {
    /// A transaction as `GET transaction/{key}` returns it.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Transaction {
        pub transaction_key: TransactionKey,
        pub created_at: i64,
        pub status: TransactionStatus,
        #[serde(rename = "type")]
        pub kind: Option<TransactionType>,
        pub wallet: Option<WalletId>,
        #[serde(default)]
        pub valid_for_payment_card_debit: bool,
        pub confirmed_at: Option<i64>,
        pub correlation_key: Option<String>,
        pub project_id: Option<ProjectId>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub payments: Vec<Payment>,
        pub allowance: Option<TransactionAllowance>,
        pub reserve: Option<Reserve>,
        pub reserve_until: Option<i64>,
        /// Hours (deprecated flat form).
        pub reserve_for: Option<i64>,
        pub use_allowance: Option<bool>,
        pub suggest_allowance: Option<bool>,
        #[serde(default)]
        pub auto_confirm: bool,
        pub redirect_uri: Option<String>,
        pub callback_uri: Option<CallbackUri>,
        pub user: Option<Value>,
        pub inquiries: Option<Value>,
        pub restrictions: Option<Value>,
        /// The location the client named in the MAC `ext` when creating it, if it named one.
        pub location_id: Option<LocationId>,
        /// The user whose access token created it: the client's manager (a retailer's staff).
        pub manager_id: Option<UserId>,
    }
}

wire_struct! {
    /// A payment to create: inside `POST transaction` or `POST payment`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    pub struct NewPayment {
        pub description: Option<String>,
        /// Minor units; exactly one of `price` and `price_decimal`.
        pub price: Option<i64>,
        pub price_decimal: Option<String>,
        pub currency: String,
        pub parameters: Option<Value>,
        pub price_rules: Option<PriceRules>,
        pub purpose: Option<String>,
        /// A wallet id, `{id}`, `{email}`, `{phone}` or `{barcode}`; the project's wallet when
        /// absent.
        pub beneficiary: Option<Value>,
        /// `{type, value, optional, cancelable}` (the PHP client's payment password).
        pub password: Option<Value>,
        pub freeze: Option<Freeze>,
        pub freeze_for: Option<i64>,
        pub freeze_until: Option<i64>,
    }
}

/// An element of `payments` in `POST transaction`: an existing payment id or a new payment.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentRef {
    Id(PaymentId),
    New(Box<NewPayment>),
}

/// An existing payment's id, or a new payment.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PaymentRef {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::Ref;
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                        utoipa::openapi::schema::KnownFormat::Int64,
                    )))
                    .description(Some("the id of an existing new payment of the project")),
            )
            .item(Ref::from_schema_name("NewPayment"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PaymentRef {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("NewPayment".into(), NewPayment::schema()));
        <NewPayment as utoipa::ToSchema>::schemas(schemas);
    }
}

impl Serialize for PaymentRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PaymentRef::Id(id) => s.serialize_i64(id.get()),
            PaymentRef::New(p) => p.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for PaymentRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .map(|id| PaymentRef::Id(PaymentId::new(id)))
                .ok_or_else(|| D::Error::custom("a payment id must be an integer")),
            v @ Value::Object(_) => serde_json::from_value(v)
                .map(|p| PaymentRef::New(Box::new(p)))
                .map_err(|e| D::Error::custom(format!("payment: {e}"))),
            _ => Err(D::Error::custom(
                "each element of payments must be a payment id or a payment object",
            )),
        }
    }
}

wire_struct! {
    /// Body of `POST transaction`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    pub struct NewTransaction {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub payments: Vec<PaymentRef>,
        pub allowance: Option<AllowanceRef>,
        pub reserve: Option<Reserve>,
        /// Hours (deprecated).
        pub reserve_for: Option<i64>,
        /// UNIX time (deprecated).
        pub reserve_until: Option<i64>,
        pub use_allowance: Option<bool>,
        pub suggest_allowance: Option<bool>,
        pub auto_confirm: Option<bool>,
        pub redirect_uri: Option<String>,
        pub callback_uri: Option<CallbackUri>,
        pub user: Option<Value>,
        pub inquiries: Option<Value>,
        /// `{"account_owner": {"type", "requirements": ["identity"]}}`: who may pay.
        pub restrictions: Option<Value>,
    }
}

wire_struct! {
    /// `limits[]` of an allowance: at most `max_price` (minor units) in any `time` seconds.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct AllowanceLimit {
        pub max_price: i64,
        pub max_price_decimal: Option<String>,
        pub time: i64,
    }
}

wire_struct! {
    /// Body of `POST allowance`, and `data` of an allowance created inside `POST transaction`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct NewAllowance {
        pub description: Option<String>,
        pub currency: String,
        /// Minor units: the most one transaction may total.
        pub max_price: Option<i64>,
        pub max_price_decimal: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub limits: Vec<AllowanceLimit>,
        pub valid: Option<Valid>,
        /// Hours (deprecated flat form).
        pub valid_for: Option<i64>,
        pub valid_until: Option<i64>,
    }
}

wire_struct! {
    /// `allowance` in `POST transaction`: an existing allowance id or a new one, and whether the
    /// holder may leave it out.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct AllowanceRef {
        pub id: Option<AllowanceId>,
        pub data: Option<NewAllowance>,
        pub optional: Option<bool>,
    }
}

wire_struct! {
    /// An allowance as `GET allowance/{id}` returns it.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Allowance {
        pub id: AllowanceId,
        pub transaction_key: TransactionKey,
        pub created_at: i64,
        /// `new`, `active`, `inactive` or `deleted`.
        pub status: String,
        pub currency: String,
        pub wallet: Option<WalletId>,
        pub confirmed_at: Option<i64>,
        pub valid: Option<Valid>,
        pub valid_until: Option<i64>,
        /// Hours (deprecated flat form).
        pub valid_for: Option<i64>,
        pub description: Option<String>,
        pub max_price: Option<i64>,
        pub max_price_decimal: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub limits: Vec<AllowanceLimit>,
    }
}

/// `allowance` of a transaction: `{"optional", "data"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransactionAllowance {
    pub optional: bool,
    pub data: Allowance,
}

/// `GET allowance/limit/{wallet}?currency=`: what may still be reserved by allowance now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllowanceAmount {
    /// Minor units.
    pub amount: i64,
    pub currency: String,
}

/// `GET transaction/{key}/inquired-information`: what the holder gave for the transaction's
/// inquiries (what the PHP client's `decodeInquiryResults` reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InquiredInformation {
    pub items: Vec<InquiryResult>,
}

/// One item the holder gave: a `person_code` (a string) or a `user_identity`
/// (`{name, surname, nationality, code}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InquiryResult {
    pub inquiry_identifier: String,
    pub item_identifier: String,
    /// `user_identity` or `person_code`.
    pub item_type: String,
    pub value: Value,
}

wire_struct! {
    /// Body of `PUT transaction/{key}/reserve` (and `/reserve/{wallet}`).
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    pub struct ReserveRequest {
        pub reservation_code: Option<String>,
        /// Alias of `reservation_code` used by the cash-out guide.
        pub code: Option<String>,
        /// Payment id → selected price in minor units, for payments with `price_rules`.
        pub payment_prices: Option<BTreeMap<String, i64>>,
        pub pin: Option<String>,
        pub revoke_transactions: Option<Vec<String>>,
        /// The PHP client's `WalletIdentifier`: `{"id"}`, `{"email"}` or `{"phone"}` of the payer
        /// (`PUT transaction/{key}/reserve` by allowance or PIN without the wallet in the path).
        pub payer: Option<Value>,
    }
}

wire_struct! {
    /// Body of `PUT transaction/{key}/password`: the password of one payment of the transaction,
    /// which waits for it (`waiting_password`).
    #[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
    pub struct PasswordRequest {
        pub payment_id: Option<PaymentId>,
        pub password: Option<String>,
    }
}

/// Never shows the password.
impl std::fmt::Debug for PasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRequest")
            .field("payment_id", &self.payment_id)
            .finish_non_exhaustive()
    }
}

wire_struct! {
    /// One payment's price in `PUT transaction/{key}/confirm`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ConfirmPrice {
        pub price: Option<i64>,
        pub price_decimal: Option<String>,
        pub currency: String,
    }
}

/// Body of `PUT transaction/{key}/confirm`: payment id → price. Empty, `[]` and `{}` mean "as reserved".
pub type ConfirmPrices = BTreeMap<String, ConfirmPrice>;

/// `GET transactions`: `{"transactions": […], "_metadata": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransactionPage {
    pub transactions: Vec<Transaction>,
    #[serde(rename = "_metadata")]
    pub metadata: Metadata,
}

/// `GET payments`: `{"payments": […], "_metadata": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentPage {
    pub payments: Vec<Payment>,
    #[serde(rename = "_metadata")]
    pub metadata: Metadata,
}

/// `GET transaction/{key}/receipt`: the texts to print for each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    pub text_for_customer: String,
    pub text_for_merchant: String,
}

wire_struct! {
    /// Body of `PUT payment/{id}/freeze`: the PHP client sends `freeze_until` (0 removes the
    /// freeze) or `freeze_for` (hours); the spec's nested `freeze{for,until}` (seconds) is read too.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct FreezeChange {
        pub freeze: Option<Freeze>,
        pub freeze_for: Option<i64>,
        pub freeze_until: Option<i64>,
    }
}

wire_struct! {
    /// Body of `PUT payment/{id}/finalize`: empty, or the final (same or lower) price.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct FinalPrice {
        /// Minor units; or `price_decimal`.
        pub price: Option<i64>,
        pub price_decimal: Option<String>,
        pub currency: String,
    }
}

wire_struct! {
    /// The error body of every non-2xx answer.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ErrorBody {
        pub error: String,
        pub error_description: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_refs_mix_ids_and_objects() {
        let t: NewTransaction = serde_json::from_str(
            r#"{"payments":[2987,{"description":"x","price_decimal":"12.99","currency":"EUR"}],"callback_uri":false}"#,
        )
        .unwrap();
        assert_eq!(t.payments[0], PaymentRef::Id(PaymentId::new(2987)));
        assert!(
            matches!(&t.payments[1], PaymentRef::New(p) if p.price_decimal.as_deref() == Some("12.99"))
        );
        assert_eq!(t.callback_uri, Some(CallbackUri::Disabled));
        assert!(serde_json::from_str::<NewTransaction>(r#"{"payments":["x"]}"#).is_err());
        assert!(serde_json::from_str::<NewTransaction>(r#"{"callback_uri":true}"#).is_err());
        let back = serde_json::to_value(&t).unwrap();
        assert_eq!(back["payments"][0], 2987);
        assert_eq!(back["callback_uri"], false);
    }

    #[test]
    fn reserve_uses_the_keyword_for() {
        let r: Reserve = serde_json::from_str(r#"{"for":300}"#).unwrap();
        assert_eq!(r.for_seconds, Some(300));
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"for":300}"#);
    }
}
