//! Wallets found by their holder's contacts, on both stores: normal forms, SHA-1s, confirmed
//! phones only, the first wallet of the first user.

use wallet_core::contacts::{contact_hash, email_key, phone_key};
use wallet_store::testing::backends;
use wallet_store::testing::fixtures::with_user;
use wallet_store::{ContactKind, HolderUpdate};

#[tokio::test]
async fn wallets_are_found_by_normal_forms_and_their_hashes() {
    for backend in backends() {
        let (store, mut tx, alice) = with_user(backend, "Alice@Example.com").await;
        let first = tx.insert_wallet(alice, 0).await.unwrap();
        tx.insert_wallet(alice, 0).await.unwrap();
        let phone = HolderUpdate {
            phone: Some(Some("+370 600 00001".into())),
            phone_confirmed: Some(true),
            ..Default::default()
        };
        tx.update_holder(alice, &phone).await.unwrap();
        let bob = tx.insert_user("bob@example.com", "x", 0).await.unwrap();
        tx.insert_wallet(bob, 0).await.unwrap();
        let unconfirmed = HolderUpdate {
            phone: Some(Some("37060000002".into())),
            ..Default::default()
        };
        tx.update_holder(bob, &unconfirmed).await.unwrap();
        // A user without a wallet is found by nothing.
        tx.insert_user("nowallet@example.com", "x", 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.read().await.unwrap();
        let found = |kind, keys: &[&str]| {
            let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            (kind, keys)
        };
        let alice_email = email_key("ALICE@example.COM");
        for (kind, keys) in [
            found(ContactKind::Email, &[&alice_email, "nobody@example.com"]),
            found(ContactKind::Phone, &[&phone_key("+370-600-00001")]),
            found(
                ContactKind::EmailHash,
                &[&contact_hash("alice@example.com")],
            ),
            found(ContactKind::PhoneHash, &[&contact_hash("37060000001")]),
        ] {
            let rows = tx.wallets_by_contact(kind, &keys).await.unwrap();
            assert_eq!(
                rows,
                vec![(keys[0].clone(), first, alice)],
                "{backend:?} {kind:?}"
            );
        }
        for (kind, keys) in [
            // Bob's phone is not confirmed.
            found(ContactKind::Phone, &["37060000002"]),
            found(ContactKind::PhoneHash, &[&contact_hash("37060000002")]),
            found(ContactKind::Email, &["nowallet@example.com"]),
            // A hash is not the contact, nor the contact a hash.
            found(ContactKind::Email, &[&contact_hash("alice@example.com")]),
            found(ContactKind::EmailHash, &["alice@example.com"]),
        ] {
            let rows = tx.wallets_by_contact(kind, &keys).await.unwrap();
            assert!(rows.is_empty(), "{backend:?} {kind:?} {keys:?}: {rows:?}");
        }
        // A phone removed is found no more.
        drop(tx);
        let mut tx = store.write().await.unwrap();
        let remove = HolderUpdate {
            phone: Some(None),
            ..Default::default()
        };
        tx.update_holder(alice, &remove).await.unwrap();
        let rows = tx
            .wallets_by_contact(ContactKind::Phone, &["37060000001".into()])
            .await
            .unwrap();
        assert!(rows.is_empty(), "{backend:?}");
    }
}
