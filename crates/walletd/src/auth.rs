//! MAC authentication of every API request (DESIGN.md "Authentication", client-compatibility §1).
//!
//! Checks, in order: a well-formed `Authorization: MAC …` header; `ts` within
//! ±60 s of wall time; a known `id`; the MAC over the request as received
//! (path and query as sent, host and port from `Host`, the raw `ext`), compared
//! in constant time; `body_hash` equal to the hash of the body bytes; and the
//! `(id, nonce)` pair unseen. The nonce and the request's rate count are
//! recorded by the request's own write transaction (first and last statement,
//! see `wallet_store::serve_request`), so they cost no extra commit; a request
//! that commits nothing (a read, a refusal) records them in a commit of their
//! own before it is answered, so it cannot be replayed later either.

use crate::caller::{Caller, CallerProject};
use crate::clock::wall_now;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use wallet_client::mac::{MacHeader, SignedParts, body_hash, parse_query};
use wallet_core::ids::ClientId;
use wallet_store::{RequestRecord, serve_request};

/// Allowed distance between the client's `ts` and our wall clock.
pub const TIMESTAMP_WINDOW_SECS: i64 = 60;

/// Invalid requests (refused signatures, 4xx answers) a client may make per minute: a tenth of
/// its request limit. Past it, every request is `rate_limit_exceeded` until the minute ends.
pub fn invalid_limit(rate_limit_per_minute: i64) -> i64 {
    (rate_limit_per_minute / 10).max(1)
}

/// Start of the rate-limit window (one minute) holding `now`.
fn window_of(now: i64) -> i64 {
    now - now.rem_euclid(60)
}

/// Counts an invalid request of a known client, in a commit of its own.
async fn count_invalid(state: &AppState, client_id: ClientId) -> Result<(), ApiError> {
    let mut tx = state.store.write().await?;
    tx.count_invalid_request(client_id, window_of(wall_now()))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Records the nonce and the count of a request whose handler committed nothing, in a commit of
/// their own (also counting it as invalid when `invalid`). `false` when the nonce was used: the
/// request is a replay, counted as invalid.
async fn record_afterwards(
    state: &AppState,
    record: &RequestRecord,
    invalid: bool,
) -> Result<bool, ApiError> {
    let mut tx = state.store.write().await?;
    let fresh = tx.record_request(record).await?;
    if invalid || !fresh {
        tx.count_invalid_request(record.client_id(), record.window_start())
            .await?;
    }
    tx.commit().await?;
    Ok(fresh)
}

/// Host and port as the client signed them: from `Host`, the port defaulting to `default_port`.
pub fn host_and_port(parts: &Parts, default_port: u16) -> Result<(String, u16), ApiError> {
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| ApiError::Unauthorized("request has no Host header".into()))?;
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        let end = rest
            .find(']')
            .ok_or_else(|| ApiError::Unauthorized("malformed Host header".into()))?;
        let name = &host[..end + 2];
        (name, rest[end + 1..].strip_prefix(':'))
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let port = match port {
        Some(p) => p
            .parse()
            .map_err(|_| ApiError::Unauthorized("malformed port in Host header".into()))?,
        None => default_port,
    };
    Ok((name.to_string(), port))
}

/// Authenticates the request, then hands it on with its [`Caller`] and the body bytes.
pub async fn authenticate(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    // Already in memory and within the limit (`http::intake`).
    let bytes: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| ApiError::invalid("the request body could not be read"))?;
    let Verified {
        caller,
        record,
        refusal,
        answer,
    } = verify(&state, &parts, &bytes).await?;
    let response = match refusal {
        Some(refusal) => refusal.into_response(),
        None => {
            let mut request = Request::from_parts(parts, Body::from(bytes));
            request.extensions_mut().insert(caller);
            if let Some(answer) = answer {
                request.extensions_mut().insert(answer);
            }
            serve_request(record.clone(), next.run(request)).await
        }
    };
    let status = response.status();
    let invalid = status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS;
    if !record.is_recorded() {
        // A nonce found taken after a commit in doubt is the request's own, committed unseen:
        // its answer (unavailable) stands, and the retry with its idempotency key gets the stored
        // one. Otherwise it is a replay that raced the original.
        if !record_afterwards(&state, &record, invalid).await? && !record.commit_in_doubt() {
            return Err(wallet_store::StoreError::ReusedNonce.into());
        }
    } else if invalid {
        count_invalid(&state, record.client_id()).await?;
    }
    Ok(response)
}

