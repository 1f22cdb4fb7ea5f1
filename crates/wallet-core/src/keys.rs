//! Unguessable identifiers handed to clients.

use rand::RngExt;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of a `transaction_key`: 20 base62 characters, about 119 bits.
pub const TRANSACTION_KEY_LEN: usize = 20;

/// A fresh random base62 string of `len` characters from the thread CSPRNG.
pub fn random_base62(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// A new `transaction_key`: URL-safe, so the PHP client can concatenate it into paths.
pub fn new_transaction_key() -> String {
    random_base62(TRANSACTION_KEY_LEN)
}

/// Letters and digits a holder cannot misread on a phone (no 0/O, 1/I).
const CORRELATION: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A FLASH SMS `correlation_key`: 4 characters shown both in the SMS and on the client's page,
/// so that the holder can tell she is confirming the right transaction.
pub fn new_correlation_key() -> String {
    let mut rng = rand::rng();
    (0..4)
        .map(|_| CORRELATION[rng.random_range(0..CORRELATION.len())] as char)
        .collect()
}

/// Whether `s` looks like a key we could have issued (cheap check before a lookup).
pub fn is_plausible_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_base62_and_distinct() {
        let a = new_transaction_key();
        let b = new_transaction_key();
        assert_eq!(a.len(), 20);
        assert!(is_plausible_key(&a));
        assert_ne!(a, b);
        assert!(!is_plausible_key("../etc"));
    }
}
