//! MAC request signing of the Wallet API (OAuth 2.0 MAC draft -01, as the PHP client does it).
//!
//! `mac = base64(HMAC-SHA256(secret, ts\nnonce\nMETHOD\nuri\nhost\nport\next\n))`, where `ext` is
//! `http_build_query` of `body_hash` (base64 SHA-256 of the body, when there is one) followed by
//! the client's extra parameters. The server verifies over the raw `ext` string it received.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use rand::{CryptoRng, RngExt};
use sha2::{Digest, Sha256};
use wallet_core::keys::{TIME_PREFIX_LEN, time_ordered_base62};

type HmacSha256 = hmac::Hmac<Sha256>;

/// base64 of the SHA-256 of `body`: the `body_hash` ext parameter.
pub fn body_hash(body: &[u8]) -> String {
    B64.encode(Sha256::digest(body))
}

/// PHP's `urlencode` (RFC 1738 form): alphanumerics and `-_.` kept, space as `+`, the rest `%XX`.
pub fn php_urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes `%XX` and `+` of a query-string component; `None` if an escape is not hex or the
/// result is not valid UTF-8. A `%` that the end of `s` cuts short is kept as it is.
pub fn urldecode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(hex_byte(&bytes[i + 1..i + 3])?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The offset of the first `%` in `s` that two hex digits do not follow: where [`urldecode`]
/// fails, or keeps a `%` cut short by the end. The callback form allows neither.
pub(crate) fn bad_escape(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    (0..bytes.len())
        .find(|&i| bytes[i] == b'%' && bytes.get(i + 1..i + 3).and_then(hex_byte).is_none())
}

/// Two hex digits as the byte they spell.
/// `from_str_radix` alone would also take `+4`.
fn hex_byte(digits: &[u8]) -> Option<u8> {
    if digits.len() != 2 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u8::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// `http_build_query` of ordered pairs.
pub fn build_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", php_urlencode(k), php_urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Splits a query string into decoded pairs (pairs that do not decode are skipped).
pub fn parse_query(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Some((urldecode(k)?, urldecode(v)?))
        })
        .collect()
}

/// The `ext` value for a request with `body` and the client's extra `parameters`. A parameter
/// named `body_hash` is left out: that name is the signer's, and the server checks the first one
/// against the body (so a client's own, on a request without a body, had it refused).
pub fn ext_for(body: &[u8], parameters: &[(String, String)]) -> String {
    let mut pairs = Vec::new();
    if !body.is_empty() {
        pairs.push(("body_hash".to_string(), body_hash(body)));
    }
    pairs.extend(parameters.iter().filter(|(k, _)| k != "body_hash").cloned());
    build_query(&pairs)
}

/// The parts of a request that are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedParts<'a> {
    pub ts: &'a str,
    pub nonce: &'a str,
    pub method: &'a str,
    /// Path plus `?query` exactly as sent.
    pub uri: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub ext: &'a str,
}

impl SignedParts<'_> {
    /// The normalized string, with its trailing newline.
    pub fn normalized(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.ts,
            self.nonce,
            self.method.to_ascii_uppercase(),
            self.uri,
            self.host,
            self.port,
            self.ext
        )
    }

    /// base64 HMAC-SHA256 of the normalized string under `secret` (raw bytes).
    pub fn mac(&self, secret: &[u8]) -> String {
        let mut h = <HmacSha256 as KeyInit>::new_from_slice(secret).expect("any key length");
        h.update(self.normalized().as_bytes());
        B64.encode(h.finalize().into_bytes())
    }

    /// Constant-time check of a received base64 MAC.
    pub fn verify(&self, secret: &[u8], mac_b64: &str) -> bool {
        let Ok(received) = B64.decode(mac_b64) else {
            return false;
        };
        let mut h = <HmacSha256 as KeyInit>::new_from_slice(secret).expect("any key length");
        h.update(self.normalized().as_bytes());
        h.verify_slice(&received).is_ok()
    }
}

/// Characters of a nonce.
pub const NONCE_LEN: usize = 32;

