//! Requests per 1,000 records: what a full sync of every entity and dataset of each
//! first-party connector costs a rate-limited PSA, next to the minimum the PSA allows.
//!
//! Run: `cargo bench -p psahost-e2e --bench requests` (prints a Markdown table; the figures in
//! BENCHMARKS.md come from it). `PSAHOST_BENCH_COMPANIES` sets the simulator's size (default
//! 1200 companies).
//!
//! Each (connector, entity or dataset) is synced alone by the sync engine with its default
//! settings (a full sweep, each page asked for at the maximum the connector declares) into a
//! fresh sled store; the figure is the connection's HTTP requests during that run, per 1,000
//! records stored. The minimum is 1,000 / the PSA's maximum page size, plus the requests per
//! record the API forces (ConnectWise reads agreement additions and company notes one parent
//! at a time). The first request of a sweep may be a count (for the progress total), and
//! ConnectWise and Autotask log in or discover their zone once per connection, which the
//! first entity pays.

use psa_sim::{Dialect, Simulator};
use psahost_conformance::simulated::{bundled_connector, settings_for, sim_config};
use psahost_e2e::*;
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::runtime::PluginSource;
use psahost_store::{Entity, RecordStore, SledStore};
use psahost_workflows::sync::{
    NoProgress, SyncEngine, SyncRequest, SyncSettings, everything, page_size,
};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn main() {
    let companies = std::env::var("PSAHOST_BENCH_COMPANIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!("| connector | entity or dataset | records | requests | per 1,000 | page size |");
        println!("|---|---|---:|---:|---:|---:|");
        for dialect in [Dialect::ConnectWise, Dialect::Autotask, Dialect::KaseyaBms] {
            measure(dialect, companies).await;
        }
    });
}

async fn measure(dialect: Dialect, companies: usize) {
    let sim = Simulator::start(sim_config(dialect, companies, 1))
        .await
        .unwrap();
    let runtime = runtime(64 << 20, Duration::from_secs(60));
    let plugin = runtime
        .load(PluginSource::File(
            match bundled_connector(dialect) {
                "connectwise-manage" => CONNECTWISE_MANAGE_PATH,
                "autotask" => AUTOTASK_PATH,
                _ => KASEYA_BMS_PATH,
            }
            .into(),
        ))
        .await
        .unwrap();
    let info = plugin.connector_info().unwrap().clone();
    let kv = KvStore::temporary().unwrap();
    let conn = psahost_conformance::simulated::connect(
        &runtime,
        &plugin,
        &sim,
        "bench",
        settings_for(&sim),
        &kv,
    )
    .unwrap();
    // Log in (or discover the zone) first, so no entity pays for it.
    conn.test_connection().await.unwrap();
    let settings = SyncSettings::default();
    for entity in everything(Some(&info)) {
        if !psahost_workflows::sync::offers(&info, entity) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn RecordStore> = Arc::new(SledStore::open(dir.path()).unwrap());
        let engine = SyncEngine::new(store.clone(), settings.clone());
        let before = conn
            .capabilities()
            .http
            .stats
            .requests
            .load(Ordering::Relaxed);
        let run = engine
            .sync_entity(&conn, entity, SyncRequest::full(), &NoProgress)
            .await
            .unwrap();
        let requests = conn
            .capabilities()
            .http
            .stats
            .requests
            .load(Ordering::Relaxed)
            - before;
        let records = store.count("bench", entity).await.unwrap();
        assert!(run.error.is_none(), "{entity}: {run:?}");
        let per_thousand = if records == 0 {
            "-".to_string()
        } else {
            format!("{:.1}", requests as f64 * 1000.0 / records as f64)
        };
        println!(
            "| {} | {} | {records} | {requests} | {per_thousand} | {} |",
            info.id,
            entity_label(entity),
            page_size(&settings, Some(&info), entity)
        );
    }
    sim.shutdown().await;
}

fn entity_label(entity: Entity) -> String {
    match entity {
        Entity::Dataset(d) => format!("{d} (dataset)"),
        typed => typed.name().to_string(),
    }
}