/// A request whose signature holds.
struct Verified {
    caller: Caller,
    /// Its nonce and rate count, recorded by its write transaction or afterwards.
    record: Arc<RequestRecord>,
    /// `rate_limit_exceeded`, answered without running the request.
    refusal: Option<ApiError>,
    /// The stored answer to its idempotency key, read with the client.
    answer: Option<crate::idempotency::Prefetched>,
}

async fn verify(state: &AppState, parts: &Parts, body: &[u8]) -> Result<Verified, ApiError> {
    let mac = mac_header(parts)?;
    let now = wall_now();
    check_timestamp(&mac, now)?;
    let window = window_of(now);
    let idempotency_key = crate::idempotency::key_of(parts);
    let found = credentials(state, &mac.id, window, idempotency_key, now).await?;
    let client_id = found.caller.client.id;
    let (host, port) = host_and_port(parts, state.default_port)?;
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let signed = SignedParts {
        ts: &mac.ts,
        nonce: &mac.nonce,
        method: parts.method.as_str(),
        uri,
        host: &host,
        port,
        ext: &mac.ext,
    };
    if !signed.verify(found.secret.as_bytes(), &mac.mac) {
        count_invalid(state, client_id).await?;
        return Err(ApiError::Unauthorized(
            "signature does not match the request".into(),
        ));
    }
    if let Some(refusal) = body_refusal(&mac, body) {
        count_invalid(state, client_id).await?;
        return Err(ApiError::Unauthorized(refusal.into()));
    }
    let (requests, invalid) = found.counts;
    let record = RequestRecord::new(&mac.id, &mac.nonce, client_id, now, window);
    let mut caller = found.caller;
    caller.location = ext_parameter(&mac, "location_id");
    Ok(Verified {
        refusal: rate_refusal(state.rate_limit_per_minute, requests, invalid, window, now),
        caller,
        record,
        answer: found.answer,
    })
}

/// The `Authorization: MAC …` header, parsed.
fn mac_header(parts: &Parts) -> Result<MacHeader, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| ApiError::Unauthorized("missing Authorization: MAC header".into()))?;
    MacHeader::parse(header).ok_or_else(|| {
        ApiError::Unauthorized(
            "malformed Authorization header: expected MAC id, ts, nonce, mac".into(),
        )
    })
}

/// `ts` within [`TIMESTAMP_WINDOW_SECS`] of the server's wall clock.
pub fn check_timestamp(mac: &MacHeader, now: i64) -> Result<(), ApiError> {
    let ts: i64 = mac
        .ts
        .parse()
        .map_err(|_| ApiError::Unauthorized("MAC ts is not a UNIX time".into()))?;
    // `abs_diff`: any `ts` a client sends, `i64::MIN` included, without overflow.
    if now.abs_diff(ts) > TIMESTAMP_WINDOW_SECS.unsigned_abs() {
        return Err(ApiError::Unauthorized(format!(
            "stale timestamp: MAC ts is more than {TIMESTAMP_WINDOW_SECS} s from the server's time"
        )));
    }
    Ok(())
}

/// What a MAC id stands for: the caller, the secret its requests are signed with, its request
/// counts of this minute, and the stored answer to the request's idempotency key.
struct Credentials {
    caller: Caller,
    secret: String,
    /// `(requests, invalid requests)` counted so far in this minute.
    counts: (i64, i64),
    answer: Option<crate::idempotency::Prefetched>,
}

