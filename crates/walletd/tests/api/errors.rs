//! Every error a client can cause: the spec's code, a clear description, and nothing written.

use crate::helpers::{TestApp, assert_error, code_of, issued, refused, signed};
use crate::on_both;
use serde_json::json;
use wallet_client::Method;
use wallet_client::types::TransactionStatus;
use wallet_core::ids::WalletId;
use walletd::service::admin;

/// Bodies of `POST transaction` that are not a valid transaction, and what is wrong with each.
const MALFORMED_CREATES: &[(&str, &str)] = &[
    ("not json", "{\"payments\": ["),
    ("empty", ""),
    (
        "wrong type",
        r#"{"payments":[{"price":"12","currency":"EUR"}]}"#,
    ),
    ("zero", r#"{"payments":[{"price":0,"currency":"EUR"}]}"#),
    (
        "negative",
        r#"{"payments":[{"price":-5,"currency":"EUR"}]}"#,
    ),
    (
        "negative decimal",
        r#"{"payments":[{"price_decimal":"-1.00","currency":"EUR"}]}"#,
    ),
    (
        "float decimal",
        r#"{"payments":[{"price_decimal":12.5,"currency":"EUR"}]}"#,
    ),
    (
        "too precise",
        r#"{"payments":[{"price_decimal":"1.234","currency":"EUR"}]}"#,
    ),
    (
        "both prices",
        r#"{"payments":[{"price":100,"price_decimal":"1.00","currency":"EUR"}]}"#,
    ),
    ("no price", r#"{"payments":[{"currency":"EUR"}]}"#),
    (
        "unknown currency",
        r#"{"payments":[{"price":100,"currency":"XYZ"}]}"#,
    ),
    ("no payments", r#"{"payments":[]}"#),
    ("not a payment", r#"{"payments":["abc"]}"#),
    (
        "two reserve forms",
        r#"{"payments":[{"price":100,"currency":"EUR"}],"reserve":{"for":60},"reserve_for":1}"#,
    ),
    (
        "reserve in the past",
        r#"{"payments":[{"price":100,"currency":"EUR"}],"reserve":{"until":1}}"#,
    ),
    (
        "callback true",
        r#"{"payments":[{"price":100,"currency":"EUR"}],"callback_uri":true}"#,
    ),
    (
        "bad redirect",
        r#"{"payments":[{"price":100,"currency":"EUR"}],"redirect_uri":"javascript:x"}"#,
    ),
    (
        "unknown beneficiary",
        r#"{"payments":[{"price":100,"currency":"EUR","beneficiary":{"id":999999}}]}"#,
    ),
];

async fn malformed_requests_are_invalid_request(app: TestApp) {
    for (what, body) in MALFORMED_CREATES {
        let (status, answer) = signed(&app, "POST", "/rest/v1/transaction", body).await;
        assert_eq!(status, 400, "{what}: {answer}");
        assert_eq!(answer["error"], "invalid_request", "{what}: {answer}");
        assert!(
            answer["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{what}"
        );
    }
    let huge = format!(
        r#"{{"payments":[{{"price":100,"currency":"EUR","description":"{}"}}]}}"#,
        "x".repeat(70_000)
    );
    // Over the body limit (64 KiB by default): 413, still the spec's error shape.
    let answer = signed(&app, "POST", "/rest/v1/transaction", &huge).await;
    assert_error(&answer, 413, "invalid_request");
    let confirm = "/rest/v1/transaction/abc/confirm";
    let (status, answer) = signed(&app, "PUT", confirm, "{\"1\": 5}").await;
    assert_eq!(status, 400, "{answer}");
    // Nothing was created by any of them: the only transactions are none.
    let mut tx = app.state.store.read().await.unwrap();
    assert!(tx.ledger_check().await.unwrap().is_sound());
}
on_both!(malformed_requests_are_invalid_request);

async fn code_errors(app: TestApp) {
    let t = app.create(5000).await;
    let key = &t.transaction_key;
    let reserve = format!("transaction/{key}/reserve");
    let short = json!({"reservation_code": "12345"});
    assert_eq!(
        refused(&app.client, Method::PUT, &reserve, Some(short)).await,
        "invalid_code"
    );
    assert_eq!(
        refused(&app.client, Method::PUT, &reserve, Some(json!({}))).await,
        "invalid_request"
    );
    let unknown = "0154742514278165942184409277";
    assert_eq!(app.reserve_error_with(key, unknown).await, "invalid_code");
    // Expired: valid 300 s by default.
    let code = app.code(app.alice()).await;
    app.clock.advance(301);
    assert_eq!(app.reserve_error_with(key, &code).await, "code_expired");
    // A maximum amount below the total.
    let capped = app.code_with_max(app.alice(), "10.00").await;
    assert_eq!(
        app.reserve_error_with(key, &capped).await,
        "code_restriction_violation"
    );
    // Not enough funds: nothing is written, and the code stays usable.
    let big = app.create(100_001).await;
    let code = app.code(app.alice()).await;
    assert_eq!(
        app.reserve_error_with(&big.transaction_key, &code).await,
        "not_enough_funds"
    );
    assert_eq!(
        app.status(&big.transaction_key).await,
        TransactionStatus::New
    );
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    let ok = app.reserve_with(key, &code).await;
    assert_eq!(ok.status, TransactionStatus::Reserved);
    // Reserving twice is an invalid state.
    assert_eq!(app.reserve_error(key, app.alice()).await, "invalid_state");
    // Confirming a new transaction is an invalid state.
    assert_eq!(
        code_of(
            app.client
                .confirm_transaction(&big.transaction_key, None)
                .await
        ),
        "invalid_state"
    );
    // The capped code was refused above: a refusal leaves a code unused, so it pays a total
    // within its maximum; then it is used.
    let small = app.create(1_000).await;
    let reserved = app.reserve_with(&small.transaction_key, &capped).await;
    assert_eq!(reserved.status, TransactionStatus::Reserved);
    let again = app.create(1_000).await;
    assert_eq!(
        app.reserve_error_with(&again.transaction_key, &capped)
            .await,
        "invalid_code"
    );
    app.assert_ledger_sound().await;
}
on_both!(code_errors);

async fn grants_projects_and_accounts(app: TestApp) {
    // A client without the reservation_code grant.
    let (limited, t) = app.another_clients_transaction("pin", 100).await;
    let key = &t.transaction_key;
    let code = app.code(app.alice()).await;
    assert_eq!(
        code_of(limited.reserve_with_code(key, &code, None).await),
        "unsupported_grant_type"
    );

    // Another project sees neither our transactions nor our wallet.
    let stranger = app.stranger(admin::ALL_GRANTS).await;
    assert_eq!(code_of(stranger.get_transaction(key).await), "not_found");
    assert_eq!(
        code_of(stranger.confirm_transaction(key, None).await),
        "not_found"
    );
    let project_wallet = app.demo.project_wallet_id;
    assert_eq!(
        code_of(stranger.get_wallet_balance(project_wallet).await),
        "forbidden"
    );
    assert_eq!(
        code_of(stranger.get_wallet_balance(WalletId::new(999_999)).await),
        "not_found"
    );
    assert_eq!(
        code_of(app.client.get_transaction(&issued("doesnotexist")).await),
        "not_found"
    );

    // Paying the project's wallet from itself.
    app.top_up(project_wallet, "10.00").await;
    let t = app.create(100).await;
    let key = &t.transaction_key;
    assert_eq!(
        app.reserve_error(key, project_wallet).await,
        "payment_to_same_account"
    );

    // Inactive payer, then inactive beneficiary.
    let code = app.code(app.alice()).await;
    set_active(&app, app.alice(), false).await;
    assert_eq!(
        app.reserve_error_with(key, &code).await,
        "payer_account_inactive"
    );
    set_active(&app, app.alice(), true).await;
    set_active(&app, project_wallet, false).await;
    assert_eq!(
        app.reserve_error_with(key, &code).await,
        "beneficiary_account_inactive"
    );
    set_active(&app, project_wallet, true).await;
    let reserved = app.reserve_with(key, &code).await;
    assert_eq!(reserved.status, TransactionStatus::Reserved);
}
on_both!(grants_projects_and_accounts);

async fn set_active(app: &TestApp, wallet: WalletId, active: bool) {
    let mut tx = app.state.store.write().await.unwrap();
    tx.set_wallet_active(wallet, active).await.unwrap();
    tx.commit().await.unwrap();
}

async fn unknown_routes_and_methods_answer_json(app: TestApp) {
    let answer = signed(&app, "GET", "/rest/v1/transaction/", "").await;
    assert_error(&answer, 404, "not_found");
    let (status, answer) = signed(&app, "PATCH", "/rest/v1/transaction/abc", "").await;
    assert_eq!(status, 405, "{answer}");
}
on_both!(unknown_routes_and_methods_answer_json);

#[tokio::test]
async fn too_many_requests_are_rate_limited() {
    let app = crate::helpers::spawn_rate_limited_app(5).await;
    let mut codes = Vec::new();
    // Twelve requests: even if a minute boundary falls among them, one window holds six or more.
    for _ in 0..12 {
        let (status, answer) = signed(&app, "GET", "/rest/v1/wallet/1/balance", "").await;
        codes.push((status, answer["error"].as_str().map(str::to_string)));
    }
    assert!(codes[..5].iter().all(|(s, _)| *s == 200), "{codes:?}");
    // The window may roll over between requests; at least the requests past the limit within it are refused.
    let refused: Vec<_> = codes[5..].iter().filter(|(s, _)| *s == 429).collect();
    assert!(!refused.is_empty(), "{codes:?}");
    assert!(
        refused
            .iter()
            .all(|(_, e)| e.as_deref() == Some("rate_limit_exceeded"))
    );
}

/// NUL (U+0000) in any text is `invalid_request` on both stores (PostgreSQL cannot store it; a
/// 500 there was what Schemathesis found), and nothing is written.
async fn nul_in_text_is_invalid_request(app: TestApp) {
    let before = app.get("payments").await["_metadata"]["total"].clone();
    for (method, path, body) in [
        (
            "POST",
            "/rest/v1/payment",
            r#"{"price":100,"currency":"EUR","description":"a\u0000b"}"#,
        ),
        (
            "POST",
            "/rest/v1/transaction",
            r#"{"payments":[{"price":1,"currency":"EUR"}],"redirect_uri":"http://x/\u0000"}"#,
        ),
        (
            "POST",
            "/rest/v1/allowance",
            r#"{"currency":"EUR","max_price":100,"description":"\u0000"}"#,
        ),
        ("GET", "/rest/v1/transactions?status=%00", ""),
        ("DELETE", "/oauth/v1/token?access_token=a%00b", ""),
        (
            "POST",
            "/oauth/v1/token",
            "grant_type=password&username=a%00&password=b",
        ),
    ] {
        let answer = signed(&app, method, path, body).await;
        assert_error(&answer, 400, "invalid_request");
        assert!(
            answer.1["error_description"]
                .as_str()
                .unwrap()
                .contains("NUL"),
            "{path}"
        );
    }
    // The escape itself is text like any other.
    let text = r#"{"price":100,"currency":"EUR","description":"a\\u0000b"}"#;
    assert_eq!(signed(&app, "POST", "/rest/v1/payment", text).await.0, 200);
    let after = app.get("payments").await["_metadata"]["total"]
        .as_i64()
        .unwrap();
    assert_eq!(after, before.as_i64().unwrap() + 1);
}
on_both!(nul_in_text_is_invalid_request);
