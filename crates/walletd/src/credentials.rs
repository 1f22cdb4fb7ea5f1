//! Secrets walletd checks: holders' passwords and PINs (salted Argon2id), random secrets stored
//! as their SHA-256 (refresh tokens, session ids), and constant-time comparison of tokens.
//!
//! One module, so that every operation that checks a secret (PIN reservation, password login,
//! token grant, admin token, CSRF) checks it the same way. Reservation codes are hashed with a
//! server key by the domain (`wallet_core::codes`), as they are short and must be looked up.

use crate::error::{ApiError, ApiResult};
use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use sha2::{Digest, Sha256};

/// A salted Argon2id hash (PHC string) of a password or PIN.
pub fn hash_secret(secret: &str) -> ApiResult<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

/// The hash an unknown user's password is checked against, so that a login for an email nobody
/// has does the same work as one for a real user (one verification, no hashing: timing tells
/// nothing, and nothing slow runs on the async threads). Made once.
pub fn unknown_user_hash() -> ApiResult<String> {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = HASH.get() {
        return Ok(hash.clone());
    }
    let hash = hash_secret("not a user")?;
    Ok(HASH.get_or_init(|| hash).clone())
}

/// Checks a password or PIN against its stored Argon2 hash, off the async threads (it is slow on purpose).
pub async fn verify_secret(secret: String, hash: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::PasswordVerifier;
        let Ok(parsed) = argon2::password_hash::phc::PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))
}

/// Hex SHA-256 of a random secret (refresh tokens, session ids): what is stored instead of it.
/// A fast hash is enough: the secret is long and random, not a password.
pub fn hash_token(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two secrets (admin token, CSRF token) in constant time: both go through the same
/// keyed MAC and the tags are compared by `verify_slice`, so no early exit tells how much matched.
pub fn secrets_equal(given: &str, expected: &str) -> bool {
    use hmac::{KeyInit, Mac};
    let tag = |v: &str| {
        let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"walletd-compare")
            .expect("any key length");
        m.update(v.as_bytes());
        m
    };
    let expected_tag = tag(expected).finalize().into_bytes();
    tag(given).verify_slice(&expected_tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_users_hash_is_made_once_and_matches_no_real_password() {
        let hash = unknown_user_hash().unwrap();
        assert_eq!(unknown_user_hash().unwrap(), hash, "made once, then kept");
        assert!(
            !verify_secret("alice-demo-password".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(verify_secret("not a user".into(), hash).await.unwrap());
    }

    #[test]
    fn tokens_hash_to_hex_sha256_and_compare_exactly() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(secrets_equal("s3cret", "s3cret"));
        assert!(!secrets_equal("s3cret", "s3cre"));
        assert!(!secrets_equal("", "s3cret"));
    }
}
