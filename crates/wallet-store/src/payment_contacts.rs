//! Payments to people who may not have a wallet yet: a beneficiary given as an email or phone
//! that belongs to nobody is kept here until that person registers (`payment_contacts`).

use crate::{Result, Tx, db};
use wallet_core::contacts::{email_key, phone_key};
use wallet_core::{PaymentId, TransactionKey, UserId, WalletId};

db::row_type! {
    columns = "c.payment_id, p.transaction_key, c.email, c.phone";
    /// A payment's beneficiary that belongs to nobody yet: exactly one of `email` (lowercased)
    /// and `phone` (`+` and digits).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PaymentContact {
        pub payment_id: PaymentId,
        pub transaction_key: TransactionKey,
        pub email: Option<String>,
        pub phone: Option<String>,
    }
}

impl Tx {
    /// Records that payment `payment_id`'s beneficiary is the person with this contact, who has
    /// no wallet yet.
    pub async fn insert_payment_contact(
        &mut self,
        payment_id: PaymentId,
        email: Option<&str>,
        phone: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.flush_rows().await?;
        self.exec(
            "INSERT INTO payment_contacts (payment_id, email, phone, created_at) VALUES ($1, $2, $3, $4)",
            (payment_id, email, phone, now),
        )
        .await
    }

    /// The unresolved beneficiaries of a transaction's payments, in payment order.
    pub async fn payment_contacts_of(
        &mut self,
        key: &TransactionKey,
    ) -> Result<Vec<PaymentContact>> {
        self.flush_rows().await?;
        self.all(
            db::select(
                "FROM payment_contacts c JOIN payments p ON p.id = c.payment_id WHERE p.transaction_key = $1 ORDER BY c.payment_id",
            ),
            (key,),
        )
        .await
    }

    /// The unresolved beneficiaries with this email (lowercased) or phone, oldest first.
    pub async fn payment_contacts_for(
        &mut self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Vec<PaymentContact>> {
        self.flush_rows().await?;
        self.all(
            db::select(
                "FROM payment_contacts c JOIN payments p ON p.id = c.payment_id WHERE c.email = $1 OR c.phone = $2 ORDER BY c.payment_id",
            ),
            (email, phone),
        )
        .await
    }

    /// Makes `wallet` the beneficiary of payment `payment_id` (shown as `beneficiary_json`) and
    /// forgets its unresolved contact.
    pub async fn resolve_payment_contact(
        &mut self,
        payment_id: PaymentId,
        wallet: WalletId,
        beneficiary_json: &str,
    ) -> Result<()> {
        self.flush_rows().await?;
        self.payments_of_memo = None;
        self.exec(
            "UPDATE payments SET beneficiary_wallet_id = $1, beneficiary_json = $2 WHERE id = $3",
            (wallet, beneficiary_json, payment_id),
        )
        .await?;
        self.exec(
            "DELETE FROM payment_contacts WHERE payment_id = $1",
            (payment_id,),
        )
        .await
    }

    /// The first wallet of the user with this email or confirmed phone, compared in the normal
    /// forms the wallet lookups use (`wallet_core::contacts`), whatever case or spacing either has.
    pub async fn wallet_of_contact(
        &mut self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Option<(UserId, WalletId)>> {
        let email = email.map(email_key);
        let phone = phone.map(phone_key);
        self.optional(
            "SELECT u.id, w.id FROM users u JOIN wallets w ON w.owner_user_id = u.id WHERE (u.email_key = $1 OR (u.phone_key = $2 AND u.phone_confirmed = 1)) ORDER BY u.id, w.id LIMIT 1",
            (email.as_deref(), phone.as_deref()),
        )
        .await
    }
}
