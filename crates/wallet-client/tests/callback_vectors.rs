//! Golden tests: the callback signature vectors of `shared/vectors/callback-signature.json`
//! (copied into `tests/vectors/`). Valid cases must verify; tampered event, signature or key must not.

use wallet_client::callback::{Error, parse_form, verify_callback, verify_form};

#[derive(serde::Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    event: String,
    sign: String,
    public_key_pem: String,
    valid: bool,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("vectors/callback-signature.json")).unwrap()
}

/// `application/x-www-form-urlencoded`, as PHP's `http_build_query` writes it.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn every_vector_verifies_as_expected() {
    let v = vectors();
    assert!(v.cases.iter().any(|c| c.valid));
    assert!(v.cases.iter().any(|c| !c.valid));
    for (i, c) in v.cases.iter().enumerate() {
        let result = verify_callback(&c.event, &c.sign, &c.public_key_pem);
        if c.valid {
            let event = result.unwrap_or_else(|e| panic!("case {i} must verify: {e}"));
            assert_eq!(event.kind, "reserved");
            assert_eq!(event.object, "transaction");
            assert_eq!(event.name(), "transaction.reserved");
            assert_eq!(
                event.data["transaction_key"],
                "9fPQMV4oZOPHwGN04oQQDT5sDpNIknet"
            );
        } else {
            assert_eq!(result, Err(Error::BadSignature), "case {i} must not verify");
        }
    }
}

#[test]
fn a_received_form_body_verifies() {
    let v = vectors();
    for c in &v.cases {
        let body = format!(
            "event={}&sign={}",
            form_encode(&c.event),
            form_encode(&c.sign)
        );
        let form = parse_form(&body).unwrap();
        assert_eq!(form.event, c.event);
        assert_eq!(form.sign, c.sign);
        assert_eq!(verify_form(&body, &c.public_key_pem).is_ok(), c.valid);
    }
}

#[test]
fn a_signature_that_is_not_base64_is_refused() {
    let c = &vectors().cases[0];
    assert_eq!(
        verify_callback(&c.event, "not base64!", &c.public_key_pem),
        Err(Error::SignatureEncoding)
    );
    assert_eq!(
        verify_callback(&c.event, "", &c.public_key_pem),
        Err(Error::BadSignature)
    );
}
