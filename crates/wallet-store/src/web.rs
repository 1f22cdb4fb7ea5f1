//! Rows of the holder's web pages: login sessions, failed-login counters, and the FLASH
//! transactions waiting for her answer.

use crate::{Result, Tx, db};
use wallet_core::ids::{TransactionKey, UserId, WalletId};

db::row_type! {
    /// A holder's login session (the cookie's id is known only by its hash).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SessionRow {
        pub user_id: UserId,
        pub csrf: String,
        pub created_at: i64,
        pub expires_at: i64,
    }
}

/// The `(transaction_key, correlation_key)` of the `waiting` FLASH transactions of the wallets
/// `holder` selects (joins and a `WHERE` on `w`, the wallet), oldest first.
macro_rules! waiting_flash {
    ($holder:literal) => {
        concat!(
            "SELECT t.transaction_key, t.correlation_key FROM transactions t JOIN wallets w ON w.id = t.wallet_id ",
            $holder,
            " AND t.status = 'waiting' AND t.kind = 'flash' AND t.correlation_key IS NOT NULL ORDER BY t.created_at"
        )
    };
}

impl Tx {
    /// Opens a session.
    pub async fn insert_session(
        &mut self,
        id_hash: &str,
        user_id: UserId,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO web_sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            (id_hash, user_id, csrf, now, expires_at),
        )
        .await
    }

    /// The session with this id hash, if it has not expired at `now`.
    pub async fn session(&mut self, id_hash: &str, now: i64) -> Result<Option<SessionRow>> {
        self.optional(
            db::select("FROM web_sessions WHERE id_hash = $1 AND expires_at > $2"),
            (id_hash, now),
        )
        .await
    }

    /// Moves a session's expiry (idle timeout slides on use).
    pub async fn extend_session(&mut self, id_hash: &str, expires_at: i64) -> Result<()> {
        self.exec(
            "UPDATE web_sessions SET expires_at = $1 WHERE id_hash = $2",
            (expires_at, id_hash),
        )
        .await
    }

    /// Ends a session (log out).
    pub async fn delete_session(&mut self, id_hash: &str) -> Result<()> {
        self.exec("DELETE FROM web_sessions WHERE id_hash = $1", (id_hash,))
            .await
    }

    /// Deletes sessions that expired before `before`, and old failed-login counters.
    pub async fn forget_sessions(&mut self, before: i64) -> Result<u64> {
        let sessions = self
            .changed("DELETE FROM web_sessions WHERE expires_at < $1", (before,))
            .await?;
        self.exec(
            "DELETE FROM login_failures WHERE window_start < $1",
            (before - 86_400,),
        )
        .await?;
        Ok(sessions)
    }

    /// Failed logins counted under `key` in windows starting at or after `since`.
    pub async fn login_failures(&mut self, key: &str, since: i64) -> Result<i64> {
        let n: Option<i64> = self
            .one_scalar(
                "SELECT CAST(SUM(failures) AS BIGINT) FROM login_failures WHERE key = $1 AND window_start >= $2",
                (key, since),
            )
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// Forgets the failed logins counted under `key` (a login succeeded).
    pub async fn forget_login_failures(&mut self, key: &str) -> Result<()> {
        self.exec("DELETE FROM login_failures WHERE key = $1", (key,))
            .await
    }

    /// Counts one failed login under `key` in the window starting at `window_start`.
    pub async fn record_login_failure(&mut self, key: &str, window_start: i64) -> Result<()> {
        self.exec(
            "INSERT INTO login_failures (key, window_start, failures) VALUES ($1, $2, 1) ON CONFLICT (key, window_start) DO UPDATE SET failures = login_failures.failures + 1",
            (key, window_start),
        )
        .await
    }

    /// `(transaction_key, correlation_key)` of `waiting` FLASH transactions of the user's wallets,
    /// oldest first: what the holder app lists for her to accept or reject.
    pub async fn waiting_flash_of_user(
        &mut self,
        user_id: UserId,
    ) -> Result<Vec<(TransactionKey, String)>> {
        let sql = waiting_flash!("WHERE w.owner_user_id = $1");
        self.waiting_flash(sql, user_id).await
    }

    /// [`Tx::waiting_flash_of_user`] of the holder with this confirmed phone (her SMS answers).
    pub async fn waiting_flash_of_phone(
        &mut self,
        phone: &str,
    ) -> Result<Vec<(TransactionKey, String)>> {
        let sql = waiting_flash!(
            "JOIN users u ON u.id = w.owner_user_id WHERE u.phone = $1 AND u.phone_confirmed = 1"
        );
        self.waiting_flash(sql, phone).await
    }

    /// The waiting FLASH transactions `sql` ([`waiting_flash!`]) selects with `holder` as `$1`.
    async fn waiting_flash(
        &mut self,
        sql: &'static str,
        holder: impl Into<db::Value>,
    ) -> Result<Vec<(TransactionKey, String)>> {
        self.flush_rows().await?;
        self.all(sql, (holder,)).await
    }

    /// Keys of `waiting_funds` transactions (of `wallet_id`, or of every wallet), oldest first:
    /// the ones to try again when money arrives.
    pub async fn waiting_funds(
        &mut self,
        wallet_id: Option<WalletId>,
        limit: i64,
    ) -> Result<Vec<TransactionKey>> {
        self.flush_rows().await?;
        self.all_scalars(
            "SELECT transaction_key FROM transactions WHERE status = 'waiting_funds' AND ($1 = 0 OR wallet_id = $1) ORDER BY created_at, transaction_key LIMIT $2",
            (wallet_id.map_or(0, WalletId::get), limit),
        )
        .await
    }
}
