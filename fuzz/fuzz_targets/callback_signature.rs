#![no_main]
//! The callback signature verifier (wallet-client `callback`), what a client's endpoint runs on
//! every POST it receives, against walletd's own signer (`callbacks::signer`). Properties: no
//! panic on any form, key or signature; a signature the server made verifies; a signature not
//! made with the key over these exact bytes never does. RSA PKCS#1 v1.5 signatures are
//! deterministic, so "made with the key" is checkable: it is the one signature of the event.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use wallet_client::callback::{self, Error};
use walletd::callbacks::signer::CallbackSigner;

/// The signer, with a key generated once per run (a test key: nothing else uses it).
static SIGNER: LazyLock<CallbackSigner> = LazyLock::new(|| {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    let key = KeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
    let der = AsDer::<Pkcs8V1Der>::as_der(&key).expect("PKCS#8");
    CallbackSigner::from_pkcs8(der.as_ref()).expect("the signer takes the key")
});

/// The published vectors (`crates/wallet-client/tests/vectors`): keys with no private half here.
static VECTORS: LazyLock<Vec<(String, String, String)>> = LazyLock::new(|| {
    let text = include_str!("../../crates/wallet-client/tests/vectors/callback-signature.json");
    let json: serde_json::Value = serde_json::from_str(text).expect("the vectors are JSON");
    let field = |c: &serde_json::Value, k: &str| c[k].as_str().unwrap().to_string();
    json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["valid"] == true)
        .map(|c| {
            (
                field(c, "event"),
                field(c, "sign"),
                field(c, "public_key_pem"),
            )
        })
        .collect()
});

/// What one run checks.
struct Input<'a> {
    /// A whole form body, as an endpoint receives it.
    form: &'a str,
    event: &'a str,
    sign: &'a str,
    /// Which byte of the event a flip changes, and how.
    at: usize,
    flip: u8,
    /// Which vector the event and signature are checked against.
    vector: usize,
    /// A public key given instead of the real one.
    pem: &'a str,
}

fn decoded(sign: &str) -> Option<Vec<u8>> {
    let clean: String = sign.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    B64.decode(clean).ok()
}

fn refused_unless_ok(result: &Result<callback::CallbackEvent, Error>) -> bool {
    !matches!(
        result,
        Err(Error::BadSignature | Error::SignatureEncoding | Error::PublicKey(_))
    )
}

// Input, one a line: a form body, an event, a signature, the byte to flip and the flip, a vector's
// number, then a public key PEM (the rest).
fuzz_target!(|data: &[u8]| {
    let Some([form, event, sign, at, flip, vector, pem]) = walletd_fuzz::fields(data) else {
        return;
    };
    let input = Input {
        form,
        event,
        sign,
        at: at.parse().unwrap_or_default(),
        flip: flip.parse().unwrap_or(1),
        vector: vector.parse().unwrap_or_default(),
        pem,
    };
    let signer = &*SIGNER;
    let pem = signer.public_key_pem();

    // Any form and any key: refused or verified, never a panic.
    let _ = callback::verify_form(input.form, pem);
    let _ = callback::verify_callback(input.event, input.sign, input.pem);

    // Any signature of the fuzzed event: accepted only if it is the server's.
    let result = callback::verify_callback(input.event, input.sign, pem);
    if refused_unless_ok(&result) {
        let real = signer.sign(input.event).expect("signing works");
        assert_eq!(
            decoded(input.sign),
            decoded(&real),
            "a signature not made by the key passed"
        );
    }

    // The server's signature verifies; over other bytes it does not.
    let sign = signer.sign(input.event).expect("signing works");
    let genuine = callback::verify_callback(input.event, &sign, pem);
    assert!(
        refused_unless_ok(&genuine),
        "the server's own signature refused: {genuine:?}"
    );
    if !input.event.is_empty() {
        let mut other = input.event.as_bytes().to_vec();
        let at = input.at % other.len();
        other[at] ^= input.flip.max(1);
        if let Ok(other) = std::str::from_utf8(&other) {
            let forged = callback::verify_callback(other, &sign, pem);
            assert!(
                !refused_unless_ok(&forged),
                "a signature of other bytes passed"
            );
        }
    }

    // Against a published key: only the published pair passes.
    let vectors = &*VECTORS;
    let (event, sign, key) = &vectors[input.vector % vectors.len()];
    if refused_unless_ok(&callback::verify_callback(input.event, input.sign, key)) {
        assert_eq!(input.event, event);
        assert_eq!(decoded(input.sign), decoded(sign));
    }
});
