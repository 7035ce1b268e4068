//! Datasets end to end: every dataset of every first-party connector, synced from its dialect
//! of the simulator into a real store by the sync engine (paging at the declared maximum and at
//! a small size, incremental runs where the dataset honours updated-since, full sweeps), and a
//! window dropping old records with change events.

use psa_sim::Dialect;
use psahost_conformance::simulated::{bundled_connector, sim_config};
use psahost_e2e::*;
use psahost_sandbox::bindings::psa::connector::types::PageRequest;
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::connector::Connection;
use psahost_sandbox::runtime::PluginSource;
use psahost_store::{ChangeKind, Entity, RecordStore, RunStatus, SledStore, SyncMode};
use psahost_workflows::sync::{NoProgress, SyncEngine, SyncRequest, SyncSettings, datasets};
use std::sync::Arc;
use std::time::Duration;

fn new_engine(
    page_size: Option<u32>,
) -> (Arc<SyncEngine>, Arc<dyn RecordStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::open(dir.path()).unwrap());
    let settings = SyncSettings {
        page_size,
        ..SyncSettings::default()
    };
    (
        Arc::new(SyncEngine::new(store.clone(), settings)),
        store,
        dir,
    )
}

/// Every record id the connector pages for `dataset`, read directly.
async fn read_all(conn: &Connection, dataset: &str, page_size: u32) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = conn
            .list_dataset(
                dataset,
                PageRequest {
                    cursor: cursor.take(),
                    updated_since: None,
                    page_size,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{dataset}: {e}"));
        ids.extend(page.items.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    ids.sort();
    ids
}

async fn stored_ids(store: &dyn RecordStore, entity: Entity) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list(
                "sim",
                entity,
                psahost_store::ListQuery {
                    after,
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        ids.extend(page.records.into_iter().map(|r| r.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    ids.sort();
    ids
}

async fn every_dataset_syncs(dialect: Dialect, expected_datasets: usize) {
    let sim = psa_sim::Simulator::start(sim_config(dialect, 40, 1))
        .await
        .unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = rt
        .load(PluginSource::File(connector_path(dialect).into()))
        .await
        .unwrap();
    let info = plugin.connector_info().unwrap().clone();
    let all = datasets(&info);
    assert_eq!(all.len(), expected_datasets, "{:?}", info.datasets);
    let kv = KvStore::temporary().unwrap();
    let conn = simulated_connection(&rt, &plugin, &sim, "sim", &[], &kv);

    // Default settings: each dataset asked for at its declared maximum.
    let (engine, store, _dir) = new_engine(None);
    let result = engine
        .sync_connection(&conn, &all, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    assert!(result.skipped.is_empty(), "{:?}", result.skipped);
    assert!(result.all_completed(), "{:#?}", result.runs);
    for (run, spec) in result.runs.iter().zip(&info.datasets) {
        let entity = run.entity;
        assert_eq!(entity.name(), spec.name);
        let expected = read_all(&conn, &spec.name, spec.max_page_size).await;
        let stored = stored_ids(store.as_ref(), entity).await;
        assert_eq!(
            stored, expected,
            "{entity}: what the connector pages is stored"
        );
        assert!(!stored.is_empty(), "{entity}: the simulator serves records");
        assert_eq!(run.created, stored.len() as u64, "{entity}");
        // Asked for at the maximum page size, a flat list takes the fewest pages (datasets
        // walked parent by parent, such as ConnectWise company notes, take a page per parent).
        if spec.name == "time-entries" {
            let fewest = stored.len().div_ceil(spec.max_page_size as usize).max(1) as u64;
            assert_eq!(run.pages, fewest, "{entity}: {} records", stored.len());
        }
        let stored_record = store
            .get("sim", entity, &stored[0])
            .await
            .unwrap()
            .expect("stored");
        assert!(
            stored_record.record["raw"].is_object(),
            "{entity}: raw is JSON"
        );
        assert_eq!(stored_record.record["id"], stored[0]);
    }

    // The next run is incremental where the dataset honours updated-since, and changes nothing.
    let again = engine
        .sync_connection(&conn, &all, SyncRequest::incremental(), &NoProgress)
        .await
        .unwrap();
    for (run, spec) in again.runs.iter().zip(&info.datasets) {
        assert_eq!(run.status, RunStatus::Completed, "{run:?}");
        assert_eq!(
            (run.created, run.updated, run.deleted),
            (0, 0, 0),
            "{run:?}"
        );
        if spec.updated_since {
            assert_eq!(run.mode, SyncMode::Incremental, "{}", spec.name);
        }
    }

    // Small pages: the same records over several pages.
    let spec = info
        .datasets
        .iter()
        .find(|d| d.name == "time-entries")
        .expect("every first-party connector has time entries");
    let (small_engine, small_store, _small_dir) = new_engine(Some(7));
    let entity = "time-entries".parse::<Entity>().unwrap();
    let run = small_engine
        .sync_entity(&conn, entity, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    let expected = read_all(&conn, &spec.name, spec.max_page_size).await;
    assert!(run.pages >= 3, "{run:?}");
    assert_eq!(stored_ids(small_store.as_ref(), entity).await, expected);
    sim.shutdown().await;
}

fn connector_path(dialect: Dialect) -> &'static str {
    match bundled_connector(dialect) {
        "connectwise-manage" => CONNECTWISE_MANAGE_PATH,
        "autotask" => AUTOTASK_PATH,
        "kaseya-bms" => KASEYA_BMS_PATH,
        other => panic!("no artifact for {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_connectwise_dataset_syncs() {
    every_dataset_syncs(Dialect::ConnectWise, 8).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_autotask_dataset_syncs() {
    every_dataset_syncs(Dialect::Autotask, 11).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kaseya_bms_dataset_syncs() {
    every_dataset_syncs(Dialect::KaseyaBms, 7).await;
}

/// A window keeps only records updated within it: a first sync without a window stores all,
/// then the window's run deletes the older ones with `deleted` events, and a full sweep of the
/// window alone (read with updated-since) finds nothing else to delete.
#[tokio::test(flavor = "multi_thread")]
async fn a_window_drops_old_records_with_change_events() {
    let sim = psa_sim::Simulator::start(sim_config(Dialect::ConnectWise, 40, 1))
        .await
        .unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = rt
        .load(PluginSource::File(CONNECTWISE_MANAGE_PATH.into()))
        .await
        .unwrap();
    let kv = KvStore::temporary().unwrap();
    let conn = simulated_connection(&rt, &plugin, &sim, "sim", &[], &kv);
    let (engine, store, _dir) = new_engine(None);
    let entity = "time-entries".parse::<Entity>().unwrap();
    let first = engine
        .sync_entity(&conn, entity, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    let all = first.created;
    let after_first = store
        .changes("sim", 0, 1_000_000)
        .await
        .unwrap()
        .last()
        .map_or(0, |c| c.seq);

    let window = Duration::from_secs(365 * 24 * 3600);
    let cutoff = time::OffsetDateTime::now_utc() - window;
    let records = store
        .list(
            "sim",
            entity,
            psahost_store::ListQuery {
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .records;
    let old: Vec<String> = records
        .iter()
        .filter(|r| {
            let t = r.record["updated-at"].as_str().unwrap();
            psahost_store::parse_time(t).unwrap() < cutoff
        })
        .map(|r| r.id.clone())
        .collect();
    assert!(
        !old.is_empty() && (old.len() as u64) < all,
        "the simulator's time entries span more than the window: {} old of {all}",
        old.len()
    );

    engine.set_windows("sim", [(entity, window)].into_iter().collect());
    let windowed = engine
        .sync_entity(&conn, entity, SyncRequest::incremental(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(windowed.status, RunStatus::Completed, "{windowed:?}");
    assert_eq!(windowed.deleted, old.len() as u64, "{windowed:?}");
    let changes = store.changes("sim", after_first, 100_000).await.unwrap();
    let deleted: Vec<String> = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Deleted)
        .map(|c| c.id.clone())
        .collect();
    let mut expected = old.clone();
    expected.sort();
    let mut deleted_sorted = deleted.clone();
    deleted_sorted.sort();
    assert_eq!(
        deleted_sorted, expected,
        "one deleted event per record that left"
    );
    assert_eq!(
        store.count("sim", entity).await.unwrap(),
        all - old.len() as u64
    );

    // A full sweep of the window: nothing outside is read back, nothing inside is lost.
    let sweep = engine
        .sync_entity(&conn, entity, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(sweep.status, RunStatus::Completed, "{sweep:?}");
    assert_eq!((sweep.created, sweep.deleted), (0, 0), "{sweep:?}");
    assert_eq!(sweep.unchanged, all - old.len() as u64, "{sweep:?}");
    sim.shutdown().await;
}
