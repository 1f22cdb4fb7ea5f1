//! What the operator knows of wallet holders and projects: verification, restrictions, phones,
//! spending limits, project limits, and the SMS outbox.

use crate::db::{Cols, Decode, aliased, parse};
use crate::{ProjectRow, Result, StoreError, Tx, WalletRow, db};
use std::sync::LazyLock;
use wallet_core::allowance::WindowLimit;
use wallet_core::{AccountId, ClientId, Currency, ProjectId, TransactionKey, UserId, WalletId};

db::row_type! {
    columns = "id AS user_id, email, phone, phone_confirmed, identity_verified, restricted, person_type";
    /// A wallet holder's standing, as the reservation checks need it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct HolderRow {
        pub user_id: UserId,
        pub email: String,
        pub phone: Option<String>,
        pub phone_confirmed: bool,
        pub identity_verified: bool,
        pub restricted: bool,
        /// `natural` or `legal`.
        pub person_type: String,
    }
}

/// Changes to a holder; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolderUpdate {
    /// `Some(None)` removes the phone.
    pub phone: Option<Option<String>>,
    pub phone_confirmed: Option<bool>,
    pub identity_verified: Option<bool>,
    pub restricted: Option<bool>,
    pub person_type: Option<String>,
}

/// Whose limit a wallet limit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// The holder's own spending limit (`limits_exceeded`).
    Holder,
    /// A temporary limit set by the operator (`restriction_limits_exceeded`).
    Restriction,
}

impl LimitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Holder => "holder",
            LimitKind::Restriction => "restriction",
        }
    }
}

db::row_type! {
    /// A message in the SMS outbox.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SmsRow {
        pub id: i64,
        pub phone: String,
        pub body: String,
        pub transaction_key: Option<TransactionKey>,
        pub created_at: i64,
    }
}

db::row_type! {
    /// A holder's MAC access token, issued to one API client. `Debug` hides the token and its key.
    #[derive(Clone, PartialEq, Eq)]
    pub struct TokenRow {
        pub access_token: String,
        pub mac_key: String,
        pub client_id: ClientId,
        pub user_id: UserId,
        pub scope: String,
        pub expires_at: i64,
    }
}

db::debug_but_secrets!(TokenRow: client_id, user_id, scope, expires_at);

/// One of a wallet's spending limits, with its currency.
type Limit = (Currency, LimitKind, WindowLimit);

impl Decode for Limit {
    const COLUMNS: &'static str = "currency, kind, max_price, period";

    fn decode(c: Cols<'_>) -> Result<Limit> {
        Ok((
            c.parsed("currency")?,
            limit_kind(&c.get::<String>("kind")?)?,
            WindowLimit {
                max_price: c.get("max_price")?,
                time: c.get("period")?,
            },
        ))
    }
}

/// [`Tx::payer`]'s columns: the wallet's, its holder's (`u_`) and its limits' (`l_`).
static PAYER_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    [
        aliased::<WalletRow>("w", ""),
        aliased::<HolderRow>("u", "u_"),
        aliased::<Limit>("l", "l_"),
    ]
    .join(", ")
});

/// [`Tx::project_with_limits`]: a project and its limits (`l_`), built once.
static PROJECT_WITH_LIMITS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, l.currency AS l_currency, l.max_price AS l_max_price \
         FROM projects p LEFT JOIN project_limits l ON l.project_id = p.id WHERE p.id = $1",
        aliased::<ProjectRow>("p", "")
    )
});

/// A payer as the reservation checks need it, read in one round trip ([`Tx::payer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerRow {
    pub wallet: WalletRow,
    /// `None` only if the wallet's owner is missing (a corrupt store).
    pub holder: Option<HolderRow>,
    /// The wallet's spending limits, every currency.
    limits: Vec<Limit>,
    /// Every wallet it was asked about as one it would pay ([`Tx::payer`]) is active.
    pub pays_only_active: bool,
}

