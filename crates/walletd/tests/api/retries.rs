//! `Idempotency-Key`: a retry gets the first answer and the change happens once — including
//! when the connection is cut after the server committed.

use crate::helpers::{TestApp, code_body, signed_ok};
use crate::on_both;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Reads one HTTP message (headers and a Content-Length body) from `s`.
async fn read_message(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(buf);
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A proxy to `port` that, for the first request whose request line contains `cut`, lets the
/// server answer and then drops the connection without passing the answer on.
async fn cutting_proxy(port: u16, cut: &'static str) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_port = listener.local_addr().unwrap().port();
    let cuts = Arc::new(AtomicUsize::new(0));
    let counter = cuts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let cuts = counter.clone();
            tokio::spawn(async move {
                while let Some(request) = read_message(&mut client).await {
                    let line = String::from_utf8_lossy(
                        &request[..request.iter().position(|b| *b == b'\r').unwrap_or(0)],
                    )
                    .to_string();
                    // Forwarded unchanged: the Host header (which the MAC covers) names the proxy.
                    let mut server = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                    server.write_all(&request).await.unwrap();
                    let Some(answer) = read_message(&mut server).await else {
                        return;
                    };
                    if line.contains(cut) && cuts.fetch_add(1, Ordering::SeqCst) == 0 {
                        return; // the server committed; the till never hears of it
                    }
                    if client.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (proxy_port, cuts)
}

async fn a_cut_connection_is_retried_and_charges_once(app: TestApp) {
    let (port, cuts) = cutting_proxy(app.port, "/confirm").await;
    let till = app
        .client_at(&format!("http://127.0.0.1:{port}"))
        .with_retries(2);
    let code = app.code(app.alice()).await;
    let eur = wallet_core::Currency::parse("EUR").unwrap();
    let done = till.cash_out(&code, 5_000, eur, "Cash").await.unwrap();
    assert_eq!(
        cuts.load(Ordering::SeqCst),
        2,
        "the confirm was cut once, then retried"
    );
    assert_eq!(
        done.confirmed.status,
        wallet_client::types::TransactionStatus::Confirmed
    );
    assert_eq!(app.eur(app.alice()).await, (95_000, 0), "one charge only");
    assert_eq!(app.eur(app.demo.project_wallet_id).await, (5_000, 0));
    let events = app.events(&done.created.transaction_key).await;
    assert_eq!(events.iter().filter(|e| e.2 == "confirmed").count(), 1);
    app.assert_ledger_sound().await;
}
on_both!(a_cut_connection_is_retried_and_charges_once);

/// Sends `body` to `path` with an Idempotency-Key: `(status, replayed header, body)`.
async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    body: &str,
    key: &str,
) -> (u16, bool, serde_json::Value) {
    let resp = app
        .raw(method, path)
        .body(body)
        .send_with(&[
            ("Content-Type", "application/json"),
            ("Idempotency-Key", key),
        ])
        .await;
    let status = resp.status().as_u16();
    let replayed = resp.headers().get("idempotent-replayed").is_some();
    assert_eq!(resp.headers()["content-type"], "application/json");
    (status, replayed, resp.json().await.unwrap())
}

async fn retries_get_the_first_answer(app: TestApp) {
    let body = r#"{"payments":[{"price":100,"currency":"EUR"}]}"#;
    let (s1, r1, first) = send(&app, "POST", "/rest/v1/transaction", body, "create-1").await;
    let (s2, r2, second) = send(&app, "POST", "/rest/v1/transaction", body, "create-1").await;
    assert_eq!((s1, r1, s2, r2), (200, false, 200, true));
    assert_eq!(first, second, "the same transaction, not a second one");
    // The same key for another request is refused.
    let other = r#"{"payments":[{"price":200,"currency":"EUR"}]}"#;
    let (status, _, answer) = send(&app, "POST", "/rest/v1/transaction", other, "create-1").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // A refusal is an answer too: the retry gets it again, even once it would succeed.
    let key = first["transaction_key"].as_str().unwrap();
    let confirm = format!("/rest/v1/transaction/{key}/confirm");
    let (status, _, answer) = send(&app, "PUT", &confirm, "", "confirm-early").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_state"))
    );
    app.reserve(key, app.alice()).await;
    let (status, replayed, answer) = send(&app, "PUT", &confirm, "", "confirm-early").await;
    assert_eq!(
        (status, replayed, answer["error"].as_str()),
        (400, true, Some("invalid_state"))
    );
    let (status, _, answer) = send(&app, "PUT", &confirm, "", "confirm-now").await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("confirmed"))
    );
    // Keys are per client: another client's key space is its own.
    let bad = send(&app, "PUT", &confirm, "", &"x".repeat(300)).await;
    assert_eq!(bad.0, 400, "overlong key");
}
on_both!(retries_get_the_first_answer);

