//! The client against a raw TCP server that records what arrived on the wire: every request must
//! verify with the server-side MAC code over the path, query, host and port that were really used,
//! and error bodies must become typed errors.
#![cfg(feature = "http")]

use std::collections::BTreeMap;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use wallet_client::mac::{self, MacHeader, SignedParts};
use wallet_client::testing::{Seen, serve_script};
use wallet_client::types::{
    ConfirmPrice, NewPayment, NewTransaction, PaymentRef, TransactionKey, WalletId,
};
use wallet_client::{CashOut, Client, Error, Method};
use wallet_core::money::Currency;

const ID: &str = "wkVd93h2uS";
const SECRET: &str = "IrdTc8uQodU7PRpLzzLTW6wqZAO6tAMU";
const CODE: &str = "0154742514278159925679172111";

/// Verifies the MAC of `r` as walletd does: over the raw ext from the header, the request target
/// as received, and the host and port of the listener.
fn assert_signed(r: &Seen, port: u16) {
    let auth = r.header("authorization").expect("Authorization header");
    let h = MacHeader::parse(auth).expect("MAC header parses");
    assert_eq!(h.id, ID);
    let ts: i64 = h.ts.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - ts).abs() < 60, "ts is the current time");
    assert_eq!(h.nonce.len(), 32);
    let parts = SignedParts {
        ts: &h.ts,
        nonce: &h.nonce,
        method: &r.method,
        uri: &r.target,
        host: "127.0.0.1",
        port,
        ext: &h.ext,
    };
    assert!(
        parts.verify(SECRET.as_bytes(), &h.mac),
        "MAC verifies for {} {}",
        r.method,
        r.target
    );
    assert!(!parts.verify(b"another secret", &h.mac));
    let ext = mac::parse_query(&h.ext);
    if r.body.is_empty() {
        assert!(h.ext.is_empty(), "no body, no ext: {:?}", h.ext);
    } else {
        assert_eq!(ext[0], ("body_hash".to_string(), mac::body_hash(&r.body)));
    }
}

/// A 50.00 EUR cash-out ("Cash withdrawal") with `code`, by `c`.
async fn cash_out_50(c: &Client, code: &str) -> Result<CashOut, Error> {
    c.cash_out(code, 5000, eur(), "Cash withdrawal").await
}

/// A scripted server answering 200 with a transaction of each status in turn.
async fn serve_transactions(statuses: &[&str]) -> (u16, JoinHandle<Vec<Seen>>) {
    serve_script(statuses.iter().map(|s| (200, transaction(s))).collect()).await
}

fn transaction(status: &str) -> String {
    let wallet = if status == "new" {
        ""
    } else {
        r#""wallet":14471,"#
    };
    let confirmed = if status == "confirmed" {
        r#""confirmed_at":1585146195,"#
    } else {
        ""
    };
    format!(
        r#"{{"transaction_key":"ATaNL6X6CivO2Ou0FMPt","created_at":1585146000,"status":"{status}",{wallet}{confirmed}"valid_for_payment_card_debit":false,"auto_confirm":false,"payments":[{{"id":186975531,"transaction_key":"ATaNL6X6CivO2Ou0FMPt","created_at":1585146000,"status":"{status}","price":5000,"currency":"EUR","price_decimal":"50.00","description":"Cash withdrawal"}}]}}"#
    )
}

fn client(port: u16) -> Client {
    Client::new(&format!("http://127.0.0.1:{port}"), ID, SECRET).unwrap()
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

#[tokio::test]
async fn create_is_signed_over_the_exact_body_and_carries_an_idempotency_key() {
    let (port, seen) = serve_transactions(&["new"]).await;
    let tx = NewTransaction {
        payments: vec![PaymentRef::New(Box::new(NewPayment {
            description: Some("Cash withdrawal".into()),
            price: Some(5000),
            currency: "EUR".into(),
            ..NewPayment::default()
        }))],
        ..NewTransaction::default()
    };
    let created = client(port).create_transaction(&tx).await.unwrap();
    assert_eq!(created.transaction_key, key("ATaNL6X6CivO2Ou0FMPt"));
    let seen = seen.await.unwrap();
    let r = &seen[0];
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/rest/v1/transaction")
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("host"), Some(format!("127.0.0.1:{port}").as_str()));
    assert_signed(r, port);
    assert_eq!(r.json()["payments"][0]["price"], 5000);
    let key = r.header("idempotency-key").expect("idempotency key");
    assert_eq!(key.len(), 32);
    assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()));
}

