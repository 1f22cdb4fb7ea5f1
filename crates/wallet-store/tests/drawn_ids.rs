//! PostgreSQL's ids drawn ahead (`ids.rs`): a block drawn inside a transaction is shared with
//! later transactions only once that one committed. A failover can lose the sequence's advance
//! made by a transaction that never committed; ids of its block handed out afterwards could be
//! handed out again by the promoted standby.

use wallet_core::{ClientId, PaymentId, ProjectId, WalletId};
use wallet_store::testing::fixtures::{insert_project, new_payment, new_transaction};
use wallet_store::testing::{available, fresh_store};
use wallet_store::{Backend, Store};

/// Ids drawn per block (`ids::BLOCK`).
const BLOCK: i64 = 32;

/// In a transaction already begun (a user written first), creates transaction `key` with one
/// payment to `world`'s project wallet, then commits or rolls back: the payment's id.
async fn create_inside(
    store: &Store,
    world: (WalletId, ProjectId, ClientId),
    key: &str,
    commit: bool,
) -> i64 {
    let (wallet, project, client) = world;
    let mut tx = store.write().await.unwrap();
    tx.insert_user(&format!("{key}@example.com"), "x", 0)
        .await
        .unwrap();
    let t = new_transaction(key, project, client);
    let p = new_payment(&t.transaction_key, project, wallet, 100);
    let rows = tx
        .insert_transaction_with_payments(&t, &[p], 0)
        .await
        .unwrap();
    match commit {
        true => tx.commit().await.unwrap(),
        false => tx.rollback().await.unwrap(),
    }
    PaymentId::get(rows[0].id)
}

#[tokio::test]
async fn ids_drawn_in_a_transaction_are_shared_only_once_it_committed() {
    if !available(Backend::Postgres) {
        return;
    }
    let store = fresh_store(Backend::Postgres).await;
    let mut tx = store.write().await.unwrap();
    let world = insert_project(&mut tx).await;
    tx.commit().await.unwrap();

    // Rolled back: the rest of its block is never handed out.
    let dropped = create_inside(&store, world, "k1", false).await;
    let after_rollback = create_inside(&store, world, "k2", true).await;
    assert!(
        after_rollback >= dropped + BLOCK,
        "{after_rollback} drawn from the block of {dropped}, which never committed"
    );
    // Committed: the rest of its block serves the next transactions, in order.
    let next = create_inside(&store, world, "k3", true).await;
    assert_eq!(next, after_rollback + 1);
}
