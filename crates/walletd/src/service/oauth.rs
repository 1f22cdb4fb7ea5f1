//! The OAuth authorization code grant as the PHP client drives it (`OAuth/Consumer.php`): the
//! authorization request of `/frontend[/lang]/oauth?…` (or one the client prepared with
//! `POST /oauth/v1/session`, opened at `/frontend[/lang]/oauth/{key}`), the holder's approval
//! issuing a code, and the code redeemed by `POST /oauth/v1/token` (`service::tokens`).
//!
//! A browser is only ever sent to a redirect URI the client registered
//! (`walletd admin client set-redirect-uris`); a request naming another, or an unknown client, is
//! answered on walletd's own page (RFC 6749 §4.1.2.1). Codes and prepared requests are random,
//! stored only as their SHA-256, and short-lived; a code is redeemed once.

use crate::clock::wall_now;
use crate::credentials::hash_token;
use crate::error::{ApiError, ApiResult};
use crate::service::scopes;
use crate::state::AppState;
use std::collections::HashMap;
use wallet_client::types::{OAuthSessionAnswer, OAuthSessionRequest};
use wallet_core::ids::UserId;
use wallet_core::keys::random_base62;
use wallet_store::{ClientRow, CodeGrantRow, OAuthSessionRow, Tx};

/// Seconds an authorization code may be redeemed in.
pub const CODE_SECS: i64 = 300;
/// Seconds a prepared authorization request (`POST /oauth/v1/session`) may be opened in.
pub const SESSION_SECS: i64 = 900;
/// The longest redirect URI and `state` accepted.
const MAX_URI: usize = 2048;
const MAX_STATE: usize = 1024;

/// An authorization request walletd may answer at the client's redirect URI.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub client: ClientRow,
    /// The name of the client's project, shown to the holder.
    pub project: String,
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri` (else the client's only one is used).
    pub redirect_given: bool,
    /// The scope asked, normalised (`service::scopes`).
    pub scope: String,
    pub state: Option<String>,
    /// The e-mail address a prepared request names: only that holder may decide.
    pub email: Option<String>,
    /// The hash of a prepared request's key: the decision ends it.
    pub prepared: Option<String>,
}

/// What the authorization page does with a request.
#[derive(Debug)]
pub enum Authorization {
    /// Ask the holder.
    Ask(Box<AuthRequest>),
    /// Send the browser back to the client at once, with an error (`error`, `state`, …).
    Refuse(String),
}

/// `uri` (a registered redirect URI) with `pairs` and `state` added to its query.
pub fn redirect_to(uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> String {
    let Ok(mut url) = url::Url::parse(uri) else {
        // Registered URIs were parsed when registered; nothing else gets here.
        return uri.to_string();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
    }
    url.into()
}

/// Checks a redirect URI a client registers: absolute `http(s)`, no fragment, no credentials.
pub fn check_redirect_uri(uri: &str) -> ApiResult<()> {
    let refused = |why: &str| ApiError::invalid(format!("redirect URI {uri:?}: {why}"));
    if uri.len() > MAX_URI {
        return Err(refused("longer than 2048 characters"));
    }
    let url = url::Url::parse(uri).map_err(|e| refused(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(refused("must be an absolute http:// or https:// URI"));
    }
    if url.fragment().is_some() {
        return Err(refused("must not have a fragment (RFC 6749 §3.1.2)"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused("must not carry credentials"));
    }
    Ok(())
}

/// The redirect URI a request of `client` is answered at: the one it names, exactly as
/// registered, or the client's only one; and whether it was named.
async fn redirect_of(
    tx: &mut Tx,
    client: &ClientRow,
    asked: Option<&str>,
) -> ApiResult<(String, bool)> {
    let registered = tx.redirect_uris(client.id).await?;
    match asked.filter(|r| !r.is_empty()) {
        Some(r) if registered.iter().any(|u| u == r) => Ok((r.to_string(), true)),
        Some(_) => Err(ApiError::invalid(
            "redirect_uri is not one of the client's registered redirect URIs",
        )),
        None => match registered.as_slice() {
            [only] => Ok((only.clone(), false)),
            [] => Err(ApiError::invalid(
                "the client has no registered redirect URI, which the authorization code grant needs",
            )),
            _ => Err(ApiError::invalid(
                "redirect_uri is required: the client registered several",
            )),
        },
    }
}

async fn project_name(tx: &mut Tx, client: &ClientRow) -> ApiResult<String> {
    Ok(tx
        .project(client.project_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default())
}

/// The authorization request of `GET /frontend[/lang]/oauth?response_type=code&client_id=…&
/// scope=…&redirect_uri=…&state=…`. An unknown client or redirect URI is an error (shown on the
/// page); the rest are answered at the redirect URI.
pub async fn authorization_request(
    state: &AppState,
    q: &HashMap<String, String>,
) -> ApiResult<Authorization> {
    let get = |k: &str| q.get(k).map(String::as_str);
    let client_id = get("client_id").filter(|c| !c.is_empty());
    let client_id = client_id.ok_or_else(|| ApiError::invalid("client_id is required"))?;
    let mut tx = state.store.read().await?;
    let client = tx.client_by_mac_id(client_id).await?;
    let client = client.ok_or_else(|| ApiError::invalid("client_id names no client"))?;
    let (redirect_uri, redirect_given) = redirect_of(&mut tx, &client, get("redirect_uri")).await?;
    let project = project_name(&mut tx, &client).await?;
    drop(tx);
    let back_state = get("state").filter(|s| s.len() <= MAX_STATE);
    let refuse = |error: &str, description: &str| {
        let pairs = [("error", error), ("error_description", description)];
        Ok(Authorization::Refuse(redirect_to(
            &redirect_uri,
            &pairs,
            back_state,
        )))
    };
    if get("response_type") != Some("code") {
        return refuse("unsupported_response_type", "response_type must be code");
    }
    if back_state.is_none() && get("state").is_some() {
        return refuse("invalid_request", "state is longer than 1024 characters");
    }
    let scope = match scopes::parse(get("scope")) {
        Ok(s) => s,
        Err(e) => return refuse(e.code(), &e.to_string()),
    };
    Ok(Authorization::Ask(Box::new(AuthRequest {
        client,
        project,
        redirect_uri,
        redirect_given,
        scope,
        state: back_state.map(str::to_string),
        email: None,
        prepared: None,
    })))
}

