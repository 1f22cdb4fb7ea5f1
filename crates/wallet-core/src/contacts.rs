//! How a wallet is found by what people know of its holder: an e-mail address or a phone number
//! (as sent, or as the SHA-1 of its normal form), and the barcode walletd gives a wallet.
//!
//! The normal forms are the PHP client's (`getWalletsByContacts`): an e-mail lower-cased (ASCII,
//! as PHP's `strtolower`), a phone reduced to its digits. A "private" lookup sends the lower-case
//! hex SHA-1 of that normal form instead, so that the contact itself is never sent.

use crate::ids::WalletId;
use hmac::{KeyInit, Mac};
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// The normal form of an e-mail address: trimmed, ASCII lower-cased.
pub fn email_key(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// The normal form of a phone number: its digits (`+370 600-00001` → `37060000001`).
pub fn phone_key(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// The lower-case hex SHA-1 of a normal form: what a private lookup sends.
pub fn contact_hash(key: &str) -> String {
    hex(&Sha1::digest(key.as_bytes()))
}

/// Whether `text` can be a [`contact_hash`] (40 hex digits, either case).
pub fn is_contact_hash(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Digits of the wallet id in a wallet barcode (zero-padded; more if the id needs them).
const BARCODE_ID_DIGITS: usize = 12;
/// Digits of the keyed check that ends a wallet barcode.
const BARCODE_CHECK_DIGITS: usize = 8;

/// The barcode of a wallet: its id in 12 digits, then an 8-digit check keyed with the server's
/// secret, so that barcodes cannot be made up from wallet ids (an even number of digits: Code128
/// code set C prints it compactly).
pub fn wallet_barcode(key: &[u8], wallet: WalletId) -> String {
    format!(
        "{:0width$}{}",
        wallet.get(),
        barcode_check(key, wallet),
        width = BARCODE_ID_DIGITS
    )
}

/// The wallet whose [`wallet_barcode`] `text` is, if it is one (the check compared in constant time).
pub fn wallet_of_barcode(key: &[u8], text: &str) -> Option<WalletId> {
    let text = text.trim();
    if text.len() < BARCODE_ID_DIGITS + BARCODE_CHECK_DIGITS
        || !text.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let (id, check) = text.split_at(text.len() - BARCODE_CHECK_DIGITS);
    let wallet = WalletId::new(id.parse().ok().filter(|id| *id > 0)?);
    let expected = barcode_check(key, wallet);
    let differs = expected
        .bytes()
        .zip(check.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    (differs == 0 && text == wallet_barcode(key, wallet)).then_some(wallet)
}

/// HMAC-SHA256 of the wallet id under the key (apart from the codes' hashes by its prefix), as 8
/// decimal digits.
fn barcode_check(key: &[u8], wallet: WalletId) -> String {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(b"wallet-barcode:");
    mac.update(wallet.get().to_string().as_bytes());
    let bytes = mac.finalize().into_bytes();
    let n = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
    format!(
        "{:0width$}",
        n % 10u64.pow(BARCODE_CHECK_DIGITS as u32),
        width = BARCODE_CHECK_DIGITS
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms_are_the_php_clients() {
        assert_eq!(email_key(" Alice@Example.COM "), "alice@example.com");
        assert_eq!(phone_key("+370 (600) 00-001"), "37060000001");
        // PHP: sha1(strtolower('Alice@Example.com')).
        assert_eq!(
            contact_hash(&email_key("Alice@Example.com")),
            "fc2398a73dd54d6237c4fdb58fd7d75347cf5af3"
        );
        assert!(is_contact_hash("FC2398A73DD54D6237C4FDB58FD7D75347CF5AF3"));
        assert!(!is_contact_hash("ff8d9819"));
    }

    #[test]
    fn a_barcode_names_its_wallet_under_its_key_only() {
        let wallet = WalletId::new(42);
        let code = wallet_barcode(b"key", wallet);
        assert_eq!(code.len(), 20);
        assert!(code.starts_with("000000000042"));
        assert_eq!(wallet_of_barcode(b"key", &code), Some(wallet));
        assert_eq!(wallet_of_barcode(b"other key", &code), None);
        let mut forged = code.clone().into_bytes();
        forged[19] = if forged[19] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            wallet_of_barcode(b"key", std::str::from_utf8(&forged).unwrap()),
            None
        );
        assert_eq!(wallet_of_barcode(b"key", "12345"), None);
        assert_eq!(wallet_of_barcode(b"key", "00000000000000000000"), None);
        let big = WalletId::new(12_345_678_901_234);
        assert_eq!(
            wallet_of_barcode(b"key", &wallet_barcode(b"key", big)),
            Some(big)
        );
    }
}
