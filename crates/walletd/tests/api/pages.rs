//! The confirmation page (`/frontend/{en/,,ru/}wallet/confirm/{key}`) and the login that guards
//! it: waiting while shown, accept (reserved, or waiting_funds until money arrives), reject,
//! redirect_uri, iframe/pop-up display, optional allowance, CSRF, session expiry, login limits.

use crate::browser::Browser;
use crate::helpers::{NOWHERE, TestApp, call, calling_back, issued, one_payment};
use crate::on_both;
use serde_json::{Value, json};
use wallet_client::Method;
use wallet_core::ids::TransactionKey;
use walletd::web::session;

pub(crate) fn confirm_path(key: &str) -> String {
    format!("/frontend/en/wallet/confirm/{key}")
}

async fn create(app: &TestApp, cents: i64, redirect: Option<&str>) -> TransactionKey {
    let mut t = calling_back(one_payment(cents), NOWHERE);
    t.redirect_uri = redirect.map(str::to_string);
    app.create_with(&t).await.transaction_key
}

async fn status(app: &TestApp, key: &str) -> Value {
    let t = app.client.get_transaction(&issued(key)).await.unwrap();
    serde_json::to_value(t).unwrap()
}

/// Opens the confirmation page logged in as alice; returns the page's form CSRF token.
async fn open_as_alice(app: &TestApp, b: &mut Browser, path: &str) -> String {
    b.login_alice(app).await;
    let page = b.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Confirm payment"), "{}", page.body);
    page.csrf()
}

/// A browser logged in as alice, on the confirmation page of `key`: it, and the form's CSRF token.
pub(crate) async fn alice_on(app: &TestApp, key: &str) -> (Browser, String) {
    let mut b = Browser::new(app);
    let csrf = open_as_alice(app, &mut b, &confirm_path(key)).await;
    (b, csrf)
}

async fn not_logged_in_sees_a_login_form_in_place(app: TestApp) {
    let key = create(&app, 1_299, None).await;
    let mut b = Browser::new(&app);
    let page = b.get(&confirm_path(&key)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"password\""), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("value=\"{}\"", confirm_path(&key)))
    );
    assert_eq!(status(&app, &key).await["status"], "new");
    let u = &app.demo.users[0];
    let wrong = b
        .login(&u.email, "not her password", &confirm_path(&key))
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("role=\"alert\""));
    let ok = b.login(&u.email, &u.password, &confirm_path(&key)).await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location.as_deref(), Some(confirm_path(&key).as_str()));
}
on_both!(not_logged_in_sees_a_login_form_in_place);

async fn shown_is_waiting_and_accept_reserves(app: TestApp) {
    let key = create(&app, 1_299, None).await;
    let (mut b, csrf) = alice_on(&app, &key).await;
    let page = b.get(&confirm_path(&key)).await;
    assert!(page.body.contains("12.99 EUR"), "{}", page.body);
    assert!(page.body.contains("Cash withdrawal"));
    assert!(page.body.contains("demo"), "the project's name");
    let t = status(&app, &key).await;
    assert_eq!(t["status"], "waiting");
    assert_eq!(t["type"], "page");
    assert_eq!(t["wallet"], app.alice().get());
    let (before, _) = app.eur(app.alice()).await;
    let done = b.decide(&confirm_path(&key), &csrf, "accept").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("role=\"status\""));
    assert!(done.body.contains("accepted"), "{}", done.body);
    assert_eq!(status(&app, &key).await["status"], "reserved");
    assert_eq!(app.eur(app.alice()).await, (before - 1_299, 1_299));
    assert_eq!(app.callback_types(&key).await, ["waiting", "reserved"]);
    // Deciding twice is refused, and the page now only tells the status.
    let again = b.decide(&confirm_path(&key), &csrf, "accept").await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("not waiting for your decision"));
    let shown = b.get(&confirm_path(&key)).await;
    assert!(
        shown.body.contains("data-status=\"reserved\""),
        "{}",
        shown.body
    );
    app.assert_ledger_sound().await;
}
on_both!(shown_is_waiting_and_accept_reserves);

