//! Requests: calls by path over the SDK, hand-signed requests (`app.raw(…)`, `signed`), and the
//! checks of an error answer.

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
    /// The demo client's `method path` (what follows `/rest/v1/`), which must succeed.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        call(&self.client, method, path, body).await
    }

    /// The demo client's `GET path` (what follows `/rest/v1/`), which must succeed.
    pub async fn get(&self, path: &str) -> Value {
        self.call(Method::GET, path, None).await
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

/// A request signed by hand as the demo client (`app.raw("POST", path)`): now, with a fresh
/// nonce and the client's secret, unless told otherwise.
pub struct Raw<'a> {
    app: &'a TestApp,
    method: String,
    path: String,
    body: String,
    ts: i64,
    nonce: String,
    mac_id: String,
    secret: String,
    signed_body: Option<String>,
    parameters: Vec<(String, String)>,
}

impl TestApp {
    /// A hand-signed `method path` (the full path, `/rest/v1/…`) of the demo client.
    pub fn raw(&self, method: &str, path: &str) -> Raw<'_> {
        Raw {
            app: self,
            method: method.into(),
            path: path.into(),
            body: String::new(),
            ts: walletd::clock::wall_now(),
            nonce: wallet_client::mac::new_nonce(),
            mac_id: self.demo.client.mac_id.clone(),
            secret: self.demo.client.mac_secret.clone(),
            signed_body: None,
            parameters: Vec::new(),
        }
    }
}

impl Raw<'_> {
    pub fn body(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }

    /// Signed at `ts` (UNIX seconds).
    pub fn at(mut self, ts: i64) -> Self {
        self.ts = ts;
        self
    }

    pub fn nonce(mut self, nonce: &str) -> Self {
        self.nonce = nonce.into();
        self
    }

    /// Signed as `mac_id` with `secret`.
    pub fn by(mut self, mac_id: &str, secret: &str) -> Self {
        self.mac_id = mac_id.into();
        self.secret = secret.into();
        self
    }

    pub fn secret(mut self, secret: &str) -> Self {
        self.secret = secret.into();
        self
    }

    /// Signs the hash of `body` instead of the hash of the body sent.
    pub fn signing_body(mut self, body: &str) -> Self {
        self.signed_body = Some(body.into());
        self
    }

    /// Signs these parameters too (the PHP client's `project_id`, `location_id`).
    pub fn parameters(mut self, parameters: &[(&str, &str)]) -> Self {
        self.parameters = parameters
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self
    }

    /// The `Authorization` header's value.
    pub fn authorization(&self) -> String {
        wallet_client::mac::sign(
            &self.mac_id,
            self.secret.as_bytes(),
            self.ts,
            &self.nonce,
            &self.method,
            &self.path,
            "127.0.0.1",
            self.app.port,
            self.signed_body.as_ref().unwrap_or(&self.body).as_bytes(),
            &self.parameters,
        )
    }

    /// The request with its `Authorization` header and its body, and no other header.
    pub fn request(self) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(self.method.parse().unwrap(), self.app.url(&self.path))
            .header("Authorization", self.authorization())
            .body(self.body)
    }

    /// Sends it with `headers` too: the raw response.
    pub async fn send_with(self, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.request();
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// Sends it as JSON: `(status, json body)`; the answer must be exactly `application/json`.
    pub async fn send(self) -> (u16, Value) {
        let resp = self
            .request()
            .header("Content-Type", "application/json")
            .send()
            .await
            .unwrap();
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
}

/// Signs like the SDK does, with current time and a fresh nonce: `(status, json body)`.
pub async fn signed(app: &TestApp, method: &str, path: &str, body: &str) -> (u16, Value) {
    app.raw(method, path).body(body).send().await
}

/// `DELETE /oauth/v1/token?access_token=…`, signed by the demo client: `(status, json body)`.
pub async fn revoke_token(app: &TestApp, access_token: &str) -> (u16, Value) {
    let path = format!("/oauth/v1/token?access_token={access_token}");
    signed(app, "DELETE", &path, "").await
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
