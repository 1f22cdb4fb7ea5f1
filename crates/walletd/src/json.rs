//! Request bodies: strict JSON into typed requests, with clear `invalid_request` errors.

use crate::error::ApiError;
use serde::de::DeserializeOwned;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Parses a required JSON body into `T`.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("request body is required"));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("malformed request body: {e}")))
}

/// Parses an optional body: empty, `null`, `[]` and `{}` all mean "nothing given".
pub fn parse_optional<T: DeserializeOwned>(body: &[u8]) -> Result<Option<T>, ApiError> {
    let trimmed: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    match trimmed.as_slice() {
        b"" | b"null" | b"[]" | b"{}" => Ok(None),
        _ => parse(body).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn empty_forms_mean_nothing() {
        for body in ["", " ", "[]", "{}", "null", " [ ] "] {
            assert_eq!(
                parse_optional::<BTreeMap<String, i64>>(body.as_bytes()).unwrap(),
                None,
                "{body:?}"
            );
        }
        assert!(
            parse_optional::<BTreeMap<String, i64>>(b"{\"a\":1}")
                .unwrap()
                .is_some()
        );
        assert!(parse_optional::<BTreeMap<String, i64>>(b"{\"a\":").is_err());
        assert!(parse::<BTreeMap<String, i64>>(b"").is_err());
    }
}
