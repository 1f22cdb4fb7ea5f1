//! Requests: calls by path over the SDK, hand-signed requests (`raw`, `signed`), and the checks
//! of an error answer.

use super::app::TestApp;
use serde_json::Value;
use wallet_client::{Client, Method};

/// The API error code of a failed SDK call.
pub fn code_of<T: std::fmt::Debug>(r: Result<T, wallet_client::Error>) -> String {
    match r {
        Err(e) => e.api_code().unwrap_or("<no code>").to_string(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

/// `client`'s call of `method path` (what follows `/rest/v1/`), which must succeed.
pub async fn call(client: &Client, method: Method, path: &str, body: Option<Value>) -> Value {
    client
        .request_json(method, path, body.as_ref())
        .await
        .unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

/// The error code of `client`'s call of `method path`, which must fail.
pub async fn refused(client: &Client, method: Method, path: &str, body: Option<Value>) -> String {
    code_of(client.request_json(method, path, body.as_ref()).await)
}

impl TestApp {
    /// The demo client's `GET path` (what follows `/rest/v1/`), which must succeed.
    pub async fn get(&self, path: &str) -> Value {
        call(&self.client, Method::GET, path, None).await
    }

    /// The error code of the demo client's `GET path`, which must fail.
    pub async fn get_error(&self, path: &str) -> String {
        refused(&self.client, Method::GET, path, None).await
    }
}

/// Asserts that a hand-made request's answer is the error `code` with `status`.
#[track_caller]
pub fn assert_error(answer: &(u16, Value), status: u16, code: &str) {
    let (got, body) = answer;
    assert_eq!(
        (*got, body["error"].as_str()),
        (status, Some(code)),
        "{body}"
    );
}

/// Sends a hand-signed request: `(status, json body)`.
#[allow(clippy::too_many_arguments)]
pub async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    body: &str,
    ts: i64,
    nonce: &str,
    secret: &str,
    signed_body: Option<&str>,
) -> (u16, serde_json::Value) {
    let header = wallet_client::mac::sign(
        &app.demo.client.mac_id,
        secret.as_bytes(),
        ts,
        nonce,
        method,
        path,
        "127.0.0.1",
        app.port,
        signed_body.unwrap_or(body).as_bytes(),
        &[],
    );
    let req = reqwest::Client::new()
        .request(method.parse().unwrap(), app.url(path))
        .header("Authorization", header)
        .header("Content-Type", "application/json")
        .body(body.to_string());
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        ct.as_deref(),
        Some("application/json"),
        "exact content type"
    );
    (status, resp.json().await.unwrap())
}

/// Signs like the SDK does, with current time and a fresh nonce.
pub async fn signed(
    app: &TestApp,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    raw(
        app,
        method,
        path,
        body,
        walletd::clock::wall_now(),
        &wallet_client::mac::new_nonce(),
        &app.demo.client.mac_secret,
        None,
    )
    .await
}

/// A signed request that must answer 200: its body.
pub async fn signed_ok(app: &TestApp, method: &str, path: &str, body: &str) -> Value {
    let (status, answer) = signed(app, method, path, body).await;
    assert_eq!(status, 200, "{method} {path}: {answer}");
    answer
}

/// The string `field` of each object of the JSON array `list`.
pub fn strings<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap())
        .collect()
}

/// The JSON body of `PUT transaction/{key}/reserve` with `code`.
pub fn code_body(code: &str) -> String {
    format!(r#"{{"reservation_code":"{code}"}}"#)
}
