//! `/oauth/v1/token`: holders' MAC access tokens, requested with the client's credentials.

use super::params::Api;
use crate::error::{ApiError, ApiResult};
use crate::service::tokens::{self as svc, TokenAnswer, TokenRequest};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::Query;

use axum::Router;
use axum::routing::post;

/// The OAuth routes (under MAC authentication: the client's own credentials).
pub fn routes() -> Router<AppState> {
    Router::new().route("/oauth/v1/token", post(token).delete(revoke))
}

/// `POST /oauth/v1/token`: a form (`application/x-www-form-urlencoded`), as the PHP client sends it.
pub async fn token(api: Api, body: Bytes) -> ApiResult<Json<TokenAnswer>> {
    let req: TokenRequest = serde_urlencoded::from_bytes(&body)
        .map_err(|e| ApiError::invalid(format!("the token request must be a form: {e}")))?;
    svc::token(&api.state, api.client(), api.caller.holder, req)
        .await
        .map(Json)
}

#[derive(Debug, serde::Deserialize)]
pub struct RevokeQuery {
    access_token: String,
}

/// `DELETE /oauth/v1/token?access_token=…`.
pub async fn revoke(api: Api, Query(q): Query<RevokeQuery>) -> ApiResult<Json<serde_json::Value>> {
    svc::revoke(&api.state, api.client(), &q.access_token).await?;
    Ok(Json(serde_json::json!({})))
}
