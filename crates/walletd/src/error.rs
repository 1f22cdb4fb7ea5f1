//! The one error type of the API, mapped once to HTTP status and the spec's error code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wallet_client::types::ErrorBody;
use wallet_core::codes::CodeError;
use wallet_core::ids::TransactionKey;
use wallet_core::money::MoneyError;
use wallet_core::payment::PriceError;
use wallet_core::reserve::ReserveError;
use wallet_core::status::InvalidTransition;
use wallet_store::StoreError;

/// Everything a call can answer instead of success. The description is shown to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    NotEnoughFunds(String),
    #[error("{0}")]
    InvalidCode(String),
    #[error("{0}")]
    CodeExpired(String),
    #[error("{0}")]
    CodeRestrictionViolation(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    PayerAccountInactive(String),
    #[error("{0}")]
    BeneficiaryAccountInactive(String),
    #[error("{0}")]
    PaymentToSameAccount(String),
    #[error("{0}")]
    RateLimitExceeded(String),
    #[error("{0}")]
    UserErrorLimitExceeded(String),
    #[error("{0}")]
    NoActiveAllowance(String),
    #[error("{0}")]
    AllowanceExceeded(String),
    #[error("{0}")]
    LimitViolation(String),
    #[error("{0}")]
    LimitsExceeded(String),
    #[error("{0}")]
    RestrictionLimitsExceeded(String),
    #[error("{0}")]
    NoRights(String),
    #[error("{0}")]
    RestrictionViolation(String),
    #[error("{0}")]
    ClientNotVerified(String),
    #[error("{0}")]
    ClientRestricted(String),
    #[error("{0}")]
    PhoneNotConfirmed(String),
    #[error("{0}")]
    InvalidGrant(String),
    /// A token's scope asked wider than allowed, or unknown (RFC 6749 §5.2).
    #[error("{0}")]
    InvalidScope(String),
    /// A request body over the limit (413).
    #[error("{0}")]
    BodyTooLarge(String),
    /// A request body that did not arrive in time (408).
    #[error("{0}")]
    BodyTooSlow(String),
    /// No answer within the request timeout (503).
    #[error("{0}")]
    TookTooLong(String),
    #[error("the service is overloaded; retry later")]
    Unavailable,
    #[error("internal server error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// The spec's error code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_) => "invalid_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "invalid_request",
            ApiError::InvalidState(_) => "invalid_state",
            ApiError::NotEnoughFunds(_) => "not_enough_funds",
            ApiError::InvalidCode(_) => "invalid_code",
            ApiError::CodeExpired(_) => "code_expired",
            ApiError::CodeRestrictionViolation(_) => "code_restriction_violation",
            ApiError::UnsupportedGrantType(_) => "unsupported_grant_type",
            ApiError::PayerAccountInactive(_) => "payer_account_inactive",
            ApiError::BeneficiaryAccountInactive(_) => "beneficiary_account_inactive",
            ApiError::PaymentToSameAccount(_) => "payment_to_same_account",
            ApiError::RateLimitExceeded(_) => "rate_limit_exceeded",
            ApiError::UserErrorLimitExceeded(_) => "user_error_limit_exceeded",
            ApiError::NoActiveAllowance(_) => "no_active_allowance",
            ApiError::AllowanceExceeded(_) => "allowance_exceeded",
            ApiError::LimitViolation(_) => "limit_violation",
            ApiError::LimitsExceeded(_) => "limits_exceeded",
            ApiError::RestrictionLimitsExceeded(_) => "restriction_limits_exceeded",
            ApiError::NoRights(_) => "no_rights",
            ApiError::RestrictionViolation(_) => "restriction_violation",
            ApiError::ClientNotVerified(_) => "client_not_verified",
            ApiError::ClientRestricted(_) => "client_restricted",
            ApiError::PhoneNotConfirmed(_) => "phone_not_confirmed",
            ApiError::InvalidGrant(_) => "invalid_grant",
            ApiError::InvalidScope(_) => "invalid_scope",
            ApiError::BodyTooLarge(_) | ApiError::BodyTooSlow(_) => "invalid_request",
            ApiError::TookTooLong(_) | ApiError::Unavailable => "temporarily_unavailable",
            ApiError::Internal(_) => "internal_server_error",
        }
    }

    /// The HTTP status. 502 is never used: the PHP client retries it, which could act twice.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RateLimitExceeded(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::TookTooLong(_) | ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        ApiError::InvalidRequest(msg.into())
    }

    /// An `invalid_request` or `invalid_state` whose description starts with `prefix` (which
    /// part of the request it is about, e.g. `payments[2]: `); any other error as it is.
    pub fn prefixed(self, prefix: &str) -> Self {
        match self {
            ApiError::InvalidRequest(m) => ApiError::InvalidRequest(format!("{prefix}{m}")),
            ApiError::InvalidState(m) => ApiError::InvalidState(format!("{prefix}{m}")),
            other => other,
        }
    }

    pub fn not_found_transaction(key: &TransactionKey) -> Self {
        ApiError::NotFound(format!("transaction {key:?} was not found"))
    }
}

/// The error code of an error answer, in the response's extensions: the request's log line
/// names it (`http::observe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let body = ErrorBody {
            error: self.code().to_string(),
            error_description: Some(self.to_string()),
        };
        self.counted((self.status(), Json(body)).into_response())
    }
}

impl ApiError {
    /// `response`, the answer of this error (JSON here, a page in `web`), counted by its code
    /// and marked with it for the request's log line.
    pub fn counted(&self, mut response: Response) -> Response {
        let code = self.code();
        crate::telemetry::api_error(code);
        response.extensions_mut().insert(ErrorCode(code));
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if matches!(e, StoreError::ReusedNonce) {
            ApiError::Unauthorized("reused nonce: this request was already received".into())
        } else if matches!(e, StoreError::AnsweredMeanwhile) {
            ApiError::invalid("a request with this Idempotency-Key was answered meanwhile")
        } else if let StoreError::NotEnoughFunds(currency) = &e {
            ApiError::NotEnoughFunds(format!(
                "there is not enough {currency} in the wallet for this transaction"
            ))
        } else if e.is_unavailable() {
            ApiError::Unavailable
        } else {
            ApiError::Internal(e.into())
        }
    }
}

/// The domain's refusals that are one API error whatever their detail (the message says it).
macro_rules! refusal_is {
    ($($error:ty => $variant:ident),* $(,)?) => {$(
        impl From<$error> for ApiError {
            fn from(e: $error) -> Self {
                ApiError::$variant(e.to_string())
            }
        }
    )*};
}

refusal_is!(
    MoneyError => InvalidRequest,
    ReserveError => InvalidRequest,
    InvalidTransition => InvalidState,
);

impl From<CodeError> for ApiError {
    fn from(e: CodeError) -> Self {
        match e {
            CodeError::Invalid => ApiError::InvalidCode(e.to_string()),
            CodeError::Expired => ApiError::CodeExpired(e.to_string()),
            CodeError::RestrictionViolation(m) => ApiError::CodeRestrictionViolation(m),
        }
    }
}

impl From<PriceError> for ApiError {
    fn from(e: PriceError) -> Self {
        match e {
            // The spec files an amount the payment does not allow under invalid_state.
            PriceError::OutsideRules { .. } => ApiError::InvalidState(e.to_string()),
            _ => ApiError::InvalidRequest(e.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