#[tokio::test]
async fn get_with_a_base_path_and_a_query_signs_the_full_uri() {
    let (port, seen) = serve_script(vec![
        (200, transaction("reserved")),
        (
            200,
            r#"{"payments":[],"_metadata":{"total":0,"offset":0,"limit":20}}"#.into(),
        ),
    ])
    .await;
    let c = Client::new(&format!("http://127.0.0.1:{port}/wallet/"), ID, SECRET).unwrap();
    let t = c
        .get_transaction(&key("ATaNL6X6CivO2Ou0FMPt"))
        .await
        .unwrap();
    assert_eq!(t.wallet, Some(WalletId::new(14471)));
    let v = c
        .request_json(Method::GET, "payments?status=new&wallet=1", None)
        .await
        .unwrap();
    assert_eq!(v["_metadata"]["total"], 0);
    let seen = seen.await.unwrap();
    assert_eq!(
        seen[0].target,
        "/wallet/rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt"
    );
    assert_eq!(
        seen[1].target,
        "/wallet/rest/v1/payments?status=new&wallet=1"
    );
    for r in &seen {
        assert_eq!(r.method, "GET");
        assert!(r.body.is_empty());
        assert_eq!(
            r.header("idempotency-key"),
            None,
            "GET needs no idempotency key"
        );
        assert_signed(r, port);
    }
}

#[tokio::test]
async fn reserve_sends_the_bare_code_and_confirm_without_prices_sends_no_body() {
    let (port, seen) = serve_transactions(&["reserved", "confirmed", "confirmed"]).await;
    let c = client(port);
    let prices = BTreeMap::from([("186975531".to_string(), 4000)]);
    c.reserve_with_code(
        &key("ATaNL6X6CivO2Ou0FMPt"),
        &format!("PAYSERA${CODE}"),
        Some(prices),
    )
    .await
    .unwrap();
    c.confirm_transaction(&key("ATaNL6X6CivO2Ou0FMPt"), None)
        .await
        .unwrap();
    let confirm_prices = BTreeMap::from([(
        "186975531".to_string(),
        ConfirmPrice {
            price: Some(4000),
            price_decimal: None,
            currency: "EUR".into(),
        },
    )]);
    let t = c
        .confirm_transaction(&key("ATaNL6X6CivO2Ou0FMPt"), Some(&confirm_prices))
        .await
        .unwrap();
    assert_eq!(t.confirmed_at, Some(1585146195));
    let seen = seen.await.unwrap();
    assert_eq!(
        seen[0].target,
        "/rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt/reserve"
    );
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(
        seen[0].json(),
        serde_json::json!({"reservation_code": CODE, "payment_prices": {"186975531": 4000}})
    );
    assert_eq!(
        seen[1].target,
        "/rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt/confirm"
    );
    assert!(seen[1].body.is_empty());
    assert_eq!(seen[1].header("content-type"), None);
    assert_eq!(
        seen[2].json(),
        serde_json::json!({"186975531": {"price": 4000, "currency": "EUR"}})
    );
    for r in &seen {
        assert_signed(r, port);
        assert!(r.header("idempotency-key").is_some());
    }
    assert_ne!(
        seen[1].header("idempotency-key"),
        seen[2].header("idempotency-key")
    );
}

#[tokio::test]
async fn an_error_body_becomes_a_typed_api_error() {
    let (port, seen) = serve_script(vec![(
        400,
        r#"{"error":"invalid_code","error_description":"Invalid reservation code"}"#.into(),
    )])
    .await;
    let e = client(port)
        .reserve_with_code(&key("ATaNL6X6CivO2Ou0FMPt"), CODE, None)
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some("invalid_code"));
    match &e {
        Error::Api {
            status,
            error,
            description,
        } => {
            assert_eq!(*status, 400);
            assert_eq!(error, "invalid_code");
            assert_eq!(description.as_deref(), Some("Invalid reservation code"));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(
        !format!("{e} {e:?}").contains(CODE),
        "errors never show the code"
    );
    assert_signed(&seen.await.unwrap()[0], port);
}

#[tokio::test]
async fn a_text_that_is_not_a_code_is_refused_before_sending() {
    // Nothing listens on this client's port: a request would be a transport error.
    let c = Client::new("http://127.0.0.1:9", ID, SECRET).unwrap();
    let e = c
        .reserve_with_code(&key("k"), "PAYSERA$123", None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidCode), "{e:?}");
    let e = cash_out_50(&c, "12345").await.unwrap_err();
    assert!(matches!(e, Error::InvalidCode), "{e:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let e = client(port).get_transaction(&key("k")).await.unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert_eq!(e.api_code(), None);
}

#[tokio::test]
async fn cash_out_creates_reserves_and_confirms() {
    let (port, seen) = serve_transactions(&["new", "reserved", "confirmed"]).await;
    let done = cash_out_50(&client(port), &format!("9999{CODE}"))
        .await
        .unwrap();
    assert_eq!(done.created.status.as_str(), "new");
    assert_eq!(done.reserved.status.as_str(), "reserved");
    assert_eq!(done.confirmed.status.as_str(), "confirmed");
    let seen = seen.await.unwrap();
    let calls: Vec<_> = seen
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        calls,
        [
            "POST /rest/v1/transaction",
            "PUT /rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt/reserve",
            "PUT /rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt/confirm",
        ]
    );
    assert_eq!(
        seen[0].json()["payments"][0],
        serde_json::json!({"description": "Cash withdrawal", "price": 5000, "currency": "EUR"})
    );
    assert_eq!(seen[1].json()["reservation_code"], CODE);
    for r in &seen {
        assert_signed(r, port);
    }
}

