//! Operator endpoints under `/admin/v1/`, behind a bearer token. Without a configured token
//! they do not exist (404), so a production walletd exposes no way to move its clock.

use crate::error::{ApiError, ApiResult};
use crate::json;
use crate::service::lifecycle::{self, ClockReading};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;

use axum::Router;
use axum::routing::{get, post};

/// The `/admin/v1/` routes (behind the admin token, not MAC).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/clock", get(clock))
        .route("/admin/v1/clock/advance", post(advance_clock))
        .route("/admin/v1/sms/inbound", post(sms_inbound))
}

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

#[derive(serde::Deserialize)]
pub struct Advance {
    seconds: i64,
}

/// `POST /admin/v1/clock/advance` `{"seconds": N}`: moves the sandbox clock and fires what became due.
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

/// `GET /admin/v1/clock`.
pub async fn clock(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<ClockReading>> {
    check_token(&state, &headers)?;
    lifecycle::read_clock(&state).await.map(Json)
}

#[derive(serde::Deserialize)]
pub struct Inbound {
    from: String,
    text: String,
}

/// `POST /admin/v1/sms/inbound` `{"from": "+370…", "text": "RG5A YES"}`: where an SMS gateway
/// delivers a holder's answer to a FLASH SMS. Answers the transaction it reserved or rejected.
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
