//! Double-entry ledger rules.
//!
//! Every movement of money is a [`Posting`]: entries over accounts that sum to
//! zero (system accounts such as the top-up source go negative so that holders'
//! accounts can be positive). A reservation is a hold ([`HoldState`]) on the payer's
//! account: it raises `reserved` without moving `balance`, and is resolved at
//! most once, by settling (confirm: a posting of at most the held amount, the
//! rest released) or by releasing (revoke, expiry).
//!
//! [`Ledger`] is an in-memory reference model of these rules, used by property
//! tests here and as the oracle the SQL store is tested against.

use std::collections::BTreeMap;

/// The two numbers of one account. `available = balance - reserved`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountBalance {
    pub balance: i64,
    pub reserved: i64,
}

impl AccountBalance {
    pub fn available(self) -> i64 {
        self.balance - self.reserved
    }
}

/// Why the ledger refused a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("not enough funds: {available} available, {needed} needed")]
    NotEnoughFunds { available: i64, needed: i64 },
    #[error("amount must not be negative")]
    NegativeAmount,
    #[error("settled amount is larger than the amount held")]
    SettleAboveHold,
    #[error("hold was already {0:?}")]
    HoldResolved(HoldState),
    #[error("amount overflows")]
    Overflow,
}

/// Where a hold stands; it leaves `Active` exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldState {
    Active,
    Settled,
    Released,
}

impl HoldState {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldState::Active => "active",
            HoldState::Settled => "settled",
            HoldState::Released => "released",
        }
    }

    /// The only transitions there are: `Active` to `Settled` or `Released`.
    pub fn resolve(self, to: HoldState) -> Result<HoldState, LedgerError> {
        match (self, to) {
            (HoldState::Active, HoldState::Settled | HoldState::Released) => Ok(to),
            (state, _) => Err(LedgerError::HoldResolved(state)),
        }
    }
}

/// Reserves `amount` on a holder's account: `reserved += amount`, never past `balance`.
pub fn hold(account: AccountBalance, amount: i64) -> Result<AccountBalance, LedgerError> {
    if amount < 0 {
        return Err(LedgerError::NegativeAmount);
    }
    if account.available() < amount {
        return Err(LedgerError::NotEnoughFunds {
            available: account.available().max(0),
            needed: amount,
        });
    }
    Ok(AccountBalance {
        balance: account.balance,
        reserved: account
            .reserved
            .checked_add(amount)
            .ok_or(LedgerError::Overflow)?,
    })
}

/// Releases a held amount: `reserved -= held`.
pub fn release(account: AccountBalance, held: i64) -> AccountBalance {
    AccountBalance {
        balance: account.balance,
        reserved: account.reserved - held,
    }
}

/// Settles a hold of `held` by paying out `settled <= held`: the payer's balance
/// drops by `settled` and the whole hold leaves `reserved`.
pub fn settle(
    payer: AccountBalance,
    held: i64,
    settled: i64,
) -> Result<AccountBalance, LedgerError> {
    if settled < 0 {
        return Err(LedgerError::NegativeAmount);
    }
    if settled > held {
        return Err(LedgerError::SettleAboveHold);
    }
    Ok(AccountBalance {
        balance: payer.balance - settled,
        reserved: payer.reserved - held,
    })
}

/// A balanced set of entries: the unit in which money moves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Posting<A> {
    pub entries: Vec<(A, i64)>,
}

impl<A: Clone> Posting<A> {
    /// `amount` from `from` to `to`.
    pub fn transfer(from: A, to: A, amount: i64) -> Self {
        Posting {
            entries: vec![(from, -amount), (to, amount)],
        }
    }

    /// True when the entries sum to zero, the rule every posting keeps.
    pub fn is_balanced(&self) -> bool {
        self.entries
            .iter()
            .map(|(_, a)| i128::from(*a))
            .sum::<i128>()
            == 0
    }
}

/// Identifies an account in the reference model.
pub type AccountId = u32;
/// Identifies a hold in the reference model.
pub type HoldId = u32;

