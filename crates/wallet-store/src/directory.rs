//! Who is who: users, wallets, projects, API clients, nonces, reservation codes and settings.

use crate::db::{Cols, aliased};
use crate::{IdempotentAnswer, Result, StoreError, Tx, batch, db};
use std::sync::LazyLock;
use wallet_core::ids::{ClientId, ProjectId, TransactionKey, UserId, WalletId};

db::row_type! {
    /// A wallet holder.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UserRow {
        pub id: UserId,
        pub email: String,
        pub password_hash: String,
    }
}

db::row_type! {
    columns = "id, owner_user_id, status, can_pay";
    /// A wallet and its owner.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct WalletRow {
        pub id: WalletId,
        pub owner_user_id: UserId,
        pub active: bool = |c| Ok(c.get::<String>("status")? == "active"),
        /// False when the holder may see but not spend from the wallet (`no_rights`).
        pub can_pay: bool,
    }
}

db::row_type! {
    /// A project (merchant or cash-out point) and its beneficiary wallet.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ProjectRow {
        pub id: ProjectId,
        pub name: String,
        pub wallet_id: WalletId,
        pub callback_uri: Option<String>,
    }
}

db::row_type! {
    /// An API client of a project. `Debug` hides the secret.
    #[derive(Clone, PartialEq, Eq)]
    pub struct ClientRow {
        pub id: ClientId,
        pub project_id: ProjectId,
        pub mac_id: String,
        pub mac_secret: String,
        /// Reservation types this client may use, comma-separated (`reservation_code,pin,…`).
        pub grants: String,
    }
}

db::debug_but_secrets!(ClientRow: id, project_id, mac_id, grants);

impl ClientRow {
    /// Whether the client was granted `grant` (a transaction type such as `reservation_code`).
    pub fn has_grant(&self, grant: &str) -> bool {
        self.grants.split(',').any(|g| g.trim() == grant)
    }
}

db::row_type! {
    /// A stored reservation code (only its keyed hash).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CodeRow {
        pub id: i64,
        pub wallet_id: WalletId,
        pub max_amount: Option<i64>,
        pub currency: Option<String>,
        pub expires_at: i64,
        pub used_at: Option<i64>,
    }
}

/// What [`Tx::client_with_counts`] finds.
#[derive(Debug)]
pub struct ClientLookup {
    pub client: ClientRow,
    /// The beneficiary wallet of the client's project (it never changes).
    pub project_wallet_id: WalletId,
    /// How many currencies the project limits per transaction (read in full only when some).
    pub project_limits: i64,
    /// Requests and invalid requests counted in the window.
    pub counts: (i64, i64),
    /// The stored answer to the idempotency key asked about, if any.
    pub answer: Option<crate::IdempotentAnswer>,
}

/// [`Tx::client_with_counts`]: the client, its counts, its answer and its project, built once.
static CLIENT_WITH_COUNTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, \
         (SELECT CAST(SUM(r.requests) AS BIGINT) FROM rate_counters r WHERE r.client_id = c.id AND r.window_start = $2) AS requests, \
         (SELECT CAST(SUM(r.invalid) AS BIGINT) FROM rate_counters r WHERE r.client_id = c.id AND r.window_start = $2) AS invalid, \
         {}, p.wallet_id AS project_wallet_id, \
         (SELECT COUNT(*) FROM project_limits l WHERE l.project_id = c.project_id) AS project_limits \
         FROM clients c JOIN projects p ON p.id = c.project_id \
         LEFT JOIN idempotency_keys i ON i.client_id = c.id AND i.idempotency_key = $3 \
         WHERE c.mac_id = $1",
        aliased::<ClientRow>("c", ""),
        aliased::<IdempotentAnswer>("i", "i_"),
    )
});

