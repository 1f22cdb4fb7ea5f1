//! Typed calls to the Wallet API over HTTP, signed like the official PHP client signs them.
//!
//! Every request carries `Authorization: MAC …` computed by [`mac::sign`] over exactly what goes on
//! the wire: the path and query as sent (with `/rest/v1/` and any base-path prefix), the host and
//! port of the base URL, and a `body_hash` of the exact body bytes. That is what lets walletd (or
//! the hosted API) verify us with the same code that verifies the PHP client.
//!
//! Mutating calls (POST, PUT, DELETE) carry a fresh `Idempotency-Key` per call, so that a retry of
//! the *same* call after a lost answer is answered from the server's record instead of acting twice.
//! Retries are off unless [`Client::with_retries`] turns them on.
//!
//! This file is the client itself (configuration, signing, sending, retries, errors); the typed
//! calls are in `client/`, grouped by what they act on: `transactions.rs`, `payments.rs`,
//! `wallets.rs` (with the lookups), `users.rs`, and the till's whole flow in `cash_out.rs`.

mod cash_out;
mod payments;
mod transactions;
mod users;
mod wallets;

pub use cash_out::CashOut;

use crate::mac;
use crate::types::ErrorBody;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// The HTTP method type of [`Client::send`] and [`Client::request_json`].
pub use reqwest::Method;

/// Name of the header that makes a POST/PUT/DELETE safe to retry (see DESIGN.md, "Beyond the spec").
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// Length of the keys [`new_idempotency_key`] makes: 32 base62 characters, about 190 bits, so two
/// tills never collide on the server's key record.
pub const IDEMPOTENCY_KEY_LEN: usize = 32;

/// Default total time for one attempt of a request; the PHP client also gives up after 60 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Default time to establish a connection: short, so that a till notices a dead server quickly.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The path between the base URL and an endpoint, as the PHP client concatenates it.
const API_PREFIX: &str = "/rest/v1/";

/// A fresh idempotency key for one logical call: the time it was made, then random characters
/// (`wallet_core::keys::time_ordered_base62`, 25 random base62 characters, about 148 bits).
///
/// Use one key per operation and reuse it only when repeating that same operation (same method,
/// path and body) after not getting an answer; the server refuses a key reused with another body.
///
/// Why the time first: the server keeps every key in a B-tree index for a day. Keys that sort in
/// the order they were made join that index at its end, on a page that the other requests of the
/// same commit share, rather than on one random page each (as the nonces: [`crate::mac::new_nonce`]).
pub fn new_idempotency_key() -> String {
    wallet_core::keys::time_ordered_base62(
        &mut rand::rng(),
        crate::mac::wall_millis(),
        IDEMPOTENCY_KEY_LEN,
    )
}

/// Why a call failed.
///
/// The variants separate what a caller reacts to differently: the API said no ([`Error::Api`],
/// do not retry blindly), the API could not be reached ([`Error::Transport`], the outcome of a
/// mutating call is unknown), the answer was not what the API promises ([`Error::Decode`]), or
/// the call was refused before anything was sent ([`Error::InvalidCode`], [`Error::Config`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A non-2xx answer; `error` is the API's error code (`invalid_code`, `not_enough_funds`, …).
    #[error("{error} (HTTP {status}){}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Api {
        status: u16,
        error: String,
        description: Option<String>,
    },
    /// Connection refused, timeout, reset: no answer was received.
    #[error("cannot reach the Wallet API: {0}")]
    Transport(#[source] reqwest::Error),
    /// A 2xx answer whose body is not the JSON the API documents.
    #[error("unexpected answer from the Wallet API: {0}")]
    Decode(String),
    /// The scanned text is not a reservation code; nothing was sent. The text is not repeated
    /// here because codes are secrets.
    #[error(
        "not a reservation code: expected 28 digits, bare or behind the QR prefix PAYSERA$ or the barcode prefix 9999"
    )]
    InvalidCode,
    /// Bad base URL, credentials or header value; nothing was sent.
    #[error("client configuration: {0}")]
    Config(String),
}

