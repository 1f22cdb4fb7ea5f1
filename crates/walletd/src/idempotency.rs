//! `Idempotency-Key` on POST, PUT and DELETE: a retry gets the first answer, and the change is made once.
//!
//! The middleware looks the key up (per API client). On a miss it runs the request with an
//! [`IdempotencyScope`] in a task-local; the operation then stores its answer with
//! [`commit_answer`] *in the same database transaction as the change*, so there is no moment at
//! which the change is committed but its answer is not. A concurrent duplicate that loses the
//! race on the unique key rolls back, and the middleware answers with the winner's stored answer.
//! Client errors (4xx) are stored after the fact (nothing was changed); 5xx are not stored, so a
//! retry runs again. The same key with a different request is `invalid_request`.

use crate::caller::Caller;
use crate::clock::wall_now;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wallet_core::ids::ClientId;
use wallet_store::{IdempotentAnswer, Tx};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Longest accepted key.
pub const MAX_KEY_LEN: usize = 255;

/// The idempotent request being served.
#[derive(Debug)]
pub struct IdempotencyScope {
    client_id: ClientId,
    key: String,
    request_hash: String,
    /// The answer was stored with the change.
    stored: AtomicBool,
    /// Another request with the same key stored its answer first.
    lost_race: AtomicBool,
}

tokio::task_local! {
    static SCOPE: Arc<IdempotencyScope>;
}

/// Commits `tx`, first storing `answer` as the answer to the current idempotent request, if any.
pub async fn commit_answer<T: serde::Serialize>(mut tx: Tx, answer: &T) -> ApiResult<()> {
    if let Ok(scope) = SCOPE.try_with(Arc::clone) {
        let body = serde_json::to_string(answer).map_err(|e| ApiError::Internal(e.into()))?;
        let record = IdempotentAnswer {
            request_hash: scope.request_hash.clone(),
            status: 200,
            body,
        };
        tx.answer_at_commit(scope.client_id, &scope.key, &record, wall_now());
        return match commit_timed(tx).await {
            Ok(()) => {
                scope.stored.store(true, Ordering::SeqCst);
                Ok(())
            }
            Err(wallet_store::StoreError::AnsweredMeanwhile) => {
                scope.lost_race.store(true, Ordering::SeqCst);
                Err(ApiError::invalid(
                    "a request with this Idempotency-Key was answered meanwhile",
                ))
            }
            Err(e) => Err(e.into()),
        };
    }
    commit_timed(tx).await?;
    Ok(())
}

/// `tx.commit()`, timed for `walletd_store_commit_duration_seconds`: the commit of every API write.
async fn commit_timed(tx: Tx) -> wallet_store::Result<()> {
    let started = std::time::Instant::now();
    let committed = tx.commit().await;
    crate::telemetry::commit_took(started.elapsed());
    committed
}

/// The stored answer to a request's idempotency key, read by authentication together with the
/// client (one statement fewer per request); the middleware reads it itself when absent.
#[derive(Debug, Clone)]
pub struct Prefetched {
    pub key: String,
    pub answer: Option<IdempotentAnswer>,
}

fn is_idempotent_method(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::DELETE)
}

/// The idempotency key of a request that may carry one (POST, PUT, DELETE), as sent.
pub fn key_of(parts: &axum::http::request::Parts) -> Option<&str> {
    if !is_idempotent_method(&parts.method) {
        return None;
    }
    parts.headers.get(HEADER).and_then(|k| k.to_str().ok())
}

fn request_hash(method: &Method, uri: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b"\n");
    h.update(uri.as_bytes());
    h.update(b"\n");
    h.update(body);
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