impl PayerRow {
    /// The wallet's spending limits in `currency`, as [`Tx::wallet_limits`] answers them.
    pub fn limits_in(&self, currency: Currency) -> Vec<(LimitKind, WindowLimit)> {
        self.limits
            .iter()
            .filter(|(c, _, _)| *c == currency)
            .map(|(_, kind, limit)| (*kind, *limit))
            .collect()
    }
}

fn limit_kind(kind: &str) -> Result<LimitKind> {
    match kind {
        "holder" => Ok(LimitKind::Holder),
        "restriction" => Ok(LimitKind::Restriction),
        other => Err(StoreError::Corrupt(format!(
            "wallet_limits.kind = {other:?}"
        ))),
    }
}

impl Tx {
    /// The wallet `wallet_id` with its holder and its spending limits, and whether the wallets
    /// it would pay (`paying`) are all active: what the reservation checks read, in one
    /// statement where it took four.
    pub async fn payer(
        &mut self,
        wallet_id: WalletId,
        paying: &[WalletId],
    ) -> Result<Option<PayerRow>> {
        let mut paying = paying.to_vec();
        paying.sort_unstable();
        paying.dedup();
        let list: Vec<String> = (0..paying.len()).map(|i| format!("${}", i + 2)).collect();
        let active = if paying.is_empty() {
            "0".to_owned()
        } else {
            format!(
                "(SELECT COUNT(*) FROM wallets b WHERE b.status = 'active' AND b.id IN ({}))",
                list.join(", ")
            )
        };
        let q = sqlx::AssertSqlSafe(format!(
            "SELECT {}, {active} AS active_paid \
             FROM wallets w LEFT JOIN users u ON u.id = w.owner_user_id LEFT JOIN wallet_limits l ON l.wallet_id = w.id \
             WHERE w.id = $1 ORDER BY l.currency, l.kind",
            *PAYER_COLUMNS
        ));
        let mut args = Vec::with_capacity(1 + paying.len());
        args.push(wallet_id.into());
        args.extend(paying.iter().map(db::Value::from));
        let rows = db::query_with(q, args).fetch_all(self.conn()).await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let mut limits = Vec::new();
        for r in &rows {
            limits.extend(Cols::new(r, "l_").decode_if_any::<Limit>()?);
        }
        let wallet = r.decode()?;
        let holder = Cols::new(r, "u_").decode_if_any()?;
        let active_paid: i64 = r.try_get("active_paid")?;
        Ok(Some(PayerRow {
            wallet,
            holder,
            limits,
            pays_only_active: active_paid == paying.len() as i64,
        }))
    }

    /// A holder by user id.
    pub async fn holder(&mut self, user_id: UserId) -> Result<Option<HolderRow>> {
        self.optional(db::select("FROM users WHERE id = $1"), (user_id,))
            .await
    }

    /// Applies the given changes to a holder. `false` if there is no such user.
    pub async fn update_holder(&mut self, user_id: UserId, u: &HolderUpdate) -> Result<bool> {
        let Some(mut h) = self.holder(user_id).await? else {
            return Ok(false);
        };
        if let Some(phone) = &u.phone {
            if *phone != h.phone {
                h.phone_confirmed = false;
            }
            h.phone = phone.clone();
        }
        h.phone_confirmed = u.phone_confirmed.unwrap_or(h.phone_confirmed) && h.phone.is_some();
        h.identity_verified = u.identity_verified.unwrap_or(h.identity_verified);
        h.restricted = u.restricted.unwrap_or(h.restricted);
        if let Some(t) = &u.person_type {
            h.person_type = t.clone();
        }
        let (phone_key, phone_sha1) = crate::contacts::phone_columns(h.phone.as_deref());
        self.exec(
            "UPDATE users SET phone = $1, phone_confirmed = $2, identity_verified = $3, restricted = $4, person_type = $5, phone_key = $6, phone_sha1 = $7 WHERE id = $8",
            (
                h.phone.as_deref(),
                i64::from(h.phone_confirmed),
                i64::from(h.identity_verified),
                i64::from(h.restricted),
                &h.person_type,
                phone_key,
                phone_sha1,
                user_id,
            ),
        )
        .await?;
        Ok(true)
    }