impl Error {
    /// The API's error code when the server answered with one, so callers can match on
    /// `Some("code_expired")` without destructuring.
    pub fn api_code(&self) -> Option<&str> {
        match self {
            Error::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A Wallet API client bound to one base URL and one MAC credential.
///
/// Cheap to clone (the connection pool is shared); safe to use from many tasks at once.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Scheme, authority and optional path prefix, without a trailing `/`.
    base: String,
    host: String,
    port: u16,
    mac_id: String,
    mac_secret: String,
    parameters: Vec<(String, String)>,
    retries: u32,
}

impl fmt::Debug for Client {
    /// Leaves out the MAC secret so that a logged client leaks no credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("mac_id", &self.mac_id)
            .field("mac_secret", &"****")
            .field("parameters", &self.parameters)
            .field("retries", &self.retries)
            .finish()
    }
}

impl Client {
    /// A client for the API at `base_url` (e.g. `http://127.0.0.1:8080`, or
    /// `https://wallet.paysera.com` — endpoints are `{base_url}/rest/v1/…`), signing with the
    /// client credential `mac_id`/`mac_secret`. Fails if the URL is not an absolute http(s) URL
    /// without query or credentials, or a credential is empty.
    pub fn new(base_url: &str, mac_id: &str, mac_secret: &str) -> Result<Client, Error> {
        let trimmed = base_url.trim().trim_end_matches('/');
        let url = Url::parse(trimmed)
            .map_err(|e| Error::Config(format!("base URL {trimmed:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "base URL {trimmed:?} must start with http:// or https://"
            )));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::Config(format!(
                "base URL {trimmed:?} must not have a query or fragment"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::Config(
                "base URL must not carry credentials; use the MAC id and secret".into(),
            ));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::Config(format!("base URL {trimmed:?} has no host")))?
            .to_string();
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Error::Config(format!("base URL {trimmed:?} has no port")))?;
        if mac_id.is_empty() || mac_secret.is_empty() {
            return Err(Error::Config(
                "the MAC id and secret must not be empty".into(),
            ));
        }
        if HeaderValue::from_str(mac_id).is_err() || mac_id.contains('"') {
            return Err(Error::Config(
                "the MAC id must be printable ASCII without '\"'".into(),
            ));
        }
        // The parsed URL, not the text, so that what we sign is what reqwest will send.
        let base = url.as_str().trim_end_matches('/').to_string();
        Ok(Client {
            http: build_http(DEFAULT_TIMEOUT)?,
            base,
            host,
            port,
            mac_id: mac_id.to_string(),
            mac_secret: mac_secret.to_string(),
            parameters: Vec::new(),
            retries: 0,
        })
    }