fn replay(answer: IdempotentAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

async fn stored(
    state: &AppState,
    client_id: ClientId,
    key: &str,
) -> ApiResult<Option<IdempotentAnswer>> {
    let mut tx = state.store.lookup().await?;
    Ok(tx.idempotent_answer(client_id, key).await?)
}

/// The middleware (after authentication: it needs the caller).
pub async fn idempotency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(key) = request.headers().get(HEADER) else {
        return Ok(next.run(request).await);
    };
    if !is_idempotent_method(request.method()) {
        return Ok(next.run(request).await);
    }
    let key = checked_key(key)?;
    let client_id = request
        .extensions()
        .get::<Caller>()
        .map(|c| c.client.id)
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "idempotency layer runs before authentication"
            ))
        })?;
    let (parts, body) = request.into_parts();
    // Already in memory and within the limit (`http::intake`).
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| ApiError::invalid("the request body could not be read"))?;
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let request_hash = request_hash(&parts.method, uri, &bytes);
    let answer = match parts.extensions.get::<Prefetched>() {
        Some(p) if p.key == key => p.answer.clone(),
        _ => stored(&state, client_id, &key).await?,
    };
    if let Some(answer) = answer {
        return check(answer, &request_hash);
    }
    let scope = Arc::new(IdempotencyScope {
        client_id,
        key: key.clone(),
        request_hash: request_hash.clone(),
        stored: AtomicBool::new(false),
        lost_race: AtomicBool::new(false),
    });
    let request = Request::from_parts(parts, Body::from(bytes));
    let response = SCOPE.scope(scope.clone(), next.run(request)).await;
    let status = response.status();
    if scope.stored.load(Ordering::SeqCst) || status.is_server_error() {
        return Ok(response);
    }
    if !scope.lost_race.load(Ordering::SeqCst)
        && status.is_client_error()
        && let Some(response) = remember_refusal(&state, &scope, response).await?
    {
        return Ok(response);
    }
    // Another request with this key answered first: give its answer.
    match stored(&state, client_id, &key).await? {
        Some(answer) => check(answer, &request_hash),
        None => Err(ApiError::Internal(anyhow::anyhow!(
            "idempotent answer vanished"
        ))),
    }
}

/// The key as sent, if it is one: 1 to [`MAX_KEY_LEN`] visible ASCII characters.
fn checked_key(key: &HeaderValue) -> ApiResult<String> {
    key.to_str()
        .ok()
        .filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            ))
        })
}

/// The stored answer again, for the same request; the same key with another request is refused.
fn check(answer: IdempotentAnswer, request_hash: &str) -> ApiResult<Response> {
    if answer.request_hash == request_hash {
        Ok(replay(answer))
    } else {
        Err(ApiError::invalid(
            "this Idempotency-Key was already used for a different request",
        ))
    }
}

/// Stores a client error (nothing was changed), so that retries get the same answer. `None` when
/// another request with the key stored its answer first.
async fn remember_refusal(
    state: &AppState,
    scope: &IdempotencyScope,
    response: Response,
) -> ApiResult<Option<Response>> {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading an answer: {e}")))?;
    let record = IdempotentAnswer {
        request_hash: scope.request_hash.clone(),
        status: parts.status.as_u16(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let mut tx = state.store.write().await?;
    let first = tx
        .store_idempotent_answer(scope.client_id, &scope.key, &record, wall_now())
        .await?;
    tx.commit().await?;
    Ok(first.then(|| Response::from_parts(parts, Body::from(body))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_method_uri_and_body() {
        let a = request_hash(&Method::PUT, "/rest/v1/transaction/k/confirm", b"[]");
        assert_eq!(
            a,
            request_hash(&Method::PUT, "/rest/v1/transaction/k/confirm", b"[]")
        );
        assert_ne!(
            a,
            request_hash(&Method::POST, "/rest/v1/transaction/k/confirm", b"[]")
        );
        assert_ne!(
            a,
            request_hash(&Method::PUT, "/rest/v1/transaction/j/confirm", b"[]")
        );
        assert_ne!(
            a,
            request_hash(&Method::PUT, "/rest/v1/transaction/k/confirm", b"{}")
        );
    }
}
