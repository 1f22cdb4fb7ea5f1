//! Holders' passwords, checked for the pages' login and the OAuth password grant alike, with the
//! lockout of repeated failures: per account (e-mail address) in both, and per client address on
//! the pages. Failures are counted in one-minute windows over the last
//! [`LOGIN_FAILURE_WINDOW_SECS`]; a success clears the account's count (not the address's).

use crate::credentials::{unknown_user_hash, verify_secret};
use crate::error::ApiResult;
use crate::limits::LOGIN_FAILURE_WINDOW_SECS;
use crate::state::AppState;
use std::net::IpAddr;
use wallet_core::ids::UserId;
use wallet_store::Tx;

/// Failed logins from one client address (the pages' TCP peer) before its logins are refused.
pub const MAX_FAILURES_PER_IP: i64 = 20;

/// Why a password did not log the holder in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefused {
    WrongCredentials,
    /// Too many recent failures for the account or the address: refused without a check.
    TooManyFailures,
}

/// Login time: the later of wall time and the sandbox clock, so that moving the clock can end a
/// lockout early in a sandbox, never make one outlive its real length.
pub fn now(state: &AppState) -> i64 {
    crate::clock::wall_now().max(state.now())
}

/// The counters a login attempt is counted under.
struct FailureKeys {
    account: String,
    address: Option<String>,
}

impl FailureKeys {
    fn new(email: &str, ip: Option<IpAddr>) -> Self {
        FailureKeys {
            account: format!("email:{}", email.trim().to_lowercase()),
            address: ip.map(|ip| format!("ip:{ip}")),
        }
    }

    /// The account's recent failures, and whether the account or the address is locked.
    async fn read(&self, tx: &mut Tx, since: i64, max_per_account: i64) -> ApiResult<(i64, bool)> {
        let by_account = tx.login_failures(&self.account, since).await?;
        let by_address = match &self.address {
            Some(k) => tx.login_failures(k, since).await?,
            None => 0,
        };
        let locked = by_account >= max_per_account || by_address >= MAX_FAILURES_PER_IP;
        Ok((by_account, locked))
    }

    async fn record(&self, tx: &mut Tx, now: i64) -> ApiResult<()> {
        let window = now - now.rem_euclid(60);
        tx.record_login_failure(&self.account, window).await?;
        if let Some(k) = &self.address {
            tx.record_login_failure(k, window).await?;
        }
        Ok(())
    }
}

/// Checks a holder's e-mail and password (`ip`: the client address, on the pages). A failure is
/// counted in a commit of its own; a success clears the account's failures.
pub async fn check_password(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> ApiResult<Result<UserId, LoginRefused>> {
    let now = now(state);
    let keys = FailureKeys::new(email, ip);
    let max = state.limits.max_login_failures;
    let (failures, user) = {
        let mut tx = state.store.read().await?;
        let (failures, locked) = keys
            .read(&mut tx, now - LOGIN_FAILURE_WINDOW_SECS, max)
            .await?;
        if locked {
            return Ok(Err(LoginRefused::TooManyFailures));
        }
        (failures, tx.user_by_email(email.trim()).await?)
    };
    // The same work whether or not the user exists, so timing tells nothing.
    let (user_id, stored) = match user {
        Some(u) => (Some(u.id), u.password_hash),
        None => (None, unknown_user_hash()?),
    };
    let ok = verify_secret(password.to_string(), stored).await?;
    match user_id.filter(|_| ok) {
        Some(user_id) => {
            if failures > 0 {
                let mut tx = state.store.write().await?;
                tx.forget_login_failures(&keys.account).await?;
                tx.commit().await?;
            }
            Ok(Ok(user_id))
        }
        None => {
            let mut tx = state.store.write().await?;
            keys.record(&mut tx, now).await?;
            tx.commit().await?;
            Ok(Err(LoginRefused::WrongCredentials))
        }
    }
}