    /// Sets the total time allowed for each attempt of a request.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Client, Error> {
        self.http = build_http(timeout)?;
        Ok(self)
    }

    /// Extra signed parameters, as the PHP client's `walletClient(['project_id' => …,
    /// 'location_id' => …])` sends them: they are appended to `ext` after `body_hash`.
    pub fn with_parameters(mut self, parameters: Vec<(String, String)>) -> Client {
        self.parameters = parameters;
        self
    }

    /// Retries each call up to `retries` more times when no answer arrived or a gateway answered
    /// 502/503/504, re-signed with a new nonce and the same idempotency key. A request without a
    /// key (only possible through [`Client::send`]) that is not a GET is retried only when the
    /// connection was never made, because it might otherwise act twice. Turn this on only against
    /// a server that honours `Idempotency-Key` (walletd does).
    pub fn with_retries(mut self, retries: u32) -> Client {
        self.retries = retries;
        self
    }

    /// The base URL the client was made with, normalised (no trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Any call without a typed method: `path` is what follows `/rest/v1/` (with its query string,
    /// already encoded), `body` is sent as JSON. Non-GET calls get a fresh idempotency key. An
    /// empty 2xx answer is returned as `Value::Null`.
    pub async fn request_json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let body = body.map(encode).transpose()?;
        let key = (method != Method::GET && method != Method::HEAD).then(new_idempotency_key);
        self.send(method, path, body.as_deref(), key.as_deref())
            .await
    }

    /// The lowest level: signs and sends `body` (already-encoded JSON, sent with
    /// `Content-Type: application/json`; `None` sends no body), with `Idempotency-Key:
    /// idempotency_key` when given, and decodes the JSON answer. Use it to control the exact body
    /// bytes or to reuse an idempotency key across process restarts.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, Error> {
        let url = self.url(path)?;
        let key = idempotency_key
            .map(|k| {
                HeaderValue::from_str(k).map_err(|_| {
                    Error::Config("the idempotency key must be printable ASCII".into())
                })
            })
            .transpose()?;
        let safe_to_repeat = key.is_some() || method == Method::GET || method == Method::HEAD;
        let mut attempt = 0u32;
        loop {
            let result = self.send_once(&method, &url, body, key.as_ref()).await;
            match result {
                Err(e) if attempt < self.retries && retryable(&e, safe_to_repeat) => {
                    // 250 ms, 500 ms, 1 s, … capped at 8 s: enough for a restart or failover.
                    let delay = Duration::from_millis(250u64 << attempt.min(5));
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// A typed call; non-GET calls carry a fresh idempotency key.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, Error> {
        let key = (method != Method::GET).then(new_idempotency_key);
        let what = format!("{method} {path}");
        let value = self
            .send(method, path, body.as_deref(), key.as_deref())
            .await?;
        serde_json::from_value(value)
            .map_err(|e| Error::Decode(format!("the answer to {what} does not match the API: {e}")))
    }

    /// `{base}/rest/v1/{path}`, parsed the way reqwest will send it.
    fn url(&self, path: &str) -> Result<Url, Error> {
        let text = format!("{}{API_PREFIX}{}", self.base, path.trim_start_matches('/'));
        Url::parse(&text).map_err(|e| Error::Config(format!("bad request path {path:?}: {e}")))
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        idempotency_key: Option<&HeaderValue>,
    ) -> Result<Value, Error> {
        // The URI as it goes into the request line: path plus `?query`, exactly as sent.
        let uri = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let authorization = mac::sign(
            &self.mac_id,
            self.mac_secret.as_bytes(),
            unix_now(),
            &mac::new_nonce(),
            method.as_str(),
            &uri,
            &self.host,
            self.port,
            body.unwrap_or_default(),
            &self.parameters,
        );
        let authorization = HeaderValue::from_str(&authorization)
            .map_err(|_| Error::Config("the signed Authorization header is not valid".into()))?;
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, authorization);
        if let Some(key) = idempotency_key {
            request = request.header(IDEMPOTENCY_KEY_HEADER, key.clone());
        }
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let response = request.send().await.map_err(Error::Transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(Error::Transport)?;
        if status.is_success() {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            serde_json::from_slice(&bytes).map_err(|e| {
                Error::Decode(format!("HTTP {} answer is not JSON: {e}", status.as_u16()))
            })
        } else {
            Err(api_error(status, &bytes))
        }
    }
}

/// The reqwest client: no redirects, because a redirect would change the signed URI and the PHP
/// client treats a 3xx as an error too.
fn build_http(timeout: Duration) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .user_agent(concat!(
            "wallet-client/",
            env!("CARGO_PKG_VERSION"),
            " (Rust)"
        ))
        .connect_timeout(DEFAULT_CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
}

/// The API error in a non-2xx answer; an answer without the JSON error body (a proxy's HTML page)
/// gets a code derived from the status so callers still have something to match on.
fn api_error(status: StatusCode, body: &[u8]) -> Error {
    if let Ok(e) = serde_json::from_slice::<ErrorBody>(body) {
        return Error::Api {
            status: status.as_u16(),
            error: e.error,
            description: e.error_description,
        };
    }
    let error = status
        .canonical_reason()
        .unwrap_or("http_error")
        .to_ascii_lowercase()
        .replace([' ', '-'], "_");
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    Error::Api {
        status: status.as_u16(),
        error,
        description: Some(if text.trim().is_empty() {
            "no error body".to_string()
        } else {
            format!("no JSON error body: {}", text.trim())
        }),
    }
}

fn retryable(e: &Error, safe_to_repeat: bool) -> bool {
    match e {
        Error::Transport(t) => t.is_connect() || safe_to_repeat,
        Error::Api { status, .. } => safe_to_repeat && matches!(status, 502..=504),
        _ => false,
    }
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value)
        .map_err(|e| Error::Config(format!("cannot encode the request body: {e}")))
}

