//! Allowances, and the spends their rolling windows (and wallets' limits) are computed from.

use crate::db::{Cols, Decode};
use crate::{Result, StoreError, Tx, db};
use wallet_core::allowance::{Spend, WindowLimit};
use wallet_core::{
    AllowanceId, ClientId, Currency, PaymentId, ProjectId, TransactionKey, WalletId,
};

/// Status of an allowance: `new` until its transaction is confirmed, then `active` until it is
/// canceled or replaced (`inactive`); `deleted` when its transaction ended unconfirmed.
pub const ALLOWANCE_STATUSES: &[&str] = &["new", "active", "inactive", "deleted"];

db::row_and_new! {
    columns = "id, transaction_key, project_id, client_id, status, optional, wallet_id, currency, max_price, limits_json, description, valid_for, valid_until, created_at, confirmed_at";
    /// A stored allowance.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AllowanceRow {
        #[stored]
        pub id: AllowanceId,
        pub transaction_key: TransactionKey,
        pub project_id: ProjectId,
        pub client_id: ClientId,
        #[stored]
        pub status: String,
        pub optional: bool,
        #[stored]
        pub wallet_id: Option<WalletId>,
        pub currency: Currency,
        pub max_price: Option<i64>,
        /// Stored as JSON (`limits_json`).
        pub limits: Vec<WindowLimit> = |c| {
            let limits: String = c.get("limits_json")?;
            serde_json::from_str(&limits)
                .map_err(|_| StoreError::Corrupt(format!("limits_json = {limits:?}")))
        },
        pub description: Option<String>,
        /// Seconds of validity from activation.
        pub valid_for: Option<i64>,
        pub valid_until: Option<i64>,
        pub created_at: i64,
        #[stored]
        pub confirmed_at: Option<i64>,
    }
    /// What is needed to insert an allowance (`id` is assigned by the database); it is inserted
    /// `new`, for no wallet yet.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct NewAllowanceRow;
}

/// Statuses of payments whose money is (or was) spent: reserved, on its way, or paid.
const SPENT_STATUSES: &str =
    "('reserved', 'waiting_registration', 'waiting_password', 'confirmed', 'done')";