/// A nonce in the PHP client's alphabet, printable ASCII except `"` and `\`: 32 characters, the
/// first 7 the time it was made (`wallet_core::keys::time_prefix`, base62), then 25 random ones
/// from the whole alphabet, as the PHP client draws them (about 163 bits).
///
/// Why the time first: the server remembers each `(id, nonce)` in a B-tree index for the
/// replay window. Nonces that sort in the order they were made join that index at its end, on a
/// page the other requests of the same commit share, rather than on one random page each (SQLite
/// wrote 19.1 WAL pages per cash-out flow with random ones, 14.2 with these; docs/decisions.md,
/// "Authentication"). The server accepts any nonce: the PHP client's are random.
pub fn new_nonce() -> String {
    nonce_at(&mut rand::rng(), wall_millis())
}

/// [`new_nonce`] made at `millis`, drawn from `rng` (a seeded one in tests).
fn nonce_at(rng: &mut impl CryptoRng, millis: u64) -> String {
    let mut nonce = time_ordered_base62(rng, millis, TIME_PREFIX_LEN);
    nonce.push_str(&random_php_nonce_chars(rng, NONCE_LEN - TIME_PREFIX_LEN));
    nonce
}

/// Wall-clock milliseconds since the UNIX epoch (0 before it).
pub(crate) fn wall_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `len` characters drawn as the PHP client draws a nonce's: `chr(32 + r)`, `r = mt_rand(0, 92)`,
/// skipping `"` and `\`.
fn random_php_nonce_chars(rng: &mut impl CryptoRng, len: usize) -> String {
    (0..len)
        .map(|_| {
            let mut r: u8 = rng.random_range(0..=92);
            if r >= 2 {
                r += 1;
            }
            if r >= 60 {
                r += 1;
            }
            char::from(32 + r)
        })
        .collect()
}

/// The fields of an `Authorization: MAC …` header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MacHeader {
    pub id: String,
    pub ts: String,
    pub nonce: String,
    pub mac: String,
    pub ext: String,
}

impl MacHeader {
    /// Renders the header value in the client's fixed order; `ext` only when non-empty.
    pub fn render(&self) -> String {
        let mut s = format!(
            "MAC id=\"{}\", ts=\"{}\", nonce=\"{}\", mac=\"{}\"",
            self.id, self.ts, self.nonce, self.mac
        );
        if !self.ext.is_empty() {
            s.push_str(&format!(", ext=\"{}\"", self.ext));
        }
        s
    }

    /// Parses `MAC k="v", …`, reading each quoted value whole (nonces contain spaces and commas).
    pub fn parse(header: &str) -> Option<MacHeader> {
        let rest = header.trim_start().strip_prefix("MAC ")?;
        let mut h = MacHeader::default();
        let mut s = rest;
        loop {
            s = s.trim_start_matches([' ', ',']);
            if s.is_empty() {
                break;
            }
            let eq = s.find("=\"")?;
            let key = &s[..eq];
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return None;
            }
            let after = &s[eq + 2..];
            let end = after.find('"')?;
            let value = after[..end].to_string();
            match key {
                "id" => h.id = value,
                "ts" => h.ts = value,
                "nonce" => h.nonce = value,
                "mac" => h.mac = value,
                "ext" => h.ext = value,
                _ => {}
            }
            s = &after[end + 1..];
        }
        (!h.id.is_empty() && !h.ts.is_empty() && !h.nonce.is_empty() && !h.mac.is_empty())
            .then_some(h)
    }
}