/// A key or id as one path segment: keys the API issues are base62 and pass unchanged; anything
/// else is percent-encoded so it cannot reach another endpoint.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() || out == "." || out == ".." {
        // An empty or dot segment would address the collection or a parent; make it a 404.
        out = out.replace('.', "%2E");
        out.insert_str(0, "%20");
    }
    out
}

fn unix_now() -> i64 {
    i64::try_from(crate::mac::wall_millis() / 1000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_normalised() {
        let c = Client::new("http://127.0.0.1:8080/", "id", "secret").unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:8080");
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8080));
        let c = Client::new("https://wallet.example/wallet", "id", "secret").unwrap();
        assert_eq!(c.base_url(), "https://wallet.example/wallet");
        assert_eq!(c.port, 443);
        assert_eq!(
            c.url("transaction/abc?x=1").unwrap().as_str(),
            "https://wallet.example/wallet/rest/v1/transaction/abc?x=1"
        );
        assert_eq!(Client::new("http://h", "id", "s").unwrap().port, 80);
        for bad in [
            "ftp://h",
            "127.0.0.1:8080",
            "http://h?x=1",
            "http://u:p@h",
            "",
        ] {
            assert!(
                matches!(Client::new(bad, "id", "s"), Err(Error::Config(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Client::new("http://h", "", "s"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Client::new("http://h", "id", ""),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn debug_hides_the_secret() {
        let c = Client::new("http://h", "id", "very-secret-value").unwrap();
        assert!(!format!("{c:?}").contains("very-secret-value"));
    }

    #[test]
    fn segments_cannot_escape_the_endpoint() {
        assert_eq!(segment("ATaNL6X6CivO2Ou0FMPt"), "ATaNL6X6CivO2Ou0FMPt");
        assert_eq!(segment("a/../b?c"), "a%2F..%2Fb%3Fc");
        assert_eq!(segment(".."), "%20%2E%2E");
        assert_eq!(segment(""), "%20");
    }

    #[test]
    fn idempotency_keys_are_base62_and_begin_with_the_time() {
        let before = crate::mac::wall_millis();
        let a = new_idempotency_key();
        let after = crate::mac::wall_millis();
        assert_eq!(a.len(), IDEMPOTENCY_KEY_LEN);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, new_idempotency_key());
        let time = &a.as_bytes()[..wallet_core::keys::TIME_PREFIX_LEN];
        assert!(wallet_core::keys::time_prefix(before).as_slice() <= time);
        assert!(time <= wallet_core::keys::time_prefix(after).as_slice());
    }

    #[test]
    fn errors_without_a_json_body_still_have_a_code() {
        let e = api_error(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!(e.api_code(), Some("bad_gateway"));
        assert_eq!(e.status(), Some(502));
        let e = api_error(
            StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_code","error_description":"Invalid reservation code"}"#,
        );
        assert_eq!(
            e.to_string(),
            "invalid_code (HTTP 400): Invalid reservation code"
        );
    }
}
