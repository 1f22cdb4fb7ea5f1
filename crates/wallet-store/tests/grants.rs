//! The OAuth authorization code grant's rows, on both stores: redirect URIs replaced as a set, a
//! code redeemed once and only by its client, the tokens of a code revoked together (a refreshed
//! one too), prepared sessions found until they expire, and the expired forgotten.

use wallet_core::ClientId;
use wallet_store::testing::fixtures::insert_project;
use wallet_store::testing::{backends, fresh_store};
use wallet_store::{CodeGrantRow, OAuthSessionRow, TokenRow, Tx};

/// A code grant of `client` for `user`, expiring at 600.
fn grant(client: ClientId, user: wallet_core::UserId) -> CodeGrantRow {
    CodeGrantRow {
        client_id: client,
        user_id: user,
        scope: "balance statements".into(),
        redirect_uri: "https://shop.example/back".into(),
        redirect_given: true,
        expires_at: 600,
    }
}

/// Stores access token `name` of `client` for `user`.
async fn token(tx: &mut Tx, name: &str, client: ClientId, user: wallet_core::UserId) {
    let t = TokenRow {
        access_token: name.into(),
        mac_key: "k".into(),
        client_id: client,
        user_id: user,
        scope: "balance".into(),
        expires_at: 3600,
    };
    tx.insert_token(&t, &format!("refresh-{name}"), 7200, 0)
        .await
        .unwrap();
}

#[tokio::test]
async fn redirect_uris_are_replaced_as_a_set() {
    for backend in backends() {
        let store = fresh_store(backend).await;
        let mut tx = store.write().await.unwrap();
        let (_, _, client) = insert_project(&mut tx).await;
        assert!(tx.redirect_uris(client).await.unwrap().is_empty());
        let uris = |list: &[&str]| list.iter().map(|u| u.to_string()).collect::<Vec<_>>();
        tx.set_redirect_uris(client, &uris(&["https://b.example/", "https://a.example/"]))
            .await
            .unwrap();
        // A repeated URI is kept once; the old set goes.
        tx.set_redirect_uris(client, &uris(&["https://c.example/", "https://c.example/"]))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.read().await.unwrap();
        assert_eq!(
            tx.redirect_uris(client).await.unwrap(),
            uris(&["https://c.example/"]),
            "{backend:?}"
        );
        assert!(tx.client(client).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn a_code_is_redeemed_once_and_only_by_its_client() {
    for backend in backends() {
        let store = fresh_store(backend).await;
        let mut tx = store.write().await.unwrap();
        let (_, project, client) = insert_project(&mut tx).await;
        let other = tx
            .insert_client(project, "other", "secret", "reservation_code", 0)
            .await
            .unwrap();
        let user = tx.insert_user("holder@example.com", "x", 0).await.unwrap();
        tx.insert_code_grant("code-hash", &grant(client, user), 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.write().await.unwrap();
        assert_eq!(
            tx.take_code_grant("code-hash", other, 10).await.unwrap(),
            None
        );
        assert!(!tx.code_grant_used("code-hash", client).await.unwrap());
        assert_eq!(
            tx.take_code_grant("code-hash", client, 10).await.unwrap(),
            Some(grant(client, user)),
            "{backend:?}"
        );
        assert_eq!(
            tx.take_code_grant("code-hash", client, 11).await.unwrap(),
            None
        );
        assert!(tx.code_grant_used("code-hash", client).await.unwrap());
        assert!(!tx.code_grant_used("code-hash", other).await.unwrap());
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn the_tokens_of_a_code_are_revoked_together() {
    for backend in backends() {
        let store = fresh_store(backend).await;
        let mut tx = store.write().await.unwrap();
        let (_, _, client) = insert_project(&mut tx).await;
        let user = tx.insert_user("holder@example.com", "x", 0).await.unwrap();
        token(&mut tx, "first", client, user).await;
        tx.set_token_grant_code("first", "code-hash").await.unwrap();
        // Refreshed into `second`, which descends from the same code.
        token(&mut tx, "second", client, user).await;
        tx.inherit_grant_code("second", "first").await.unwrap();
        // A token of the password grant descends from no code.
        token(&mut tx, "unrelated", client, user).await;
        tx.commit().await.unwrap();

        let mut tx = store.write().await.unwrap();
        assert_eq!(
            tx.revoke_tokens_of_code("code-hash").await.unwrap(),
            2,
            "{backend:?}"
        );
        assert_eq!(tx.revoke_tokens_of_code("code-hash").await.unwrap(), 0);
        assert!(tx.token("first").await.unwrap().is_none());
        assert!(tx.token("second").await.unwrap().is_none());
        assert!(tx.token("unrelated").await.unwrap().is_some());
        // A revoked token's refresh token is gone with it.
        assert!(
            tx.take_refresh("refresh-second", client, 10)
                .await
                .unwrap()
                .is_none()
        );
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn prepared_sessions_last_until_they_expire_and_are_then_forgotten() {
    for backend in backends() {
        let store = fresh_store(backend).await;
        let mut tx = store.write().await.unwrap();
        let (_, _, client) = insert_project(&mut tx).await;
        let session = OAuthSessionRow {
            client_id: client,
            scope: "balance".into(),
            redirect_uri: "https://shop.example/back".into(),
            redirect_given: false,
            state: Some("xyz".into()),
            email: Some("holder@example.com".into()),
        };
        tx.insert_oauth_session("early", &session, 0, 100)
            .await
            .unwrap();
        tx.insert_oauth_session("late", &session, 0, 1000)
            .await
            .unwrap();
        let user = tx.insert_user("holder@example.com", "x", 0).await.unwrap();
        let mut early_code = grant(client, user);
        early_code.expires_at = 100;
        tx.insert_code_grant("early-code", &early_code, 0)
            .await
            .unwrap();
        tx.insert_code_grant("late-code", &grant(client, user), 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.write().await.unwrap();
        assert_eq!(
            tx.oauth_session("early", 99).await.unwrap(),
            Some(session.clone())
        );
        assert_eq!(
            tx.oauth_session("early", 100).await.unwrap(),
            None,
            "{backend:?}"
        );
        // Expired before 500: one prepared session and one code.
        assert_eq!(tx.forget_oauth_grants(500).await.unwrap(), 2);
        assert_eq!(tx.oauth_session("late", 500).await.unwrap(), Some(session));
        assert!(
            tx.take_code_grant("late-code", client, 500)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            tx.take_code_grant("early-code", client, 50)
                .await
                .unwrap()
                .is_none()
        );
        assert!(tx.delete_oauth_session("late").await.unwrap());
        assert!(!tx.delete_oauth_session("late").await.unwrap());
        tx.commit().await.unwrap();
    }
}
