//! The HTTP surface: routes of `/rest/v1/` behind MAC authentication, the operators' endpoints
//! (`ops`), and around every route the request's id, log line and metrics (`observe`).

mod admin;
mod allowances;
mod oauth;
pub mod observe;
mod ops;
mod params;
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
use axum::routing::get;
use std::sync::Arc;

/// The whole router. Unknown paths answer JSON `not_found` (never a redirect).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(transactions::routes())
        .merge(payments::routes())
        .merge(allowances::routes())
        .merge(wallets::routes())
        .merge(oauth::routes())
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
        .merge(ops::routes())
        .merge(admin::routes())
        .route("/publickey", get(public_key))
        .merge(crate::web::router())
        .fallback(not_found)
        // Outermost, on every route and the fallback: it sees the matched route and the answer.
        .layer(middleware::from_fn_with_state(
            Arc::new(observe::RequestMetrics::default()),
            observe::observe,
        ))
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
