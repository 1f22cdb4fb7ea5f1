//! The ledger's accounts in SQL: their ids by owner (looked up, created when missing, remembered
//! once committed), their money, and the ledger's invariants measured over the whole database.
//! Holds and movements are in `holds.rs`, the balance changes they make in `deltas.rs`.

use crate::{Result, Tx, db};
use wallet_core::ledger::AccountBalance;
use wallet_core::{AccountId, Currency, WalletId};

db::row_type! {
    columns = "id, currency, balance, reserved, incoming";
    /// One account: a wallet's (or a system's) money in one currency.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AccountRow {
        pub id: AccountId,
        pub currency: Currency,
        pub balance: AccountBalance = |c| {
            let (balance, reserved) = (c.get("balance")?, c.get("reserved")?);
            Ok(AccountBalance { balance, reserved })
        },
        /// Money confirmed to this account but frozen (not yet in `balance`).
        pub incoming: i64,
    }
}

/// The ledger's invariants as measured in the database (see [`Tx::ledger_check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerCheck {
    /// Sum of all balances, per currency: zero when money is neither created nor lost.
    pub totals: Vec<(String, i64)>,
    /// Accounts whose balance differs from the sum of their entries.
    pub balance_mismatches: i64,
    /// Movements whose entries do not sum to zero.
    pub unbalanced_movements: i64,
    /// Accounts whose `reserved` differs from their active holds.
    pub reserved_mismatches: i64,
    /// Wallet accounts with negative available money.
    pub negative_available: i64,
    /// Accounts whose `incoming` differs from the frozen payments to them.
    pub incoming_mismatches: i64,
}

impl LedgerCheck {
    /// True when every invariant holds.
    pub fn is_sound(&self) -> bool {
        self.totals.iter().all(|(_, t)| *t == 0)
            && self.balance_mismatches == 0
            && self.unbalanced_movements == 0
            && self.reserved_mismatches == 0
            && self.negative_available == 0
            && self.incoming_mismatches == 0
    }
}

/// The counts of [`LedgerCheck`] but its totals, in the order of its fields: each counts what
/// breaks one invariant.
const LEDGER_COUNTS: [&str; 5] = [
    "SELECT COUNT(*) FROM account_totals a WHERE a.balance <> (SELECT CAST(COALESCE(SUM(e.amount), 0) AS BIGINT) FROM entries e WHERE e.account_id = a.id)",
    "SELECT COUNT(*) FROM (SELECT movement_id FROM entries GROUP BY movement_id HAVING SUM(amount) <> 0) u",
    "SELECT COUNT(*) FROM account_totals a WHERE a.reserved <> (SELECT CAST(COALESCE(SUM(h.amount), 0) AS BIGINT) FROM holds h WHERE h.account_id = a.id AND h.status = 'active')",
    "SELECT COUNT(*) FROM account_totals WHERE wallet_id IS NOT NULL AND balance - reserved < 0",
    "SELECT COUNT(*) FROM accounts a WHERE a.wallet_id IS NOT NULL AND a.incoming <> (SELECT CAST(COALESCE(SUM(p.price), 0) AS BIGINT) FROM payments p WHERE p.status = 'confirmed' AND p.beneficiary_wallet_id = a.wallet_id AND p.currency = a.currency)",
];

/// Whose an account is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum AccountOwner {
    Wallet(WalletId),
    System(String),
}

impl AccountOwner {
    /// `$1` (the owner) and `$2` (the currency) of an account lookup or insert.
    fn params(&self, currency: Currency) -> (db::Value, &'static str) {
        let owner = match self {
            AccountOwner::Wallet(id) => db::Value::from(*id),
            AccountOwner::System(name) => db::Value::from(name.as_str()),
        };
        (owner, currency.code())
    }
}

/// The ids of accounts, by owner and currency, as committed: an account is never deleted nor
/// given to another owner, so a committed id stays true. Saves a lookup per payment on the hot
/// path (the cash-out point's account on every confirm). Bounded: cleared when full.
#[derive(Default)]
pub(crate) struct AccountIds(
    std::sync::Mutex<std::collections::HashMap<(AccountOwner, Currency), AccountId>>,
);

/// Most ids [`AccountIds`] keeps (a few MB).
const MAX_ACCOUNT_IDS: usize = 65_536;

impl AccountIds {
    fn get(&self, key: &(AccountOwner, Currency)) -> Option<AccountId> {
        self.0.lock().ok()?.get(key).copied()
    }