/// Signs a request: returns the `Authorization` header value.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    id: &str,
    secret: &[u8],
    ts: i64,
    nonce: &str,
    method: &str,
    uri: &str,
    host: &str,
    port: u16,
    body: &[u8],
    parameters: &[(String, String)],
) -> String {
    let ext = ext_for(body, parameters);
    let ts = ts.to_string();
    let parts = SignedParts {
        ts: &ts,
        nonce,
        method,
        uri,
        host,
        port,
        ext: &ext,
    };
    MacHeader {
        id: id.to_string(),
        ts: ts.clone(),
        nonce: nonce.to_string(),
        mac: parts.mac(secret),
        ext,
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencode_matches_php() {
        assert_eq!(php_urlencode("a b+/=*~"), "a+b%2B%2F%3D%2A%7E");
        assert_eq!(urldecode("a+b%2B%2F%3D").as_deref(), Some("a b+/="));
        assert_eq!(urldecode("%4").as_deref(), Some("%4"));
        assert_eq!(urldecode("%zz"), None);
        assert_eq!(urldecode("%+4"), None, "a sign is not a hex digit");
        assert_eq!(bad_escape("a%+41"), Some(1));
        assert_eq!(
            build_query(&[
                ("body_hash".into(), "AVq9f1zF+GI=".into()),
                ("location_id".into(), "a b".into())
            ]),
            "body_hash=AVq9f1zF%2BGI%3D&location_id=a+b"
        );
    }

    /// Found by fuzzing (`fuzz/corpus/mac_header/crash-body-hash-parameter`): a client parameter
    /// named `body_hash` on a request without a body was signed into `ext`, and the server refused
    /// the request as one whose body does not match its hash.
    #[test]
    fn a_parameter_cannot_stand_for_the_body_hash() {
        let own = [("body_hash".to_string(), "x".to_string())];
        assert_eq!(ext_for(b"", &own), "");
        let with_other = [own[0].clone(), ("a".to_string(), "b".to_string())];
        assert_eq!(
            ext_for(b"{}", &with_other),
            format!("body_hash={}&a=b", php_urlencode(&body_hash(b"{}")))
        );
    }

    #[test]
    fn nonces_use_the_php_alphabet() {
        for _ in 0..50 {
            let n = new_nonce();
            assert_eq!(n.len(), 32);
            assert!(
                n.bytes()
                    .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
            );
        }
    }

    #[test]
    fn nonces_sort_in_the_order_they_were_made_and_keep_the_awkward_characters() {
        use rand::SeedableRng;
        let rng = &mut rand::rngs::StdRng::seed_from_u64(1);
        let t = 1_763_800_000_000;
        for step in [1, 2, 61, 62, 3_844, 600_000] {
            let (a, b) = (nonce_at(rng, t), nonce_at(rng, t + step));
            assert!(a < b, "{a:?} made {step} ms before {b:?}");
            assert_eq!(a.len(), NONCE_LEN);
        }
        assert_ne!(nonce_at(rng, t), nonce_at(rng, t), "random after the time");
        let replayed = |seed| nonce_at(&mut rand::rngs::StdRng::seed_from_u64(seed), t);
        assert_eq!(replayed(7), replayed(7), "a seed replays the nonce");
        // 2500 random characters from 93: none of space, comma or `=` has odds (90/93)^2500 < 1e-35.
        let awkward = (0..100)
            .map(|_| {
                nonce_at(rng, t)[7..]
                    .bytes()
                    .filter(|b| b" ,=".contains(b))
                    .count()
            })
            .sum::<usize>();
        assert!(
            awkward > 0,
            "the random part draws from the PHP client's whole alphabet"
        );
    }

    #[test]
    fn header_round_trips_with_awkward_nonces() {
        let h = MacHeader {
            id: "wkVd93h2uS".into(),
            ts: "1343818800".into(),
            nonce: "),$9#b( |bK^H.wHhx;Q,F.OilwJOrhg".into(),
            mac: "abc=".into(),
            ext: "body_hash=x%3D&a=b+c".into(),
        };
        assert_eq!(MacHeader::parse(&h.render()), Some(h.clone()));
        let no_ext = MacHeader {
            ext: String::new(),
            ..h
        };
        assert!(!no_ext.render().contains("ext="));
        assert_eq!(MacHeader::parse(&no_ext.render()), Some(no_ext));
        assert_eq!(MacHeader::parse("Bearer x"), None);
        assert_eq!(MacHeader::parse("MAC id=\"x\""), None);
    }
}
