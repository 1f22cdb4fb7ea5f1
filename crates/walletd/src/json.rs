//! Request bodies: strict JSON into typed requests, with clear `invalid_request` errors.

use crate::error::ApiError;
use serde::de::DeserializeOwned;

/// Parses a required JSON body into `T`.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("request body is required"));
    }
    // JSON is UTF-8 (RFC 8259); serde_json checks only the strings it keeps, so a body whose
    // ignored field is not UTF-8 would pass unchecked (found by the `request_body` fuzz target).
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::invalid(format!("malformed request body: not UTF-8 ({e})")))?;
    let parsed = serde_json::from_str(text)
        .map_err(|e| ApiError::invalid(format!("malformed request body: {e}")))?;
    refuse_escaped_nul(body)?;
    Ok(parsed)
}

const NUL_REFUSED: &str = "text must not contain the NUL character (U+0000)";

/// No text of the API may hold NUL (U+0000): PostgreSQL cannot store it, and SQLite would keep
/// what PostgreSQL refuses. JSON carries it only escaped, so a body without `\u0000` has none;
/// one with it (rare) has its strings looked at, since the escape may be text itself (`\\u0000`).
fn refuse_escaped_nul(body: &[u8]) -> Result<(), ApiError> {
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    fn has_nul(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(has_nul),
            serde_json::Value::Object(map) => {
                map.iter().any(|(k, v)| k.contains('\0') || has_nul(v))
            }
            _ => false,
        }
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("malformed request body: {e}")))?;
    if has_nul(&value) {
        return Err(ApiError::invalid(NUL_REFUSED));
    }
    Ok(())
}

/// The same for URL-encoded text (a query string, a form): NUL comes as `%00`, or as a raw NUL
/// byte, which a form decoder passes through as it is.
pub fn refuse_encoded_nul(text: &[u8]) -> Result<(), ApiError> {
    if text.contains(&0) || text.windows(3).any(|w| w == b"%00") {
        return Err(ApiError::invalid(NUL_REFUSED));
    }
    Ok(())
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

    #[test]
    fn a_body_that_is_not_utf8_is_refused_even_in_a_field_ignored() {
        #[derive(serde::Deserialize, Debug)]
        struct Known {
            #[allow(dead_code)]
            known: Option<i64>,
        }
        let e = parse::<Known>(b"{\"other\":\"01\xc3\xcb\"}").unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        assert!(parse::<Known>("{\"other\":\"\u{e9}\"}".as_bytes()).is_ok());
    }

    #[test]
    fn a_clients_float_comes_back_as_it_was_read() {
        // Without serde_json's `float_roundtrip`, this number (from the `request_body` fuzz
        // target) was read one bit off, so its text changed when walletd wrote it back.
        let body = br#"{"orderid":666666666666666666612222222222222222222222222222222222222222222222222222222222222234}"#;
        let read: serde_json::Value = parse(body).unwrap();
        let again: serde_json::Value = parse(read.to_string().as_bytes()).unwrap();
        assert_eq!(read, again);
    }

    #[test]
    fn nul_is_refused_in_any_text_but_its_escape_may_be_text() {
        for body in [
            r#"{"a":"x\u0000"}"#,
            r#"{"a\u0000":"x"}"#,
            r#"{"a":["\u0000"]}"#,
        ] {
            let e = parse::<serde_json::Value>(body.as_bytes()).unwrap_err();
            assert_eq!(e.code(), "invalid_request", "{body}");
        }
        let text: serde_json::Value = parse(br#"{"a":"\\u0000"}"#).unwrap();
        assert_eq!(text["a"], "\\u0000");
        assert!(refuse_encoded_nul(b"a=b%00c").is_err());
        assert!(refuse_encoded_nul(b"a=b%2500c").is_ok());
        // Found by fuzzing (`fuzz/corpus/request_body/crash-raw-nul-form`): a raw NUL byte in
        // the token form reached the holder lookup, which PostgreSQL cannot run.
        assert!(refuse_encoded_nul(b"grant_type=password&username=a\0b").is_err());
        let form: std::collections::BTreeMap<String, String> =
            serde_urlencoded::from_bytes(b"username=a\0b").unwrap();
        assert_eq!(
            form["username"], "a\0b",
            "the decoder passes a raw NUL through"
        );
    }
}
