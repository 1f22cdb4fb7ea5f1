//! The storage conformance suite: every test runs on SQLite and on PostgreSQL, on a fresh
//! database built with the store's fixtures (`wallet_store::testing::fixtures`).

use wallet_core::{ClientId, Currency, PaymentId, UserId, WalletId};
use wallet_store::testing::backends;
use wallet_store::testing::fixtures::*;
use wallet_store::{ErrorKind, Store};

#[tokio::test]
async fn accounts_are_created_once_and_topups_balance() {
    for backend in backends() {
        let (store, wallet, account) = funded(backend, 10_000).await;
        let mut tx = store.write().await.unwrap();
        assert_eq!(
            tx.wallet_account(wallet, eur()).await.unwrap(),
            account,
            "{backend:?}"
        );
        let accounts = tx.wallet_accounts(wallet).await.unwrap();
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].balance, money(10_000, 0));
        let check = tx.ledger_check().await.unwrap();
        assert!(check.is_sound(), "{backend:?}: {check:?}");
        assert_eq!(check.totals, vec![("EUR".to_string(), 0)]);
    }
}

#[tokio::test]
async fn holds_never_overdraw_and_resolve_once() {
    for backend in backends() {
        let (s, mut tx) = scene(backend, 100, "k1").await;
        assert_eq!(
            tx.transaction_for_update(&key("k1")).await.unwrap(),
            Some(s.t.clone())
        );
        let p1 = tx.insert_payment(&s.pay(60)).await.unwrap();
        let p2 = tx.insert_payment(&s.pay(60)).await.unwrap();
        let h1 = tx
            .place_hold(s.account, p1, 60, 1)
            .await
            .unwrap()
            .expect("60 of 100 fits");
        assert_eq!(
            tx.place_hold(s.account, p2, 60, 1).await.unwrap(),
            None,
            "{backend:?}: overdraw"
        );
        let to = tx.wallet_account(s.project_wallet, eur()).await.unwrap();
        assert!(tx.settle_hold(h1, to, 50, &key("k1"), p1, 2).await.unwrap());
        assert!(
            !tx.settle_hold(h1, to, 50, &key("k1"), p1, 2).await.unwrap(),
            "settled twice"
        );
        assert!(
            !tx.release_hold(h1, 2).await.unwrap(),
            "released after settle"
        );
        assert_eq!(tx.account_balance(s.account).await.unwrap(), money(50, 0));
        assert_eq!(tx.account_balance(to).await.unwrap().balance, 50);
        let h2 = tx
            .place_hold(s.account, p2, 50, 3)
            .await
            .unwrap()
            .expect("50 of 50 fits");
        assert!(tx.release_hold(h2, 4).await.unwrap());
        assert_eq!(tx.account_balance(s.account).await.unwrap(), money(50, 0));
        let check = tx.ledger_check().await.unwrap();
        assert!(check.is_sound(), "{backend:?}: {check:?}");
        assert_eq!(tx.payments_of(&key("k1")).await.unwrap().len(), 2);
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn dropping_a_transaction_writes_nothing() {
    for backend in backends() {
        let (store, wallet, account) = funded(backend, 100).await;
        let _ = wallet;
        {
            let mut tx = store.write().await.unwrap();
            let other = tx.insert_wallet(UserId::new(1), 0).await.unwrap();
            let _ = other;
            let source = tx.system_account("topup", eur()).await.unwrap();
            tx.transfer_from_system(source, account, 5, "topup", 0)
                .await
                .unwrap();
            // dropped without commit
        }
        let mut tx = store.read().await.unwrap();
        assert_eq!(
            tx.account_balance(account).await.unwrap().balance,
            100,
            "{backend:?}"
        );
        assert_eq!(
            tx.wallet(WalletId::new(wallet.get() + 1)).await.unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn concurrent_holds_on_one_account_succeed_exactly_as_funds_allow() {
    for backend in backends() {
        // 10 payments of 30 against 100: exactly 3 holds fit, whatever the interleaving.
        let (store, _wallet, account) = funded(backend, 100).await;
        let (_, _, _, payments) = ten_transactions(&store, 30).await;
        let ok = concurrently(&store, payments, |store, p| async move {
            let mut tx = store.write().await.unwrap();
            let held = tx.place_hold(account, p, 30, 1).await.unwrap();
            tx.commit().await.unwrap();
            held.is_some()
        })
        .await;
        assert_eq!(ok, 3, "{backend:?}");
        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.account_balance(account).await.unwrap(), money(100, 90));
        assert!(tx.ledger_check().await.unwrap().is_sound());
    }
}

/// Runs `attempt` for each of `payments` at once, each in a task of its own: how many succeeded.
async fn concurrently<F, Fut>(store: &Store, payments: Vec<PaymentId>, attempt: F) -> usize
where
    F: Fn(Store, PaymentId) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let tasks: Vec<_> = payments
        .into_iter()
        .map(|p| tokio::spawn(attempt(store.clone(), p)))
        .collect();
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap());
    }
    ok
}

/// What `f` reads of each payment of the transaction `key`, in id order.
async fn of_payments<T>(
    tx: &mut wallet_store::Tx,
    key_text: &str,
    f: impl Fn(&wallet_store::PaymentRow) -> T,
) -> Vec<T> {
    let payments = tx.payments_of(&key(key_text)).await.unwrap();
    payments.iter().map(f).collect()
}

/// Commits `tx`, which must be refused for want of funds (`why`, on failure).
async fn assert_short_of_funds(tx: wallet_store::Tx, why: String) {
    assert!(
        matches!(
            tx.commit().await,
            Err(wallet_store::StoreError::NotEnoughFunds(_))
        ),
        "{why}"
    );
}

/// Account ids are remembered only from transactions that committed: an account created by a
/// transaction that was dropped is created again, with an id that exists.
#[tokio::test]
async fn account_ids_are_known_only_once_committed() {
    for backend in backends() {
        let (store, mut tx, user) = with_user(backend, "a@example.com").await;
        let wallet = tx.insert_wallet(user, 0).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.write().await.unwrap();
        let dropped = tx.wallet_account(wallet, eur()).await.unwrap();
        drop(tx);
        // Another row takes the dropped id on SQLite; PostgreSQL's sequence moved on.
        let mut tx = store.write().await.unwrap();
        let other = tx.insert_wallet(user, 0).await.unwrap();
        tx.wallet_account(other, eur()).await.unwrap();
        let account = tx.wallet_account(wallet, eur()).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.write().await.unwrap();
        assert_eq!(tx.wallet_account(wallet, eur()).await.unwrap(), account);
        let topup = tx.system_account("topup", eur()).await.unwrap();
        tx.transfer_from_system(topup, account, 5, "topup", 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.read().await.unwrap();
        assert_eq!(
            tx.wallet_accounts(wallet).await.unwrap()[0].balance.balance,
            5,
            "{backend:?}: the id of the dropped account ({dropped}) was used"
        );
    }
}

/// Unguarded balance changes (credits, settled debits, releases) are deferred to the end of the
/// transaction: a hold placed after a release in the same transaction still sees the money, a
/// commit applies them all, a dropped transaction none.
#[tokio::test]
async fn deferred_balance_changes_apply_at_commit_and_before_holds() {
    for backend in backends() {
        let (s, mut tx) = scene(backend, 100, "k1").await;
        let p1 = tx.insert_payment(&s.pay(100)).await.unwrap();
        let p2 = tx.insert_payment(&s.pay(100)).await.unwrap();
        let to = tx.wallet_account(s.project_wallet, eur()).await.unwrap();
        let h1 = tx.place_hold(s.account, p1, 100, 1).await.unwrap().unwrap();
        assert!(tx.release_hold(h1, 1).await.unwrap());
        let h2 = tx
            .place_hold(s.account, p2, 100, 1)
            .await
            .unwrap()
            .expect("the release is applied before the next hold");
        tx.commit().await.unwrap();

        // Settled, then dropped: nothing moves.
        let mut tx = s.store.write().await.unwrap();
        assert!(tx.settle_hold(h2, to, 70, &key("k1"), p2, 2).await.unwrap());
        drop(tx);
        let mut tx = s.store.write().await.unwrap();
        assert_eq!(
            tx.account_balance(s.account).await.unwrap(),
            money(100, 100),
            "{backend:?}"
        );
        assert!(tx.settle_hold(h2, to, 70, &key("k1"), p2, 2).await.unwrap());
        tx.commit().await.unwrap();

        let mut tx = s.store.read().await.unwrap();
        assert_eq!(
            tx.account_balance(s.account).await.unwrap(),
            money(30, 0),
            "{backend:?}"
        );
        assert_eq!(tx.account_balance(to).await.unwrap().balance, 70);
        let check = tx.ledger_check().await.unwrap();
        assert!(check.is_sound(), "{backend:?}: {check:?}");
    }
}

/// Changes that need no guard (here top-ups) are appended, not made on the account's row: they
/// are money at once (balances, the ledger check), a guard that finds the row short folds them in
/// and tries again, and concurrent folds and holds neither lose nor count a change twice.
#[tokio::test]
async fn appended_changes_are_money_at_once_and_folded_exactly_once() {
    // Long: the concurrent holds and folds run on the changes the first part leaves waiting.
    for backend in backends() {
        // One top-up: two changes appended (the wallet's, the system account's), none on a row.
        let (store, _wallet, account) = funded(backend, 50).await;
        let mut tx = store.write().await.unwrap();
        assert_eq!(tx.account_balance(account).await.unwrap().balance, 50);
        assert_eq!(
            tx.fold_account_changes(1000).await.unwrap(),
            2,
            "{backend:?}"
        );
        assert_eq!(
            tx.fold_account_changes(1000).await.unwrap(),
            0,
            "{backend:?}"
        );
        assert_eq!(tx.account_balance(account).await.unwrap().balance, 50);
        drop(tx); // the folds are undone: the changes wait again

        // 300 in 30 appended top-ups; 40 concurrent holds of 15 checked at commit, while folds
        // run: exactly 20 fit.
        let (_, _, _, payments) = ten_transactions(&store, 15).await;
        let mut tx = store.write().await.unwrap();
        let source = tx.system_account("topup", eur()).await.unwrap();
        tx.commit().await.unwrap();
        for _ in 0..25 {
            let mut tx = store.write().await.unwrap();
            tx.transfer_from_system(source, account, 10, "topup", 1)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let holds = (0..40).map(|i| {
            let (store, p) = (store.clone(), payments[i % payments.len()]);
            tokio::spawn(async move {
                let mut tx = store.write().await.unwrap();
                let hold = tx.place_hold_at_commit(account, p, 15, 2).await.unwrap();
                assert!(hold.is_some(), "recorded now, checked at commit");
                // A write at commit too: it waits until the guard passed (`batch.rs`).
                tx.answer_at_commit(
                    ClientId::new(1),
                    &format!("fold-{i}"),
                    &ok_answer(&i.to_string()),
                    2,
                );
                match tx.commit().await {
                    Ok(()) => 1,
                    Err(wallet_store::StoreError::NotEnoughFunds(_)) => 0,
                    Err(e) => panic!("{e}"),
                }
            })
        });
        let holds: Vec<_> = holds.collect();
        let folds: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    for _ in 0..5 {
                        let mut tx = store.write().await.unwrap();
                        tx.fold_account_changes(3).await.unwrap();
                        tx.commit().await.unwrap();
                    }
                })
            })
            .collect();
        let mut ok = 0;
        for t in holds {
            ok += t.await.unwrap();
        }
        for t in folds {
            t.await.unwrap();
        }
        assert_eq!(ok, 20, "{backend:?}");
        let mut tx = store.write().await.unwrap();
        let all = money(300, 300);
        assert_eq!(
            tx.account_balance(account).await.unwrap(),
            all,
            "{backend:?}"
        );
        let check = tx.ledger_check().await.unwrap();
        assert!(check.is_sound(), "{backend:?}: {check:?}");
        tx.fold_account_changes(1000).await.unwrap();
        assert_eq!(tx.fold_account_changes(1000).await.unwrap(), 0);
        assert_eq!(
            tx.account_balance(account).await.unwrap(),
            all,
            "{backend:?}"
        );
        assert!(tx.ledger_check().await.unwrap().is_sound(), "{backend:?}");
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn holds_checked_at_commit_never_overdraw_and_a_short_one_writes_nothing() {
    // Long: the second part checks holds within one transaction against what the first left.
    for backend in backends() {
        // 10 transactions of two holds of 15 each against 100, concurrently: exactly 3 commit.
        let (store, _wallet, account) = funded(backend, 100).await;
        let (pw, project, client, payments) = ten_transactions(&store, 15).await;
        let payments_of_tasks = payments.clone();
        let ok = concurrently(&store, payments, |store, p| async move {
            let mut tx = store.write().await.unwrap();
            for _ in 0..2 {
                let hold = tx.place_hold_at_commit(account, p, 15, 1).await.unwrap();
                assert!(hold.is_some(), "recorded now, checked at commit");
            }
            // Made in the same last statement as the hold on PostgreSQL (`batch.rs`).
            let answer = ok_answer(&p.to_string());
            tx.answer_at_commit(ClientId::new(1), &format!("key-{p}"), &answer, 1);
            match tx.commit().await {
                Ok(()) => true,
                Err(wallet_store::StoreError::NotEnoughFunds(currency)) => {
                    assert_eq!(currency, "EUR");
                    false
                }
                Err(e) => panic!("{e}"),
            }
        })
        .await;
        assert_eq!(ok, 3, "{backend:?}");
        let mut tx = store.read().await.unwrap();
        assert_eq!(
            tx.account_balance(account).await.unwrap(),
            money(100, 90),
            "{backend:?}"
        );
        let check = tx.ledger_check().await.unwrap();
        assert!(
            check.is_sound(),
            "{backend:?}: {check:?} (a refused hold left a row)"
        );
        let mut answered = 0;
        for p in &payments_of_tasks {
            answered += usize::from(
                tx.idempotent_answer(ClientId::new(1), &format!("key-{p}"))
                    .await
                    .unwrap()
                    .is_some(),
            );
        }
        assert_eq!(
            answered, 3,
            "{backend:?}: answers of refused transactions stayed"
        );
        drop(tx);

        // Within one transaction: a balance read sees the hold (and checks it then); a credit
        // made earlier in the transaction covers a hold checked at once.
        let mut tx = store.write().await.unwrap();
        let mut t = new_transaction("x", project, client);
        t.transaction_key = key("x");
        tx.insert_transaction(&t, 0).await.unwrap();
        let p = tx
            .insert_payment(&new_payment("x", project, pw, 30))
            .await
            .unwrap();
        assert!(
            tx.place_hold_at_commit(account, p, 10, 2)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(tx.account_balance(account).await.unwrap(), money(100, 100));
        let source = tx.system_account("topup", eur()).await.unwrap();
        tx.transfer_from_system(source, account, 25, "topup", 2)
            .await
            .unwrap();
        assert!(
            tx.place_hold_at_commit(account, p, 25, 2)
                .await
                .unwrap()
                .is_some(),
            "{backend:?}: the credit of this transaction covers it"
        );
        assert!(
            tx.place_hold_at_commit(account, p, 1, 2)
                .await
                .unwrap()
                .is_some()
        );
        assert_short_of_funds(
            tx,
            format!("{backend:?}: 1 more than there is, found at commit"),
        )
        .await;
        let mut tx = store.read().await.unwrap();
        assert_eq!(
            tx.account_balance(account).await.unwrap(),
            money(100, 90),
            "{backend:?}: nothing of the refused transaction stays, not even its credit"
        );
        assert_eq!(tx.transaction(&key("x")).await.unwrap(), None);
        assert!(tx.ledger_check().await.unwrap().is_sound());
    }
}

/// The commit changes every account of a transaction in one global order (on PostgreSQL in its
/// last statement, `batch.rs`): concurrent transactions moving money both ways between the
/// same accounts all commit (no deadlock), and one refused by the guard on an account changed
/// before the last one writes nothing.
#[tokio::test]
async fn concurrent_moves_both_ways_between_accounts_all_commit() {
    for backend in backends() {
        let (store, _, first) = funded(backend, 1_000).await;
        let (_, _, _, payments) = ten_transactions(&store, 10).await;
        let mut tx = store.write().await.unwrap();
        let source = tx.system_account("topup", eur()).await.unwrap();
        let mut accounts = vec![first];
        for i in 0..2 {
            let (_, account) = funded_wallet(&mut tx, &format!("m{i}@example.com"), 1_000).await;
            accounts.push(account);
        }
        tx.commit().await.unwrap();
        let tasks: Vec<_> = (0..60)
            .map(|i| {
                let (store, p) = (store.clone(), payments[i % payments.len()]);
                let from = accounts[i % 3];
                let to = accounts[(i + 1 + (i / 3) % 2) % 3];
                tokio::spawn(async move {
                    let mut tx = store.write().await.unwrap();
                    let hold = tx.place_hold_at_commit(from, p, 10, 1).await.unwrap();
                    let settled = tx
                        .settle_hold(hold.unwrap(), to, 10, &key("k0"), p, 1)
                        .await
                        .unwrap();
                    assert!(settled);
                    tx.commit().await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().expect("every move commits");
        }
        let mut tx = store.read().await.unwrap();
        let mut total = 0;
        for a in &accounts {
            let b = tx.account_balance(*a).await.unwrap();
            assert_eq!(b.reserved, 0, "{backend:?}");
            total += b.balance;
        }
        assert_eq!(total, 3_000, "{backend:?}");
        assert!(tx.ledger_check().await.unwrap().is_sound());
        drop(tx);

        // The newest account is changed first, the oldest last: a guard refusing the newest
        // refuses the transaction, and the oldest account's credit is not made.
        let before = store
            .read()
            .await
            .unwrap()
            .account_balance(first)
            .await
            .unwrap();
        let mut tx = store.write().await.unwrap();
        let hold = tx
            .place_hold_at_commit(accounts[2], payments[0], 1_000_000, 2)
            .await
            .unwrap();
        assert!(hold.is_some());
        tx.transfer_from_system(source, first, 5, "topup", 2)
            .await
            .unwrap();
        assert_short_of_funds(tx, format!("{backend:?}")).await;
        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.account_balance(first).await.unwrap(), before);
        assert!(tx.ledger_check().await.unwrap().is_sound());
    }
}

#[tokio::test]
async fn holds_placed_and_settled_at_commit_move_money_once() {
    for backend in backends() {
        let (s, mut tx) = scene(backend, 100, "k1").await;
        let mut p = Vec::new();
        for price in [60, 30, 10, 5] {
            p.push(tx.insert_payment(&s.pay(price)).await.unwrap());
        }
        let to = tx.wallet_account(s.project_wallet, eur()).await.unwrap();
        tx.commit().await.unwrap();

        // Placed at commit: ids known at once, distinct, and the rows there for a read.
        let mut tx = s.store.write().await.unwrap();
        let mut holds = Vec::new();
        for (payment, amount) in p.iter().zip([60, 30, 10]) {
            let hold = tx
                .place_hold_at_commit(s.account, *payment, amount, 1)
                .await;
            holds.push(hold.unwrap().expect("fits"));
        }
        assert!(holds[0] != holds[1] && holds[1] != holds[2], "{backend:?}");
        let check = tx.ledger_check().await.unwrap();
        assert!(check.is_sound(), "{backend:?}: {check:?}");
        tx.commit().await.unwrap();

        // Two settled in one transaction, one of them for less than was held.
        let mut tx = s.store.write().await.unwrap();
        tx.settle_hold_at_commit(holds[0], s.account, 60, to, 50, &key("k1"), p[0], 2)
            .await
            .unwrap();
        tx.settle_hold_at_commit(holds[1], s.account, 30, to, 30, &key("k1"), p[1], 2)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        // A hold that is not as its payment says (another amount, settled already) refuses the
        // commit, and nothing of it is written.
        let refused = [
            (holds[2], 11, "another amount"),
            (holds[0], 60, "settled already"),
        ];
        for (hold, held, why) in refused {
            let mut tx = s.store.write().await.unwrap();
            let settled = async {
                tx.settle_hold_at_commit(hold, s.account, held, to, 1, &key("k1"), p[2], 3)
                    .await?;
                tx.commit().await
            };
            assert!(
                matches!(settled.await, Err(wallet_store::StoreError::Corrupt(_))),
                "{backend:?}: {why}"
            );
        }

        // Placed and settled in one transaction (reserve and confirm in one call).
        let mut tx = s.store.write().await.unwrap();
        let hold = tx
            .place_hold_at_commit(s.account, p[3], 5, 4)
            .await
            .unwrap();
        tx.settle_hold_at_commit(hold.unwrap(), s.account, 5, to, 5, &key("k1"), p[3], 4)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = s.store.write().await.unwrap();
        assert_eq!(
            tx.account_balance(s.account).await.unwrap(),
            money(100 - 50 - 30 - 5, 10),
            "{backend:?}"
        );
        assert_eq!(tx.account_balance(to).await.unwrap().balance, 85);
        assert!(tx.release_hold(holds[2], 5).await.unwrap(), "{backend:?}");
        let check = tx.ledger_check().await.unwrap();
        assert!(check.is_sound(), "{backend:?}: {check:?}");
        tx.commit().await.unwrap();
    }
}

/// A new transaction and its payments, written at commit (on PostgreSQL with the commit's one
/// statement, outside a transaction): the rows answered are the rows stored, in creation order;
/// and when a write of that statement refuses (an answer stored meanwhile), none is written.
#[tokio::test]
async fn a_transaction_created_at_commit_is_written_whole_or_not_at_all() {
    for backend in backends() {
        let (store, ..) = funded(backend, 100).await;
        let mut tx = store.write().await.unwrap();
        let (project_wallet, project, client) = insert_project(&mut tx).await;
        tx.commit().await.unwrap();
        let create = |key: &'static str, answer: &'static str| {
            let store = store.clone();
            async move {
                let mut tx = store.write().await.unwrap();
                let t = new_transaction(key, project, client);
                let drafts: Vec<_> = [30, 20, 10]
                    .map(|price| new_payment(key, project, project_wallet, price))
                    .into();
                let rows = tx
                    .insert_transaction_with_payments(&t, &drafts, 0)
                    .await
                    .unwrap();
                tx.append_event(&t.transaction_key, 0, "client:id", "created", None)
                    .await
                    .unwrap();
                tx.answer_at_commit(client, "idem", &ok_answer(answer), 1);
                (rows, tx.commit().await)
            }
        };
        let (rows, committed) = create("k1", "first").await;
        committed.unwrap();
        assert_eq!(
            rows.iter().map(|p| p.price).collect::<Vec<_>>(),
            [30, 20, 10]
        );
        assert!(rows.windows(2).all(|w| w[0].id < w[1].id), "{backend:?}");
        let mut tx = store.read().await.unwrap();
        assert_eq!(
            tx.payments_of(&key("k1")).await.unwrap(),
            rows,
            "{backend:?}"
        );
        assert_eq!(tx.events_of(&key("k1")).await.unwrap().len(), 1);
        drop(tx);
        let (_, refused) = create("k2", "second").await;
        assert!(
            matches!(refused, Err(wallet_store::StoreError::AnsweredMeanwhile)),
            "{backend:?}: {refused:?}"
        );
        let mut tx = store.read().await.unwrap();
        assert_eq!(
            tx.transaction(&key("k2")).await.unwrap(),
            None,
            "{backend:?}"
        );
        assert!(tx.payments_of(&key("k2")).await.unwrap().is_empty());
        assert!(tx.events_of(&key("k2")).await.unwrap().is_empty());
        assert!(tx.ledger_check().await.unwrap().is_sound());
    }
}

/// `allowance_of` reads once per transaction, and again after the transaction writes allowances.
#[tokio::test]
async fn a_transactions_allowance_is_read_again_after_it_changes() {
    for backend in backends() {
        let (_store, mut tx, user) = with_user(backend, "holder@example.com").await;
        let (_, project, t) = project_with_transaction(&mut tx, "t1").await;
        assert_eq!(tx.allowance_of(&key("t1")).await.unwrap(), None);
        let allowance = new_allowance("t1", project, t.client_id, 500);
        let id = tx.insert_allowance(&allowance).await.unwrap();
        let a = tx
            .allowance_of(&key("t1"))
            .await
            .unwrap()
            .expect("inserted");
        assert_eq!((a.id, a.status.as_str()), (id, "new"), "{backend:?}");
        tx.set_allowance_status(id, "deleted", None).await.unwrap();
        let a = tx
            .allowance_of(&key("t1"))
            .await
            .unwrap()
            .expect("still there");
        assert_eq!(a.status, "deleted", "{backend:?}: a stale allowance");
        let wallet = tx.insert_wallet(user, 0).await.unwrap();
        tx.activate_allowance(&a, wallet, Some(99), 5)
            .await
            .unwrap();
        let a = tx
            .allowance_of(&key("t1"))
            .await
            .unwrap()
            .expect("still there");
        assert_eq!((a.status.as_str(), a.wallet_id), ("active", Some(wallet)));
        tx.move_allowance(id, &key("t2"), true).await.unwrap();
        assert_eq!(
            tx.allowance_of(&key("t1")).await.unwrap(),
            None,
            "{backend:?}"
        );
        tx.commit().await.unwrap();
    }
}

/// Events are written at commit, in the order appended, even past what one statement holds
/// (a full queue is written early); a transaction that does not commit writes none.
#[tokio::test]
async fn audit_events_are_written_at_commit_in_order() {
    for backend in backends() {
        let (s, mut tx) = scene(backend, 1, "k").await;
        let n = 2_500;
        for i in 0..n {
            let detail = (i % 2 == 0).then(|| i.to_string());
            tx.append_event(
                &s.t.transaction_key,
                i,
                "actor",
                &format!("e{i}"),
                detail.as_deref(),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        {
            let mut tx = s.store.write().await.unwrap();
            tx.append_event(&s.t.transaction_key, n, "actor", "dropped", None)
                .await
                .unwrap();
            // dropped without commit
        }
        let mut tx = s.store.read().await.unwrap();
        let events = tx.events_of(&s.t.transaction_key).await.unwrap();
        assert_eq!(events.len(), n as usize, "{backend:?}");
        for (i, (at, actor, event, detail)) in events.into_iter().enumerate() {
            let i = i as i64;
            assert_eq!((at, actor.as_str()), (i, "actor"), "{backend:?}");
            assert_eq!(event, format!("e{i}"), "{backend:?}");
            assert_eq!(detail, (i % 2 == 0).then(|| i.to_string()), "{backend:?}");
        }
    }
}

/// Locks `t` in `tx`: the lock must answer it with `payments` and `allowance`.
async fn assert_locked_with(
    tx: &mut wallet_store::Tx,
    t: &wallet_store::TransactionRow,
    payments: &[wallet_store::PaymentRow],
    allowance: Option<wallet_store::AllowanceRow>,
) {
    let key = &t.transaction_key;
    let backend = tx.backend();
    assert_eq!(
        tx.transaction_for_update(key).await.unwrap().as_ref(),
        Some(t)
    );
    assert_eq!(tx.payments_of(key).await.unwrap(), payments, "{backend:?}");
    assert_eq!(
        tx.allowance_of(key).await.unwrap(),
        allowance,
        "{backend:?}"
    );
}

/// Locking a transaction reads its payments and its allowance with it: `payments_of` and
/// `allowance_of` then answer what a separate read gives (none as well as several), and once
/// this transaction writes a payment, what it wrote.
#[tokio::test]
async fn a_locked_transaction_comes_with_its_payments_and_allowance() {
    // Long: one transaction's story, each lock read against the writes made before it.
    for backend in backends() {
        let (s, tx) = scene(backend, 1, "k1").await;
        tx.commit().await.unwrap();

        let mut tx = s.store.write().await.unwrap();
        assert_locked_with(&mut tx, &s.t, &[], None).await;
        let p1 = tx.insert_payment(&s.pay(100)).await.unwrap();
        let p2 = tx.insert_payment(&s.pay(200)).await.unwrap();
        let ids = of_payments(&mut tx, "k1", |p| p.id).await;
        assert_eq!(
            ids,
            [p1, p2],
            "{backend:?}: payments inserted after the lock"
        );
        for older in [1, 2] {
            let allowance = new_allowance("k1", s.project, s.t.client_id, 500 * older);
            tx.insert_allowance(&allowance).await.unwrap();
        }
        tx.commit().await.unwrap();

        let (payments, allowance) = {
            let mut read = s.store.read().await.unwrap();
            let payments = read.payments_of(&key("k1")).await.unwrap();
            let allowance = read.allowance_of(&key("k1")).await.unwrap();
            (payments, allowance)
        };
        assert_eq!(payments.len(), 2);
        assert_eq!(
            allowance.as_ref().unwrap().max_price,
            Some(1000),
            "the newest"
        );
        let mut tx = s.store.write().await.unwrap();
        assert_locked_with(&mut tx, &s.t, &payments, allowance).await;
        let p = &payments[0];
        tx.update_payment(
            p.id,
            wallet_core::PaymentStatus::Canceled,
            p.price,
            None,
            None,
            None,
        )
        .await
        .unwrap();
        let statuses = of_payments(&mut tx, "k1", |p| p.status).await;
        assert_eq!(
            statuses,
            [
                wallet_core::PaymentStatus::Canceled,
                wallet_core::PaymentStatus::New
            ],
            "{backend:?}: a payment written after the lock"
        );
        assert_eq!(tx.transaction_for_update(&key("nope")).await.unwrap(), None);
    }
}

/// A transaction's state and several of its payments, written at commit (in the commit's last
/// statement on PostgreSQL), answer the rows as a read gives them: a read in the same database
/// transaction writes them first, a later change replaces them, and the other payments stay
/// as they were. A change whose rows are gone refuses the commit, and nothing is written.
#[tokio::test]
async fn a_transaction_and_its_payments_are_written_at_once() {
    // Long: each change is checked against the rows the change before it left.
    use wallet_core::{PaymentStatus, TransactionStatus};
    for backend in backends() {
        let (s, mut tx) = scene(backend, 1, "k1").await;
        let ids = [
            tx.insert_payment(&s.pay(100)).await.unwrap(),
            tx.insert_payment(&s.pay(200)).await.unwrap(),
            tx.insert_payment(&s.pay(300)).await.unwrap(),
        ];
        let rows = tx.payments_of(&key("k1")).await.unwrap();
        let change = |i: usize, status, price| {
            (
                rows[i].clone(),
                wallet_store::PaymentChange {
                    id: ids[i],
                    status,
                    price,
                    payer_wallet_id: Some(s.wallet),
                    hold_id: None,
                    confirmed_at: None,
                },
            )
        };
        let state = |status, reserved_until| wallet_store::TransactionState {
            status,
            kind: Some(wallet_core::TransactionType::ReservationCode),
            wallet_id: Some(s.wallet),
            reserved_until: Some(reserved_until),
            confirmed_at: None,
        };
        let reserved = state(TransactionStatus::Reserved, 99);
        // Given out of order; answered in id order.
        let (written, payments) = tx
            .set_transaction_and_payments(
                &s.t,
                &reserved,
                &[
                    change(2, PaymentStatus::Reserved, 250),
                    change(0, PaymentStatus::Reserved, 90),
                ],
                7,
            )
            .await
            .unwrap();
        assert_eq!(written.state(), reserved, "{backend:?}");
        assert_eq!(written.transaction_key, s.t.transaction_key);
        let read = tx.payments_of(&key("k1")).await.unwrap();
        assert_eq!(payments, [read[0].clone(), read[2].clone()], "{backend:?}");
        assert_eq!((payments[0].price, payments[1].price), (90, 250));
        assert_eq!(
            read[1].status,
            PaymentStatus::New,
            "{backend:?}: not changed"
        );
        assert_eq!(
            tx.transaction(&key("k1")).await.unwrap(),
            Some(written.clone())
        );

        // Changed twice before commit, never read in between: the commit writes the last change.
        let rows = read;
        let confirmed = state(TransactionStatus::Confirmed, 120);
        tx.set_transaction_and_payments(
            &written,
            &reserved,
            &[change(1, PaymentStatus::Reserved, 10)],
            8,
        )
        .await
        .unwrap();
        let (last, last_payments) = tx
            .set_transaction_and_payments(
                &written,
                &confirmed,
                &[(
                    rows[1].clone(),
                    wallet_store::PaymentChange {
                        status: PaymentStatus::Done,
                        price: 5,
                        ..change(1, PaymentStatus::Reserved, 10).1
                    },
                )],
                9,
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = s.store.read().await.unwrap();
        assert_eq!(
            tx.transaction(&key("k1")).await.unwrap(),
            Some(last),
            "{backend:?}"
        );
        let read = tx.payments_of(&key("k1")).await.unwrap();
        assert_eq!(read[1], last_payments[0], "{backend:?}");
        assert_eq!((read[1].status, read[1].price), (PaymentStatus::Done, 5));
        assert_eq!(read[0].price, 90, "{backend:?}: the first change stays");
        drop(tx);

        // The transaction is gone when the change is written: the commit is refused, whole.
        let mut tx = s.store.write().await.unwrap();
        let gone = wallet_store::TransactionRow {
            transaction_key: key("nope"),
            ..s.t.clone()
        };
        let before = of_payments(&mut s.store.read().await.unwrap(), "k1", Clone::clone).await;
        let mut other = change(1, PaymentStatus::Canceled, 1);
        other.0.transaction_key = key("nope");
        tx.set_transaction_and_payments(&gone, &reserved, &[other], 10)
            .await
            .unwrap();
        assert!(tx.commit().await.is_err(), "{backend:?}");
        let after = of_payments(&mut s.store.read().await.unwrap(), "k1", Clone::clone).await;
        assert_eq!(after, before, "{backend:?}: nothing written");
    }
}

/// A new transaction and its new payments are inserted together (one statement on PostgreSQL):
/// the payments are answered as stored, in order, as a read gives them; a transaction without
/// payments is inserted alone; a payment the store refuses (its beneficiary wallet does not
/// exist) refuses the transaction's row with it.
#[tokio::test]
async fn a_transaction_is_inserted_with_its_payments() {
    for backend in backends() {
        let (s, mut tx) = scene(backend, 1, "k0").await;
        let new = wallet_store::TransactionRow {
            transaction_key: key("k1"),
            ..s.t.clone()
        };
        let written = tx
            .insert_transaction_with_payments(
                &new,
                &[s.pay_in("k1", 3), s.pay_in("k1", 1), s.pay_in("k1", 2)],
                5,
            )
            .await
            .unwrap();
        assert_eq!(
            tx.payments_of(&key("k1")).await.unwrap(),
            written,
            "{backend:?}"
        );
        let prices: Vec<i64> = written.iter().map(|p| p.price).collect();
        assert_eq!(prices, [3, 1, 2], "{backend:?}: in the order given");
        assert_eq!(tx.transaction(&key("k1")).await.unwrap(), Some(new));

        let alone = wallet_store::TransactionRow {
            transaction_key: key("k2"),
            ..s.t.clone()
        };
        let none = tx
            .insert_transaction_with_payments(&alone, &[], 5)
            .await
            .unwrap();
        assert!(none.is_empty());
        assert_eq!(tx.transaction(&key("k2")).await.unwrap(), Some(alone));
        tx.commit().await.unwrap();

        let mut tx = s.store.write().await.unwrap();
        let refused = wallet_store::TransactionRow {
            transaction_key: key("k3"),
            ..s.t.clone()
        };
        let bad = new_payment(
            "k3",
            s.project,
            WalletId::new(s.project_wallet.get() + 1000),
            1,
        );
        // Refused when written: at once on SQLite, at commit on PostgreSQL.
        let result = match tx
            .insert_transaction_with_payments(&refused, &[s.pay_in("k3", 1), bad], 5)
            .await
        {
            Ok(_) => tx.commit().await,
            Err(e) => Err(e),
        };
        assert!(result.is_err(), "{backend:?}");
        let mut tx = s.store.read().await.unwrap();
        assert_eq!(
            tx.transaction(&key("k3")).await.unwrap(),
            None,
            "{backend:?}"
        );
        assert_eq!(
            tx.transaction(&key("k1"))
                .await
                .unwrap()
                .map(|t| t.transaction_key),
            Some(key("k1"))
        );
    }
}

/// Reserving by code reads and locks the transaction and the code in one statement; the code is
/// marked used at commit. Unknown and used codes are answered as such, a dropped transaction
/// leaves the code unused, and a mark of a code used meanwhile refuses the commit.
#[tokio::test]
async fn a_code_is_locked_with_its_transaction_and_used_at_commit() {
    for backend in backends() {
        let (s, mut tx) = scene(backend, 1, "k1").await;
        let id = tx
            .insert_code("h1", s.wallet, Some(50), Some("EUR"), 1, 100)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = s.store.write().await.unwrap();
        let locked = tx.transaction_and_code_for_update(&key("k1"), "nope").await;
        assert_eq!(locked.unwrap(), Some(s.t.clone()), "{backend:?}");
        assert_eq!(tx.code_for_update("nope").await.unwrap(), None);
        let locked = tx.transaction_and_code_for_update(&key("k1"), "h1").await;
        assert_eq!(locked.unwrap(), Some(s.t.clone()), "{backend:?}");
        let code = tx.code_for_update("h1").await.unwrap().expect("the code");
        assert_eq!(
            (code.id, code.wallet_id, code.max_amount),
            (id, s.wallet, Some(50))
        );
        assert_eq!(
            (code.currency.as_deref(), code.expires_at),
            (Some("EUR"), 100)
        );
        assert_eq!(code.used_at, None);
        assert_eq!(
            tx.transaction_and_code_for_update(&key("k9"), "h1")
                .await
                .unwrap(),
            None
        );
        tx.use_code_at_commit(id, &key("k1"), 7);
        drop(tx);

        let mut tx = s.store.write().await.unwrap();
        tx.transaction_and_code_for_update(&key("k1"), "h1")
            .await
            .unwrap();
        let code = tx.code_for_update("h1").await.unwrap().unwrap();
        assert_eq!(code.used_at, None, "{backend:?}: dropped, still unused");
        tx.use_code_at_commit(id, &key("k1"), 7);
        tx.commit().await.unwrap();

        let mut tx = s.store.write().await.unwrap();
        tx.transaction_and_code_for_update(&key("k1"), "h1")
            .await
            .unwrap();
        let code = tx.code_for_update("h1").await.unwrap().unwrap();
        assert_eq!(code.used_at, Some(7), "{backend:?}");
        tx.use_code_at_commit(id, &key("k1"), 8);
        assert!(
            matches!(tx.commit().await, Err(wallet_store::StoreError::Corrupt(_))),
            "{backend:?}: used already"
        );
        let mut tx = s.store.read().await.unwrap();
        assert_eq!(
            tx.code_for_update("h1").await.unwrap().unwrap().used_at,
            Some(7)
        );
    }
}

/// Authentication reads what creating a transaction needs of the client's project: its wallet,
/// and whether it has limits per transaction, which create then reads in its own transaction.
#[tokio::test]
async fn client_lookup_tells_the_project_wallet_and_its_limits() {
    for backend in backends() {
        let (store, ..) = funded(backend, 100).await;
        let mut tx = store.write().await.unwrap();
        let (project_wallet, project, _) = project_with_transaction(&mut tx, "k1").await;
        tx.commit().await.unwrap();
        let lookup = || async {
            let mut tx = store.lookup().await.unwrap();
            let found = tx.client_with_counts("id", 0, None).await.unwrap().unwrap();
            (found.project_wallet_id, found.project_limits)
        };
        assert_eq!(lookup().await, (project_wallet, 0), "{backend:?}");
        let mut tx = store.write().await.unwrap();
        tx.set_project_limit(project, eur(), Some(100))
            .await
            .unwrap();
        let usd = Currency::parse("USD").unwrap();
        tx.set_project_limit(project, usd, Some(100)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(lookup().await, (project_wallet, 2), "{backend:?}");
        let mut tx = store.lookup().await.unwrap();
        assert!(
            tx.client_with_counts("other", 0, None)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn nonces_are_single_use_and_unique_values_conflict() {
    for backend in backends() {
        let (_store, mut tx) = writing(backend).await;
        assert!(tx.remember_nonce("id", "n, =x", 10).await.unwrap());
        assert!(
            !tx.remember_nonce("id", "n, =x", 11).await.unwrap(),
            "{backend:?}: replay accepted"
        );
        assert!(tx.remember_nonce("other", "n, =x", 11).await.unwrap());
        assert_eq!(tx.forget_nonces(11).await.unwrap(), 1);
        tx.insert_user("a@example.com", "h", 0).await.unwrap();
        let taken = tx.insert_user("a@example.com", "h", 0).await.err();
        assert_eq!(taken.and_then(|e| e.kind()), Some(ErrorKind::Conflict));
    }
}

#[tokio::test]
async fn idempotent_answers_are_first_come_and_forgotten_by_age() {
    for backend in backends() {
        let (_store, mut tx) = writing(backend).await;
        let first = ok_answer("{\"a\":1}");
        let second = wallet_store::IdempotentAnswer {
            body: "{\"a\":2}".into(),
            ..first.clone()
        };
        assert!(
            tx.store_idempotent_answer(ClientId::new(7), "k", &first, 1_000)
                .await
                .unwrap()
        );
        assert!(
            !tx.store_idempotent_answer(ClientId::new(7), "k", &second, 1_001)
                .await
                .unwrap(),
            "{backend:?}: second answer stored"
        );
        assert!(
            tx.store_idempotent_answer(ClientId::new(8), "k", &second, 1_001)
                .await
                .unwrap(),
            "keys are per client"
        );
        assert_eq!(
            tx.idempotent_answer(ClientId::new(7), "k").await.unwrap(),
            Some(first)
        );
        assert_eq!(
            tx.forget_idempotent_answers(1_000).await.unwrap(),
            0,
            "not older than the cut-off"
        );
        assert_eq!(tx.forget_idempotent_answers(1_002).await.unwrap(), 2);
        assert_eq!(
            tx.idempotent_answer(ClientId::new(7), "k").await.unwrap(),
            None
        );
        // The sandbox clock offset only moves forward from where it stands.
        assert_eq!(tx.clock_offset().await.unwrap(), 0);
        assert_eq!(tx.advance_clock(60).await.unwrap(), 60);
        assert_eq!(tx.advance_clock(5).await.unwrap(), 65);
        assert_eq!(tx.clock_offset().await.unwrap(), 65);
    }
}

/// An answer stored at commit is stored with the change, or, when another request with the same
/// key was answered meanwhile, refuses the whole transaction: its change is not written.
#[tokio::test]
async fn answers_stored_at_commit_lose_to_an_earlier_one_and_take_nothing_with_them() {
    for backend in backends() {
        let (store, mut tx, user) = with_user(backend, "first@example.com").await;
        tx.answer_at_commit(ClientId::new(7), "k", &ok_answer("first"), 1_000);
        tx.commit().await.unwrap();
        let mut tx = store.write().await.unwrap();
        tx.insert_user("second@example.com", "x", 0).await.unwrap();
        tx.answer_at_commit(ClientId::new(7), "k", &ok_answer("second"), 1_001);
        assert!(
            matches!(
                tx.commit().await,
                Err(wallet_store::StoreError::AnsweredMeanwhile)
            ),
            "{backend:?}: the second answer was stored"
        );
        let mut tx = store.read().await.unwrap();
        assert_eq!(
            tx.idempotent_answer(ClientId::new(7), "k").await.unwrap(),
            Some(ok_answer("first"))
        );
        assert!(
            tx.user_by_email("first@example.com")
                .await
                .unwrap()
                .map(|u| u.id)
                == Some(user)
        );
        assert!(
            tx.user_by_email("second@example.com")
                .await
                .unwrap()
                .is_none(),
            "{backend:?}: the refused transaction's change was written"
        );
    }
}

/// `payer` reads a wallet, its holder and its limits in one statement: the same as `wallet`,
/// `holder` and `wallet_limits` one by one, with no limit, several, and in several currencies;
/// and whether the wallets it would pay are all active.
#[tokio::test]
async fn a_payer_is_its_wallet_holder_and_limits() {
    use wallet_core::allowance::WindowLimit;
    use wallet_store::LimitKind;
    for backend in backends() {
        let (store, wallet, _) = funded(backend, 1).await;
        let usd = Currency::parse("USD").unwrap();
        let mut tx = store.write().await.unwrap();
        let owner = tx.wallet(wallet).await.unwrap().unwrap().owner_user_id;
        let payer = tx.payer(wallet, &[]).await.unwrap().expect("the wallet");
        assert_eq!(Some(payer.wallet.clone()), tx.wallet(wallet).await.unwrap());
        assert_eq!(payer.holder, tx.holder(owner).await.unwrap(), "{backend:?}");
        assert!(payer.holder.is_some());
        assert_eq!(payer.limits_in(eur()), Vec::new());
        let limit = |max_price, time| Some(WindowLimit { max_price, time });
        for (currency, kind, l) in [
            (eur(), LimitKind::Restriction, limit(100, 60)),
            (eur(), LimitKind::Holder, limit(500, 3600)),
            (usd, LimitKind::Holder, limit(7, 86_400)),
        ] {
            tx.set_wallet_limit(wallet, currency, kind, l)
                .await
                .unwrap();
        }
        let payer = tx.payer(wallet, &[]).await.unwrap().unwrap();
        for currency in [eur(), usd] {
            let one_by_one = tx.wallet_limits(wallet, currency).await.unwrap();
            assert_eq!(
                payer.limits_in(currency),
                one_by_one,
                "{backend:?} {currency}"
            );
        }
        assert_eq!(payer.limits_in(eur()).len(), 2);
        assert_eq!(
            tx.payer(WalletId::new(wallet.get() + 1000), &[])
                .await
                .unwrap(),
            None
        );

        let (other, _, _) = project_with_transaction(&mut tx, "k1").await;
        async fn pays_only_active(
            tx: &mut wallet_store::Tx,
            wallet: WalletId,
            paying: &[WalletId],
        ) -> bool {
            let payer = tx.payer(wallet, paying).await.unwrap().unwrap();
            payer.pays_only_active
        }
        assert!(pays_only_active(&mut tx, wallet, &[]).await, "{backend:?}");
        assert!(pays_only_active(&mut tx, wallet, &[other, other]).await);
        let unknown = [other, WalletId::new(wallet.get() + 1000)];
        assert!(
            !pays_only_active(&mut tx, wallet, &unknown).await,
            "{backend:?}"
        );
        tx.set_wallet_active(other, false).await.unwrap();
        assert!(
            !pays_only_active(&mut tx, wallet, &[other]).await,
            "{backend:?}"
        );
    }
}
