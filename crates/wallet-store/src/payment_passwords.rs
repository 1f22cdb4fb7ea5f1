//! Payment passwords: each payment's password shown with it (`payments.password_json`), its value
//! kept only as a salted hash here with the wrong attempts counted (`payment_passwords`).

use crate::{PaymentRow, Result, Tx, db};
use wallet_core::{PaymentId, UserId};

impl Tx {
    /// Keeps the hash of payment `payment_id`'s password.
    pub async fn insert_payment_password(
        &mut self,
        payment_id: PaymentId,
        hash: &str,
    ) -> Result<()> {
        self.flush_rows().await?;
        self.exec(
            "INSERT INTO payment_passwords (payment_id, password_hash) VALUES ($1, $2)",
            (payment_id, hash),
        )
        .await
    }

    /// Gives payment `to` (a copy of `from`) the same password hash, its count cleared.
    pub async fn copy_payment_password(&mut self, from: PaymentId, to: PaymentId) -> Result<()> {
        self.flush_rows().await?;
        self.exec(
            "INSERT INTO payment_passwords (payment_id, password_hash) SELECT $1, password_hash FROM payment_passwords WHERE payment_id = $2",
            (to, from),
        )
        .await
    }

    /// The hash of a payment's password and its wrong attempts so far.
    pub async fn payment_password(
        &mut self,
        payment_id: PaymentId,
    ) -> Result<Option<(String, i64)>> {
        self.flush_rows().await?;
        self.optional(
            "SELECT password_hash, failures FROM payment_passwords WHERE payment_id = $1",
            (payment_id,),
        )
        .await
    }

    /// Counts one more wrong password of a payment; answers the count.
    pub async fn record_payment_password_failure(&mut self, payment_id: PaymentId) -> Result<i64> {
        self.flush_rows().await?;
        self.one_scalar(
            "UPDATE payment_passwords SET failures = failures + 1 WHERE payment_id = $1 RETURNING failures",
            (payment_id,),
        )
        .await
    }

    /// Writes the password a payment shows (`payments.password_json`).
    pub async fn set_payment_password_json(
        &mut self,
        payment_id: PaymentId,
        json: &str,
    ) -> Result<()> {
        self.flush_rows().await?;
        self.payments_of_memo = None;
        self.exec(
            "UPDATE payments SET password_json = $1 WHERE id = $2",
            (json, payment_id),
        )
        .await
    }

    /// The payments to the user's wallets whose transaction waits for a password, oldest first
    /// (whether each one's own password is still awaited is in its `password_json`).
    pub async fn payments_waiting_password_to(
        &mut self,
        user_id: UserId,
    ) -> Result<Vec<PaymentRow>> {
        self.flush_rows().await?;
        self.all(
            db::select(
                "FROM payments WHERE status = 'waiting_password' AND password_json IS NOT NULL AND beneficiary_wallet_id IN (SELECT id FROM wallets WHERE owner_user_id = $1) ORDER BY id",
            ),
            (user_id,),
        )
        .await
    }
}
