//! The OAuth authorization code grant as the PHP client drives it: the authorization page
//! (`/frontend[/lang]/oauth?…`, and `/oauth/{key}` prepared by `POST /oauth/v1/session`), the
//! code redeemed once at `POST /oauth/v1/token`, refresh with a narrowed scope, revocation.

use crate::browser::{Browser, Page};
use crate::helpers::{TestApp, call, refused, revoke_token, signed};
use crate::on_both;
use serde_json::Value;
use std::collections::HashMap;
use wallet_client::{Client, Method};

const CALLBACK: &str = "https://shop.example/oauth/back";

/// `walletd admin client set-redirect-uris --client <the demo client>` followed by `rest`.
fn redirect_uris_args<'a>(app: &'a TestApp, rest: &[&'a str]) -> Vec<&'a str> {
    let mac_id = app.demo.client.mac_id.as_str();
    let mut args = vec!["admin", "client", "set-redirect-uris", "--client", mac_id];
    args.extend_from_slice(rest);
    args
}

/// Registers the demo client's redirect URI through the admin command line.
fn register(app: &TestApp) {
    let out = app.walletd(&redirect_uris_args(
        app,
        &["--redirect-uri", CALLBACK, "--json"],
    ));
    assert_eq!(out["redirect_uris"], serde_json::json!([CALLBACK]), "{out}");
}

/// The authorization page's URL for the demo client.
fn authorize_path(app: &TestApp, scope: &str, redirect: &str, extra: &[(&str, &str)]) -> String {
    // `extra` replaces a parameter, or with "" leaves it out.
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", app.demo.client.mac_id.as_str()),
        ("scope", scope),
        ("redirect_uri", redirect),
        ("state", "st4te"),
    ];
    q.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    q.extend(extra.iter().filter(|(_, v)| !v.is_empty()));
    format!(
        "/frontend/en/oauth?{}",
        serde_urlencoded::to_string(q).unwrap()
    )
}

/// The query of a redirect's `Location` (which must go to [`CALLBACK`]).
fn back_at_client(page: &Page) -> HashMap<String, String> {
    assert_eq!(page.status, 302, "{}", page.body);
    let location = page.location.as_deref().expect("a Location");
    let url = url::Url::parse(location).unwrap();
    assert_eq!(&location[..CALLBACK.len()], CALLBACK, "{location}");
    assert_eq!(page.headers["cache-control"], "no-store");
    url.query_pairs().into_owned().collect()
}

/// Alice approves on the page at `path`, signing in on it first if it asks; the code sent back.
async fn approved_code(app: &TestApp, b: &mut Browser, path: &str) -> String {
    let u = &app.demo.users[0];
    let page = b.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    if page.body.contains("name=\"password\"") {
        let csrf = page.csrf();
        let form = [
            ("email", u.email.as_str()),
            ("password", u.password.as_str()),
            ("csrf", csrf.as_str()),
            ("next", path),
        ];
        let signed_in = b.post("/frontend/en/login", &form).await;
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        assert_eq!(signed_in.location.as_deref(), Some(path));
    }
    let consent = b.get(path).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(
        consent.body.contains("value=\"approve\""),
        "{}",
        consent.body
    );
    let back = back_at_client(&b.decide(path, &consent.csrf(), "approve").await);
    assert_eq!(back["state"], "st4te");
    back["code"].clone()
}

async fn exchange(app: &TestApp, code: &str, redirect: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
    if let Some(r) = redirect {
        form.push(("redirect_uri", r));
    }
    let body = serde_urlencoded::to_string(form).unwrap();
    signed(app, "POST", "/oauth/v1/token", &body).await
}

fn holder_client(app: &TestApp, token: &Value) -> Client {
    let id = token["access_token"].as_str().unwrap();
    let key = token["mac_key"].as_str().unwrap();
    Client::new(&app.base_url, id, key).unwrap()
}