/// In-memory reference ledger: the rules above applied to a map of accounts.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    accounts: BTreeMap<AccountId, AccountBalance>,
    /// Accounts that may go negative (top-up source, cash desk).
    system: BTreeMap<AccountId, ()>,
    holds: BTreeMap<HoldId, (AccountId, i64, HoldState)>,
    next_hold: HoldId,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks `id` as a system account, which may go below zero.
    pub fn add_system_account(&mut self, id: AccountId) {
        self.system.insert(id, ());
        self.accounts.entry(id).or_default();
    }

    pub fn account(&self, id: AccountId) -> AccountBalance {
        self.accounts.get(&id).copied().unwrap_or_default()
    }

    /// Applies a balanced posting; holders' accounts must keep `available >= 0`.
    pub fn post(&mut self, posting: &Posting<AccountId>) -> Result<(), LedgerError> {
        assert!(posting.is_balanced(), "unbalanced posting");
        let mut next = self.accounts.clone();
        for (id, amount) in &posting.entries {
            let acc = next.entry(*id).or_default();
            acc.balance = acc
                .balance
                .checked_add(*amount)
                .ok_or(LedgerError::Overflow)?;
            if !self.system.contains_key(id) && acc.available() < 0 {
                return Err(LedgerError::NotEnoughFunds {
                    available: (acc.available() - amount).max(0),
                    needed: -amount,
                });
            }
        }
        self.accounts = next;
        Ok(())
    }

    /// Places a hold of `amount` on `account`.
    pub fn hold(&mut self, account: AccountId, amount: i64) -> Result<HoldId, LedgerError> {
        let next = hold(self.account(account), amount)?;
        self.accounts.insert(account, next);
        self.next_hold += 1;
        self.holds
            .insert(self.next_hold, (account, amount, HoldState::Active));
        Ok(self.next_hold)
    }

    /// Settles hold `id` paying `settled` to `beneficiary`.
    pub fn settle(
        &mut self,
        id: HoldId,
        beneficiary: AccountId,
        settled: i64,
    ) -> Result<(), LedgerError> {
        let (account, held, state) = self.holds[&id];
        let new_state = state.resolve(HoldState::Settled)?;
        let payer = settle(self.account(account), held, settled)?;
        self.accounts.insert(account, payer);
        let mut ben = self.account(beneficiary);
        ben.balance += settled;
        self.accounts.insert(beneficiary, ben);
        self.holds.insert(id, (account, held, new_state));
        Ok(())
    }

    /// Releases hold `id` without moving money.
    pub fn release(&mut self, id: HoldId) -> Result<(), LedgerError> {
        let (account, held, state) = self.holds[&id];
        let new_state = state.resolve(HoldState::Released)?;
        self.accounts
            .insert(account, release(self.account(account), held));
        self.holds.insert(id, (account, held, new_state));
        Ok(())
    }

    /// Sum of all balances: zero, always.
    pub fn total(&self) -> i128 {
        self.accounts.values().map(|a| i128::from(a.balance)).sum()
    }

    /// The invariants of DESIGN.md, as one check.
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.total() != 0 {
            return Err(format!("total is {}", self.total()));
        }
        for (id, acc) in &self.accounts {
            let held: i64 = self
                .holds
                .values()
                .filter(|(a, _, s)| a == id && *s == HoldState::Active)
                .map(|(_, amount, _)| amount)
                .sum();
            if acc.reserved != held {
                return Err(format!(
                    "account {id}: reserved {} but holds {held}",
                    acc.reserved
                ));
            }
            if !self.system.contains_key(id) && acc.available() < 0 {
                return Err(format!(
                    "account {id} has negative available {}",
                    acc.available()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SOURCE: AccountId = 0;

    #[derive(Debug, Clone)]
    enum Op {
        TopUp(AccountId, i64),
        Hold(AccountId, i64),
        Settle(usize, AccountId, i64),
        Release(usize),
        Transfer(AccountId, AccountId, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let acc = 1u32..5;
        prop_oneof![
            (acc.clone(), 0i64..10_000).prop_map(|(a, n)| Op::TopUp(a, n)),
            (acc.clone(), 0i64..10_000).prop_map(|(a, n)| Op::Hold(a, n)),
            (0usize..20, acc.clone(), 0i64..12_000).prop_map(|(h, b, n)| Op::Settle(h, b, n)),
            (0usize..20).prop_map(Op::Release),
            (acc.clone(), acc, 0i64..10_000).prop_map(|(a, b, n)| Op::Transfer(a, b, n)),
        ]
    }

    proptest! {
        #[test]
        fn invariants_hold_under_any_sequence(ops in proptest::collection::vec(op(), 1..80)) {
            let mut l = Ledger::new();
            l.add_system_account(SOURCE);
            let mut holds = Vec::new();
            for op in ops {
                let before = l.clone();
                let result = match op {
                    Op::TopUp(a, n) => l.post(&Posting::transfer(SOURCE, a, n)),
                    Op::Hold(a, n) => l.hold(a, n).map(|h| holds.push(h)),
                    Op::Settle(i, b, n) => match holds.get(i) { Some(h) => l.settle(*h, b, n), None => Ok(()) },
                    Op::Release(i) => match holds.get(i) { Some(h) => l.release(*h), None => Ok(()) },
                    Op::Transfer(a, b, n) => l.post(&Posting::transfer(a, b, n)),
                };
                if result.is_err() {
                    // A refused movement changes nothing.
                    prop_assert_eq!(format!("{:?}", l.accounts), format!("{:?}", before.accounts));
                }
                prop_assert_eq!(l.check_invariants(), Ok(()));
            }
        }
    }

    #[test]
    fn a_hold_resolves_once() {
        let mut l = Ledger::new();
        l.add_system_account(SOURCE);
        l.post(&Posting::transfer(SOURCE, 1, 100)).unwrap();
        let h = l.hold(1, 60).unwrap();
        assert_eq!(
            l.hold(1, 60),
            Err(LedgerError::NotEnoughFunds {
                available: 40,
                needed: 60
            })
        );
        l.settle(h, 2, 50).unwrap();
        assert_eq!(
            l.account(1),
            AccountBalance {
                balance: 50,
                reserved: 0
            }
        );
        assert_eq!(l.account(2).balance, 50);
        assert_eq!(
            l.release(h),
            Err(LedgerError::HoldResolved(HoldState::Settled))
        );
        assert_eq!(
            l.settle(h, 2, 1),
            Err(LedgerError::HoldResolved(HoldState::Settled))
        );
        assert_eq!(l.check_invariants(), Ok(()));
    }

    #[test]
    fn settle_never_above_hold() {
        let acc = AccountBalance {
            balance: 100,
            reserved: 50,
        };
        assert_eq!(settle(acc, 50, 51), Err(LedgerError::SettleAboveHold));
        assert_eq!(
            settle(acc, 50, 30),
            Ok(AccountBalance {
                balance: 70,
                reserved: 0
            })
        );
    }
}