/// Sends `body` to `path` with Idempotency-Key `key` from 6 tasks at once, each request signed with
/// a nonce of its own: the answers, `(status, body)`.
async fn send_six_at_once(
    app: &TestApp,
    method: &str,
    path: &str,
    body: &str,
    key: &str,
) -> Vec<(u16, String)> {
    let mut jobs = Vec::new();
    for _ in 0..6 {
        let request = app
            .raw(method, path)
            .body(body)
            .request()
            .header("Idempotency-Key", key);
        jobs.push(tokio::spawn(async move {
            let resp = request.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }));
    }
    let mut answers = Vec::new();
    for j in jobs {
        answers.push(j.await.unwrap());
    }
    answers
}

async fn concurrent_duplicates_act_once(app: TestApp) {
    let t = app.create(1_000).await;
    let code = app.code(app.alice()).await;
    let path = format!("/rest/v1/transaction/{}/reserve", t.transaction_key);
    let answers = send_six_at_once(&app, "PUT", &path, &code_body(&code), "same-reserve").await;
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "every duplicate gets the same answer: {answers:?}"
    );
    assert_eq!(answers[0].0, 200);
    assert_eq!(app.eur(app.alice()).await, (99_000, 1_000));
    app.assert_ledger_sound().await;
}
on_both!(concurrent_duplicates_act_once);

/// Duplicate creates racing each other create one transaction (on PostgreSQL each is one statement
/// run alone: a duplicate that loses the race for the key writes nothing), and no duplicate gets
/// another transaction as its answer.
async fn concurrent_duplicate_creates_create_once(app: TestApp) {
    let body = r#"{"payments":[{"description":"x","price_decimal":"1.00","currency":"EUR"}]}"#;
    let answers = send_six_at_once(&app, "POST", "/rest/v1/transaction", body, "same-create").await;
    let created: Vec<&str> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body.as_str())
        .collect();
    assert!(!created.is_empty(), "{answers:?}");
    assert!(created.iter().all(|b| b == &created[0]), "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 400, "{body}");
        assert!(body.contains("invalid_request"), "{body}");
    }
    let found = signed_ok(&app, "GET", "/rest/v1/transactions", "").await;
    assert_eq!(found["_metadata"]["total"], 1, "{found}");
}
on_both!(concurrent_duplicate_creates_create_once);

/// Sends `body` to `path` with `key` while the store loses the outcome of the request's commit (it
/// commits; the server hears of a lost connection, as in a failover): answered 503
/// `temporarily_unavailable`, not 401 "reused nonce" for the nonce its own commit recorded. Then
/// the retry (a new nonce, the same key) gets the stored answer: the change made once.
async fn lost_then_replayed(
    app: &TestApp,
    method: &str,
    path: &str,
    body: &str,
    key: &str,
) -> serde_json::Value {
    app.state.store.lose_commit_outcomes(1);
    let (status, _, lost) = send(app, method, path, body, key).await;
    assert_eq!(
        (status, lost["error"].as_str()),
        (503, Some("temporarily_unavailable")),
        "{lost}"
    );
    let (status, replayed, answer) = send(app, method, path, body, key).await;
    assert_eq!((status, replayed), (200, true), "{answer}");
    answer
}

async fn a_commit_lost_in_a_failover_is_retryable_and_acts_once(app: TestApp) {
    let body = r#"{"payments":[{"price":2000,"currency":"EUR"}]}"#;
    let created =
        lost_then_replayed(&app, "POST", "/rest/v1/transaction", body, "lost-create").await;
    let key = created["transaction_key"].as_str().unwrap();
    let found = signed_ok(&app, "GET", "/rest/v1/transactions", "").await;
    assert_eq!(found["_metadata"]["total"], 1, "{found}");
    app.reserve(key, app.alice()).await;
    let confirm = format!("/rest/v1/transaction/{key}/confirm");
    let confirmed = lost_then_replayed(&app, "PUT", &confirm, "", "lost-confirm").await;
    assert_eq!(confirmed["status"], "confirmed", "{confirmed}");
    assert_eq!(app.eur(app.alice()).await, (98_000, 0), "charged once");
    app.assert_ledger_sound().await;
}
on_both!(a_commit_lost_in_a_failover_is_retryable_and_acts_once);
