//! Wallets found by their holder's contacts: the normal forms and SHA-1s kept beside each user's
//! e-mail and phone (`wallet_core::contacts`), and the lookups by them.

use crate::db::{self, Value};
use crate::{Result, Tx};
use wallet_core::contacts::{contact_hash, email_key, phone_key};
use wallet_core::ids::{UserId, WalletId};

/// What a lookup's keys are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    /// E-mails in normal form ([`email_key`]).
    Email,
    /// Phones in normal form ([`phone_key`]); only confirmed phones are found.
    Phone,
    /// [`contact_hash`]es of e-mails in normal form.
    EmailHash,
    /// [`contact_hash`]es of phones in normal form; only confirmed phones are found.
    PhoneHash,
}

impl ContactKind {
    fn condition(self) -> &'static str {
        match self {
            ContactKind::Email => "u.email_key",
            ContactKind::EmailHash => "u.email_sha1",
            ContactKind::Phone => "u.phone_confirmed = 1 AND u.phone_key",
            ContactKind::PhoneHash => "u.phone_confirmed = 1 AND u.phone_sha1",
        }
    }

    fn column(self) -> &'static str {
        match self {
            ContactKind::Email => "u.email_key",
            ContactKind::EmailHash => "u.email_sha1",
            ContactKind::Phone => "u.phone_key",
            ContactKind::PhoneHash => "u.phone_sha1",
        }
    }
}

/// A user's e-mail as the `users` row keeps it: the address, its normal form and the form's SHA-1.
pub(crate) fn email_columns(email: &str) -> (String, String) {
    let key = email_key(email);
    let hash = contact_hash(&key);
    (key, hash)
}

/// A user's phone's normal form and its SHA-1 (none without a phone).
pub(crate) fn phone_columns(phone: Option<&str>) -> (Option<String>, Option<String>) {
    match phone.map(phone_key) {
        Some(key) => {
            let hash = contact_hash(&key);
            (Some(key), Some(hash))
        }
        None => (None, None),
    }
}

impl Tx {
    /// For each of `keys` (of `kind`) that names a user with a wallet: the key, that user's
    /// first wallet and the user, in the users' order. A key of several users (e-mails differing
    /// only in case) gives the first of them.
    pub async fn wallets_by_contact(
        &mut self,
        kind: ContactKind,
        keys: &[String],
    ) -> Result<Vec<(String, WalletId, UserId)>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {column}, w.id, u.id FROM users u \
             JOIN wallets w ON w.id = (SELECT MIN(x.id) FROM wallets x WHERE x.owner_user_id = u.id) \
             WHERE {condition} IN ({marks}) ORDER BY u.id",
            column = kind.column(),
            condition = kind.condition(),
            marks = marks.join(", "),
        );
        let args: Vec<Value> = keys.iter().map(Value::from).collect();
        let rows: Vec<(String, WalletId, UserId)> = self
            .all(db::query_as(sqlx::AssertSqlSafe(sql)), args)
            .await?;
        let mut seen = std::collections::HashSet::new();
        Ok(rows
            .into_iter()
            .filter(|(key, _, _)| seen.insert(key.clone()))
            .collect())
    }

    /// Fills the contact columns of every user (migration 12, for the users it finds).
    pub(crate) async fn fill_contact_keys(&mut self) -> Result<()> {
        let users: Vec<(UserId, String, Option<String>)> = self
            .all(
                db::query_as("SELECT id, email, phone FROM users ORDER BY id"),
                (),
            )
            .await?;
        for (id, email, phone) in users {
            let (email_key, email_sha1) = email_columns(&email);
            let (phone_key, phone_sha1) = phone_columns(phone.as_deref());
            self.exec(
                "UPDATE users SET email_key = $1, email_sha1 = $2, phone_key = $3, phone_sha1 = $4 WHERE id = $5",
                (email_key, email_sha1, phone_key, phone_sha1, id),
            )
            .await?;
        }
        Ok(())
    }
}
