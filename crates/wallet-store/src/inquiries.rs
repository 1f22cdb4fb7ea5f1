//! The holder's answers to a transaction's inquiries (`inquiry_answers`), kept as the JSON of
//! `wallet_core::inquiries::Answers`.

use crate::{Result, Tx};
use wallet_core::TransactionKey;

impl Tx {
    /// Records the holder's answers to transaction `key`'s inquiries (replacing earlier ones).
    pub async fn set_inquiry_answers(
        &mut self,
        key: &TransactionKey,
        answers_json: &str,
        now: i64,
    ) -> Result<()> {
        self.flush_rows().await?;
        self.exec(
            "INSERT INTO inquiry_answers (transaction_key, answers_json, answered_at) VALUES ($1, $2, $3) ON CONFLICT (transaction_key) DO UPDATE SET answers_json = excluded.answers_json, answered_at = excluded.answered_at",
            (key, answers_json, now),
        )
        .await
    }

    /// The holder's answers to transaction `key`'s inquiries, if she gave any.
    pub async fn inquiry_answers(&mut self, key: &TransactionKey) -> Result<Option<String>> {
        self.optional_scalar(
            "SELECT answers_json FROM inquiry_answers WHERE transaction_key = $1",
            (key,),
        )
        .await
    }
}