/// The authorization request a client prepared (`/frontend[/lang]/oauth/{key}`).
pub async fn prepared_request(state: &AppState, key: &str) -> ApiResult<AuthRequest> {
    let gone = || {
        ApiError::NotFound(
            "this sign-in link is unknown, used or expired; start again from the site that sent you"
                .into(),
        )
    };
    let key_hash = hash_token(key);
    let mut tx = state.store.read().await?;
    let s = tx.oauth_session(&key_hash, wall_now()).await?;
    let s = s.ok_or_else(gone)?;
    let client = tx.client(s.client_id).await?.ok_or_else(gone)?;
    let project = project_name(&mut tx, &client).await?;
    Ok(AuthRequest {
        client,
        project,
        redirect_uri: s.redirect_uri,
        redirect_given: s.redirect_given,
        scope: s.scope,
        state: s.state,
        email: s.email,
        prepared: Some(key_hash),
    })
}

/// Whether `user_id` may decide `req`: anyone signed in, unless the request names an address.
pub async fn may_decide(state: &AppState, req: &AuthRequest, user_id: UserId) -> ApiResult<bool> {
    let Some(email) = &req.email else {
        return Ok(true);
    };
    let mut tx = state.store.read().await?;
    let holder = tx.holder(user_id).await?;
    Ok(holder.is_some_and(|h| h.email.eq_ignore_ascii_case(email)))
}

/// Ends a prepared request with the decision (`not_found` if it was ended meanwhile).
async fn end_prepared(tx: &mut Tx, req: &AuthRequest) -> ApiResult<()> {
    if let Some(key_hash) = &req.prepared
        && !tx.delete_oauth_session(key_hash).await?
    {
        return Err(ApiError::NotFound(
            "this sign-in link was already used".into(),
        ));
    }
    Ok(())
}

/// The holder approved: a code for the client, at its redirect URI.
pub async fn approve(state: &AppState, req: &AuthRequest, user_id: UserId) -> ApiResult<String> {
    let now = wall_now();
    let code = random_base62(&mut rand::rng(), 43);
    let grant = CodeGrantRow {
        client_id: req.client.id,
        user_id,
        scope: req.scope.clone(),
        redirect_uri: req.redirect_uri.clone(),
        redirect_given: req.redirect_given,
        expires_at: now + CODE_SECS,
    };
    let mut tx = state.store.write().await?;
    end_prepared(&mut tx, req).await?;
    tx.insert_code_grant(&hash_token(&code), &grant, now)
        .await?;
    tx.commit().await?;
    let pairs = [("code", code.as_str())];
    Ok(redirect_to(&req.redirect_uri, &pairs, req.state.as_deref()))
}

/// The holder denied: `error=access_denied` at the client's redirect URI.
pub async fn deny(state: &AppState, req: &AuthRequest) -> ApiResult<String> {
    let mut tx = state.store.write().await?;
    end_prepared(&mut tx, req).await?;
    tx.commit().await?;
    let pairs = [
        ("error", "access_denied"),
        ("error_description", "the holder denied the request"),
    ];
    Ok(redirect_to(&req.redirect_uri, &pairs, req.state.as_deref()))
}

/// What redeeming a code found.
pub enum Redeemed {
    Granted {
        grant: CodeGrantRow,
        code_hash: String,
    },
    /// Refused, after what the refusal changed (the code used up, tokens revoked): commit it.
    Refused(ApiError),
}

