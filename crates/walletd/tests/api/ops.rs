//! The operators' endpoints: liveness, readiness, Prometheus metrics; and the request id.
//!
//! Every server of the test process records into one recorder, and tests run side by side: a
//! test reads the metrics before and after what it does, and asserts that they moved at least so.

use crate::helpers::{
    NOWHERE, TestApp, calling_back, one_payment, reserved_for, spawn_app, start_server,
    test_config, wait_until,
};
use crate::on_both;
use serde_json::{Value, json};
use std::time::Duration;
use wallet_store::Backend;
use walletd::clock::ManualClock;
use walletd::server::ServerConfig;
use walletd::telemetry::{
    CALLBACK_DELIVERIES, CALLBACKS_PENDING, CONFIRMS, HTTP_DURATION, HTTP_REQUESTS, RESERVATIONS,
    SWEEPER_LAG,
};

/// The sum of the samples of `name` whose labels include all of `labels`, in Prometheus text.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(series, _)| {
            let (n, rest) = series.split_once('{').unwrap_or((series, ""));
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, value)| value.parse::<f64>().unwrap())
        .sum()
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap()
}

async fn metrics(app: &TestApp) -> String {
    let response = get(&app.url("/metrics")).await;
    assert_eq!(response.status(), 200);
    let content_type = &response.headers()["content-type"];
    assert!(content_type.to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

async fn a_cash_out_moves_the_counters(app: TestApp) {
    let before = metrics(&app).await;
    let code = app.code(app.alice()).await;
    let eur = wallet_core::Currency::parse("EUR").unwrap();
    app.client
        .cash_out(&code, 1_000, eur, "Cash")
        .await
        .unwrap();
    let after = metrics(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    for (route, method) in [
        ("/rest/v1/transaction", "POST"),
        ("/rest/v1/transaction/{key}/reserve", "PUT"),
        ("/rest/v1/transaction/{key}/confirm", "PUT"),
    ] {
        let labels = [("route", route), ("method", method), ("status", "200")];
        assert!(moved(HTTP_REQUESTS, &labels) >= 1.0, "{route}: {after}");
        let count = format!("{HTTP_DURATION}_count");
        assert!(moved(&count, &[("route", route), ("method", method)]) >= 1.0);
    }
    let by_code = [("type", "reservation_code")];
    assert!(moved(RESERVATIONS, &by_code) >= 1.0, "{after}");
    assert!(moved(CONFIRMS, &by_code) >= 1.0, "{after}");
    let commits = "walletd_store_commit_duration_seconds_count";
    assert!(moved(commits, &[]) >= 3.0, "{after}");
    if app.state.store.backend() == Backend::Sqlite {
        assert!(sample(&after, "walletd_store_group_commits_total", &[]) >= 1.0);
        let batches = format!("{}_count", walletd::telemetry::GROUP_COMMIT_SIZE);
        assert!(moved(&batches, &[]) >= 1.0, "{after}");
        let one_or_more = format!("{}_bucket", walletd::telemetry::GROUP_COMMIT_SIZE);
        assert!(sample(&after, &one_or_more, &[("le", "+Inf")]) >= 1.0);
    } else {
        assert!(sample(&after, "walletd_store_pool_connections", &[]) >= 1.0);
    }
}
on_both!(a_cash_out_moves_the_counters);

async fn readiness_needs_the_store_and_its_migrations(app: TestApp) {
    let healthz = get(&app.url("/healthz")).await;
    assert_eq!(healthz.status(), 200);
    assert_eq!(
        healthz.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
    assert_eq!(get(&app.url("/health")).await.text().await.unwrap(), "ok");
    let ready = get(&app.url("/readyz")).await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"status": "ready"})
    );
    // A database that lacks a migration of this build is not ready, and says why.
    let mut tx = app.state.store.write().await.unwrap();
    let forget = "DELETE FROM schema_migrations WHERE version = 11";
    tx.execute_unchecked(forget).await.unwrap();
    tx.commit().await.unwrap();
    let ready = get(&app.url("/readyz")).await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert!(body["reason"].as_str().unwrap().contains("[11]"), "{body}");
}
on_both!(readiness_needs_the_store_and_its_migrations);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_are_one_label_and_request_ids_come_back() {
    let app = spawn_app(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let unknown = http.get(app.url("/no/such/place-Qx7"));
    let unknown = unknown
        .header("X-Request-Id", "ops-test-7")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.headers()["x-request-id"], "ops-test-7");
    for insane in ["has space", "quote\"d", &"x".repeat(129)] {
        let r = http.get(app.url("/healthz")).header("X-Request-Id", insane);
        let r = r.send().await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap();
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
    let text = metrics(&app).await;
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert!(sample(&text, HTTP_REQUESTS, &unmatched) >= 1.0, "{text}");
    assert!(!text.contains("place-Qx7"), "no raw path in a label");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_token_guards_only_the_metrics() {
    let database = wallet_store::testing::fresh_database(Backend::Sqlite).await;
    let config = ServerConfig {
        metrics_token: Some("scrape-me".into()),
        ..test_config(&database)
    };
    let server = start_server(&config, ManualClock::default()).await;
    let url = |path: &str| format!("{}{path}", server.url);
    let http = reqwest::Client::new();
    for bearer in [None, Some("Bearer wrong"), Some("scrape-me")] {
        let mut r = http.get(url("/metrics"));
        if let Some(b) = bearer {
            r = r.header("Authorization", b);
        }
        assert_eq!(r.send().await.unwrap().status(), 401, "{bearer:?}");
    }
    let r = http.get(url("/metrics")).bearer_auth("scrape-me");
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(HTTP_REQUESTS));
    for open in ["/healthz", "/readyz"] {
        assert_eq!(get(&url(open)).await.status(), 200, "{open}");
    }
    server.stop().await;
}

/// An expired reservation: its lag and its callback's failed delivery are counted; the outbox
/// gauge is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_lag_and_callback_deliveries_are_counted() {
    let app = spawn_app(Backend::Sqlite).await;
    let before = metrics(&app).await;
    let req = reserved_for(calling_back(one_payment(500), NOWHERE), 60);
    app.reserved_with(&req).await;
    app.clock.advance(90);
    app.sweep().await;
    let lag = format!("{SWEEPER_LAG}_count");
    let expiry = [("job", "reservation_expiry")];
    let failed = [("result", "failed")];
    let after = wait_until(
        "a failed delivery counted",
        Duration::from_secs(10),
        || async {
            let after = metrics(&app).await;
            let moved = sample(&after, CALLBACK_DELIVERIES, &failed)
                > sample(&before, CALLBACK_DELIVERIES, &failed);
            moved.then_some(after)
        },
    )
    .await;
    assert!(sample(&after, &lag, &expiry) > sample(&before, &lag, &expiry));
    let late = format!("{SWEEPER_LAG}_sum");
    assert!(sample(&after, &late, &expiry) - sample(&before, &late, &expiry) >= 30.0);
    assert!(after.contains(CALLBACKS_PENDING), "{after}");
}
