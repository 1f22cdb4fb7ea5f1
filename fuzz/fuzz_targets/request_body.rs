#![no_main]
//! The request bodies of every write route, parsed as their handlers parse them (`walletd::json`,
//! the forms of `POST /oauth/v1/token` and `/session`) into the same wire types, then checked by
//! the same validation (`service::transactions::validate`, `FreezeSpec::from_request`) where that needs no
//! database. The first byte picks the route, the rest is the body. Properties: no panic; what
//! parses holds no NUL and no float amount, and serializes to a body that parses back the same;
//! what validates has a positive integer amount equal to the one given.

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Debug;
use wallet_client::types::{
    ConfirmPrices, FinalPrice, FreezeChange, NewAllowance, NewPayment, NewTransaction,
    OAuthSessionRequest, PasswordRequest, PaymentRef, ReserveRequest, TokenRequest,
};
use wallet_core::ids::{ClientId, PaymentId, ProjectId, TransactionKey, WalletId};
use wallet_core::money::{Currency, parse_decimal};
use wallet_core::payment::FreezeSpec;
use wallet_core::status::PaymentStatus;
use wallet_store::{ClientRow, PaymentRow};
use walletd::json;
use walletd::service::transactions::validate;

/// The business time of the checks.
const NOW: i64 = 1_763_800_000;

fuzz_target!(|data: &[u8]| {
    let Some((&route, body)) = data.split_first() else {
        return;
    };
    match route % 12 {
        0 => new_transaction(body),
        1 => {
            if let Some(p) = parsed::<NewPayment>(json::parse(body), body) {
                assert_integer_amounts(body, PAYMENT_AMOUNTS);
                new_payment(&p);
            }
        }
        2 => {
            if let Some(a) = parsed::<NewAllowance>(json::parse(body), body) {
                assert_integer_amounts(body, ALLOWANCE_AMOUNTS);
                new_allowance(&a);
            }
        }
        3 => reserve(body),
        4 => confirm(body),
        5 => freeze(body),
        6 => finalize(body),
        7 => token(body),
        8 => _ = json::parse::<walletd::http::Advance>(body),
        9 => _ = json::parse::<walletd::http::Inbound>(body),
        10 => password(body),
        _ => session(body),
    }
});

/// A parsed body, after the checks every parsed body passes.
fn parsed<T>(result: Result<T, walletd::error::ApiError>, body: &[u8]) -> Option<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let value = result.ok()?;
    let json = serde_json::to_value(&value).expect("a wire type serializes");
    assert!(
        !has_nul(&json),
        "NUL let through from {:?}",
        String::from_utf8_lossy(body)
    );
    let again: T = json::parse(&serde_json::to_vec(&value).unwrap()).expect("serialized parses");
    assert_eq!(again, value, "parse → serialize → parse changed the body");
    Some(value)
}

/// Where a body's amounts are; `*` is any element of an array or value of an object.
const TRANSACTION_AMOUNTS: &[&[&str]] = &[
    &["payments", "*", "price"],
    &["payments", "*", "price_rules", "min"],
    &["payments", "*", "price_rules", "max"],
    &["payments", "*", "price_rules", "choices", "*"],
    &["allowance", "data", "max_price"],
    &["allowance", "data", "limits", "*", "max_price"],
];
const PAYMENT_AMOUNTS: &[&[&str]] = &[
    &["price"],
    &["price_rules", "min"],
    &["price_rules", "max"],
    &["price_rules", "choices", "*"],
];
const ALLOWANCE_AMOUNTS: &[&[&str]] = &[&["max_price"], &["limits", "*", "max_price"]];

/// A body that parsed has every amount as an integer: a float (`1.5`, `1e3`, even `1.0`) is refused.
fn assert_integer_amounts(body: &[u8], paths: &[&[&str]]) {
    fn walk(v: &Value, path: &[&str]) {
        let Some((first, rest)) = path.split_first() else {
            assert!(v.is_null() || v.is_i64(), "amount {v} accepted");
            return;
        };
        match (v, *first) {
            (Value::Array(items), "*") => items.iter().for_each(|i| walk(i, rest)),
            (Value::Object(map), "*") => map.values().for_each(|i| walk(i, rest)),
            (Value::Object(map), name) => map.get(name).into_iter().for_each(|i| walk(i, rest)),
            _ => {}
        }
    }
    // A number past f64's range is JSON, and walletd rightly ignores it in a field it does not
    // read, but `Value` cannot hold it: then there is nothing more to check here.
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    paths.iter().for_each(|p| walk(&value, p));
}

fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn client() -> ClientRow {
    ClientRow {
        id: ClientId::new(1),
        project_id: ProjectId::new(1),
        mac_id: "wkVd93h2uS".into(),
        mac_secret: "IrdTc8uQodU7PRpLzzLTW6wqZAO6tAMU".into(),
        grants: "reservation_code,pin,allowance".into(),
    }
}

fn key() -> TransactionKey {
    TransactionKey::issued("9fPQMV4oZOPHwGN04oQQDT5sDpNIknet".into())
}

/// `POST transaction`: its terms, each new payment, its new allowance.
fn new_transaction(body: &[u8]) {
    let Some(t) = parsed::<NewTransaction>(json::parse(body), body) else {
        return;
    };
    assert_integer_amounts(body, TRANSACTION_AMOUNTS);
    if validate::transaction_terms(&t, NOW).is_err() {
        return;
    }
    for p in &t.payments {
        if let PaymentRef::New(p) = p {
            new_payment(p);
        }
    }
    if let Some(data) = t.allowance.as_ref().and_then(|a| a.data.as_ref()) {
        new_allowance(data);
    }
}

/// A payment of `POST transaction` or `POST payment`: its amount is exactly the one given.
fn new_payment(p: &NewPayment) {
    let Ok(draft) = validate::draft_payment(p, &key(), ProjectId::new(1), WalletId::new(2), NOW)
    else {
        return;
    };
    let row = draft.row;
    assert!(row.price > 0, "a payment of {}", row.price);
    assert_eq!(row.currency, Currency::parse(&p.currency).unwrap());
    match (p.price, &p.price_decimal) {
        (Some(price), None) => assert_eq!(row.price, price),
        (None, Some(d)) => assert_eq!(Ok(row.price), parse_decimal(d, row.currency)),
        other => panic!("a payment validated with price and price_decimal {other:?}"),
    }
}

/// An allowance of `POST allowance` or `POST transaction`.
fn new_allowance(a: &NewAllowance) {
    let Ok(row) = validate::draft_allowance(a, &key(), &client(), false, NOW) else {
        return;
    };
    assert_eq!(row.currency, Currency::parse(&a.currency).unwrap());
    if let Some(max) = row.max_price {
        assert!(max > 0, "an allowance of at most {max}");
    }
    if let Some(seconds) = row.valid_for {
        assert!(seconds > 0);
    }
}

