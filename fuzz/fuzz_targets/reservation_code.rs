#![no_main]
//! Reservation codes as a till scans them (wallet-core `codes`, wallet-client `code`): the bare
//! 28 digits, the QR text (`PAYSERA$…`) and the Code128 barcode text (`9999…`). Properties: no
//! panic; whatever is accepted is 28 ASCII digits taken from the text; each printed form of a code
//! reads back as that code; the SDK reads exactly what the server reads.

use libfuzzer_sys::fuzz_target;
use wallet_client::code::parse_scanned;
use wallet_core::codes::{CODE_LEN, ReservationCode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = ReservationCode::parse(text);
    assert_eq!(
        parse_scanned(text).as_deref(),
        parsed.as_ref().map(ReservationCode::expose)
    );
    if let Some(code) = parsed {
        let digits = code.expose();
        assert_eq!(digits.len(), CODE_LEN);
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        assert!(
            text.trim().ends_with(digits),
            "{text:?} read as another code"
        );
        for form in [digits.to_string(), code.qr_text(), code.barcode_text()] {
            assert_eq!(
                ReservationCode::parse(&form).as_ref(),
                Some(&code),
                "{form:?}"
            );
            assert_eq!(
                ReservationCode::parse(&format!(" {form}\n")).as_ref(),
                Some(&code)
            );
        }
    }
    // Any 28 digits are a code, in every form.
    if data.len() >= CODE_LEN {
        let digits: String = data[..CODE_LEN]
            .iter()
            .map(|b| char::from(b'0' + b % 10))
            .collect();
        let code = ReservationCode::parse(&digits).expect("28 digits are a code");
        assert_eq!(code.expose(), digits);
        assert_eq!(ReservationCode::parse(&code.qr_text()), Some(code.clone()));
        assert_eq!(ReservationCode::parse(&code.barcode_text()), Some(code));
    }
});