    /// Stores a new access token (and the hash of its refresh token).
    pub async fn insert_token(
        &mut self,
        t: &TokenRow,
        refresh_hash: &str,
        refresh_expires_at: i64,
        now: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO access_tokens (access_token, mac_key, client_id, user_id, scope, expires_at, refresh_hash, refresh_expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            (
                &t.access_token,
                &t.mac_key,
                t.client_id,
                t.user_id,
                &t.scope,
                t.expires_at,
                refresh_hash,
                refresh_expires_at,
                now,
            ),
        )
        .await
    }

    /// A token that is not revoked, by its access token (expiry is the caller's check).
    pub async fn token(&mut self, access_token: &str) -> Result<Option<TokenRow>> {
        self.optional(
            db::select("FROM access_tokens WHERE access_token = $1 AND revoked = 0"),
            (access_token,),
        )
        .await
    }

    /// Revokes the token whose refresh token hashes to `refresh_hash` (of `client_id`, still
    /// refreshable at `now`) and returns it: a refresh token works once.
    pub async fn take_refresh(
        &mut self,
        refresh_hash: &str,
        client_id: ClientId,
        now: i64,
    ) -> Result<Option<TokenRow>> {
        self.optional(
            db::returning(
                "UPDATE access_tokens SET revoked = 1, refresh_hash = NULL WHERE refresh_hash = $1 AND client_id = $2 AND revoked = 0 AND refresh_expires_at > $3",
            ),
            (refresh_hash, client_id, now),
        )
        .await
    }

    /// Revokes an access token of `client_id`. `false` if there was none to revoke.
    pub async fn revoke_token(&mut self, access_token: &str, client_id: ClientId) -> Result<bool> {
        Ok(self.changed(
            "UPDATE access_tokens SET revoked = 1, refresh_hash = NULL WHERE access_token = $1 AND client_id = $2 AND revoked = 0",
            (access_token, client_id),
        )
        .await?
            > 0)
    }

    /// The user whose confirmed phone this is.
    pub async fn user_by_phone(&mut self, phone: &str) -> Result<Option<UserId>> {
        self.optional_scalar(
            "SELECT id FROM users WHERE phone = $1 AND phone_confirmed = 1 ORDER BY id LIMIT 1",
            (phone,),
        )
        .await
    }

    /// Lets or stops a wallet's holder spend from it.
    pub async fn set_wallet_can_pay(&mut self, wallet_id: WalletId, can_pay: bool) -> Result<()> {
        self.exec(
            "UPDATE wallets SET can_pay = $1 WHERE id = $2",
            (i64::from(can_pay), wallet_id),
        )
        .await
    }

    /// The wallet's spending limits in a currency.
    pub async fn wallet_limits(
        &mut self,
        wallet_id: WalletId,
        currency: Currency,
    ) -> Result<Vec<(LimitKind, WindowLimit)>> {
        let limits: Vec<Limit> = self
            .all(
                db::select(
                    "FROM wallet_limits WHERE wallet_id = $1 AND currency = $2 ORDER BY kind",
                ),
                (wallet_id, currency.code()),
            )
            .await?;
        Ok(limits.into_iter().map(|(_, kind, l)| (kind, l)).collect())
    }