/// Redeems `code` for `client` (`grant_type=authorization_code`): unused, unexpired, with the
/// authorization request's redirect URI. A code used again revokes the tokens issued from it
/// (RFC 6749 §4.1.2: it may have been stolen).
pub async fn redeem(
    tx: &mut Tx,
    client: &ClientRow,
    code: &str,
    redirect_uri: Option<&str>,
    now: i64,
) -> ApiResult<Redeemed> {
    let refused = |why: &str| Ok(Redeemed::Refused(ApiError::InvalidGrant(why.into())));
    let code_hash = hash_token(code);
    let Some(grant) = tx.take_code_grant(&code_hash, client.id, now).await? else {
        if tx.code_grant_used(&code_hash, client.id).await? {
            let revoked = tx.revoke_tokens_of_code(&code_hash).await?;
            tracing::warn!(client = %client.mac_id, revoked, "authorization code used again; its tokens revoked");
            return refused(
                "the authorization code was already used; the tokens issued from it are revoked",
            );
        }
        return refused("the authorization code is unknown or was issued to another client");
    };
    if grant.expires_at <= now {
        return refused("the authorization code has expired (codes last 5 minutes)");
    }
    match redirect_uri {
        Some(r) if r != grant.redirect_uri => {
            refused("redirect_uri differs from the one of the authorization request")
        }
        None if grant.redirect_given => {
            refused("redirect_uri is required: the authorization request named one")
        }
        _ => Ok(Redeemed::Granted { grant, code_hash }),
    }
}

/// Refuses with `refusal` a request signed with a holder's access token (`holder`) where only the
/// client's own credentials may ask.
pub(crate) fn clients_own(holder: Option<UserId>, refusal: &str) -> ApiResult<()> {
    match holder {
        Some(_) => Err(ApiError::Forbidden(refusal.into())),
        None => Ok(()),
    }
}

/// `POST /oauth/v1/session`: an authorization request prepared for the holder with the e-mail
/// address the client confirmed; the holder opens `{authBase}/oauth/{key}`.
pub async fn create_session(
    state: &AppState,
    client: &ClientRow,
    holder: Option<UserId>,
    req: OAuthSessionRequest,
) -> ApiResult<OAuthSessionAnswer> {
    clients_own(
        holder,
        "sessions are prepared with the client's credentials, not with a token",
    )?;
    if req.response_type.as_deref().is_some_and(|t| t != "code") {
        return Err(ApiError::invalid("response_type must be code"));
    }
    if req.client_id.as_ref().is_some_and(|c| *c != client.mac_id) {
        return Err(ApiError::invalid(
            "client_id must be the MAC id that signs the request",
        ));
    }
    if req.state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
        return Err(ApiError::invalid("state is longer than 1024 characters"));
    }
    let email = req.user_email.as_deref().map(str::trim);
    if email.is_some_and(|e| e.len() > 254 || !e.contains('@')) {
        return Err(ApiError::invalid("user[email] must be an e-mail address"));
    }
    let scope = scopes::parse(req.scope.as_deref())?;
    let now = wall_now();
    let mut tx = state.store.write().await?;
    let (redirect_uri, redirect_given) =
        redirect_of(&mut tx, client, req.redirect_uri.as_deref()).await?;
    let row = OAuthSessionRow {
        client_id: client.id,
        scope,
        redirect_uri,
        redirect_given,
        state: req.state,
        email: email.map(str::to_string),
    };
    let key = random_base62(&mut rand::rng(), 43);
    tx.insert_oauth_session(&hash_token(&key), &row, now, now + SESSION_SECS)
        .await?;
    tx.commit().await?;
    Ok(OAuthSessionAnswer { key })
}

/// `walletd admin client set-redirect-uris`: replaces the redirect URIs of the client with MAC
/// id `mac_id` (none: the client cannot use the authorization code grant).
pub async fn set_redirect_uris(
    state: &AppState,
    mac_id: &str,
    uris: &[String],
) -> ApiResult<RedirectUris> {
    for uri in uris {
        check_redirect_uri(uri)?;
    }
    let mut tx = state.store.write().await?;
    let client = tx.client_by_mac_id(mac_id).await?;
    let client =
        client.ok_or_else(|| ApiError::NotFound(format!("client {mac_id:?} was not found")))?;
    tx.set_redirect_uris(client.id, uris).await?;
    let redirect_uris = tx.redirect_uris(client.id).await?;
    tx.commit().await?;
    Ok(RedirectUris {
        mac_id: client.mac_id,
        redirect_uris,
    })
}

/// `{"mac_id", "redirect_uris"}`.
#[derive(Debug, serde::Serialize)]
pub struct RedirectUris {
    pub mac_id: String,
    pub redirect_uris: Vec<String>,
}