async fn the_holder_approves_and_the_code_works_once(app: TestApp) {
    register(&app);
    let path = authorize_path(&app, "balance statements", CALLBACK, &[]);
    let mut b = Browser::new(&app);
    // Not signed in: the sign-in form in place, coming back to this very page; never framed.
    let form = b.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("name=\"password\""), "{}", form.body);
    assert_eq!(form.headers["x-frame-options"], "DENY");
    let consent_and_code = approved_code(&app, &mut b, &path).await;
    let consent = b.get(&path).await;
    assert!(
        consent.body.contains("<code>balance</code>"),
        "{}",
        consent.body
    );
    assert!(consent.body.contains("<code>statements</code>"));
    assert!(
        consent.body.contains("shop.example"),
        "where the browser goes back"
    );
    assert!(
        consent.body.contains("id=\"project\">demo<"),
        "{}",
        consent.body
    );
    let (status, token) = exchange(&app, &consent_and_code, Some(CALLBACK)).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(
        (token["token_type"].as_str(), token["scope"].as_str()),
        (Some("mac"), Some("balance statements"))
    );
    assert!(token["refresh_token"].is_string());
    let alice = holder_client(&app, &token);
    let me = call(&alice, Method::GET, "wallet/me", None).await;
    assert_eq!(me["id"], app.alice().get());
    // A code used again is refused, and what it gave is revoked (RFC 6749 §4.1.2).
    let (status, again) = exchange(&app, &consent_and_code, Some(CALLBACK)).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let described = again["error_description"].as_str().unwrap();
    assert!(described.contains("already used"), "{described}");
    assert_eq!(
        refused(&alice, Method::GET, "wallet/me", None).await,
        "unauthorized"
    );
    let refresh = token["refresh_token"].as_str().unwrap();
    let body = format!("grant_type=refresh_token&refresh_token={refresh}");
    let (_, e) = signed(&app, "POST", "/oauth/v1/token", &body).await;
    assert_eq!(e["error"], "invalid_grant");
}
on_both!(the_holder_approves_and_the_code_works_once);

