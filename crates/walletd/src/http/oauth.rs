//! `/oauth/v1/token`: holders' MAC access tokens, requested with the client's credentials;
//! `/oauth/v1/session`: an authorization request prepared for a holder the client knows.

use super::params::{Api, QueryParams};
use crate::apidoc::errors;
use crate::error::{ApiError, ApiResult};
use crate::service::oauth;
use crate::service::tokens as svc;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wallet_client::types::{OAuthSessionAnswer, OAuthSessionRequest, TokenAnswer, TokenRequest};

/// The OAuth routes (under MAC authentication: the client's own credentials).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token, revoke))
        .routes(routes!(session))
}

errors!(mac TokenErrors = [UnsupportedGrantType, Forbidden, InvalidScope]);
errors!(mac SessionErrors = [Forbidden, InvalidScope]);
errors!(mac RevokeErrors = [NotFound]);

/// `POST /oauth/v1/token`: a holder's access token (grants `authorization_code`, `password` and
/// `refresh_token`).
#[utoipa::path(post, path = "/oauth/v1/token", tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenAnswer), TokenErrors), security(("mac" = [])))]
pub async fn token(api: Api, body: Bytes) -> ApiResult<Json<TokenAnswer>> {
    let req: TokenRequest = form(&body)?;
    svc::token(&api.state, api.client(), api.caller.holder, req)
        .await
        .map(Json)
}

/// A form body (`application/x-www-form-urlencoded`, as the PHP client's `http_build_query`).
fn form<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    crate::json::refuse_encoded_nul(body)?;
    serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::invalid(format!("the request must be a form: {e}")))
}

/// `POST /oauth/v1/session`: the OAuth parameters and `user[email]`; answers `{key}`, and the
/// holder is sent to `{authBase}[/lang]/oauth/{key}` to sign in (as that address) and decide.
#[utoipa::path(post, path = "/oauth/v1/session", tag = "oauth",
    request_body(content = OAuthSessionRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = OAuthSessionAnswer), SessionErrors), security(("mac" = [])))]
pub async fn session(api: Api, body: Bytes) -> ApiResult<Json<OAuthSessionAnswer>> {
    let req: OAuthSessionRequest = form(&body)?;
    oauth::create_session(&api.state, api.client(), api.caller.holder, req)
        .await
        .map(Json)
}

/// Query of `DELETE /oauth/v1/token`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevokeQuery {
    /// The access token to revoke.
    access_token: String,
}

/// `DELETE /oauth/v1/token?access_token=…`: the token revoked.
#[utoipa::path(delete, path = "/oauth/v1/token", tag = "oauth", params(RevokeQuery),
    responses((status = 200, description = "`{}`", body = Object), RevokeErrors),
    security(("mac" = [])))]
pub async fn revoke(
    api: Api,
    QueryParams(q): QueryParams<RevokeQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    svc::revoke(&api.state, api.client(), &q.access_token).await?;
    Ok(Json(serde_json::json!({})))
}