#[tokio::test]
async fn cash_out_revokes_when_the_reservation_fails() {
    let (port, seen) = serve_script(vec![
        (200, transaction("new")),
        (
            400,
            r#"{"error":"code_expired","error_description":"Reservation code has expired"}"#.into(),
        ),
        (200, transaction("deleted")),
    ])
    .await;
    let e = cash_out_50(&client(port), CODE).await.unwrap_err();
    assert_eq!(e.api_code(), Some("code_expired"));
    let seen = seen.await.unwrap();
    assert_eq!(seen[2].method, "DELETE");
    assert_eq!(seen[2].target, "/rest/v1/transaction/ATaNL6X6CivO2Ou0FMPt");
    assert_signed(&seen[2], port);
}

#[tokio::test]
async fn cash_out_succeeds_when_a_failed_confirm_went_through_after_all() {
    let (port, seen) = serve_script(vec![
        (200, transaction("new")),
        (200, transaction("reserved")),
        (502, "<html>bad gateway</html>".into()),
        (200, transaction("confirmed")),
    ])
    .await;
    let done = cash_out_50(&client(port), CODE).await.unwrap();
    assert_eq!(done.confirmed.confirmed_at, Some(1585146195));
    let seen = seen.await.unwrap();
    assert_eq!(seen[3].method, "GET");
}

#[tokio::test]
async fn a_non_json_error_keeps_its_status() {
    let (port, _seen) = serve_script(vec![(502, "<html>bad gateway</html>".into())]).await;
    let e = client(port)
        .get_wallet_balance(WalletId::new(1))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(502));
    assert_eq!(e.api_code(), Some("bad_gateway"));
}

#[tokio::test]
async fn retries_resend_with_the_same_idempotency_key_and_a_new_nonce() {
    let (port, seen) = serve_script(vec![
        (503, r#"{"error":"service_unavailable"}"#.into()),
        (200, transaction("deleted")),
    ])
    .await;
    let t = client(port)
        .with_retries(1)
        .revoke_transaction(&key("ATaNL6X6CivO2Ou0FMPt"))
        .await
        .unwrap();
    assert_eq!(t.status.as_str(), "deleted");
    let seen = seen.await.unwrap();
    assert_eq!(
        seen[0].header("idempotency-key"),
        seen[1].header("idempotency-key")
    );
    let nonce = |r: &Seen| {
        MacHeader::parse(r.header("authorization").unwrap())
            .unwrap()
            .nonce
    };
    assert_ne!(nonce(&seen[0]), nonce(&seen[1]));
    for r in &seen {
        assert_signed(r, port);
    }
}

#[tokio::test]
async fn send_uses_the_given_idempotency_key_and_exact_body() {
    let (port, seen) = serve_transactions(&["confirmed"]).await;
    let v = client(port)
        .send(
            Method::PUT,
            "transaction/ATaNL6X6CivO2Ou0FMPt/confirm",
            Some(b"[]"),
            Some("fixed-key-1"),
        )
        .await
        .unwrap();
    assert_eq!(v["status"], "confirmed");
    let seen = seen.await.unwrap();
    assert_eq!(seen[0].body, b"[]");
    assert_eq!(seen[0].header("idempotency-key"), Some("fixed-key-1"));
    assert_signed(&seen[0], port);
}

/// A key as the server issued it.
fn key(text: &str) -> TransactionKey {
    TransactionKey::issued(text.to_string())
}