async fn deny_and_bad_requests_on_the_page(app: TestApp) {
    register(&app);
    let mut b = Browser::new(&app);
    b.login_alice(&app).await;
    // Deny: back to the client with access_denied and the state.
    let path = authorize_path(&app, "balance", CALLBACK, &[]);
    let consent = b.get(&path).await;
    let back = back_at_client(&b.decide(&path, &consent.csrf(), "deny").await);
    assert_eq!(
        (back["error"].as_str(), back["state"].as_str()),
        ("access_denied", "st4te")
    );
    assert!(!back.contains_key("code"));
    // The form without its CSRF token decides nothing.
    let forged = b.post(&path, &[("decision", "approve")]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    // An unregistered redirect URI or an unknown client: an error page, never a redirect.
    let csrf = consent.csrf();
    for bad in [
        authorize_path(&app, "balance", "https://evil.example/steal", &[]),
        authorize_path(&app, "balance", "https://shop.example/oauth/back/", &[]),
        authorize_path(&app, "balance", CALLBACK, &[("client_id", "")]),
        authorize_path(&app, "balance", CALLBACK, &[("client_id", "nosuchclient")]),
    ] {
        let page = b.get(&bad).await;
        assert_eq!(
            (page.status, page.location.as_deref()),
            (400, None),
            "{bad}"
        );
        assert!(page.body.contains("role=\"alert\""), "{}", page.body);
        let form = [("csrf", csrf.as_str()), ("decision", "approve")];
        assert_eq!(b.post(&bad, &form).await.location, None);
    }
    // The only registered URI stands in for a missing redirect_uri.
    let implicit = authorize_path(&app, "balance", CALLBACK, &[("redirect_uri", "")]);
    assert_eq!(b.get(&implicit).await.status, 200);
    // Errors the client can be told: at its redirect URI.
    let token = authorize_path(&app, "balance", CALLBACK, &[("response_type", "token")]);
    let back = back_at_client(&b.get(&token).await);
    assert_eq!(back["error"], "unsupported_response_type");
    let bogus = authorize_path(&app, "balance everything", CALLBACK, &[]);
    let back = back_at_client(&b.get(&bogus).await);
    assert_eq!(
        (back["error"].as_str(), back["state"].as_str()),
        ("invalid_scope", "st4te")
    );
}
on_both!(deny_and_bad_requests_on_the_page);

async fn codes_are_bound_to_client_redirect_and_time(app: TestApp) {
    register(&app);
    let path = authorize_path(&app, "", CALLBACK, &[]);
    let mut b = Browser::new(&app);
    let code = approved_code(&app, &mut b, &path).await;
    // Another client cannot redeem it (and does not use it up).
    let other = walletd::service::admin::create_client(&app.state, app.demo.project_id, "pin")
        .await
        .unwrap();
    let body = format!("grant_type=authorization_code&code={code}&redirect_uri={CALLBACK}");
    let raw = app.raw("POST", "/oauth/v1/token").body(&body);
    let (_, stolen) = raw.by(&other.mac_id, &other.mac_secret).send().await;
    assert_eq!(stolen["error"], "invalid_grant");
    // The redirect URI must be repeated, and the same.
    let (_, e) = exchange(&app, &code, None).await;
    assert_eq!(e["error"], "invalid_grant");
    let code = approved_code(&app, &mut b, &path).await;
    let (_, e) = exchange(&app, &code, Some("https://shop.example/other")).await;
    assert_eq!(e["error"], "invalid_grant");
    let (_, e) = exchange(&app, &code, Some(CALLBACK)).await;
    assert_eq!(e["error"], "invalid_grant", "a refused code is used up");
    // An empty scope asks for the wallet.
    let code = approved_code(&app, &mut b, &path).await;
    let (status, token) = exchange(&app, &code, Some(CALLBACK)).await;
    assert_eq!(
        (status, token["scope"].as_str()),
        (200, Some("wallet")),
        "{token}"
    );
    // Expired, unknown, missing.
    let now = walletd::clock::wall_now();
    let client_id = {
        let mut tx = app.state.store.read().await.unwrap();
        let c = tx.client_by_mac_id(&app.demo.client.mac_id).await.unwrap();
        c.unwrap().id
    };
    let old = wallet_store::CodeGrantRow {
        client_id,
        user_id: app.demo.users[0].user_id,
        scope: "wallet".into(),
        redirect_uri: CALLBACK.into(),
        redirect_given: true,
        expires_at: now - 1,
    };
    let mut tx = app.state.store.write().await.unwrap();
    let hash = walletd::credentials::hash_token("an-expired-code");
    tx.insert_code_grant(&hash, &old, now - 301).await.unwrap();
    tx.commit().await.unwrap();
    let (_, e) = exchange(&app, "an-expired-code", Some(CALLBACK)).await;
    assert_eq!(e["error"], "invalid_grant");
    assert!(e["error_description"].as_str().unwrap().contains("expired"));
    let (_, e) = exchange(&app, "no-such-code", Some(CALLBACK)).await;
    assert_eq!(e["error"], "invalid_grant");
    let (status, e) = signed(
        &app,
        "POST",
        "/oauth/v1/token",
        "grant_type=authorization_code",
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_request"))
    );
}
on_both!(codes_are_bound_to_client_redirect_and_time);

/// `POST /oauth/v1/session` as `OAuthClient::createSession` sends it.
async fn prepare(app: &TestApp, fields: &[(&str, &str)]) -> (u16, Value) {
    let mac_id = app.demo.client.mac_id.as_str();
    let mut form = vec![
        ("response_type", "code"),
        ("client_id", mac_id),
        ("scope", "balance"),
        ("redirect_uri", CALLBACK),
        ("state", "st4te"),
    ];
    for (k, v) in fields {
        form.retain(|(f, _)| f != k);
        form.push((*k, *v));
    }
    let body = serde_urlencoded::to_string(form).unwrap();
    signed(app, "POST", "/oauth/v1/session", &body).await
}

async fn a_prepared_session_asks_for_the_named_holder(app: TestApp) {
    register(&app);
    let alice = &app.demo.users[0];
    let (status, answer) = prepare(&app, &[("user[email]", alice.email.as_str())]).await;
    assert_eq!(status, 200, "{answer}");
    let key = answer["key"].as_str().unwrap();
    let path = format!("/frontend/en/oauth/{key}");
    let mut b = Browser::new(&app);
    let form = b.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(
        crate::browser::field_value(&form.body, "email").as_deref(),
        Some(alice.email.as_str())
    );
    // Signed in as bob, the page asks for alice's account again.
    b.login_holder(&app, 1).await;
    let other = b.get(&path).await;
    assert!(other.body.contains("name=\"password\""), "{}", other.body);
    assert!(other.body.contains("another account"));
    let code = approved_code(&app, &mut b, &path).await;
    let (status, token) = exchange(&app, &code, Some(CALLBACK)).await;
    assert_eq!((status, token["scope"].as_str()), (200, Some("balance")));
    let me = call(&holder_client(&app, &token), Method::GET, "wallet/me", None).await;
    assert_eq!(me["id"], app.alice().get());
    // The decision ended the session; an unknown key is no page either.
    assert_eq!(b.get(&path).await.status, 404);
    assert_eq!(b.get("/frontend/en/oauth/short").await.status, 404);
    // Misuse of the session endpoint.
    let (_, e) = prepare(&app, &[("redirect_uri", "https://evil.example/")]).await;
    assert_eq!(e["error"], "invalid_request");
    let (_, e) = prepare(&app, &[("scope", "balance root")]).await;
    assert_eq!(e["error"], "invalid_scope");
    let (_, e) = prepare(&app, &[("client_id", "someone-else")]).await;
    assert_eq!(e["error"], "invalid_request");
    let (_, e) = prepare(&app, &[("user[email]", "not-an-address")]).await;
    assert_eq!(e["error"], "invalid_request");
}
on_both!(a_prepared_session_asks_for_the_named_holder);

async fn password_token(app: &TestApp, scope: &str) -> (u16, Value) {
    let body = format!(
        "grant_type=password&username=bob%40example.com&password=bob-demo-password&scope={scope}"
    );
    signed(app, "POST", "/oauth/v1/token", &body).await
}

async fn refresh(app: &TestApp, token: &Value, scope: Option<&str>) -> (u16, Value) {
    let refresh = token["refresh_token"].as_str().unwrap();
    let mut body = format!("grant_type=refresh_token&refresh_token={refresh}");
    if let Some(s) = scope {
        body.push_str(&format!("&scope={s}"));
    }
    signed(app, "POST", "/oauth/v1/token", &body).await
}

async fn a_refresh_narrows_the_scope_and_revoking_ends_both(app: TestApp) {
    let (status, first) = password_token(&app, "balance+statements").await;
    assert_eq!(
        (status, first["scope"].as_str()),
        (200, Some("balance statements"))
    );
    let (_, e) = password_token(&app, "balance+superuser").await;
    assert_eq!(e["error"], "invalid_scope");
    // Wider is refused, and the refresh token still works afterwards.
    let (status, e) = refresh(&app, &first, Some("balance+email")).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_scope")));
    let (status, narrow) = refresh(&app, &first, Some("statements")).await;
    assert_eq!(
        (status, narrow["scope"].as_str()),
        (200, Some("statements")),
        "{narrow}"
    );
    // The narrowed token cannot be widened back.
    let (_, e) = refresh(&app, &narrow, Some("balance")).await;
    assert_eq!(e["error"], "invalid_scope");
    let (_, kept) = refresh(&app, &narrow, None).await;
    assert_eq!(kept["scope"], "statements");
    // DELETE token: the token and its refresh token end.
    let bob = holder_client(&app, &kept);
    call(&bob, Method::GET, "wallet/me", None).await;
    let access = kept["access_token"].as_str().unwrap();
    let (status, _) = revoke_token(&app, access).await;
    assert_eq!(status, 200);
    assert_eq!(
        refused(&bob, Method::GET, "wallet/me", None).await,
        "unauthorized"
    );
    let (_, e) = refresh(&app, &kept, None).await;
    assert_eq!(e["error"], "invalid_grant");
    let (status, e) = revoke_token(&app, access).await;
    assert_eq!((status, e["error"].as_str()), (404, Some("not_found")));
}
on_both!(a_refresh_narrows_the_scope_and_revoking_ends_both);

async fn redirect_uris_are_checked_and_can_be_cleared(app: TestApp) {
    register(&app);
    for bad in [
        "https://shop.example/back#fragment",
        "ftp://shop.example/back",
        "/relative/back",
        "https://user:pw@shop.example/back",
    ] {
        let args = redirect_uris_args(&app, &["--redirect-uri", bad]);
        let out = crate::helpers::walletd_output(&app.database, &args);
        assert!(!out.status.success(), "{bad} was accepted");
    }
    // A refused change left the registered one.
    let mut b = Browser::new(&app);
    let path = authorize_path(&app, "balance", CALLBACK, &[]);
    assert_eq!(b.get(&path).await.status, 200);
    // With none registered, the grant is closed to the client: an error page, no redirect.
    let args = redirect_uris_args(&app, &["--json"]);
    assert_eq!(app.walletd(&args)["redirect_uris"], serde_json::json!([]));
    let page = b.get(&path).await;
    assert_eq!((page.status, page.location), (400, None));
    let implicit = authorize_path(&app, "balance", CALLBACK, &[("redirect_uri", "")]);
    assert_eq!(b.get(&implicit).await.status, 400);
}
on_both!(redirect_uris_are_checked_and_can_be_cleared);