impl Tx {
    /// Inserts a `new` allowance.
    pub async fn insert_allowance(&mut self, a: &NewAllowanceRow) -> Result<AllowanceId> {
        self.allowance_of_memo = None;
        let limits = serde_json::to_string(&a.limits).expect("limits serialize");
        self.one_scalar(
            "INSERT INTO allowances (transaction_key, project_id, client_id, status, optional, currency, max_price, limits_json, description, valid_for, valid_until, created_at) VALUES ($1, $2, $3, 'new', $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            (
                &a.transaction_key,
                a.project_id,
                a.client_id,
                i64::from(a.optional),
                a.currency.code(),
                a.max_price,
                limits,
                a.description.as_deref(),
                a.valid_for,
                a.valid_until,
                a.created_at,
            ),
        )
        .await
    }

    /// Reads an allowance by id.
    pub async fn allowance(&mut self, id: AllowanceId) -> Result<Option<AllowanceRow>> {
        self.optional(db::select("FROM allowances WHERE id = $1"), (id,))
            .await
    }

    /// Reads and locks an allowance by id.
    pub async fn allowance_for_update(&mut self, id: AllowanceId) -> Result<Option<AllowanceRow>> {
        self.optional(
            self.select_for_update("FROM allowances WHERE id = $1"),
            (id,),
        )
        .await
    }

    /// The allowance grouped into a transaction, if any. Read once per database transaction
    /// (until this one writes an allowance): a reserve or a confirm asks several times.
    pub async fn allowance_of(
        &mut self,
        transaction_key: &TransactionKey,
    ) -> Result<Option<AllowanceRow>> {
        if let Some((key, row)) = &self.allowance_of_memo
            && key == transaction_key
        {
            return Ok(row.clone());
        }
        let row: Option<AllowanceRow> = self
            .optional(
                db::select("FROM allowances WHERE transaction_key = $1 ORDER BY id DESC LIMIT 1"),
                (transaction_key,),
            )
            .await?;
        self.allowance_of_memo = Some((transaction_key.clone(), row.clone()));
        Ok(row)
    }

    /// The client's active allowance for a wallet, valid at `now`, locked.
    pub async fn active_allowance(
        &mut self,
        client_id: ClientId,
        wallet_id: WalletId,
        now: i64,
    ) -> Result<Option<AllowanceRow>> {
        self.optional(
            self.select_for_update(
                "FROM allowances WHERE client_id = $1 AND wallet_id = $2 AND status = 'active' AND (valid_until IS NULL OR valid_until > $3)",
            ),
            (client_id, wallet_id, now),
        )
        .await
    }

    /// Active allowances whose `valid_until` is at or before `now`, oldest end first.
    pub async fn expired_active_allowances(
        &mut self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<AllowanceId>> {
        self.all_scalars(
            "SELECT id FROM allowances WHERE status = 'active' AND valid_until IS NOT NULL AND valid_until <= $1 ORDER BY valid_until LIMIT $2",
            (now, limit),
        )
        .await
    }

    /// Moves an allowance into another transaction, with its `optional` flag there.
    pub async fn move_allowance(
        &mut self,
        id: AllowanceId,
        transaction_key: &TransactionKey,
        optional: bool,
    ) -> Result<()> {
        self.allowance_of_memo = None;
        self.exec(
            "UPDATE allowances SET transaction_key = $1, optional = $2 WHERE id = $3",
            (transaction_key, i64::from(optional), id),
        )
        .await
    }

    /// Sets an allowance's status (and the wallet it was accepted for).
    pub async fn set_allowance_status(
        &mut self,
        id: AllowanceId,
        status: &str,
        wallet_id: Option<WalletId>,
    ) -> Result<()> {
        self.allowance_of_memo = None;
        debug_assert!(ALLOWANCE_STATUSES.contains(&status));
        self.exec(
            "UPDATE allowances SET status = $1, wallet_id = $2 WHERE id = $3",
            (status, wallet_id, id),
        )
        .await
    }

    /// Activates an allowance for `wallet_id`; the client's previous active allowance for that
    /// wallet becomes `inactive` first (one active allowance per client and wallet).
    pub async fn activate_allowance(
        &mut self,
        a: &AllowanceRow,
        wallet_id: WalletId,
        valid_until: Option<i64>,
        now: i64,
    ) -> Result<()> {
        self.allowance_of_memo = None;
        self.exec(
            "UPDATE allowances SET status = 'inactive' WHERE client_id = $1 AND wallet_id = $2 AND status = 'active'",
            (a.client_id, wallet_id),
        )
        .await?;
        self.exec(
            "UPDATE allowances SET status = 'active', wallet_id = $1, valid_until = $2, confirmed_at = $3 WHERE id = $4",
            (wallet_id, valid_until, now, a.id),
        )
        .await
    }

    /// Records that a payment was reserved under an allowance.
    pub async fn set_payment_allowance(
        &mut self,
        payment_id: PaymentId,
        allowance_id: AllowanceId,
    ) -> Result<()> {
        let sql = "UPDATE payments SET allowance_id = $1 WHERE id = $2";
        self.write_payments(sql, (allowance_id, payment_id)).await
    }

    /// What was reserved under an allowance since `after` (exclusive): the moment its hold was
    /// placed and the payment's price (the confirmed price once confirmed). Released money is not spent.
    pub async fn allowance_spends(
        &mut self,
        allowance_id: AllowanceId,
        after: i64,
    ) -> Result<Vec<Spend>> {
        self.flush_rows().await?;
        let paid = spends("p.allowance_id = $1 AND h.created_at > $2");
        self.all(paid, (allowance_id, after)).await
    }

    /// What a wallet reserved in a currency since `after` (exclusive), for its spending limits.
    pub async fn wallet_spends(
        &mut self,
        wallet_id: WalletId,
        currency: Currency,
        after: i64,
    ) -> Result<Vec<Spend>> {
        self.flush_rows().await?;
        let paid = spends("p.payer_wallet_id = $1 AND p.currency = $2 AND h.created_at > $3");
        self.all(paid, (wallet_id, currency.code(), after)).await
    }
}

/// The spends of the payments `paid` selects (conditions on `p`, the payment, and `h`, its hold).
fn spends(paid: &str) -> db::QueryAs<Spend> {
    db::select(format_args!(
        "FROM payments p JOIN holds h ON h.id = p.hold_id WHERE {paid} AND p.status IN {SPENT_STATUSES}"
    ))
}

impl Decode for Spend {
    const COLUMNS: &'static str = "h.created_at AS at, p.price AS amount";

    fn decode(c: Cols<'_>) -> Result<Spend> {
        Ok(Spend {
            at: c.get("at")?,
            amount: c.get("amount")?,
        })
    }
}
