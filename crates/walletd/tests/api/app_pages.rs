//! The holder app (`/frontend/app`): login required, balances, statements, reservation codes
//! (QR code, barcode, digits that reserve, max amount), CSRF, FLASH confirmations accepted and
//! rejected from the app, and no deciding on another holder's transaction.

use crate::browser::{Browser, Page};
use crate::helpers::{TestApp, assert_error, code_body, issued, one_payment, signed};
use crate::on_both;
use serde_json::Value;

const HOME: &str = "/frontend/app";

/// The text of the element that starts with `open` (up to the next tag).
fn text_after<'a>(html: &'a str, open: &str) -> Option<&'a str> {
    let at = html.find(open)? + open.len();
    let len = html[at..].find('<')?;
    Some(&html[at..at + len])
}

async fn alice(app: &TestApp) -> Browser {
    let mut b = Browser::new(app);
    b.login_alice(app).await;
    b
}

async fn bob(app: &TestApp) -> Browser {
    let mut b = Browser::new(app);
    b.login_holder(app, 1).await;
    b
}

async fn status(app: &TestApp, key: &str) -> String {
    app.status(key).await.as_str().to_string()
}

/// A transaction of `cents` sent to alice by FLASH SMS: `(key, correlation key)`.
async fn flash_to_alice(app: &TestApp, cents: i64) -> (String, String) {
    app.flashed_to_alice(&one_payment(cents)).await
}

/// The form of the app where a holder decides on FLASH transaction `key`.
fn flash_form(key: &str) -> String {
    format!("/frontend/app/flash/{key}")
}

/// Posts the code form; the page, and the 28 digits when it worked.
async fn generate(b: &mut Browser, csrf: &str, max: &str, currency: &str) -> (Page, String) {
    let page = b
        .post(
            "/frontend/app/code",
            &[("csrf", csrf), ("max_amount", max), ("currency", currency)],
        )
        .await;
    let code = text_after(&page.body, "<p id=\"code\">")
        .unwrap_or("")
        .to_string();
    (page, code)
}

async fn reserve(app: &TestApp, key: &str, code: &str) -> (u16, Value) {
    let path = format!("/rest/v1/transaction/{key}/reserve");
    signed(app, "PUT", &path, &code_body(code)).await
}

async fn every_page_needs_a_session(app: TestApp) {
    let mut b = Browser::new(&app);
    for (path, next) in [
        (HOME, "%2Ffrontend%2Fapp"),
        ("/frontend/app/statements", "%2Ffrontend%2Fapp%2Fstatements"),
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(
            page.location.as_deref(),
            Some(format!("/frontend/en/login?next={next}").as_str())
        );
    }
    let code = b.post("/frontend/app/code", &[("csrf", "x")]).await;
    assert_eq!(code.status, 303);
    assert!(code.location.unwrap().starts_with("/frontend/en/login?"));
    let (key, _) = flash_to_alice(&app, 100).await;
    let decide = b.decide(&flash_form(&key), "x", "accept").await;
    assert_eq!(decide.status, 303);
    assert_eq!(status(&app, &key).await, "waiting");
    // Logged in, the login page's `next` brings her to the app.
    let u = &app.demo.users[0];
    let login = b.login(&u.email, &u.password, HOME).await;
    assert_eq!(login.location.as_deref(), Some(HOME));
    let page = b.get(HOME).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("lang=\"en\""));
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!page.body.contains("<script>") && !page.body.contains("style="));
}
on_both!(every_page_needs_a_session);

async fn balances_show_at_disposal_and_reserved(app: TestApp) {
    let mut b = alice(&app).await;
    let page = b.get(HOME).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("<h1>Your wallet</h1>"), "{body}");
    assert!(body.contains("<caption>Balances</caption>"));
    assert!(
        body.contains(
            "<td>EUR</td><td class=\"amount\">1000.00</td><td class=\"amount\">0.00</td>"
        ),
        "{body}"
    );
    assert!(body.contains("href=\"/frontend/app/statements\">Statements</a>"));
    assert!(body.contains("action=\"/frontend/logout\""));
    assert!(body.contains("<label for=\"max_amount\">Maximum amount (optional)</label>"));
    assert!(body.contains("inputmode=\"decimal\""));
    assert!(body.contains("<option value=\"EUR\">EUR</option>"));
    assert!(body.contains("Nothing is waiting for your confirmation."));
    // A reserved amount shows as reserved.
    app.reserved(2_500).await;
    let page = b.get(HOME).await;
    assert!(
        page.body
            .contains("<td class=\"amount\">975.00</td><td class=\"amount\">25.00</td>"),
        "{}",
        page.body
    );
}
on_both!(balances_show_at_disposal_and_reserved);

