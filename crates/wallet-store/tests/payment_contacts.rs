//! Beneficiaries waiting to register, on both stores: kept per payment, found by transaction and
//! by contact, resolved to a wallet once; and the wallet of a contact found in its normal forms,
//! a phone only once confirmed.

use wallet_store::testing::fixtures::{new_payment, project_with_transaction};
use wallet_store::testing::{backends, fresh_store};
use wallet_store::{HolderUpdate, PaymentContact};

#[tokio::test]
async fn waiting_beneficiaries_are_found_and_resolved_once() {
    for backend in backends() {
        let store = fresh_store(backend).await;
        let mut tx = store.write().await.unwrap();
        let (placeholder, project, t) = project_with_transaction(&mut tx, "k1").await;
        let key = &t.transaction_key;
        let by_email = tx
            .insert_payment(&new_payment(key, project, placeholder, 100))
            .await
            .unwrap();
        let by_phone = tx
            .insert_payment(&new_payment(key, project, placeholder, 200))
            .await
            .unwrap();
        tx.insert_payment_contact(by_email, Some("carol@example.com"), None, 0)
            .await
            .unwrap();
        tx.insert_payment_contact(by_phone, None, Some("+37060000009"), 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let contact = |payment_id, email: Option<&str>, phone: Option<&str>| PaymentContact {
            payment_id,
            transaction_key: key.clone(),
            email: email.map(str::to_string),
            phone: phone.map(str::to_string),
        };
        let carol = contact(by_email, Some("carol@example.com"), None);
        let phone = contact(by_phone, None, Some("+37060000009"));
        let mut tx = store.write().await.unwrap();
        assert_eq!(
            tx.payment_contacts_of(key).await.unwrap(),
            vec![carol.clone(), phone.clone()],
            "{backend:?}"
        );
        assert_eq!(
            tx.payment_contacts_for(Some("carol@example.com"), None)
                .await
                .unwrap(),
            vec![carol]
        );
        assert_eq!(
            tx.payment_contacts_for(None, Some("+37060000009"))
                .await
                .unwrap(),
            vec![phone.clone()]
        );
        assert!(
            tx.payment_contacts_for(Some("x@example.com"), Some("+1"))
                .await
                .unwrap()
                .is_empty()
        );

        let user = tx.insert_user("carol@example.com", "x", 0).await.unwrap();
        let wallet = tx.insert_wallet(user, 0).await.unwrap();
        tx.resolve_payment_contact(by_email, wallet, r#"{"id":1}"#)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.payment_contacts_of(key).await.unwrap(), vec![phone]);
        let paid = tx.payment(by_email).await.unwrap().unwrap();
        assert_eq!(paid.beneficiary_wallet_id, wallet, "{backend:?}");
        assert_eq!(paid.beneficiary_json.as_deref(), Some(r#"{"id":1}"#));
        let waiting = tx.payment(by_phone).await.unwrap().unwrap();
        assert_eq!(waiting.beneficiary_wallet_id, placeholder);
    }
}

#[tokio::test]
async fn a_contact_finds_the_first_wallet_in_its_normal_form_and_a_phone_once_confirmed() {
    for backend in backends() {
        let store = fresh_store(backend).await;
        let mut tx = store.write().await.unwrap();
        let dave = tx.insert_user("Dave@Example.com", "x", 0).await.unwrap();
        let first = tx.insert_wallet(dave, 0).await.unwrap();
        tx.insert_wallet(dave, 0).await.unwrap();
        let phone = |confirmed| HolderUpdate {
            phone: Some(Some("+370 600 00003".into())),
            phone_confirmed: Some(confirmed),
            ..Default::default()
        };
        tx.update_holder(dave, &phone(false)).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.write().await.unwrap();
        assert_eq!(
            tx.wallet_of_contact(Some(" dave@EXAMPLE.com"), None)
                .await
                .unwrap(),
            Some((dave, first)),
            "{backend:?}"
        );
        assert_eq!(
            tx.wallet_of_contact(None, Some("37060000003"))
                .await
                .unwrap(),
            None
        );
        tx.update_holder(dave, &phone(true)).await.unwrap();
        assert_eq!(
            tx.wallet_of_contact(None, Some("+370-600-00003"))
                .await
                .unwrap(),
            Some((dave, first)),
            "{backend:?}"
        );
        assert_eq!(
            tx.wallet_of_contact(Some("nobody@example.com"), None)
                .await
                .unwrap(),
            None
        );
        tx.commit().await.unwrap();
    }
}
