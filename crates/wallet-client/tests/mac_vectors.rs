//! Golden tests: the MAC vectors of `shared/vectors/mac.json` (copied into `tests/vectors/`).

use wallet_client::mac::{MacHeader, SignedParts, ext_for, sign};

#[derive(serde::Deserialize)]
struct Vectors {
    mac_id: String,
    secret: String,
    ts: i64,
    nonce: String,
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    method: String,
    uri: String,
    host: String,
    port: u16,
    body: String,
    ext: String,
    mac: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("vectors/mac.json")).unwrap()
}

#[test]
fn every_vector_signs_and_verifies() {
    let v = vectors();
    assert!(v.cases.len() >= 3);
    for c in &v.cases {
        let ext = ext_for(c.body.as_bytes(), &[]);
        assert_eq!(ext, c.ext, "ext of {} {}", c.method, c.uri);
        let ts = v.ts.to_string();
        let parts = SignedParts {
            ts: &ts,
            nonce: &v.nonce,
            method: &c.method,
            uri: &c.uri,
            host: &c.host,
            port: c.port,
            ext: &ext,
        };
        assert_eq!(
            parts.mac(v.secret.as_bytes()),
            c.mac,
            "mac of {} {}",
            c.method,
            c.uri
        );
        assert!(parts.verify(v.secret.as_bytes(), &c.mac));
        assert!(!parts.verify(b"wrong secret", &c.mac));
        let header = sign(
            &v.mac_id,
            v.secret.as_bytes(),
            v.ts,
            &v.nonce,
            &c.method,
            &c.uri,
            &c.host,
            c.port,
            c.body.as_bytes(),
            &[],
        );
        let parsed = MacHeader::parse(&header).unwrap();
        assert_eq!(parsed.mac, c.mac);
        assert_eq!(parsed.ext, c.ext);
        assert_eq!(parsed.id, v.mac_id);
    }
}

#[test]
fn a_changed_uri_does_not_verify() {
    let v = vectors();
    let c = &v.cases[0];
    let ts = v.ts.to_string();
    let parts = SignedParts {
        ts: &ts,
        nonce: &v.nonce,
        method: &c.method,
        uri: "/wallet/rest/v1/payment/10146",
        host: &c.host,
        port: c.port,
        ext: "",
    };
    assert!(!parts.verify(v.secret.as_bytes(), &c.mac));
}