    /// Remembers ids read or written by a transaction that committed.
    pub(crate) fn learn(&self, ids: Vec<((AccountOwner, Currency), AccountId)>) {
        if ids.is_empty() {
            return;
        }
        if let Ok(mut known) = self.0.lock() {
            if known.len() + ids.len() > MAX_ACCOUNT_IDS {
                known.clear();
            }
            known.extend(ids);
        }
    }
}

impl Tx {
    /// The account of `wallet_id` in `currency`, created empty if missing. Looked up first and
    /// inserted only when missing: an `INSERT … ON CONFLICT` on an existing row waits, on
    /// PostgreSQL, for every transaction updating it (a busy beneficiary's).
    pub async fn wallet_account(
        &mut self,
        wallet_id: WalletId,
        currency: Currency,
    ) -> Result<AccountId> {
        self.account_of(
            "SELECT id FROM accounts WHERE wallet_id = $1 AND currency = $2",
            "INSERT INTO accounts (wallet_id, currency, balance, reserved) VALUES ($1, $2, 0, 0) ON CONFLICT (wallet_id, currency) DO NOTHING",
            AccountOwner::Wallet(wallet_id),
            currency,
        )
        .await
    }

    /// A system account (`topup`, …) in `currency`, created if missing (looked up first, as
    /// [`Tx::wallet_account`]). It may go negative.
    pub async fn system_account(&mut self, name: &str, currency: Currency) -> Result<AccountId> {
        self.account_of(
            "SELECT id FROM accounts WHERE system_name = $1 AND currency = $2",
            "INSERT INTO accounts (system_name, currency, balance, reserved) VALUES ($1, $2, 0, 0) ON CONFLICT (system_name, currency) DO NOTHING",
            AccountOwner::System(name.to_string()),
            currency,
        )
        .await
    }

    /// The account `select` finds for `(owner, currency)`; `insert` creates it first if missing.
    /// Known ids come from the store's [`AccountIds`]; the ones this transaction learns go there
    /// once it commits.
    async fn account_of(
        &mut self,
        select: &'static str,
        insert: &'static str,
        owner: AccountOwner,
        currency: Currency,
    ) -> Result<AccountId> {
        let key = (owner, currency);
        if let Some(id) = self.account_ids.get(&key) {
            return Ok(id);
        }
        let id = match self.optional_scalar(select, key.0.params(currency)).await? {
            Some(id) => id,
            None => {
                self.exec(insert, key.0.params(currency)).await?;
                self.one_scalar(select, key.0.params(currency)).await?
            }
        };
        self.learned_accounts.push((key, id));
        Ok(id)
    }

    /// Every account of a wallet, by currency code.
    pub async fn wallet_accounts(&mut self, wallet_id: WalletId) -> Result<Vec<AccountRow>> {
        self.flush_deltas().await?;
        self.all(
            db::select("FROM account_totals WHERE wallet_id = $1 ORDER BY currency"),
            (wallet_id,),
        )
        .await
    }

    /// Current balance of one account.
    pub async fn account_balance(&mut self, account_id: AccountId) -> Result<AccountBalance> {
        self.flush_deltas().await?;
        let (balance, reserved): (i64, i64) = self
            .one(
                "SELECT balance, reserved FROM account_totals WHERE id = $1",
                (account_id,),
            )
            .await?;
        Ok(AccountBalance { balance, reserved })
    }

    /// Adds `delta` (negative to remove) to the frozen money shown as incoming on an account.
    pub async fn add_incoming(&mut self, account_id: AccountId, delta: i64) -> Result<()> {
        self.exec(
            "UPDATE accounts SET incoming = incoming + $1 WHERE id = $2",
            (delta, account_id),
        )
        .await
    }

    /// Measures every ledger invariant over the whole database.
    pub async fn ledger_check(&mut self) -> Result<LedgerCheck> {
        self.flush_rows().await?;
        self.flush_deltas().await?;
        let totals: Vec<(String, i64)> = self
            .all(
                "SELECT currency, CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM account_totals GROUP BY currency ORDER BY currency",
                (),
            )
            .await?;
        let mut counts = [0; LEDGER_COUNTS.len()];
        for (count, sql) in counts.iter_mut().zip(LEDGER_COUNTS) {
            *count = self.one_scalar(sql, ()).await?;
        }
        let [
            balance_mismatches,
            unbalanced_movements,
            reserved_mismatches,
            negative_available,
            incoming_mismatches,
        ] = counts;
        Ok(LedgerCheck {
            totals,
            balance_mismatches,
            unbalanced_movements,
            reserved_mismatches,
            negative_available,
            incoming_mismatches,
        })
    }
}
