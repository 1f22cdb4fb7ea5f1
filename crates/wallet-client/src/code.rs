//! Reading what a till scanned: a QR (`PAYSERA$…`), a Code128 barcode (`9999…`) or the bare 28 digits.

pub use wallet_core::codes::{BARCODE_PREFIX, CODE_LEN, QR_PREFIX};

/// The bare reservation code inside scanned text, or `None` if it is not one.
pub fn parse_scanned(text: &str) -> Option<String> {
    wallet_core::codes::ReservationCode::parse(text).map(|c| c.expose().to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_prefixes() {
        let code = "0154742514278159925679172111";
        assert_eq!(
            super::parse_scanned(&format!("9999{code}")).as_deref(),
            Some(code)
        );
        assert_eq!(
            super::parse_scanned(&format!("PAYSERA${code}")).as_deref(),
            Some(code)
        );
        assert_eq!(super::parse_scanned(code).as_deref(), Some(code));
        assert_eq!(super::parse_scanned("PAYSERA$123"), None);
    }
}
