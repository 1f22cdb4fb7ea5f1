//! Requests: hand-signed requests (`raw`, `signed`), and the error code of a failed SDK call.

use super::app::TestApp;

/// The API error code of a failed SDK call.
pub fn code_of<T: std::fmt::Debug>(r: Result<T, wallet_client::Error>) -> String {
    match r {
        Err(e) => e.api_code().unwrap_or("<no code>").to_string(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
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