    /// Sets (or with `None` removes) one of a wallet's spending limits.
    pub async fn set_wallet_limit(
        &mut self,
        wallet_id: WalletId,
        currency: Currency,
        kind: LimitKind,
        limit: Option<WindowLimit>,
    ) -> Result<()> {
        self.exec(
            "DELETE FROM wallet_limits WHERE wallet_id = $1 AND currency = $2 AND kind = $3",
            (wallet_id, currency.code(), kind.as_str()),
        )
        .await?;
        if let Some(l) = limit {
            self.exec(
                "INSERT INTO wallet_limits (wallet_id, currency, kind, max_price, period) VALUES ($1, $2, $3, $4, $5)",
                (wallet_id, currency.code(), kind.as_str(), l.max_price, l.time),
            )
            .await?;
        }
        Ok(())
    }

    /// Locks a wallet's account in a currency, so that limit checks and holds on it are serial.
    pub async fn lock_account(&mut self, account_id: AccountId) -> Result<()> {
        let q = sqlx::AssertSqlSafe(format!(
            "SELECT id FROM accounts WHERE id = $1{}",
            self.for_update()
        ));
        db::query_with(q, (account_id,))
            .fetch_optional(self.conn())
            .await?;
        Ok(())
    }

    /// The most one transaction of the project may total in a currency, if limited.
    pub async fn project_limit(
        &mut self,
        project_id: ProjectId,
        currency: Currency,
    ) -> Result<Option<i64>> {
        self.optional_scalar(
            "SELECT max_price FROM project_limits WHERE project_id = $1 AND currency = $2",
            (project_id, currency.code()),
        )
        .await
    }

    /// The project with its limits per transaction in every currency, in one statement.
    pub async fn project_with_limits(
        &mut self,
        id: ProjectId,
    ) -> Result<Option<(ProjectRow, Vec<(Currency, i64)>)>> {
        let rows = db::query_with(PROJECT_WITH_LIMITS.as_str(), (id,))
            .fetch_all(self.conn())
            .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let mut limits = Vec::new();
        for r in &rows {
            let limit: (Option<String>, Option<i64>) =
                (r.try_get("l_currency")?, r.try_get("l_max_price")?);
            if let (Some(currency), Some(max_price)) = limit {
                limits.push((parse("project_limits.currency", &currency)?, max_price));
            }
        }
        Ok(Some((first.decode()?, limits)))
    }

    /// Sets (or with `None` removes) a project's limit per transaction in a currency.
    pub async fn set_project_limit(
        &mut self,
        project_id: ProjectId,
        currency: Currency,
        max_price: Option<i64>,
    ) -> Result<()> {
        self.exec(
            "DELETE FROM project_limits WHERE project_id = $1 AND currency = $2",
            (project_id, currency.code()),
        )
        .await?;
        if let Some(m) = max_price {
            self.exec(
                "INSERT INTO project_limits (project_id, currency, max_price) VALUES ($1, $2, $3)",
                (project_id, currency.code(), m),
            )
            .await?;
        }
        Ok(())
    }

    /// Puts a message for a phone in the SMS outbox, in the caller's transaction.
    pub async fn insert_sms(
        &mut self,
        phone: &str,
        body: &str,
        transaction_key: Option<&TransactionKey>,
        now: i64,
    ) -> Result<i64> {
        self.one_scalar(
            "INSERT INTO sms_outbox (phone, body, transaction_key, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            (phone, body, transaction_key, now),
        )
        .await
    }

    /// Messages of the SMS outbox, newest first, optionally for one phone.
    pub async fn sms_messages(&mut self, phone: Option<&str>, limit: i64) -> Result<Vec<SmsRow>> {
        self.all(
            db::select(
                "FROM sms_outbox WHERE ($1 IS NULL OR phone = $1) ORDER BY id DESC LIMIT $2",
            ),
            (phone, limit),
        )
        .await
    }

    /// Sets or clears a transaction's FLASH SMS correlation key.
    pub async fn set_correlation_key(
        &mut self,
        key: &TransactionKey,
        correlation_key: Option<&str>,
    ) -> Result<()> {
        self.flush_rows().await?;
        self.exec(
            "UPDATE transactions SET correlation_key = $1 WHERE transaction_key = $2",
            (correlation_key, key),
        )
        .await
    }
}
