//! The HTTP surface: routes of `/rest/v1/` behind MAC authentication.

mod admin;
mod allowances;
mod oauth;
mod payments;
mod transactions;
mod wallets;

use crate::error::ApiError;
use crate::state::AppState;
use crate::{auth, idempotency};
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use tower_http::trace::TraceLayer;

/// The whole router. Unknown paths answer JSON `not_found` (never a redirect).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/rest/v1/transaction",
            axum::routing::post(transactions::create),
        )
        .route(
            "/rest/v1/transaction/{key}",
            get(transactions::get).delete(transactions::revoke),
        )
        .route(
            "/rest/v1/transaction/{key}/reserve",
            put(transactions::reserve),
        )
        .route(
            "/rest/v1/transaction/{key}/confirm",
            put(transactions::confirm),
        )
        .route(
            "/rest/v1/transaction/{key}/receipt",
            get(transactions::receipt),
        )
        .route(
            "/rest/v1/payment/{id}",
            get(payments::get).delete(payments::cancel),
        )
        .route("/rest/v1/payment/{id}/freeze", put(payments::freeze))
        .route("/rest/v1/payment/{id}/finalize", put(payments::finalize))
        .route(
            "/rest/v1/transaction/{key}/reserve/{wallet}",
            put(transactions::reserve_for_wallet),
        )
        .route(
            "/rest/v1/transaction/{key}/type/{wallet}",
            get(transactions::types),
        )
        .route(
            "/rest/v1/transaction/renew/{key}",
            axum::routing::post(transactions::renew),
        )
        .route("/rest/v1/transactions", get(transactions::search))
        .route("/rest/v1/payment", axum::routing::post(payments::create))
        .route("/rest/v1/payments", get(payments::search))
        .route(
            "/rest/v1/transaction/{key}/flash/{wallet}",
            put(transactions::flash),
        )
        .route(
            "/rest/v1/allowance",
            axum::routing::post(allowances::create),
        )
        .route(
            "/rest/v1/allowance/{id}",
            get(allowances::get).delete(allowances::cancel),
        )
        .route(
            "/rest/v1/allowance/active/{wallet}",
            get(allowances::active).delete(allowances::cancel_active),
        )
        .route("/rest/v1/allowance/limit/{wallet}", get(allowances::limit))
        .route(
            "/oauth/v1/token",
            axum::routing::post(oauth::token).delete(oauth::revoke),
        )
        .route("/rest/v1/wallet/{id}", get(wallets::wallet))
        .route("/rest/v1/wallet/{id}/balance", get(wallets::balance))
        .route("/rest/v1/wallet/{id}/statements", get(wallets::statements))
        .route(
            "/rest/v1/wallet/{id}/sufficient-amount",
            get(wallets::sufficient_amount),
        )
        .method_not_allowed_fallback(method_not_allowed)
        // Layers run outside in: authenticate, then idempotency (which needs the caller).
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotency,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    Router::new()
        .merge(api)
        .route("/health", get(|| async { "ok" }))
        .route("/admin/v1/clock", get(admin::clock))
        .route(
            "/admin/v1/clock/advance",
            axum::routing::post(admin::advance_clock),
        )
        .route(
            "/admin/v1/sms/inbound",
            axum::routing::post(admin::sms_inbound),
        )
        .route("/publickey", get(public_key))
        .merge(crate::web::router())
        .fallback(not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `GET /publickey`: the key callbacks are signed with; unauthenticated, outside `/rest/v1`, as the
/// PHP client fetches it.
async fn public_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        state.callbacks.public_key_pem().to_string(),
    )
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such endpoint: {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}
