//! Limits on abuse, as `walletd serve` was told them: how much and how slowly a client may send,
//! how many connections may be open at once, how many wrong passwords and reservation codes may
//! be tried (docs/decisions.md, "Limits on abuse").

use std::time::Duration;

/// The limits of a running server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, of every route (API, admin, pages): larger is 413.
    pub max_body_bytes: usize,
    /// Time a request's header may take to arrive, which is also how long an idle keep-alive
    /// connection stays open: the connection is closed after it.
    pub header_timeout: Duration,
    /// Time the whole body may take once the header is in (not per chunk: a body dripped in
    /// slowly is cut too): 408 after it.
    pub body_timeout: Duration,
    /// Time from the header to the answer: 503 after it.
    pub request_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Failed logins per holder (e-mail address) in [`LOGIN_FAILURE_WINDOW_SECS`], on the pages
    /// and by the OAuth password grant together, before logins are refused without a check.
    pub max_login_failures: i64,
    /// Reservation codes one API client may get wrong in a minute before reserving by code is
    /// `rate_limit_exceeded`.
    pub code_failures_per_minute: i64,
}

/// Failed logins are counted over this many seconds.
pub const LOGIN_FAILURE_WINDOW_SECS: i64 = 15 * 60;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024,
            header_timeout: Duration::from_secs(75),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 512,
            max_login_failures: 5,
            code_failures_per_minute: 100,
        }
    }
}