async fn reject_on_the_lithuanian_page(app: TestApp) {
    let key = create(&app, 500, None).await;
    let mut b = Browser::new(&app);
    b.login_alice(&app).await;
    let path = format!("/frontend/wallet/confirm/{key}");
    let page = b.get(&path).await;
    assert!(page.body.contains("lang=\"lt\""));
    assert!(page.body.contains("Patvirtinti") && page.body.contains("Atmesti"));
    let ru = b.get(&format!("/frontend/ru/wallet/confirm/{key}")).await;
    assert!(ru.body.contains("Подтвердить") && ru.body.contains("Отклонить"));
    let csrf = page.csrf();
    let done = b.decide(&path, &csrf, "reject").await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("data-status=\"rejected\""));
    assert_eq!(status(&app, &key).await["status"], "rejected");
    assert_eq!(app.eur(app.alice()).await.1, 0);
    assert_eq!(app.callback_types(&key).await, ["waiting", "rejected"]);
}
on_both!(reject_on_the_lithuanian_page);

async fn short_of_money_waits_for_funds_and_continues(app: TestApp) {
    let key = create(&app, 150_000, None).await; // alice has 1000.00
    let (mut b, csrf) = alice_on(&app, &key).await;
    let done = b.decide(&confirm_path(&key), &csrf, "accept").await;
    assert!(done.body.contains("waiting for funds"), "{}", done.body);
    let t = status(&app, &key).await;
    assert_eq!(t["status"], "waiting_funds");
    assert_eq!(app.eur(app.alice()).await, (100_000, 0), "nothing held yet");
    // Not enough yet: still waiting.
    app.top_up(app.alice(), "100.00").await;
    assert_eq!(status(&app, &key).await["status"], "waiting_funds");
    app.top_up(app.alice(), "400.00").await;
    let t = status(&app, &key).await;
    assert_eq!(t["status"], "reserved");
    assert_eq!(app.eur(app.alice()).await, (0, 150_000));
    assert_eq!(
        app.callback_types(&key).await,
        ["waiting", "waiting_funds", "reserved"]
    );
    app.assert_ledger_sound().await;
}
on_both!(short_of_money_waits_for_funds_and_continues);

async fn waiting_for_funds_fails_at_the_deadline(app: TestApp) {
    let mut t = one_payment(150_000);
    t.reserve_for = Some(1); // hours (the deprecated flat form)
    let key = app.create_with(&t).await.transaction_key;
    let (mut b, csrf) = alice_on(&app, &key).await;
    b.decide(&confirm_path(&key), &csrf, "accept").await;
    assert_eq!(status(&app, &key).await["status"], "waiting_funds");
    app.clock.advance(3_601);
    app.sweep().await;
    assert_eq!(status(&app, &key).await["status"], "failed");
    // Money arriving later does not revive it.
    app.top_up(app.alice(), "1000.00").await;
    assert_eq!(status(&app, &key).await["status"], "failed");
    assert_eq!(app.eur(app.alice()).await, (200_000, 0));
}
on_both!(waiting_for_funds_fails_at_the_deadline);

