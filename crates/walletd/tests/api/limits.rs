//! Limits on abuse at the HTTP level: body size (413) and JSON depth, a header, a body or an
//! answer that takes too long, and the cap on connections. None depends on the store: they run
//! on SQLite only, each on a server of its own with small limits.

use crate::helpers::{
    RunningServer, TestApp, assert_error, signed, spawn_app, start_server, test_config,
};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wallet_store::Backend;
use walletd::clock::ManualClock;
use walletd::limits::Limits;
use walletd::server::ServerConfig;

/// A change of the default limits.
type LimitsChange = fn(&mut Limits);

/// A server on `app`'s database with the default limits changed by `set`, and the admin
/// endpoints open.
async fn server_with(app: &TestApp, set: impl FnOnce(&mut Limits)) -> RunningServer {
    let mut limits = Limits::default();
    set(&mut limits);
    let config = ServerConfig {
        admin_token: Some("admin".into()),
        limits,
        ..test_config(&app.database)
    };
    start_server(&config, ManualClock::default()).await
}

/// Reads what the server sends until it closes the connection (or `within` passes: `None`).
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut answer = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut answer)).await {
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => None,
    }
}

/// The status and JSON body of a raw HTTP/1.1 answer.
fn parse_answer(answer: &str) -> (u16, Value) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer:?}"));
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413_on_every_route() {
    let app = spawn_app(Backend::Sqlite).await;
    let server = server_with(&app, |l| l.max_body_bytes = 1024).await;
    let http = reqwest::Client::new();
    let big = format!(r#"{{"seconds":1,"pad":"{}"}}"#, "x".repeat(2000));
    let routes = [
        ("/admin/v1/clock/advance", "application/json"),
        ("/frontend/en/login", "application/x-www-form-urlencoded"),
        ("/rest/v1/transaction", "application/json"),
        ("/oauth/v1/token", "application/x-www-form-urlencoded"),
    ];
    for (path, content_type) in routes {
        let r = http
            .post(format!("{}{path}", server.url))
            .bearer_auth("admin")
            .header("Content-Type", content_type)
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert_eq!(ct, "application/json", "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{path}: {body}");
        assert!(body["error_description"].as_str().unwrap().contains("1024"));
    }
    // Sent in chunks, without a Content-Length: refused as it comes.
    let mut stream = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let chunk = "x".repeat(600);
    let request = format!(
        "POST /admin/v1/clock/advance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer admin\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut stream, Duration::from_secs(5))
        .await
        .unwrap();
    let (status, body) = parse_answer(&answer);
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("invalid_request"))
    );
    // Within the limit, the same route works.
    let r = http
        .post(format!("{}/admin/v1/clock/advance", server.url))
        .bearer_auth("admin")
        .json(&serde_json::json!({"seconds": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_json_is_invalid_request_and_never_a_crash() {
    let app = spawn_app(Backend::Sqlite).await;
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let deep_object = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    let with_parameters = |p: String| {
        format!(r#"{{"payments":[{{"price":100,"currency":"EUR","parameters":{p}}}]}}"#)
    };
    // Far past serde_json's 128 levels, within the body limit: a whole body, and one field.
    let bodies = [
        deep(30_000),
        "{\"a\":".repeat(10_000),
        with_parameters(deep_object(200)),
    ];
    for body in &bodies {
        let answer = signed(&app, "POST", "/rest/v1/transaction", body).await;
        assert_error(&answer, 400, "invalid_request");
    }
    // Nesting the spec's types allow is fine.
    let fine = with_parameters(deep_object(100));
    let (status, answer) = signed(&app, "POST", "/rest/v1/transaction", &fine).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_header_is_cut_off_within_the_header_timeout() {
    let app = spawn_app(Backend::Sqlite).await;
    let server = server_with(&app, |l| l.header_timeout = Duration::from_secs(1)).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let closed = read_to_close(&mut stream, Duration::from_secs(10)).await;
    assert!(closed.is_some(), "the connection was closed");
    assert!(started.elapsed() >= Duration::from_millis(900));
    // An idle keep-alive connection is closed after the same time.
    let mut idle = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut idle, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Sends `POST /admin/v1/clock/advance` with a body of 100 bytes announced, of which it sends a
/// byte every 200 ms, and returns the answer and how long it took.
async fn drip_a_body(server: &RunningServer) -> ((u16, Value), Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = "POST /admin/v1/clock/advance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer admin\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let drip = tokio::spawn(async move {
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(8), reader.read(&mut answer))
        .await
        .expect("answered before the body ended")
        .unwrap();
    drip.abort();
    answer.truncate(n);
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(2), reader.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "and the connection closed");
    answer.extend(rest);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    (parse_answer(&answer), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_is_408_and_a_slow_request_503() {
    let app = spawn_app(Backend::Sqlite).await;
    // The body's time counts in all, not per chunk: a byte every 200 ms is cut after 1 s. The
    // request's time runs from the header to the answer.
    let cases: [(LimitsChange, u16, &str); 2] = [
        (
            |l| l.body_timeout = Duration::from_secs(1),
            408,
            "invalid_request",
        ),
        (
            |l| l.request_timeout = Duration::from_secs(1),
            503,
            "temporarily_unavailable",
        ),
    ];
    for (set, status, code) in cases {
        let server = server_with(&app, set).await;
        let (answer, took) = drip_a_body(&server).await;
        assert_error(&answer, status, code);
        assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_for_a_free_one() {
    let app = spawn_app(Backend::Sqlite).await;
    let server = server_with(&app, |l| l.max_connections = 1).await;
    let health = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut first = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    first.write_all(health).await.unwrap();
    let mut buf = [0u8; 512];
    let n = first.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // The first stays open (keep-alive): the second waits in the backlog, unanswered…
    let mut second = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    second.write_all(health).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(500), second.read(&mut buf)).await;
    assert!(waited.is_err(), "no answer while the cap is reached");
    // …until the first closes.
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(5), second.read(&mut buf))
        .await
        .expect("answered once a connection is free")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    server.stop().await;
}