async fn statements_are_paged_newest_first(app: TestApp) {
    let mut b = alice(&app).await;
    // The newest first, signed amounts.
    app.top_up(app.alice(), "12.34").await;
    let st = b.get("/frontend/app/statements").await;
    assert_eq!(st.status, 200, "{}", st.body);
    assert!(st.body.contains("<caption>Statements</caption>"));
    let first_row = st.body.split("<tbody>").nth(1).unwrap();
    let first_row = &first_row[..first_row.find("</tr>").unwrap()];
    assert!(first_row.contains("+12.34"), "{first_row}");
    assert!(first_row.contains("EUR"));
    let date = text_after(first_row, "<tr><td>").unwrap();
    assert_eq!(date.len(), "2025-01-01 12:00".len(), "{date}");
    assert!(!st.body.contains(">Older<") && !st.body.contains(">Newer<"));
    // More than a page: Older, then Newer.
    for _ in 0..20 {
        app.top_up(app.alice(), "1.00").await;
    }
    let st = b.get("/frontend/app/statements").await;
    assert_eq!(st.body.matches("+1.00").count(), 20, "{}", st.body);
    assert!(
        st.body
            .contains("href=\"/frontend/app/statements?offset=20\" rel=\"next\">Older</a>"),
        "{}",
        st.body
    );
    assert!(!st.body.contains(">Newer<"));
    let older = b.get("/frontend/app/statements?offset=20").await;
    assert_eq!(older.status, 200);
    assert!(older.body.contains("+12.34"), "{}", older.body);
    assert!(
        older
            .body
            .contains("href=\"/frontend/app/statements\" rel=\"prev\">Newer</a>"),
        "{}",
        older.body
    );
    // Her wallet by id; bob's is not hers; a bad offset is refused.
    let mine = b
        .get(&format!("/frontend/app/statements?wallet={}", app.alice()))
        .await;
    assert_eq!(mine.status, 200);
    // (askama escapes `&` as `&#38;`.)
    assert!(
        mine.body
            .contains(&format!("statements?wallet={}&#38;offset=20", app.alice())),
        "{}",
        mine.body
    );
    let other = b
        .get(&format!("/frontend/app/statements?wallet={}", app.bob()))
        .await;
    assert_eq!(other.status, 404, "{}", other.body);
    let bad = b.get("/frontend/app/statements?offset=-1").await;
    assert_eq!(bad.status, 400);
}
on_both!(statements_are_paged_newest_first);

async fn a_code_from_the_app_reserves(app: TestApp) {
    let mut b = alice(&app).await;
    let csrf = b.get(HOME).await.csrf();
    let (page, code) = generate(&mut b, &csrf, "", "EUR").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("<h1>Reservation code</h1>"));
    assert!(body.contains("<div class=\"code\">"));
    assert!(
        body.contains("<svg role=\"img\" aria-label=\"QR code\""),
        "{body}"
    );
    assert!(
        body.contains("<svg role=\"img\" aria-label=\"Barcode\""),
        "{body}"
    );
    assert!(!body.contains("<?xml"));
    assert_eq!(code.len(), 28, "{body}");
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    let expires_at = app.clock_now() + 300;
    assert!(
        body.contains(&format!(
            "<p id=\"countdown\" data-seconds-left=\"300\" data-expires-at=\"{expires_at}\" data-prefix=\"Expires in\" data-expired=\"Expired\">Expires in 5:00</p>"
        )),
        "{body}"
    );
    assert!(body.contains("href=\"/frontend/app\">Back to your wallet</a>"));
    assert!(!body.contains("Maximum amount:"));
    assert_eq!(page.headers["cache-control"], "no-store");
    let t = app.create(5_000).await;
    let (s, r) = reserve(&app, &t.transaction_key, &code).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["status"], "reserved");
    assert_eq!(r["wallet"], app.alice().get());
    // Once only.
    let again = app.create(100).await;
    let answer = reserve(&app, &again.transaction_key, &code).await;
    assert_error(&answer, 400, "invalid_code");
    // A maximum amount restricts it.
    let (page, capped) = generate(&mut b, &csrf, "10.00", "EUR").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Maximum amount: 10.00 EUR"),
        "{}",
        page.body
    );
    let big = app.create(2_000).await;
    assert_eq!(
        app.reserve_error_with(&big.transaction_key, &capped).await,
        "code_restriction_violation"
    );
    let small = app.create(1_000).await;
    let (s, r) = reserve(&app, &small.transaction_key, &capped).await;
    assert_eq!(s, 200, "{r}");
    // Bad input is an error page with the service's status.
    let (bad, _) = generate(&mut b, &csrf, "ten", "EUR").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("role=\"alert\""));
    let (bad, _) = generate(&mut b, &csrf, "1.00", "XXX").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    // No CSRF token, or a wrong one: 403 and no code.
    for form in [
        vec![("currency", "EUR")],
        vec![("csrf", "not-the-token"), ("currency", "EUR")],
    ] {
        let page = b.post("/frontend/app/code", &form).await;
        assert_eq!(page.status, 403, "{}", page.body);
        assert!(!page.body.contains("<svg"));
    }
    app.assert_ledger_sound().await;
}
on_both!(a_code_from_the_app_reserves);

