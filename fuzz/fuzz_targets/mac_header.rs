#![no_main]
//! The MAC `Authorization` header: wallet-client's parser (`MacHeader::parse`, what the server
//! runs on every request) and signer, the `ext` query it signs, and the server's own checks of
//! the parsed header (`walletd::auth`: timestamp, body hash, `Host`). Properties: no panic on any
//! header; what parses renders and parses back the same; a header built by the signer parses
//! back to what was signed, verifies with its secret and with no other, and its `body_hash`
//! matches that body and no other; `ext` decodes as a standard form decoder decodes it.

use axum::http::{Request, header::HOST};
use libfuzzer_sys::fuzz_target;
use wallet_client::mac::{self, MacHeader, SignedParts};
use walletd::auth;

/// A request as a client signs it.
struct Signed<'a> {
    id: &'a str,
    secret: &'a [u8],
    ts: i64,
    nonce: &'a str,
    method: &'a str,
    uri: &'a str,
    host: &'a str,
    port: u16,
    body: &'a [u8],
    parameters: Vec<(String, String)>,
}

// Input, one a line: an `Authorization` header, a `Host` header, a query string; then a request
// to sign: id, secret, ts, nonce, method, uri, host, port, extra `ext` parameters (`k=v&…`), and
// the body (the rest).
fuzz_target!(|data: &[u8]| {
    let Some(
        [
            header,
            host,
            query_text,
            id,
            secret,
            ts,
            nonce,
            method,
            uri,
            host_name,
            port,
            parameters,
            body,
        ],
    ) = walletd_fuzz::fields(data)
    else {
        return;
    };
    raw_header(header);
    host_header(host);
    query(query_text);
    signed(&Signed {
        id,
        secret: secret.as_bytes(),
        ts: ts.parse().unwrap_or_default(),
        nonce,
        method,
        uri,
        host: host_name,
        port: port.parse().unwrap_or(443),
        body: body.as_bytes(),
        parameters: walletd_fuzz::raw_pairs(parameters),
    });
});

/// Any header: parsed or refused, never a panic; what parses is stable.
fn raw_header(header: &str) {
    if let Some(parsed) = MacHeader::parse(header) {
        assert_eq!(MacHeader::parse(&parsed.render()).as_ref(), Some(&parsed));
        // The server's checks of a parsed header do not panic either.
        let _ = auth::check_timestamp(&parsed, 1_763_800_000);
        let _ = auth::body_refusal(&parsed, header.as_bytes());
    }
}

/// Any `Host` header: host and port, or refused; a name and port as clients send them read back.
fn host_header(text: &str) {
    let read = |text: &str| {
        let request = Request::builder().header(HOST, text).body(()).ok()?;
        auth::host_and_port(&request.into_parts().0, 443).ok()
    };
    if let Some((host, port)) = read(text) {
        assert!(text.starts_with(&host), "{text:?} read as {host:?}");
        if host.len() == text.len() {
            assert_eq!(port, 443, "{text:?} has no port");
        }
    }
    let name: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    if !name.is_empty() {
        let port = u16::try_from(text.len()).unwrap_or(u16::MAX);
        assert_eq!(read(&name), Some((name.clone(), 443)));
        assert_eq!(read(&format!("{name}:{port}")), Some((name.clone(), port)));
        let v6 = format!("[{name}]");
        assert_eq!(read(&format!("{v6}:{port}")), Some((v6, port)));
    }
}

/// A query string: decoding agrees with a standard form decoder; encoding round-trips.
fn query(text: &str) {
    for part in text.split('&') {
        if let Some(decoded) = mac::urldecode(part) {
            let plus_as_space = part.replace('+', " ");
            let standard = percent_encoding::percent_decode_str(&plus_as_space).decode_utf8_lossy();
            assert_eq!(decoded, standard, "{part:?}");
        }
    }
    let pairs = mac::parse_query(text);
    assert_eq!(mac::parse_query(&mac::build_query(&pairs)), pairs);
}

/// A header built by the signer, as a client sends it.
fn signed(s: &Signed) {
    // The PHP client's ids and nonces never hold a `"` (it ends the quoted value).
    if s.id.is_empty() || s.nonce.is_empty() || s.id.contains('"') || s.nonce.contains('"') {
        return;
    }
    let header = mac::sign(
        s.id,
        s.secret,
        s.ts,
        s.nonce,
        s.method,
        s.uri,
        s.host,
        s.port,
        s.body,
        &s.parameters,
    );
    let parsed = MacHeader::parse(&header).expect("a signed header parses");
    assert_eq!(parsed.id, s.id);
    assert_eq!(parsed.ts, s.ts.to_string());
    assert_eq!(parsed.nonce, s.nonce);
    assert_eq!(parsed.ext, mac::ext_for(s.body, &s.parameters));
    let own: Vec<_> = s
        .parameters
        .iter()
        .filter(|(k, _)| k != "body_hash")
        .cloned()
        .collect();
    assert_eq!(
        mac::parse_query(&parsed.ext)[usize::from(!s.body.is_empty())..],
        own[..]
    );

    let parts = SignedParts {
        ts: &parsed.ts,
        nonce: &parsed.nonce,
        method: s.method,
        uri: s.uri,
        host: s.host,
        port: s.port,
        ext: &parsed.ext,
    };
    assert!(
        parts.verify(s.secret, &parsed.mac),
        "the signer's MAC is refused"
    );
    let mut other = s.secret.to_vec();
    match other.first_mut() {
        Some(b) => *b ^= 1,
        None => other.push(1),
    }
    assert!(
        !parts.verify(&other, &parsed.mac),
        "another secret's MAC is accepted"
    );

    assert_eq!(
        auth::body_refusal(&parsed, s.body),
        None,
        "the signed body is refused"
    );
    let mut other_body = s.body.to_vec();
    other_body.push(b'x');
    assert!(
        auth::body_refusal(&parsed, &other_body).is_some(),
        "another body is accepted"
    );
    assert!(auth::check_timestamp(&parsed, s.ts.saturating_add(60)).is_ok());
}
