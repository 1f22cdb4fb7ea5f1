//! What every request passes first, inside `observe`: its body read whole within the size and time
//! limits, and its answer awaited within the request timeout (docs/decisions.md, "Limits on
//! abuse"). The handlers behind it get the body as bytes already in memory.

use crate::error::ApiError;
use crate::limits::Limits;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONNECTION, CONTENT_LENGTH};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

/// Most bytes of a refused body read and thrown away, so that the client, which may still be
/// sending it, reads the answer instead of a reset connection.
const DRAIN_BYTES: usize = 1024 * 1024;

/// The middleware (`middleware::from_fn_with_state`).
pub async fn intake(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &state.limits;
    let answer = tokio::time::timeout(limits.request_timeout, within_limits(limits, request, next));
    match answer.await {
        Ok(response) => response,
        Err(_) => closing(
            ApiError::TookTooLong(format!(
                "no answer within {} s; the request may have been carried out: repeat it with the same Idempotency-Key to learn its answer",
                limits.request_timeout.as_secs_f64()
            ))
            .into_response(),
        ),
    }
}

async fn within_limits(limits: &Limits, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(limits.body_timeout, read_body(limits, &parts.headers, body));
    match read.await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(refusal)) => closing(refusal.into_response()),
        Err(_) => closing(
            ApiError::BodyTooSlow(format!(
                "the request body did not arrive within {} s",
                limits.body_timeout.as_secs_f64()
            ))
            .into_response(),
        ),
    }
}

/// The body, at most `max_body_bytes` of it. A larger one (by `Content-Length` or as it comes)
/// is refused, what is left of it drained up to [`DRAIN_BYTES`].
async fn read_body(
    limits: &Limits,
    headers: &HeaderMap,
    mut body: Body,
) -> Result<Bytes, ApiError> {
    let max = limits.max_body_bytes;
    let too_large =
        || ApiError::BodyTooLarge(format!("the request body is larger than {max} bytes"));
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(declared) = declared.filter(|&n| n > max as u64) {
        if declared <= DRAIN_BYTES as u64 {
            drain(body).await;
        }
        return Err(too_large());
    }
    let mut received = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ApiError::invalid("the request body could not be read"))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if received.len() + data.len() > max {
            drain(body).await;
            return Err(too_large());
        }
        received.extend_from_slice(&data);
    }
    Ok(Bytes::from(received))
}

/// Reads and throws away the rest of a refused body, up to [`DRAIN_BYTES`].
async fn drain(mut body: Body) {
    let mut left = DRAIN_BYTES;
    while let Some(Ok(frame)) = body.frame().await {
        let n = frame.data_ref().map_or(0, Bytes::len);
        match left.checked_sub(n) {
            Some(rest) if rest > 0 => left = rest,
            _ => return,
        }
    }
}

/// The answer with `Connection: close`: a client refused for its body does not keep the
/// connection.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}
