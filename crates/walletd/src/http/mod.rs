//! The HTTP surface: routes of `/rest/v1/` behind MAC authentication.

mod transactions;
mod wallets;

use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::middleware;
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
        .route("/rest/v1/wallet/{id}", get(wallets::wallet))
        .route("/rest/v1/wallet/{id}/balance", get(wallets::balance))
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    Router::new()
        .merge(api)
        .route("/health", get(|| async { "ok" }))
        .fallback(not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such endpoint: {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}
