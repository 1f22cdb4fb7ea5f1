//! Every request's request id, log line and metrics: the outermost layer of every route.
//!
//! The request id is the client's `X-Request-Id` when it is a sane value, else a random one; it
//! is the field of the request's tracing span (so every line logged while serving the request
//! carries it) and is echoed in the answer's `X-Request-Id`. The log line names the route by its
//! template (`MatchedPath`), never by the request's URI: a query string can carry a token.

use crate::error::ErrorCode;
use crate::telemetry::{HTTP_DURATION, HTTP_REQUESTS};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Counter, Histogram, counter, histogram};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// The request and answer header of the request id.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest request id accepted from a client.
pub const MAX_REQUEST_ID_LEN: usize = 128;
/// The tracing target of the request span and its log line (`RUST_LOG=walletd::request=warn`
/// silences the lines).
pub const TARGET: &str = "walletd::request";
/// The `route` of a request no route matched: one value, whatever the path.
pub const UNMATCHED: &str = "unmatched";

/// The middleware (`middleware::from_fn_with_state`, as the router's outermost layer).
pub async fn observe(
    State(metrics): State<Arc<RequestMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = request_id(request.headers().get(REQUEST_ID));
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = method_label(request.method());
    let span =
        tracing::info_span!(target: TARGET, "request", request_id = %id.to_str().unwrap_or(""));
    let mut response = next.run(request).instrument(span.clone()).await;
    let took = started.elapsed();
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    let status = response.status();
    metrics.record(route, method, status, took);
    let error = response.extensions().get::<ErrorCode>();
    span.in_scope(|| {
        tracing::info!(
            target: TARGET,
            route = %route,
            method = %method,
            status = status.as_u16(),
            latency_ms = took.as_micros() as f64 / 1000.0,
            error = error.map(|e| tracing::field::display(e.0)),
            "answered"
        )
    });
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

/// The client's request id if it is sane (1 to [`MAX_REQUEST_ID_LEN`] of ASCII letters, digits
/// and `-_.:/+=@`: a UUID, a trace id, base64; nothing that could break a log line), else 128
/// random bits in hex.
fn request_id(given: Option<&HeaderValue>) -> HeaderValue {
    if let Some(v) = given
        && (1..=MAX_REQUEST_ID_LEN).contains(&v.len())
        && v.as_bytes()
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(b))
    {
        return v.clone();
    }
    let bits: u128 = rand::random();
    let mut hex = [0u8; 32];
    for (i, digit) in hex.iter_mut().enumerate() {
        *digit = b"0123456789abcdef"[(bits >> (124 - 4 * i)) as usize & 0xf];
    }
    HeaderValue::from_bytes(&hex).expect("hex digits are a header value")
}

/// The method as a label: the standard ones, and `other` for any other (a client may send any
/// token as a method; labels must stay few).
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        _ => "other",
    }
}

/// The request metrics' handles, made on the first request of each route, method and status:
/// later requests cost a read lock, a hash of the route template, a short scan and three atomic
/// operations, and allocate nothing (the facade's macros would build and look up a key each time).
#[derive(Default)]
pub struct RequestMetrics {
    routes: RwLock<HashMap<Box<str>, Vec<Handles>>>,
}

struct Handles {
    method: &'static str,
    status: u16,
    requests: Counter,
    duration: Histogram,
}

impl Handles {
    fn record(&self, took: Duration) {
        self.requests.increment(1);
        self.duration.record(took.as_secs_f64());
    }
}

impl RequestMetrics {
    fn record(&self, route: &str, method: &'static str, status: StatusCode, took: Duration) {
        let status = status.as_u16();
        let same = |h: &&Handles| h.method == method && h.status == status;
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(h) = routes.get(route).and_then(|hs| hs.iter().find(same)) {
            return h.record(took);
        }
        drop(routes);
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        let handles = routes.entry(route.into()).or_default();
        if let Some(h) = handles.iter().find(same) {
            return h.record(took);
        }
        let (route, status_text) = (route.to_string(), status.to_string());
        let h = Handles {
            method,
            status,
            requests: counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method, "status" => status_text),
            duration: histogram!(HTTP_DURATION, "route" => route, "method" => method),
        };
        h.record(took);
        handles.push(h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_client_request_id_is_kept_and_any_other_replaced() {
        for kept in ["abc-123", "0af7651916cd43dd8448eb211c80319c", "a:b/c+d=@_."] {
            let v = HeaderValue::from_static(kept);
            assert_eq!(request_id(Some(&v)), v);
        }
        let long = "x".repeat(MAX_REQUEST_ID_LEN + 1);
        for replaced in ["", "a b", "a\"b", "a{b}", "é", long.as_str()] {
            let v = HeaderValue::from_bytes(replaced.as_bytes()).unwrap();
            let made = request_id(Some(&v));
            assert_ne!(made, v);
            assert_eq!(made.len(), 32);
            assert!(made.as_bytes().iter().all(u8::is_ascii_hexdigit));
        }
        assert_ne!(request_id(None), request_id(None));
    }

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        assert_eq!(method_label(&Method::PUT), "PUT");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