async fn redirect_uri_and_framed_display(app: TestApp) {
    let key = create(&app, 700, Some("https://shop.example/back?order=7")).await;
    let (mut b, csrf) = alice_on(&app, &key).await;
    let page = b.get(&confirm_path(&key)).await;
    assert!(
        page.headers.get("x-frame-options").is_none(),
        "the confirmation page may be framed"
    );
    let done = b.decide(&confirm_path(&key), &csrf, "accept").await;
    assert_eq!(done.status, 303);
    assert_eq!(
        done.location.as_deref(),
        Some("https://shop.example/back?order=7")
    );
    // In an iframe, the notice carries what walletd.js posts to the parent.
    let key = create(&app, 700, Some("https://shop.example/back")).await;
    let framed = format!("{}?display=iframe", confirm_path(&key));
    let page = b.get(&framed).await;
    assert!(page.body.contains(&format!("action=\"{framed}\"")));
    let done = b.decide(&framed, &page.csrf(), "reject").await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("data-display=\"iframe\""));
    assert!(
        done.body
            .contains("data-redirect=\"https://shop.example/back\"")
    );
    assert!(
        done.body
            .contains(&format!("data-transaction-key=\"{key}\""))
    );
    // Pages other than the confirmation page refuse framing.
    let login = Browser::new(&app).get("/frontend/en/login").await;
    assert_eq!(
        login.headers.get("x-frame-options").unwrap(),
        "DENY",
        "login page"
    );
}
on_both!(redirect_uri_and_framed_display);

async fn optional_allowance_is_given_only_when_ticked(app: TestApp) {
    let allowance = json!({"description": "Monthly", "currency": "EUR", "max_price": 2000});
    let mut keys = Vec::new();
    for _ in 0..2 {
        let body = json!({
            "payments": [{"description": "First", "price": 300, "currency": "EUR"}],
            "allowance": {"data": allowance, "optional": true}
        });
        let t = call(&app.client, Method::POST, "transaction", Some(body)).await;
        keys.push(t["transaction_key"].as_str().unwrap().to_string());
    }
    let (mut b, csrf) = alice_on(&app, &keys[0]).await;
    let page = b.get(&confirm_path(&keys[0])).await;
    assert!(page.body.contains("Also accept the allowance"));
    assert!(page.body.contains("20.00 EUR"), "{}", page.body);
    b.decide(&confirm_path(&keys[0]), &csrf, "accept").await;
    let t = status(&app, &keys[0]).await;
    assert_eq!(t["status"], "reserved");
    assert_eq!(t["allowance"]["data"]["status"], "deleted", "{t}");
    b.get(&confirm_path(&keys[1])).await;
    b.post(
        &confirm_path(&keys[1]),
        &[
            ("csrf", &csrf),
            ("decision", "accept"),
            ("with_allowance", "1"),
        ],
    )
    .await;
    let t = serde_json::to_value(app.confirm(&keys[1]).await).unwrap();
    assert_eq!(t["status"], "confirmed");
    assert_eq!(t["allowance"]["data"]["status"], "active", "{t}");
}
on_both!(optional_allowance_is_given_only_when_ticked);

