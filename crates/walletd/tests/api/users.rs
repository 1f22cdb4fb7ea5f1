//! `GET user/{id|me}` and its parts: a holder's data, read only through her own access token and
//! only as far as its scope goes.

use crate::helpers::{TestApp, call, code_of, refused};
use crate::lookups::token_of;
use crate::on_both;
use serde_json::json;
use wallet_client::Method;
use wallet_store::HolderUpdate;

async fn a_holder_reads_herself_as_her_tokens_scope_allows(app: TestApp) {
    let mac_id = app.demo.client.mac_id.clone();
    let user = app.demo.users[0].user_id;
    let alice = token_of(&app, 0, &mac_id, "email phone wallet_list identity_offline").await;
    let me = call(&alice, Method::GET, "user/me", None).await;
    let expected = json!({
        "id": user.get(),
        "email": "alice@example.com",
        "phone": "37060000001",
        "wallets": [app.alice().get()],
    });
    assert_eq!(me, expected);
    assert_eq!(
        call(&alice, Method::GET, &format!("user/{user}"), None).await,
        expected
    );
    assert_eq!(
        alice.get_user_email("me").await.unwrap(),
        "alice@example.com"
    );
    assert_eq!(alice.get_user_phone(user).await.unwrap(), "37060000001");
    assert_eq!(
        alice.get_user_confirmed_phones("me").await.unwrap(),
        vec!["37060000001".to_string()]
    );
    let wallets = alice.get_user_wallets("me").await.unwrap();
    assert_eq!(wallets.len(), 1);
    assert_eq!((wallets[0].id, wallets[0].owner), (app.alice(), user));
    // walletd keeps no identity or address: not found, once the token may ask.
    assert_eq!(
        refused(&alice, Method::GET, "user/me/identity", None).await,
        "not_found"
    );
    assert_eq!(
        refused(&alice, Method::GET, "user/me/address", None).await,
        "forbidden"
    );
    let with_address = token_of(&app, 0, &mac_id, "address pep_offline").await;
    for part in ["address", "pes"] {
        let path = format!("user/me/{part}");
        let code = refused(&with_address, Method::GET, &path, None).await;
        assert_eq!(code, "not_found", "{part}");
    }
    // A token without those scopes reads her id only, and none of the parts.
    let narrow = token_of(&app, 0, &mac_id, "wallet").await;
    assert_eq!(
        call(&narrow, Method::GET, "user/me", None).await,
        json!({"id": user.get()})
    );
    for part in [
        "email",
        "phone",
        "confirmed-phones",
        "wallets",
        "identity",
        "pes",
    ] {
        let path = format!("user/me/{part}");
        assert_eq!(
            refused(&narrow, Method::GET, &path, None).await,
            "forbidden",
            "{part}"
        );
    }
    // An unconfirmed phone is no phone.
    let unconfirmed = HolderUpdate {
        phone_confirmed: Some(false),
        ..Default::default()
    };
    app.set_holder(0, unconfirmed).await;
    assert_eq!(code_of(alice.get_user_phone("me").await), "not_found");
    assert!(
        alice
            .get_user_confirmed_phones("me")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        call(&alice, Method::GET, "user/me", None)
            .await
            .get("phone")
            .is_none()
    );
}
on_both!(a_holder_reads_herself_as_her_tokens_scope_allows);

async fn users_are_not_for_clients_nor_other_holders(app: TestApp) {
    let (alice, bob) = (app.demo.users[0].user_id, app.demo.users[1].user_id);
    for part in [
        "",
        "/email",
        "/phone",
        "/confirmed-phones",
        "/wallets",
        "/address",
        "/identity",
        "/pes",
    ] {
        // Client credentials: `me` names nobody, a holder is hers to share.
        let me = format!("user/me{part}");
        assert_eq!(app.get_error(&me).await, "not_found", "{me}");
        let hers = format!("user/{alice}{part}");
        assert_eq!(app.get_error(&hers).await, "forbidden", "{hers}");
        for unknown in [format!("user/999999{part}"), format!("user/abc{part}")] {
            assert_eq!(app.get_error(&unknown).await, "not_found", "{unknown}");
        }
    }
    let token = token_of(&app, 0, &app.demo.client.mac_id, "email phone wallet_list").await;
    for part in ["", "/email", "/wallets"] {
        let his = format!("user/{bob}{part}");
        assert_eq!(
            refused(&token, Method::GET, &his, None).await,
            "forbidden",
            "{his}"
        );
    }
}
on_both!(users_are_not_for_clients_nor_other_holders);
