//! The callback outbox on both backends: each due callback is claimed by one worker at a time,
//! a lease keeps it from others, failures are rescheduled, and redelivery re-queues.

use wallet_core::ProjectId;
use wallet_store::testing::fixtures::{insert_project, key};
use wallet_store::testing::{backends, fresh_store};
use wallet_store::{CallbackFilter, NewCallback, Store};

/// A project to hang callbacks on.
async fn project(store: &Store) -> ProjectId {
    let mut tx = store.write().await.unwrap();
    let (_, project, _) = insert_project(&mut tx).await;
    tx.commit().await.unwrap();
    project
}

async fn enqueue(store: &Store, project: ProjectId, n: usize, now: i64) -> Vec<i64> {
    let mut tx = store.write().await.unwrap();
    let mut ids = Vec::new();
    let k = key("k");
    for i in 0..n {
        let event = format!(r#"{{"type":"failed","object":"transaction","data":{{"n":{i}}}}}"#);
        let c = NewCallback {
            project_id: project,
            transaction_key: Some(&k),
            object: "transaction",
            event_type: "failed",
            uri: "http://127.0.0.1:9/cb",
            event: &event,
        };
        ids.push(tx.insert_callback(&c, now).await.unwrap());
    }
    tx.commit().await.unwrap();
    ids
}

async fn claim(store: &Store, now: i64) -> Option<wallet_store::CallbackRow> {
    let mut tx = store.write().await.unwrap();
    let row = tx.claim_callback(now, now + 60).await.unwrap();
    tx.commit().await.unwrap();
    row
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_take_each_callback_once() {
    for backend in backends() {
        let store = fresh_store(backend).await;
        let p = project(&store).await;
        let mut ids = enqueue(&store, p, 20, 1_000).await;
        let mut workers = Vec::new();
        for _ in 0..6 {
            let store = store.clone();
            workers.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..10 {
                    if let Some(row) = claim(&store, 1_000).await {
                        got.push(row.id);
                    }
                }
                got
            }));
        }
        let mut claimed = Vec::new();
        for w in workers {
            claimed.extend(w.await.unwrap());
        }
        // Claims that lost a race come back empty; the rest are all distinct. Mop up after.
        while let Some(row) = claim(&store, 1_000).await {
            claimed.push(row.id);
        }
        claimed.sort();
        ids.sort();
        assert_eq!(
            claimed, ids,
            "{backend:?}: every callback claimed exactly once"
        );
        // Leased: nothing more until the lease runs out, then each is due again.
        assert!(claim(&store, 1_059).await.is_none());
        let again = claim(&store, 1_061).await.unwrap();
        assert_eq!(again.attempts, 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_reschedule_and_redelivery_requeues() {
    // Long: one callback's life, each step claimed against the state the step before left.
    for backend in backends() {
        let store = fresh_store(backend).await;
        let p = project(&store).await;
        let id = enqueue(&store, p, 1, 1_000).await[0];
        assert!(
            claim(&store, 999).await.is_none(),
            "not due before it was created"
        );
        let row = claim(&store, 1_000).await.unwrap();
        assert_eq!(
            (row.id, row.attempts, row.locked_until),
            (id, 1, Some(1_060))
        );

        let mut tx = store.write().await.unwrap();
        assert!(
            tx.callback_failed(id, Some(500), "HTTP 500", Some(1_010))
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        assert!(
            claim(&store, 1_009).await.is_none(),
            "{backend:?}: backing off"
        );
        let row = claim(&store, 1_010).await.unwrap();
        assert_eq!((row.attempts, row.last_status), (2, Some(500)));

        let mut tx = store.write().await.unwrap();
        assert!(tx.callback_delivered(id, 200, 1_011).await.unwrap());
        let pending = CallbackFilter {
            undelivered: true,
            transaction_key: None,
        };
        assert!(tx.callbacks(&pending, 10).await.unwrap().is_empty());
        tx.commit().await.unwrap();
        assert!(claim(&store, 5_000).await.is_none(), "delivered is done");

        let mut tx = store.write().await.unwrap();
        assert!(tx.requeue_callback(id, 2_000).await.unwrap());
        assert!(!tx.requeue_callback(id + 1, 2_000).await.unwrap());
        tx.commit().await.unwrap();
        let row = claim(&store, 2_000).await.unwrap();
        assert_eq!((row.attempts, row.delivered_at), (1, None));

        // Given up (no next attempt): never claimed until re-queued.
        let mut tx = store.write().await.unwrap();
        tx.callback_failed(id, None, "could not connect", None)
            .await
            .unwrap();
        assert!(
            tx.set_project_callback_uri(p, Some("http://x/cb"))
                .await
                .unwrap()
        );
        assert_eq!(
            tx.project(p)
                .await
                .unwrap()
                .unwrap()
                .callback_uri
                .as_deref(),
            Some("http://x/cb")
        );
        assert!(
            !tx.set_project_callback_uri(ProjectId::new(p.get() + 1), None)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        assert!(claim(&store, 1_000_000).await.is_none());
        let by_key = CallbackFilter {
            undelivered: true,
            transaction_key: Some(key("k")),
        };
        let mut tx = store.read().await.unwrap();
        let rows = tx.callbacks(&by_key, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].next_attempt_at, None);
        assert_eq!(rows[0].last_error.as_deref(), Some("could not connect"));
    }
}
