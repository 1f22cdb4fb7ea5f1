//! Guessing limited: a holder's password (the OAuth password grant and the pages' login count
//! together, per account, cleared by a success or after the window) and reservation codes (per
//! API client and minute). PIN failures: `authorising.rs`.

use crate::browser::Browser;
use crate::helpers::{
    TestApp, assert_error, code_body, code_of, issued, one_payment, signed, start_server,
    test_config,
};
use crate::on_both;
use serde_json::Value;
use std::time::Duration;
use walletd::limits::{LOGIN_FAILURE_WINDOW_SECS, Limits};
use walletd::server::ServerConfig;

/// `POST /oauth/v1/token` with the password grant for `email`.
async fn password_grant(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    let form = serde_urlencoded::to_string([
        ("grant_type", "password"),
        ("username", email),
        ("password", password),
    ])
    .unwrap();
    signed(app, "POST", "/oauth/v1/token", &form).await
}

/// A wrong password for `email`: `invalid_grant`.
async fn wrong_password(app: &TestApp, email: &str) {
    let (status, answer) = password_grant(app, email, "guess").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

async fn wrong_passwords_lock_the_account_until_a_success_or_the_window(app: TestApp) {
    let max = Limits::default().max_login_failures;
    let bob = &app.demo.users[1];
    // Short of the limit, then right: the count starts again.
    for _ in 1..max {
        wrong_password(&app, &bob.email).await;
    }
    assert_eq!(password_grant(&app, &bob.email, &bob.password).await.0, 200);
    for _ in 1..max {
        wrong_password(&app, &bob.email).await;
    }
    assert_eq!(password_grant(&app, &bob.email, &bob.password).await.0, 200);
    // At the limit (an upper-case address is the same account): the right password waits too.
    for _ in 0..max {
        wrong_password(&app, &bob.email).await;
    }
    let (status, answer) = password_grant(&app, &bob.email.to_uppercase(), &bob.password).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (429, Some("rate_limit_exceeded"))
    );
    // The pages count the same failures: bob cannot log in there either…
    let mut page = Browser::new(&app);
    let locked = page.login(&bob.email, &bob.password, "/frontend/app").await;
    assert_eq!(locked.status, 429);
    // …while alice can, on both.
    let alice = &app.demo.users[0];
    assert_eq!(
        password_grant(&app, &alice.email, &alice.password).await.0,
        200
    );
    // After the window, bob logs in again.
    app.clock.advance(LOGIN_FAILURE_WINDOW_SECS + 60);
    assert_eq!(password_grant(&app, &bob.email, &bob.password).await.0, 200);
}
on_both!(wrong_passwords_lock_the_account_until_a_success_or_the_window);

/// Waits for a wall-clock minute with at least 20 s left: code failures count per minute.
async fn at_the_start_of_a_minute() {
    let into = walletd::clock::wall_now().rem_euclid(60);
    if into > 40 {
        tokio::time::sleep(Duration::from_secs((61 - into) as u64)).await;
    }
}

async fn wrong_codes_are_limited_per_client_and_minute(app: TestApp) {
    let config = ServerConfig {
        limits: Limits {
            code_failures_per_minute: 3,
            ..Limits::default()
        },
        ..test_config(&app.database)
    };
    let server = start_server(&config, app.clock.clone()).await;
    let client = app.client_at(&server.url);
    let t = app.create(500).await;
    let key = issued(&t.transaction_key);
    at_the_start_of_a_minute().await;
    // Malformed codes are no guess (they cannot be anyone's): not counted (sent by hand, as the
    // SDK refuses them itself; to the first server: the count is the client's, in the database).
    let reserve = format!("/rest/v1/transaction/{}/reserve", t.transaction_key);
    for _ in 0..5 {
        let answer = signed(&app, "PUT", &reserve, &code_body("12345")).await;
        assert_error(&answer, 400, "invalid_code");
    }
    // Well-formed, unknown: counted; past the limit even a right code is refused.
    for guess in 0..3 {
        let code = format!("{:028}", 1_000_000_007u64 * (guess + 1));
        let r = client.reserve_with_code(&key, &code, None).await;
        assert_eq!(code_of(r), "invalid_code");
    }
    let code = app.code(app.alice()).await;
    let r = client.reserve_with_code(&key, &code, None).await;
    assert_eq!(code_of(r), "rate_limit_exceeded");
    // Only reserving by code: the client's other calls go on.
    let other = client.create_transaction(&one_payment(300)).await;
    assert!(other.is_ok(), "{other:?}");
    // Another client's count is its own.
    let (stranger, mine) = app
        .another_clients_transaction("reservation_code", 200)
        .await;
    let reserved = stranger
        .reserve_with_code(&issued(&mine.transaction_key), &code, None)
        .await
        .unwrap();
    assert_eq!(reserved.wallet.map(|w| w.get()), Some(app.alice().get()));
    server.stop().await;
}
on_both!(wrong_codes_are_limited_per_client_and_minute);
