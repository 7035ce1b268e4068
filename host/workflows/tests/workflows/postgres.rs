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

/// The PostgreSQL server stopped in the middle of a sync: the run fails with an error naming
/// the store (nothing half-written: every committed page is whole); once the server is back,
/// the next run resumes from the checkpoint, and the feed ends with every record once and no
/// gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_mid_sync_fails_the_run_and_the_next_resumes() {
    use psahost_store::{ChangeKind, PgOptions, PgStore};
    // A server of the test's own: the shared one must not stop under the other tests.
    let server = tokio::task::spawn_blocking(|| {
        let server = psahost_pgtest::Instance::create()?;
        server.start()?;
        Ok::<_, String>(server)
    })
    .await
    .unwrap()
    .expect("a PostgreSQL server of the test's own");
    let pg = Arc::new(
        PgStore::connect(
            &server.url(),
            PgOptions {
                schema: None,
                max_connections: 4,
                ..PgOptions::default()
            },
        )
        .await
        .expect("PgStore opens"),
    );
    let sim = simulator(150, None).await;
    let expected = listed_company_ids(&sim);
    let conn = connect(&sim, "acme").await;
    let engine = Arc::new(SyncEngine::new(
        pg.clone(),
        SyncSettings {
            page_size: Some(10),
            page_retries: 0,
            ..SyncSettings::default()
        },
    ));
    // Slow pages, so the server stops in the middle of the run.
    sim.faults().set_delay_ms(40);
    let run = {
        let (engine, conn) = (engine.clone(), conn.clone());
        tokio::spawn(async move {
            engine
                .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
                .await
        })
    };
    let started = std::time::Instant::now();
    while last_seq(pg.as_ref(), "acme").await < 30 {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let server = tokio::task::spawn_blocking(move || server.stop().map(|()| server))
        .await
        .unwrap()
        .expect("the server stops");
    let err = run
        .await
        .unwrap()
        .expect_err("the run fails while the store is down");
    assert!(
        format!("{err:#}").contains("PostgreSQL") || format!("{err:#}").contains("store"),
        "the error names the store: {err:#}"
    );

    let server = tokio::task::spawn_blocking(move || server.start().map(|()| server))
        .await
        .unwrap()
        .expect("the server starts again");
    let committed = pg.changes("acme", 0, 100_000).await.unwrap().len();
    assert!(
        committed.is_multiple_of(10) && committed > 0 && committed < expected.len(),
        "whole pages only, and not everything: {committed}"
    );
    sim.faults().set_delay_ms(0);
    let requests = sim.faults().api_requests();
    let resumed = engine
        .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
        .await
        .expect("the next run, with the server back");
    // Resumed from the checkpoint: only the pages after it are asked for (and perhaps the one
    // in flight at the stop, read and not committed).
    let asked = sim.faults().api_requests() - requests;
    let remaining_pages = (expected.len() - committed).div_ceil(10) as u64;
    assert!(
        asked <= remaining_pages + 2,
        "resumed from the checkpoint: {asked} requests for {remaining_pages} pages left ({resumed:?})"
    );
    let feed = changes_after(pg.as_ref(), "acme", 0).await;
    assert!(
        feed.iter().enumerate().all(|(n, c)| c.seq == n as u64 + 1),
        "a gapless feed"
    );
    let mut created: Vec<String> = feed
        .iter()
        .filter(|c| c.kind == ChangeKind::Created)
        .map(|c| c.id.clone())
        .collect();
    created.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(created, want, "every company created once");
    assert_eq!(feed.len(), expected.len());
    drop(server);
    sim.shutdown().await;
}
