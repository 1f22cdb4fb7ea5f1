//! The operators' endpoints, outside `/rest/v1` and without MAC: liveness (`/healthz`, and
//! `/health` as it always answered), readiness (`/readyz`) and the Prometheus metrics (`/metrics`,
//! behind `--metrics-token` when one is set), and the OpenAPI document (`/openapi.json`).

use crate::apidoc::errors;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How long `/readyz` waits for the store before answering that it is unavailable.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

/// `{"status", "reason"}` of `/healthz` and `/readyz`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // the shape of the `json!` answers, for the document
struct Status {
    /// `ok`, `ready` or `unavailable`.
    status: String,
    /// Why not ready.
    reason: Option<String>,
}

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Status)))]
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /health`: the first liveness route, kept; scripts check its plain `ok` (e2e/lib/harness.mjs).
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")))]
async fn health() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 `{"status": "ready"}` when the store answers a query and has every
/// migration of this build; else 503 `{"status": "unavailable", "reason": …}`.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready", body = Status),
        (status = 503, description = "not ready, and why", body = Status)))]
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

errors!(MetricsErrors = [Unauthorized]);

/// `GET /metrics`: every metric in Prometheus' text format. Reads no table: the gauges that
/// need a query are refreshed by the sweeper.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String,
        content_type = "text/plain"), MetricsErrors),
    security((), ("metrics_token" = [])))]
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

/// `GET /openapi.json`: this document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "the OpenAPI 3.1 document of walletd", body = Object)))]
async fn openapi() -> Response {
    let json = super::openapi::document_json();
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
}
