//! The OpenAPI document against the running server: served at `/openapi.json`, and every
//! operation it describes is a route the server has (the other way round, a route it lacks is
//! refused in debug builds: `walletd::http::openapi::described_only`).

use crate::helpers::{TestApp, start_server, test_config};
use crate::on_both;
use serde_json::Value;
use walletd::clock::ManualClock;
use walletd::server::ServerConfig;

async fn the_document_is_served(app: TestApp) {
    let res = reqwest::get(app.url("/openapi.json")).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let text = res.text().await.unwrap();
    assert_eq!(text, walletd::http::openapi::document_json());
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for scheme in ["mac", "admin_token", "metrics_token", "holder_session"] {
        assert!(schemes.contains_key(scheme), "no {scheme} scheme");
    }
}
on_both!(the_document_is_served);

/// A path of the document with each `{parameter}` filled in: the route matches whatever the value.
fn concrete(template: &str) -> String {
    template
        .replace("{key}", "8Hq2Zo1kEXAMPLEkey")
        .replace("{wallet}", "1")
        .replace("{id}", "1")
        .replace("{session}", "aPreparedSessionKey")
}

async fn every_described_operation_is_served(app: TestApp) {
    // The admin routes exist only with a token.
    let config = ServerConfig {
        admin_token: Some("an admin token".into()),
        ..test_config(&app.database)
    };
    let server = start_server(&config, ManualClock::default()).await;
    let doc: Value = serde_json::from_str(walletd::http::openapi::document_json()).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let url = format!("{}{}", server.url, concrete(path));
            let res = http.request(method.clone(), &url).send().await.unwrap();
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            // Unsigned and empty, most requests are refused; but by the route, not as unknown.
            assert_ne!(status, 405, "{method} {path} is described but not served");
            assert!(
                !(status == 404 && body.contains("no such endpoint")),
                "{method} {path} is described but not served: {body}"
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} operations");
    server.stop().await;
}
on_both!(every_described_operation_is_served);
