//! Operator endpoints under `/admin/v1/`, behind a bearer token. Without a configured token
//! they do not exist (404), so a production walletd exposes no way to move its clock.

use crate::apidoc::errors;
use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::service::lifecycle::{self, ClockReading};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/admin/v1/` routes (behind the admin token, not MAC).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(clock))
        .routes(routes!(advance_clock))
        .routes(routes!(sms_inbound))
}

errors!(ClockErrors = [NotFound, Unauthorized]);
errors!(AdvanceErrors = [NotFound, Unauthorized, InvalidRequest]);
// Accepting reserves: the payer's checks and the hold, as any reservation.
errors!(
    SmsErrors = [
        NotFound,
        Unauthorized,
        InvalidRequest,
        InvalidState,
        ClientRestricted,
        NoRights,
        PayerAccountInactive,
        ClientNotVerified,
        RestrictionViolation,
        RestrictionLimitsExceeded,
        LimitsExceeded,
        PaymentToSameAccount,
        BeneficiaryAccountInactive,
        NotEnoughFunds,
    ]
);

fn check_token(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let Some(expected) = state.admin_token.as_deref() else {
        return Err(ApiError::NotFound("no such endpoint".into()));
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "admin endpoints need Authorization: Bearer <admin token>".into(),
            )
        })?;
    if !crate::credentials::secrets_equal(given, expected) {
        return Err(ApiError::Unauthorized("wrong admin token".into()));
    }
    Ok(())
}

/// Body of `POST /admin/v1/clock/advance`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct Advance {
    /// Seconds to move the clock forward (not back); it runs at most a century ahead.
    #[schema(minimum = 1, maximum = 3_153_600_000_i64)]
    seconds: i64,
}

/// `POST /admin/v1/clock/advance` `{"seconds": N}`: moves the sandbox clock and fires what became due.
#[utoipa::path(post, path = "/admin/v1/clock/advance", tag = "admin", request_body = Advance,
    responses((status = 200, body = ClockReading), AdvanceErrors), security(("admin_token" = [])))]
pub async fn advance_clock(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ClockReading>> {
    check_token(&state, &headers)?;
    let advance: Advance = json::parse(&body)?;
    lifecycle::advance_clock(&state, advance.seconds)
        .await
        .map(Json)
}

/// `GET /admin/v1/clock`: where the sandbox clock stands.
#[utoipa::path(get, path = "/admin/v1/clock", tag = "admin",
    responses((status = 200, body = ClockReading), ClockErrors), security(("admin_token" = [])))]
pub async fn clock(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<ClockReading>> {
    check_token(&state, &headers)?;
    lifecycle::read_clock(&state).await.map(Json)
}

/// Body of `POST /admin/v1/sms/inbound`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct Inbound {
    /// The sender's phone number.
    from: String,
    /// The SMS text, e.g. `RG5A YES`.
    text: String,
}

/// `POST /admin/v1/sms/inbound` `{"from": "+370…", "text": "RG5A YES"}`: where an SMS gateway
/// delivers a holder's answer to a FLASH SMS. Answers the transaction it reserved or rejected.
#[utoipa::path(post, path = "/admin/v1/sms/inbound", tag = "admin", request_body = Inbound,
    responses((status = 200, body = wallet_client::types::Transaction), SmsErrors),
    security(("admin_token" = [])))]
pub async fn sms_inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<wallet_client::types::Transaction>> {
    check_token(&state, &headers)?;
    let inbound: Inbound = json::parse(&body)?;
    crate::service::flash::answer(&state.store, state.now(), &inbound.from, &inbound.text)
        .await
        .map(Json)
}