impl Tx {
    pub async fn insert_user(
        &mut self,
        email: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<UserId> {
        let (email_key, email_sha1) = crate::contacts::email_columns(email);
        self.one_scalar(
            "INSERT INTO users (email, password_hash, created_at, email_key, email_sha1) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            (email, password_hash, now, email_key, email_sha1),
        )
        .await
    }

    pub async fn user_by_email(&mut self, email: &str) -> Result<Option<UserRow>> {
        self.optional(db::select("FROM users WHERE email = $1"), (email,))
            .await
    }

    /// Sets a user's PIN hash (and clears the failure counter).
    pub async fn set_pin_hash(&mut self, user_id: UserId, pin_hash: &str) -> Result<()> {
        self.exec(
            "UPDATE users SET pin_hash = $1, pin_failures = 0 WHERE id = $2",
            (pin_hash, user_id),
        )
        .await
    }

    /// A user's PIN hash and failure count, if the user has a PIN: `(user_id, hash, failures)`.
    pub async fn user_pin(&mut self, user_id: UserId) -> Result<Option<(UserId, String, i64)>> {
        let row: Option<(UserId, Option<String>, i64)> = self
            .optional(
                "SELECT id, pin_hash, pin_failures FROM users WHERE id = $1",
                (user_id,),
            )
            .await?;
        Ok(row.and_then(|(id, hash, failures)| hash.map(|h| (id, h, failures))))
    }

    /// Counts one more wrong PIN; returns the failures so far.
    pub async fn record_pin_failure(&mut self, user_id: UserId) -> Result<i64> {
        self.one_scalar(
            "UPDATE users SET pin_failures = pin_failures + 1 WHERE id = $1 RETURNING pin_failures",
            (user_id,),
        )
        .await
    }

    /// A right PIN clears the failure count.
    pub async fn reset_pin_failures(&mut self, user_id: UserId) -> Result<()> {
        self.exec(
            "UPDATE users SET pin_failures = 0 WHERE id = $1 AND pin_failures <> 0",
            (user_id,),
        )
        .await
    }

    pub async fn insert_wallet(&mut self, owner_user_id: UserId, now: i64) -> Result<WalletId> {
        self.one_scalar(
            "INSERT INTO wallets (owner_user_id, created_at) VALUES ($1, $2) RETURNING id",
            (owner_user_id, now),
        )
        .await
    }

    pub async fn wallet(&mut self, id: WalletId) -> Result<Option<WalletRow>> {
        self.optional(db::select("FROM wallets WHERE id = $1"), (id,))
            .await
    }

    /// The wallets a user owns, oldest first.
    pub async fn wallets_of_user(&mut self, user_id: UserId) -> Result<Vec<WalletId>> {
        self.all_scalars(
            "SELECT id FROM wallets WHERE owner_user_id = $1 ORDER BY id",
            (user_id,),
        )
        .await
    }

    /// Marks a wallet active or inactive (an inactive wallet neither pays nor receives).
    pub async fn set_wallet_active(&mut self, id: WalletId, active: bool) -> Result<()> {
        self.exec(
            "UPDATE wallets SET status = $1 WHERE id = $2",
            (if active { "active" } else { "inactive" }, id),
        )
        .await
    }

    pub async fn insert_project(
        &mut self,
        name: &str,
        wallet_id: WalletId,
        now: i64,
    ) -> Result<ProjectId> {
        self.one_scalar(
            "INSERT INTO projects (name, wallet_id, created_at) VALUES ($1, $2, $3) RETURNING id",
            (name, wallet_id, now),
        )
        .await
    }

    pub async fn project(&mut self, id: ProjectId) -> Result<Option<ProjectRow>> {
        self.optional(db::select("FROM projects WHERE id = $1"), (id,))
            .await
    }

    pub async fn project_by_name(&mut self, name: &str) -> Result<Option<ProjectRow>> {
        self.optional(db::select("FROM projects WHERE name = $1"), (name,))
            .await
    }

    pub async fn insert_client(
        &mut self,
        project_id: ProjectId,
        mac_id: &str,
        mac_secret: &str,
        grants: &str,
        now: i64,
    ) -> Result<ClientId> {
        self.one_scalar(
            "INSERT INTO clients (project_id, mac_id, mac_secret, grants, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            (project_id, mac_id, mac_secret, grants, now),
        )
        .await
    }

    pub async fn client_by_mac_id(&mut self, mac_id: &str) -> Result<Option<ClientRow>> {
        self.optional(db::select("FROM clients WHERE mac_id = $1"), (mac_id,))
            .await
    }

    /// A client by its MAC id, with its request counts in the window starting at `window_start`
    /// (as [`Tx::request_counts`]) and, if `idempotency_key` is given, its stored answer to that
    /// key (as [`Tx::idempotent_answer`]), and what creating a transaction needs of its project:
    /// what authenticating a request reads, in one statement.
    pub async fn client_with_counts(
        &mut self,
        mac_id: &str,
        window_start: i64,
        idempotency_key: Option<&str>,
    ) -> Result<Option<ClientLookup>> {
        let row = db::query_with(
            CLIENT_WITH_COUNTS.as_str(),
            (mac_id, window_start, idempotency_key),
        )
        .fetch_optional(self.conn())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let requests: Option<i64> = row.try_get("requests")?;
        let invalid: Option<i64> = row.try_get("invalid")?;
        let answer = Cols::new(&row, "i_").decode_if_any()?;
        Ok(Some(ClientLookup {
            client: row.decode()?,
            project_wallet_id: row.try_get("project_wallet_id")?,
            project_limits: row.try_get("project_limits")?,
            counts: (requests.unwrap_or(0), invalid.unwrap_or(0)),
            answer,
        }))
    }

    /// A client by its row id (the client an access token was issued to).
    pub async fn client_by_id(&mut self, id: ClientId) -> Result<Option<ClientRow>> {
        self.optional(db::select("FROM clients WHERE id = $1"), (id,))
            .await
    }

    /// The oldest client of a project (what `walletd demo` prints again on a second run).
    pub async fn first_client_of(&mut self, project_id: ProjectId) -> Result<Option<ClientRow>> {
        self.optional(
            db::select("FROM clients WHERE project_id = $1 ORDER BY id LIMIT 1"),
            (project_id,),
        )
        .await
    }

    /// Records a nonce; `false` when `(mac_id, nonce)` was seen before (a replay).
    pub async fn remember_nonce(&mut self, mac_id: &str, nonce: &str, now: i64) -> Result<bool> {
        let inserted = self.run(nonce_insert(mac_id, nonce, now)).await?;
        Ok(inserted == 1)
    }

    /// Forgets nonces seen before `before`; replays that old fail the timestamp check anyway.
    pub async fn forget_nonces(&mut self, before: i64) -> Result<u64> {
        self.changed("DELETE FROM mac_nonces WHERE seen_at < $1", (before,))
            .await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_code(
        &mut self,
        code_hash: &str,
        wallet_id: WalletId,
        max_amount: Option<i64>,
        currency: Option<&str>,
        now: i64,
        expires_at: i64,
    ) -> Result<i64> {
        self.one_scalar(
            "INSERT INTO reservation_codes (code_hash, wallet_id, max_amount, currency, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            (code_hash, wallet_id, max_amount, currency, now, expires_at),
        )
        .await
    }

    /// Finds and locks a code by its keyed hash (answered without a statement when
    /// [`Tx::transaction_and_code_for_update`] read it).
    pub async fn code_for_update(&mut self, code_hash: &str) -> Result<Option<CodeRow>> {
        if let Some((hash, code)) = &self.code_memo
            && hash == code_hash
        {
            return Ok(code.clone());
        }
        self.optional(
            self.select_for_update("FROM reservation_codes WHERE code_hash = $1"),
            (code_hash,),
        )
        .await
    }

    /// Marks code `id` used by `transaction_key` at commit (in the commit's last statement on
    /// PostgreSQL). The caller holds the code's lock ([`Tx::code_for_update`]) and found it unused;
    /// if it is used by then all the same, the commit is refused and nothing is written.
    pub fn use_code_at_commit(&mut self, id: i64, transaction_key: &TransactionKey, now: i64) {
        self.code_memo = None;
        self.at_commit.push(
            db::query_with(
                "UPDATE reservation_codes SET used_at = $1, transaction_key = $2 WHERE id = $3 AND used_at IS NULL",
                (now, transaction_key, id),
            ),
            batch::IfUnchanged::Corrupt("a reservation code locked unused was used"),
        );
    }

    pub async fn setting(&mut self, name: &str) -> Result<Option<String>> {
        self.optional_scalar("SELECT value FROM settings WHERE name = $1", (name,))
            .await
    }

    /// Stores a setting unless one exists; returns the value in force.
    pub async fn setting_or_insert(&mut self, name: &str, value: &str) -> Result<String> {
        self.exec(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            (name, value),
        )
        .await?;
        self.setting(name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("setting {name} vanished")))
    }
}

/// Records a MAC nonce; changes no row when `(mac_id, nonce)` was seen before (a replay).
pub(crate) fn nonce_insert(mac_id: &str, nonce: &str, now: i64) -> db::Query {
    db::query_with(
        "INSERT INTO mac_nonces (mac_id, nonce, seen_at) VALUES ($1, $2, $3) ON CONFLICT (mac_id, nonce) DO NOTHING",
        (mac_id, nonce, now),
    )
}