async fn forms_need_their_csrf_token(app: TestApp) {
    let key = create(&app, 800, None).await;
    let (mut b, _) = alice_on(&app, &key).await;
    let refused = b.post(&confirm_path(&key), &[("decision", "accept")]).await;
    assert_eq!(refused.status, 403);
    let forged = b
        .decide(&confirm_path(&key), &"x".repeat(32), "accept")
        .await;
    assert_eq!(forged.status, 403);
    let csrf = b.get(&confirm_path(&key)).await.csrf();
    let odd = b.decide(&confirm_path(&key), &csrf, "maybe").await;
    assert_eq!(odd.status, 400);
    assert!(odd.body.contains("decision must be accept or reject"));
    let unknown = b.get(&confirm_path("noSuchKey")).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("role=\"alert\""));
    assert_eq!(status(&app, &key).await["status"], "waiting");
    // The login form's token is tied to the browser's cookie, too.
    let mut other = Browser::new(&app);
    let u = &app.demo.users[0];
    let r = other
        .post(
            "/frontend/en/login",
            &[
                ("email", &u.email),
                ("password", &u.password),
                ("csrf", "abc"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
}
on_both!(forms_need_their_csrf_token);

async fn sessions_expire_and_end_on_logout(app: TestApp) {
    let key = create(&app, 900, None).await;
    let (mut b, csrf) = alice_on(&app, &key).await;
    // Session times follow wall time when it is ahead of the test clock (`session::now`), and a
    // slow run may have logged in seconds after the clock was started: move the clock past the
    // idle timeout of a session last used now.
    let last_use = walletd::clock::wall_now().max(app.clock_now());
    app.clock.set(last_use + session::IDLE_SECS + 1);
    let page = b.get(&confirm_path(&key)).await;
    assert!(
        page.body.contains("name=\"password\""),
        "idle session ended"
    );
    let done = b.decide(&confirm_path(&key), &csrf, "accept").await;
    assert_eq!(done.status, 303, "to the login page");
    assert!(
        done.location
            .unwrap()
            .starts_with("/frontend/en/login?next=")
    );
    let csrf = open_as_alice(&app, &mut b, &confirm_path(&key)).await;
    let out = b.post("/frontend/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    let page = b.get(&confirm_path(&key)).await;
    assert!(page.body.contains("name=\"password\""), "logged out");
}
on_both!(sessions_expire_and_end_on_logout);

async fn failed_logins_are_limited(app: TestApp) {
    let mut b = Browser::new(&app);
    let u = &app.demo.users[1];
    for _ in 0..walletd::limits::Limits::default().max_login_failures {
        assert_eq!(
            b.login(&u.email, "guess", "/frontend/app").await.status,
            401
        );
    }
    let locked = b.login(&u.email, &u.password, "/frontend/app").await;
    assert_eq!(locked.status, 429, "even the right password waits");
    assert!(locked.body.contains("role=\"alert\""));
    // Another holder is not locked out by bob's failures.
    let mut other = Browser::new(&app);
    other.login_alice(&app).await;
    app.clock
        .advance(walletd::limits::LOGIN_FAILURE_WINDOW_SECS + 60);
    assert_eq!(
        b.login(&u.email, &u.password, "/frontend/app").await.status,
        303
    );
}
on_both!(failed_logins_are_limited);

async fn only_the_holder_who_accepted_decides(app: TestApp) {
    let key = create(&app, 150_000, None).await;
    let (mut alice, csrf) = alice_on(&app, &key).await;
    alice.decide(&confirm_path(&key), &csrf, "accept").await;
    assert_eq!(status(&app, &key).await["status"], "waiting_funds");
    let mut bob = Browser::new(&app);
    bob.login_holder(&app, 1).await;
    let page = bob.get(&confirm_path(&key)).await;
    assert_eq!(page.status, 403, "{}", page.body);
    let t = status(&app, &key).await;
    assert_eq!(t["status"], "waiting_funds");
    assert_eq!(t["wallet"], app.alice().get());
}
on_both!(only_the_holder_who_accepted_decides);

async fn an_active_allowance_that_covers_it_reserves_on_opening(app: TestApp) {
    app.activate_allowance(
        app.alice(),
        "1234",
        json!({"currency": "EUR", "max_price": 1000}),
    )
    .await;
    let key = create(&app, 600, Some("https://shop.example/done")).await;
    let mut b = Browser::new(&app);
    b.login_alice(&app).await;
    let opened = b.get(&confirm_path(&key)).await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    assert_eq!(
        opened.location.as_deref(),
        Some("https://shop.example/done")
    );
    let t = status(&app, &key).await;
    assert_eq!(
        (&t["status"], &t["type"]),
        (&json!("reserved"), &json!("automatic"))
    );
    assert_eq!(
        app.callback_types(&key).await,
        ["reserved"],
        "the holder's act"
    );
    // Above the allowance, or without use_allowance, the page asks as usual.
    let above = create(&app, 1_500, None).await;
    let mut off = calling_back(one_payment(300), NOWHERE);
    off.use_allowance = Some(false);
    let off = app.create_with(&off).await.transaction_key;
    for key in [above.as_str(), off.as_str()] {
        let page = b.get(&confirm_path(key)).await;
        assert!(page.body.contains("Confirm payment"), "{}", page.body);
        assert_eq!(status(&app, key).await["status"], "waiting");
    }
}
on_both!(an_active_allowance_that_covers_it_reserves_on_opening);

async fn a_suggested_allowance_is_given_only_when_ticked(app: TestApp) {
    let mut keys = Vec::new();
    for _ in 0..2 {
        let mut t = calling_back(one_payment(800), NOWHERE);
        t.suggest_allowance = Some(true);
        keys.push(app.create_with(&t).await.transaction_key.to_string());
    }
    let (mut b, csrf) = alice_on(&app, &keys[0]).await;
    let page = b.get(&confirm_path(&keys[0])).await;
    assert!(page.body.contains("without asking"), "{}", page.body);
    assert!(page.body.contains("16.00 EUR") && page.body.contains("80.00 EUR"));
    assert!(page.body.contains("90 days"), "{}", page.body);
    b.decide(&confirm_path(&keys[0]), &csrf, "accept").await;
    assert!(status(&app, &keys[0]).await.get("allowance").is_none());
    b.get(&confirm_path(&keys[1])).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("decision", "accept"),
        ("with_suggested", "1"),
    ];
    assert_eq!(b.post(&confirm_path(&keys[1]), &form).await.status, 200);
    let t = status(&app, &keys[1]).await;
    assert_eq!(t["status"], "reserved");
    assert_eq!(t["allowance"]["data"]["status"], "new", "{t}");
    assert_eq!(t["allowance"]["data"]["max_price"], 1_600);
    assert_eq!(t["allowance"]["data"]["limits"][0]["max_price"], 8_000);
    assert_eq!(
        app.callback_types(&keys[1]).await,
        ["waiting", "new", "reserved"]
    );
    let t = serde_json::to_value(app.confirm(&keys[1]).await).unwrap();
    assert_eq!(t["allowance"]["data"]["status"], "active", "{t}");
    let wallet = app.alice().get();
    let active = app.get(&format!("allowance/active/{wallet}")).await;
    assert_eq!(active["id"], t["allowance"]["data"]["id"]);
}
on_both!(a_suggested_allowance_is_given_only_when_ticked);

/// Found by the service simulation: before the sweep failed them, a transaction past its
/// deadline could still be accepted on the page, and one waiting for funds was reserved when
/// money arrived.
async fn a_decision_past_the_deadline_is_too_late_before_the_sweep(app: TestApp) {
    use walletd::service::page::{self, Shown};
    let alice = app.demo.users[0].user_id;
    let mut keys = Vec::new();
    for cents in [500, 150_000] {
        let mut t = one_payment(cents);
        t.reserve_for = Some(1); // hours
        let key = app.create_with(&t).await.transaction_key;
        let (shown, _) = page::present(&app.state, &key, alice).await.unwrap();
        assert_eq!(shown, Shown::Decide);
        keys.push(key);
    }
    page::accept(&app.state, &keys[1], alice, &page::Choice::plain(false))
        .await
        .unwrap();
    assert_eq!(status(&app, &keys[1]).await["status"], "waiting_funds");
    app.clock.advance(3_600);
    let late = page::accept(&app.state, &keys[0], alice, &page::Choice::plain(false)).await;
    assert_eq!(late.unwrap_err().code(), "invalid_state");
    let (shown, _) = page::present(&app.state, &keys[0], alice).await.unwrap();
    assert_eq!(shown, Shown::Notice(wallet_core::TransactionStatus::Failed));
    app.top_up(app.alice(), "1000.00").await;
    assert_eq!(app.eur(app.alice()).await, (200_000, 0), "nothing reserved");
    let late = page::reject(&app.state, &keys[1], alice).await;
    assert_eq!(late.unwrap_err().code(), "invalid_state");
    app.sweep().await;
    for key in &keys {
        assert_eq!(status(&app, key).await["status"], "failed");
    }
    app.assert_ledger_sound().await;
}
on_both!(a_decision_past_the_deadline_is_too_late_before_the_sweep);
