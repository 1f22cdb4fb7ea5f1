//! The operators' endpoints, outside `/rest/v1` and without MAC: liveness (`/healthz`, and
//! `/health` as it always answered), readiness (`/readyz`) and the Prometheus metrics (`/metrics`,
//! behind `--metrics-token` when one is set).

use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::time::Duration;

/// How long `/readyz` waits for the store before answering that it is unavailable.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        // The first liveness route; scripts check its plain `ok` (e2e/lib/harness.mjs).
        .route("/health", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
}

/// `GET /readyz`: 200 `{"status": "ready"}` when the store answers a query and has every
/// migration of this build; else 503 `{"status": "unavailable", "reason": …}`.
async fn ready(State(state): State<AppState>) -> Response {
    let reason = match tokio::time::timeout(READY_TIMEOUT, state.store.pending_migrations()).await {
        Ok(Ok(pending)) if pending.is_empty() => {
            return Json(json!({"status": "ready"})).into_response();
        }
        Ok(Ok(pending)) => format!("the database lacks migrations {pending:?}"),
        Ok(Err(e)) => format!("the store failed: {e}"),
        Err(_) => format!(
            "the store did not answer within {} s",
            READY_TIMEOUT.as_secs()
        ),
    };
    let body = json!({"status": "unavailable", "reason": reason});
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// `GET /metrics`: every metric in Prometheus' text format. Reads no table: the gauges that
/// need a query are refreshed by the sweeper.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(expected) = state.metrics_token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "));
        if !given.is_some_and(|given| crate::credentials::secrets_equal(given, expected)) {
            return Err(ApiError::Unauthorized(
                "/metrics needs Authorization: Bearer <metrics token>".into(),
            ));
        }
    }
    let text = state.telemetry.render(&state.store);
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}
