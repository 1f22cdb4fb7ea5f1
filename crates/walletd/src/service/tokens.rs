//! OAuth MAC access tokens of wallet holders: `POST /oauth/v1/token` (authorization_code,
//! password and refresh_token grants) and `DELETE /oauth/v1/token`. A token is issued to the API client that
//! asked for it, signs requests exactly as client credentials do (client-compatibility §1.7), and
//! makes `me` in paths mean the holder's wallet.

use crate::credentials::hash_token;
use crate::error::{ApiError, ApiResult};
use crate::service::logins::{LoginRefused, check_password};
use crate::service::oauth::{self, Redeemed};
use crate::service::scopes;
use crate::state::AppState;
use wallet_client::types::{TokenAnswer, TokenRequest};
use wallet_core::ids::{UserId, WalletId};
use wallet_core::keys::random_base62;
use wallet_store::{ClientRow, TokenRow, Tx};

/// Seconds an access token is valid.
pub const ACCESS_TOKEN_SECS: i64 = 3600;
/// Seconds a refresh token is valid.
pub const REFRESH_TOKEN_SECS: i64 = 30 * 86_400;

async fn issue(
    tx: &mut Tx,
    client: &ClientRow,
    user_id: UserId,
    scope: &str,
    now: i64,
) -> ApiResult<TokenAnswer> {
    let token = TokenRow {
        access_token: random_base62(&mut rand::rng(), 32),
        mac_key: random_base62(&mut rand::rng(), 43),
        client_id: client.id,
        user_id,
        scope: scope.to_string(),
        expires_at: now + ACCESS_TOKEN_SECS,
    };
    let refresh = random_base62(&mut rand::rng(), 43);
    tx.insert_token(&token, &hash_token(&refresh), now + REFRESH_TOKEN_SECS, now)
        .await?;
    Ok(TokenAnswer {
        token_type: "mac".into(),
        mac_algorithm: "hmac-sha-256".into(),
        access_token: token.access_token,
        mac_key: token.mac_key,
        expires_in: ACCESS_TOKEN_SECS,
        refresh_token: refresh,
        scope: token.scope,
    })
}

/// The holder a password grant logs in: wrong credentials are `invalid_grant`; too many recent
/// failures for the account (counted with the pages' logins) `rate_limit_exceeded`, the right
/// password too, until the window has passed or the count is cleared.
async fn password_grant(state: &AppState, username: &str, password: &str) -> ApiResult<UserId> {
    match check_password(state, username, password, None).await? {
        Ok(user_id) => Ok(user_id),
        Err(LoginRefused::WrongCredentials) => Err(ApiError::InvalidGrant(
            "the username or password is wrong".into(),
        )),
        Err(LoginRefused::TooManyFailures) => Err(ApiError::RateLimitExceeded(format!(
            "too many failed logins for this user; retry within {} minutes",
            crate::limits::LOGIN_FAILURE_WINDOW_SECS / 60
        ))),
    }
}

/// `POST /oauth/v1/token`, signed with the client's own credentials. Token lifetimes use wall
/// time, like MAC timestamps: the sandbox clock never makes a credential outlive its real life.
pub async fn token(
    state: &AppState,
    client: &ClientRow,
    holder: Option<UserId>,
    req: TokenRequest,
) -> ApiResult<TokenAnswer> {
    oauth::clients_own(
        holder,
        "tokens are requested with the client's credentials, not with another token",
    )?;
    let now = crate::clock::wall_now();
    match req.grant_type.as_deref() {
        Some("authorization_code") => code_grant(state, client, &req, now).await,
        Some("password") => {
            let (Some(username), Some(password)) = (&req.username, &req.password) else {
                return Err(ApiError::invalid(
                    "the password grant needs username and password",
                ));
            };
            let scope = scopes::parse(req.scope.as_deref())?;
            let user_id = password_grant(state, username, password).await?;
            let mut tx = state.store.write().await?;
            let answer = issue(&mut tx, client, user_id, &scope, now).await?;
            tx.commit().await?;
            Ok(answer)
        }
        Some("refresh_token") => refresh_grant(state, client, &req, now).await,
        Some(other) => Err(ApiError::UnsupportedGrantType(format!(
            "grant_type {other:?} is not supported; use authorization_code, password or refresh_token"
        ))),
        None => Err(ApiError::invalid("grant_type is required")),
    }
}

/// `grant_type=authorization_code&code=…[&redirect_uri=…]`: the code redeemed once, its tokens
/// remembered as issued from it (a second use revokes them).
async fn code_grant(
    state: &AppState,
    client: &ClientRow,
    req: &TokenRequest,
    now: i64,
) -> ApiResult<TokenAnswer> {
    let code = req
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::invalid("the authorization_code grant needs code"))?;
    let mut tx = state.store.write().await?;
    match oauth::redeem(&mut tx, client, code, req.redirect_uri.as_deref(), now).await? {
        Redeemed::Granted { grant, code_hash } => {
            let answer = issue(&mut tx, client, grant.user_id, &grant.scope, now).await?;
            tx.set_token_grant_code(&answer.access_token, &code_hash)
                .await?;
            tx.commit().await?;
            Ok(answer)
        }
        Redeemed::Refused(e) => {
            tx.commit().await?;
            Err(e)
        }
    }
}

/// `grant_type=refresh_token&refresh_token=…[&scope=…]`: a new token for the same holder, with
/// the scope kept or narrowed (wider is `invalid_scope`, and the refresh token stays usable).
async fn refresh_grant(
    state: &AppState,
    client: &ClientRow,
    req: &TokenRequest,
    now: i64,
) -> ApiResult<TokenAnswer> {
    let refresh = req
        .refresh_token
        .as_deref()
        .ok_or_else(|| ApiError::invalid("the refresh_token grant needs refresh_token"))?;
    let mut tx = state.store.write().await?;
    let old = tx
        .take_refresh(&hash_token(refresh), client.id, now)
        .await?
        .ok_or_else(|| {
            ApiError::InvalidGrant("the refresh token is unknown, used or expired".into())
        })?;
    // Refused here, the transaction rolls back: the refresh token is not used up.
    let scope = scopes::narrowed(req.scope.as_deref(), &old.scope)?;
    let answer = issue(&mut tx, client, old.user_id, &scope, now).await?;
    tx.inherit_grant_code(&answer.access_token, &old.access_token)
        .await?;
    tx.commit().await?;
    Ok(answer)
}

/// `DELETE /oauth/v1/token?access_token=…`: revokes one of the client's tokens.
pub async fn revoke(state: &AppState, client: &ClientRow, access_token: &str) -> ApiResult<()> {
    let mut tx = state.store.write().await?;
    if !tx.revoke_token(access_token, client.id).await? {
        return Err(ApiError::NotFound("no such access token".into()));
    }
    tx.commit().await?;
    Ok(())
}

/// The wallet a path segment names: a wallet id, or `me` (the first wallet of the holder whose
/// token signed the request).
pub async fn wallet_in_path(
    state: &AppState,
    holder: Option<UserId>,
    text: &str,
) -> ApiResult<WalletId> {
    if text == "me" {
        let user = holder.ok_or_else(|| {
            ApiError::NotFound(
                "wallet \"me\" needs a request signed with a holder's access token".into(),
            )
        })?;
        let mut tx = state.store.read().await?;
        return tx
            .wallets_of_user(user)
            .await?
            .first()
            .copied()
            .ok_or_else(|| ApiError::NotFound("the holder has no wallet".into()));
    }
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("wallet {text:?} was not found")))
}
