//! The sync engine on the PostgreSQL store: the real ConnectWise connector against the
//! simulator, into a `PgStore` (the tests' own throwaway server, or
//! `PSAHOST_TEST_DATABASE_URL`), holding the same records and the same change feed as sled.

use psahost_store::{Entity, RecordStore, SledStore};
use psahost_testkit::sync::*;
use psahost_workflows::sync::{NoProgress, SyncEngine, SyncRequest, SyncSettings};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_into_postgres_holds_what_a_sync_into_sled_holds() {
    let sim = simulator(12, None).await;
    let conn = connect(&sim, "acme").await;
    let settings = SyncSettings {
        page_size: Some(7),
        retry_backoff: Duration::from_millis(10),
        ..SyncSettings::default()
    };
    let factory = psahost_pgtest::PgFactory::new();
    let pg: Arc<dyn RecordStore> = Arc::new(
        psahost_pgtest::open(&factory.schema)
            .await
            .expect("PgStore opens"),
    );
    let sled: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
    for store in [&pg, &sled] {
        let engine = SyncEngine::new(store.clone(), settings.clone());
        let first = engine
            .sync_connection(&conn, &Entity::ALL, SyncRequest::full(), &NoProgress)
            .await
            .unwrap();
        assert!(first.all_completed(), "{first:?}");
        // A second sweep finds everything unchanged: no event, the feed ends where it was.
        let seq = last_seq(store.as_ref(), "acme").await;
        let second = engine
            .sync_connection(&conn, &Entity::ALL, SyncRequest::full(), &NoProgress)
            .await
            .unwrap();
        assert!(
            second.runs.iter().all(|r| r.created == 0 && r.updated == 0),
            "{second:?}"
        );
        assert_eq!(last_seq(store.as_ref(), "acme").await, seq);
    }
    for entity in Entity::ALL {
        assert_eq!(
            stored_ids(pg.as_ref(), "acme", entity).await,
            stored_ids(sled.as_ref(), "acme", entity).await,
            "{entity}"
        );
    }
    let (pg_feed, sled_feed) = (
        changes_after(pg.as_ref(), "acme", 0).await,
        changes_after(sled.as_ref(), "acme", 0).await,
    );
    assert_eq!(pg_feed.len(), sled_feed.len());
    assert!(
        pg_feed
            .iter()
            .enumerate()
            .all(|(n, c)| c.seq == n as u64 + 1),
        "the PostgreSQL feed is gapless from 1"
    );
    assert_eq!(
        kinds_by_record(&pg_feed),
        kinds_by_record(&sled_feed),
        "the same events for the same records"
    );
    sim.shutdown().await;
}