async fn flash_accepted_and_rejected_in_the_app(app: TestApp) {
    let (accept_key, ck) = flash_to_alice(&app, 1_299).await;
    let (reject_key, ck2) = flash_to_alice(&app, 500).await;
    let mut b = alice(&app).await;
    let page = b.get(HOME).await;
    let body = &page.body;
    assert!(!body.contains("Nothing is waiting"), "{body}");
    assert!(
        body.contains("12.99 EUR") && body.contains("5.00 EUR"),
        "{body}"
    );
    assert!(body.contains(&format!("Code: {ck}")) && body.contains(&format!("Code: {ck2}")));
    assert!(body.contains("<h3 id=\"waiting-1\">demo</h3>"), "{body}");
    assert!(body.contains(&format!("action=\"/frontend/app/flash/{accept_key}\"")));
    assert!(body.contains("name=\"decision\" value=\"accept\">Accept</button>"));
    assert!(
        body.contains("name=\"decision\" value=\"reject\" class=\"secondary\">Reject</button>")
    );
    let csrf = page.csrf();
    // Without the CSRF token nothing happens.
    let refused = b
        .post(&flash_form(&accept_key), &[("decision", "accept")])
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(status(&app, &accept_key).await, "waiting");
    let done = b.decide(&flash_form(&accept_key), &csrf, "accept").await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/frontend/app?done=accepted")
    );
    let t = app
        .client
        .get_transaction(&issued(&accept_key))
        .await
        .unwrap();
    // Accepted in the app, not by SMS: `mobile_app`.
    app.assert_flash_reserved_on_alice(&t, "mobile_app").await;
    let shown = b.get("/frontend/app?done=accepted").await;
    assert!(
        shown
            .body
            .contains("<p role=\"status\" id=\"notice\">Payment accepted</p>"),
        "{}",
        shown.body
    );
    assert!(!shown.body.contains(&format!("Code: {ck}<")));
    let done = b.decide(&flash_form(&reject_key), &csrf, "reject").await;
    assert_eq!(
        done.location.as_deref(),
        Some("/frontend/app?done=rejected")
    );
    assert_eq!(status(&app, &reject_key).await, "rejected");
    let shown = b.get("/frontend/app?done=rejected").await;
    assert!(shown.body.contains("Payment rejected"));
    assert!(
        shown
            .body
            .contains("Nothing is waiting for your confirmation.")
    );
    // Deciding again: it no longer waits.
    let again = b.decide(&flash_form(&reject_key), &csrf, "accept").await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("not waiting"), "{}", again.body);
    let nonsense = b.decide(&flash_form(&reject_key), &csrf, "maybe").await;
    assert_eq!(nonsense.status, 400);
    // The SMS answer of a decided transaction is refused too.
    assert!(
        walletd::service::flash::answer(
            &app.state.store,
            app.clock_now(),
            &app.demo.users[0].phone,
            &format!("{ck} YES"),
        )
        .await
        .is_err()
    );
    app.assert_ledger_sound().await;
}
on_both!(flash_accepted_and_rejected_in_the_app);

async fn another_holder_cannot_decide(app: TestApp) {
    let (key, ck) = flash_to_alice(&app, 700).await;
    let mut b = bob(&app).await;
    let page = b.get(HOME).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Nothing is waiting for your confirmation.")
    );
    assert!(!page.body.contains(&ck));
    let csrf = page.csrf();
    for decision in ["accept", "reject"] {
        let tried = b.decide(&flash_form(&key), &csrf, decision).await;
        assert_eq!(tried.status, 404, "{}", tried.body);
    }
    assert_eq!(status(&app, &key).await, "waiting");
    assert_eq!(app.eur(app.alice()).await, (100_000, 0));
    // Nor a transaction that waits for no FLASH answer (alice's own, new one included).
    let plain = app.create(100).await.transaction_key;
    let mut a = alice(&app).await;
    let csrf = a.get(HOME).await.csrf();
    let tried = a.decide(&flash_form(&plain), &csrf, "accept").await;
    assert_eq!(tried.status, 404, "{}", tried.body);
    assert_eq!(status(&app, &plain).await, "new");
    // Alice herself still can.
    let done = a.decide(&flash_form(&key), &csrf, "accept").await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(status(&app, &key).await, "reserved");
}
on_both!(another_holder_cannot_decide);