/// The payments of the transaction the bodies that name one act on: 1 with price rules, 2 without.
fn payments() -> Vec<PaymentRow> {
    let row = |id, price, price_rules: Option<&str>| PaymentRow {
        id: PaymentId::new(id),
        transaction_key: key(),
        project_id: ProjectId::new(1),
        status: PaymentStatus::Reserved,
        price,
        currency: Currency::parse("EUR").unwrap(),
        description: None,
        parameters: None,
        price_rules: price_rules.map(str::to_string),
        purpose: None,
        beneficiary_wallet_id: WalletId::new(2),
        beneficiary_json: None,
        password_json: None,
        payer_wallet_id: Some(WalletId::new(3)),
        freeze_for: None,
        freeze_until: None,
        hold_id: None,
        created_at: NOW,
        confirmed_at: None,
    };
    vec![
        row(1, 1000, Some(r#"{"min":100,"max":5000}"#)),
        row(2, 250, None),
    ]
}

/// `PUT transaction/{key}/reserve` (and `/reserve/{wallet}`): the prices it selects.
fn reserve(body: &[u8]) {
    let Some(req) = optional::<ReserveRequest>(body) else {
        return;
    };
    assert_integer_amounts(body, &[&["payment_prices", "*"]]);
    let rows = payments();
    if let Ok(prices) = validate::selected_prices(&rows, req.payment_prices.as_ref()) {
        assert_eq!(prices.len(), rows.len());
        for (price, row) in prices.iter().zip(&rows) {
            assert!(*price >= 0 && (*price == row.price || row.price_rules.is_some()));
        }
    }
}

/// An optional body (`parse_optional`), parsed.
fn optional<T>(body: &[u8]) -> Option<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    match json::parse_optional::<T>(body) {
        Ok(Some(v)) => parsed(Ok(v), body),
        _ => None,
    }
}

/// `PUT transaction/{key}/confirm`: the same or a lower price for each payment.
fn confirm(body: &[u8]) {
    let Some(prices) = optional::<ConfirmPrices>(body) else {
        return;
    };
    assert_integer_amounts(body, &[&["*", "price"]]);
    let rows = payments();
    for (id, price) in &prices {
        let Some(row) = id
            .parse::<PaymentId>()
            .ok()
            .and_then(|id| rows.iter().find(|p| p.id == id))
        else {
            continue;
        };
        assert_reduced(
            row,
            price.price,
            price.price_decimal.as_deref(),
            &price.currency,
        );
    }
}

/// A price a confirm or a finalize accepts is within `1..=row.price`.
fn assert_reduced(row: &PaymentRow, price: Option<i64>, decimal: Option<&str>, currency: &str) {
    if let Ok(amount) = validate::reduced_price(row, price, decimal, currency) {
        assert!(
            (1..=row.price).contains(&amount),
            "{amount} for a payment of {}",
            row.price
        );
    }
}

/// `PUT payment/{id}/freeze`: the freeze it asks for, as `change_freeze` reads it.
fn freeze(body: &[u8]) {
    let Some(change) = parsed::<FreezeChange>(json::parse(body), body) else {
        return;
    };
    let nested = change.freeze.as_ref().map(|f| (f.for_seconds, f.until));
    if let Ok(Some(spec)) =
        FreezeSpec::from_request(nested, change.freeze_for, change.freeze_until, NOW)
    {
        assert!(spec.ends_at(NOW) > NOW);
    }
}

/// `PUT payment/{id}/finalize`: the same or a lower price.
fn finalize(body: &[u8]) {
    let Some(price) = optional::<FinalPrice>(body) else {
        return;
    };
    assert_integer_amounts(body, &[&["price"]]);
    let row = &payments()[0];
    assert_reduced(
        row,
        price.price,
        price.price_decimal.as_deref(),
        &price.currency,
    );
}

/// `PUT transaction/{key}/password`: the checks every parsed body passes (no NUL let through,
/// the round trip exact); the password itself is any text, checked against its hash later.
fn password(body: &[u8]) {
    _ = parsed::<PasswordRequest>(json::parse(body), body);
}

/// `POST /oauth/v1/token`: a form, as the handler reads it.
fn token(body: &[u8]) {
    form::<TokenRequest>(body, |r| {
        [
            &r.grant_type,
            &r.username,
            &r.password,
            &r.scope,
            &r.refresh_token,
        ]
        .to_vec()
    });
}

/// `POST /oauth/v1/session`: a form, as the handler reads it (`user[email]` a field of its own).
fn session(body: &[u8]) {
    form::<OAuthSessionRequest>(body, |r| {
        [
            &r.response_type,
            &r.client_id,
            &r.scope,
            &r.redirect_uri,
            &r.state,
            &r.user_email,
        ]
        .to_vec()
    });
}

/// A form body as the OAuth handlers read it: none of its `fields` holds a NUL, and encoding it
/// gives back the same request.
fn form<T>(body: &[u8], fields: impl Fn(&T) -> Vec<&Option<String>>)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    if json::refuse_encoded_nul(body).is_err() {
        return;
    }
    let Ok(req) = serde_urlencoded::from_bytes::<T>(body) else {
        return;
    };
    for field in fields(&req).into_iter().flatten() {
        assert!(!field.contains('\0'), "NUL let through in a form");
    }
    let encoded = serde_urlencoded::to_string(&req).expect("a form request encodes");
    assert_eq!(serde_urlencoded::from_str::<T>(&encoded).ok(), Some(req));
}
