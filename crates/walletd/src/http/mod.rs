//! The HTTP surface: routes of `/rest/v1/` behind MAC authentication, the operators' endpoints
//! (`ops`), around every route the request's id, log line and metrics (`observe`), and the
//! OpenAPI document built from the same routes (`openapi`).

mod admin;
pub use admin::{Advance, Inbound};
mod allowances;
pub mod intake;
mod oauth;
pub mod observe;
pub mod openapi;
mod ops;
pub mod params;
mod payments;
pub mod scope;
mod transactions;
mod users;
mod wallets;

use crate::error::ApiError;
use crate::state::AppState;
use crate::{auth, idempotency};
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of `/rest/v1`, each with its description: behind MAC authentication and
/// idempotency keys.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(transactions::routes())
        .merge(payments::routes())
        .merge(allowances::routes())
        .merge(wallets::routes())
        .merge(users::routes())
}

/// The other routes (operations, admin, the callback key, the holder pages).
fn other_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(ops::routes())
        .merge(admin::routes())
        .routes(routes!(public_key))
        .merge(crate::web::router())
}

/// Every route with its description, without the layers: what the OpenAPI document is built from.
pub fn described_routes() -> OpenApiRouter<AppState> {
    api_routes().merge(oauth::routes()).merge(other_routes())
}

/// The whole router: the same routes as [`described_routes`]. Unknown paths answer JSON
/// `not_found` (never a redirect).
pub fn router(state: AppState) -> Router {
    let api = api_routes()
        // Layers run outside in: authenticate, then a token's scope, then idempotency (which
        // needs the caller).
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotency,
        ))
        .route_layer(middleware::from_fn(scope::enforce))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    // Signed too, but never idempotent by key: its answer holds a token, which walletd keeps only
    // as a hash (docs/decisions.md, "Idempotency").
    let oauth = oauth::routes().route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::authenticate,
    ));
    let (mut router, _) = api.merge(oauth).merge(other_routes()).split_for_parts();
    if cfg!(debug_assertions) {
        router = router.route_layer(middleware::from_fn(openapi::described_only));
    }
    router
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        // The body read within the limits, the answer within the request timeout.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            intake::intake,
        ))
        // Outermost, on every route and the fallback: it sees the matched route and the answer.
        .layer(middleware::from_fn_with_state(
            Arc::new(observe::RequestMetrics::default()),
            observe::observe,
        ))
        .with_state(state)
}

/// `GET /publickey`: the key callbacks are signed with; unauthenticated, outside `/rest/v1`, as the
/// PHP client fetches it.
#[utoipa::path(get, path = "/publickey", tag = "callbacks",
    responses((status = 200, description = "the RSA public key, PEM", body = String,
        content_type = "application/x-pem-file")))]
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