/// Looks up a MAC id: a client's credential (read with its counts, its project and the stored
/// answer, in one statement), or else a holder's access token issued to a client.
async fn credentials(
    state: &AppState,
    mac_id: &str,
    window: i64,
    idempotency_key: Option<&str>,
    now: i64,
) -> Result<Credentials, ApiError> {
    let mut tx = state.store.lookup().await?;
    if let Some(found) = tx
        .client_with_counts(mac_id, window, idempotency_key)
        .await?
    {
        let answer = idempotency_key.map(|key| crate::idempotency::Prefetched {
            key: key.to_string(),
            answer: found.answer,
        });
        let project = CallerProject {
            wallet_id: found.project_wallet_id,
            limited: found.project_limits > 0,
        };
        return Ok(Credentials {
            secret: found.client.mac_secret.clone(),
            caller: Caller {
                client: found.client,
                holder: None,
                scope: None,
                project: Some(project),
                location: None,
            },
            counts: found.counts,
            answer,
        });
    }
    let token = tx
        .token(mac_id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("unknown MAC id".into()))?;
    if token.expires_at <= now {
        return Err(ApiError::InvalidGrant(
            "the access token expired; refresh it".into(),
        ));
    }
    let client = tx.client_by_id(token.client_id).await?.ok_or_else(|| {
        ApiError::InvalidGrant("the access token's client no longer exists".into())
    })?;
    let counts = tx.request_counts(client.id, window).await?;
    Ok(Credentials {
        caller: Caller {
            client,
            holder: Some(token.user_id),
            scope: Some(token.scope),
            project: None,
            location: None,
        },
        secret: token.mac_key,
        counts,
        answer: None,
    })
}

/// The value of parameter `name` of the MAC `ext`, decoded.
fn ext_parameter(mac: &MacHeader, name: &str) -> Option<String> {
    parse_query(&mac.ext)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Why the body does not match what was signed, if it does not: `body_hash` in `ext` must be the
/// hash of the body received, and a request with a body must sign one.
pub fn body_refusal(mac: &MacHeader, body: &[u8]) -> Option<&'static str> {
    let signed_hash = ext_parameter(mac, "body_hash");
    match signed_hash {
        Some(h) if h != body_hash(body) => Some("body hash does not match the body received"),
        None if !body.is_empty() => Some("request has a body but the MAC ext has no body_hash"),
        _ => None,
    }
}

/// `rate_limit_exceeded` when the client made too many requests (or too many invalid ones) in
/// this minute; the counts are those so far, without this request (which counts when recorded).
fn rate_refusal(
    limit_per_minute: i64,
    requests: i64,
    invalid: i64,
    window: i64,
    now: i64,
) -> Option<ApiError> {
    if requests >= limit_per_minute {
        Some(ApiError::RateLimitExceeded(format!(
            "more than {limit_per_minute} requests in a minute from this client; retry after {} s",
            window + 60 - now
        )))
    } else if invalid > invalid_limit(limit_per_minute) {
        Some(ApiError::RateLimitExceeded(format!(
            "more than {} invalid requests in a minute from this client; retry after {} s",
            invalid_limit(limit_per_minute),
            window + 60 - now
        )))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ts: &str) -> MacHeader {
        let text = |s: &str| s.to_string();
        MacHeader {
            id: text("id"),
            ts: text(ts),
            nonce: text("n"),
            mac: text("m"),
            ext: text(""),
        }
    }

    #[test]
    fn a_timestamp_is_checked_without_overflow_whatever_its_value() {
        let now = 1_800_000_000;
        assert!(check_timestamp(&at("1800000060"), now).is_ok());
        assert!(check_timestamp(&at("1799999940"), now).is_ok());
        for far in [
            "1800000061",
            "1799999939",
            "-9223372036854775808",
            "9223372036854775807",
        ] {
            assert!(check_timestamp(&at(far), now).is_err(), "{far} passed");
        }
    }
}
