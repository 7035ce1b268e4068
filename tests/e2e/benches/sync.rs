//! Full sync of 100,000 configurations from the simulator (ConnectWise dialect): the wasm
//! connector against a plain native Rust client, in the same run, against the same simulator.
//!
//! Run: `cargo bench -p psahost-e2e --bench sync` (release). Set `PSAHOST_BENCH_CONFIGURATIONS`
//! for another size, `PSAHOST_BENCH_ROUNDS` for more rounds (default 3), `PSAHOST_BENCH_PAGE`
//! for another page size (default 1000, ConnectWise's maximum), `PSAHOST_BENCH_ONLY` for a
//! subset of the measurements (comma-separated: `wasm-pull`, `native-pull`, `sled`,
//! `native-sled`, `postgres`), e.g. to profile one of them.
//!
//! Four measurements, each a full read of every configuration, in pages:
//! - **wasm pull**: the ConnectWise connector's `list-configurations` through the host (a fresh
//!   sandbox per page, HTTP through the host's `http` capability), each record converted to the
//!   stored JSON text (`records::configuration_to_text`);
//! - **native pull**: reqwest with the same requests (the connector's own page positions and
//!   `Link` handling, `connectwise_manage::paging`, compiled natively), the same JSON parsing and
//!   mapping of each page (`connectwise_manage::map::configurations_page`, what the connector's
//!   `list-configurations` calls, compiled natively) and the same stored shape;
//! - **wasm sync**: the sync engine's full sweep into a sled record store (what `psahost sync
//!   --full` does);
//! - **native sync**: the native pull committing each page into a sled record store the same way
//!   (one transaction per page, committed while the next page is read, as the engine does);
//! - **wasm sync (engine + PostgreSQL)**, when `PSAHOST_BENCH_DATABASE_URL` names a database
//!   (e.g. `postgresql://postgres@127.0.0.1:5432/postgres`): the same full sweep as the wasm sync
//!   into a `PgStore`, in a new schema each round (dropped afterwards).
//!
//! The figure is records per second; the ratio wasm / native of the pull (target: at least
//! 0.95) and the full sync's time into sled (target: under 4 s for 100,000).

use psa_sim::{SimConfig, Simulator};
use psahost_e2e::*;
use psahost_sandbox::bindings::psa::connector::types::{self, PageRequest};
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::connector::Connection;
use psahost_store::Entity;
use psahost_store::{
    PageCommit, PgOptions, PgStore, RecordStore, RecordWrite, SledStore, SyncMode,
};
use psahost_workflows::records;
use psahost_workflows::sync::{NoProgress, SyncEngine, SyncRequest, SyncSettings};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A configuration mapped by the natively compiled connector code, moved into the host's type
/// (no string is copied), so the native pull stores it through the same
/// `records::configuration_to_text` as the wasm pull.
fn host_configuration(c: psa_sdk::types::Configuration) -> types::Configuration {
    fn r(e: Option<psa_sdk::types::EntityRef>) -> Option<types::EntityRef> {
        e.map(|e| types::EntityRef {
            id: e.id,
            name: e.name,
        })
    }
    types::Configuration {
        id: c.id,
        company_id: c.company_id,
        name: c.name,
        configuration_type: r(c.configuration_type),
        status: r(c.status),
        active: c.active,
        serial_number: c.serial_number,
        model_number: c.model_number,
        mac_address: c.mac_address,
        ip_address: c.ip_address,
        device_identifier: c.device_identifier,
        manufacturer: r(c.manufacturer),
        vendor: r(c.vendor),
        notes: c.notes,
        questions: c
            .questions
            .into_iter()
            .map(|q| types::ConfigurationAnswer {
                question_id: q.question_id,
                question: q.question,
                answer: q.answer,
            })
            .collect(),
        updated_at: c.updated_at,
        raw: c.raw,
    }
}

/// The plain native client: codebase discovery, then pages of `company/configurations` with
/// the connector's own query and `Link` handling.
struct Native {
    http: reqwest::Client,
    base: String,
    user: String,
    private_key: String,
    client_id: String,
}

impl Native {
    async fn connect(sim: &Simulator) -> Native {
        let c = &sim.config().credentials;
        let http = reqwest::Client::new();
        let info = http
            .get(format!(
                "{}/login/companyinfo/{}",
                sim.origin(),
                c.company_id
            ))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let info: Value = serde_json::from_slice(&info).unwrap();
        let codebase = info["Codebase"].as_str().unwrap().trim_matches('/');
        Native {
            http,
            base: format!("{}/{codebase}/apis/3.0", sim.origin()),
            user: format!("{}+{}", c.company_id, c.public_key),
            private_key: c.private_key.clone(),
            client_id: c.client_id.clone(),
        }
    }

    /// Every page: calls `page` with the stored records of each.
    async fn pull(&self, page_size: u32, mut page: impl AsyncFnMut(Vec<RecordWrite>)) -> usize {
        use connectwise_manage::paging::PageState;
        let mut state = PageState::first("configurations", page_size, None);
        let mut total = 0;
        loop {
            let response = self
                .http
                .get(format!("{}/company/configurations", self.base))
                .query(&state.query())
                .basic_auth(&self.user, Some(&self.private_key))
                .header("clientId", &self.client_id)
                .header(
                    "accept",
                    "application/vnd.connectwise.com+json; version=2026.4",
                )
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            let link = response
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = response.bytes().await.unwrap();
            let writes: Vec<RecordWrite> = connectwise_manage::map::configurations_page(&body)
                .unwrap()
                .into_iter()
                .map(|c| {
                    let c = host_configuration(c);
                    RecordWrite::from_text(c.id.clone(), records::configuration_to_text(&c))
                })
                .collect();
            total += writes.len();
            page(writes).await;
            match state.next(link.as_deref()) {
                Some(next) => state = next,
                None => return total,
            }
        }
    }
}

async fn wasm_pull(conn: &Connection, page_size: u32) -> usize {
    let mut cursor = None;
    let mut total = 0;
    loop {
        let page = conn
            .list_configurations(PageRequest {
                cursor: cursor.take(),
                updated_since: None,
                page_size,
            })
            .await
            .expect("a page");
        let writes: Vec<RecordWrite> = page
            .items
            .iter()
            .map(|c| RecordWrite::from_text(c.id.clone(), records::configuration_to_text(c)))
            .collect();
        total += writes.len();
        std::hint::black_box(writes);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return total,
        }
    }
}

/// The native pull committing each page, like the engine, while the next page is read.
async fn native_sync(native: &Native, page_size: u32, store: &SledStore) -> usize {
    let mut pending: Option<tokio::task::JoinHandle<()>> = None;
    let count = native
        .pull(page_size, async |upserts| {
            if let Some(previous) = pending.take() {
                previous.await.unwrap();
            }
            let store = store.clone();
            pending = Some(tokio::spawn(async move {
                store
                    .commit(PageCommit {
                        connection: "bench".into(),
                        entity: Entity::Configurations,
                        upserts,
                        deletions: Vec::new(),
                        mark_seen: true,
                        checkpoint: None,
                    })
                    .await
                    .unwrap();
            }));
        })
        .await;
    if let Some(last) = pending {
        last.await.unwrap();
    }
    count
}

/// A full sweep of configurations by the sync engine into `store`: records per second.
async fn engine_sync(
    conn: &Connection,
    store: Arc<dyn RecordStore>,
    page_size: u32,
    expected: usize,
) -> f64 {
    let engine = SyncEngine::new(
        store,
        SyncSettings {
            page_size: Some(page_size),
            ..SyncSettings::default()
        },
    );
    let started = Instant::now();
    let run = engine
        .sync_entity(
            conn,
            Entity::Configurations,
            SyncRequest::full(),
            &NoProgress,
        )
        .await
        .unwrap();
    let rate = timed(run.created as usize, started);
    assert_eq!((run.mode, run.created as usize), (SyncMode::Full, expected));
    rate
}

/// The same sweep into PostgreSQL at `url`, in a new schema dropped afterwards.
async fn postgres_sync(
    conn: &Connection,
    url: &str,
    round: usize,
    page_size: u32,
    expected: usize,
) -> f64 {
    let schema = format!("psahost_sync_bench_{}_{round}", std::process::id());
    let store = PgStore::connect(
        url,
        PgOptions {
            schema: Some(schema.clone()),
            ..PgOptions::default()
        },
    )
    .await
    .expect("the PostgreSQL record store");
    let rate = engine_sync(conn, Arc::new(store), page_size, expected).await;
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("a connection to drop the schema");
    let task = tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("the benchmark's schema dropped");
    drop(client);
    let _ = task.await;
    rate
}

struct Figures {
    name: &'static str,
    rates: Vec<f64>,
}

impl Figures {
    fn median(&self) -> f64 {
        let mut r = self.rates.clone();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    }
}

fn timed(count: usize, started: Instant) -> f64 {
    count as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let n = env_or("PSAHOST_BENCH_CONFIGURATIONS", 100_000);
    let rounds = env_or("PSAHOST_BENCH_ROUNDS", 3).max(1);
    let page_size = env_or("PSAHOST_BENCH_PAGE", 1000) as u32;
    // A comma-separated subset of the measurements (to profile one): wasm-pull, native-pull,
    // sled, native-sled, postgres.
    let only = std::env::var("PSAHOST_BENCH_ONLY").unwrap_or_default();
    let want = |name: &str| only.is_empty() || only.split(',').any(|o| o.trim() == name);
    let database = std::env::var("PSAHOST_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut config = SimConfig::connectwise(500, 7);
        config.configurations = Some(n);
        let sim = Simulator::start(config).await.expect("simulator");
        let runtime = runtime(256 << 20, Duration::from_secs(120));
        let plugin = load(&runtime, CONNECTWISE_MANAGE_PATH).await;
        let kv = KvStore::temporary().unwrap();
        let conn = connectwise(
            &runtime,
            &plugin,
            &sim,
            "bench",
            (
                &sim.config().credentials.public_key.clone(),
                &sim.config().credentials.private_key.clone(),
            ),
            &kv,
        );
        let native = Native::connect(&sim).await;

        // Warm up both paths (connections, the codebase cache, the page cache of the simulator).
        assert_eq!(wasm_pull(&conn, page_size).await, n);
        assert_eq!(native.pull(page_size, async |_| {}).await, n);

        let mut figures = [
            Figures { name: "wasm pull", rates: vec![] },
            Figures { name: "native pull", rates: vec![] },
            Figures { name: "wasm sync (engine + sled)", rates: vec![] },
            Figures { name: "native sync (sled)", rates: vec![] },
            Figures { name: "wasm sync (engine + PostgreSQL)", rates: vec![] },
        ];
        for round in 0..rounds {
            if want("wasm-pull") {
                let started = Instant::now();
                let count = wasm_pull(&conn, page_size).await;
                figures[0].rates.push(timed(count, started));
            }

            if want("native-pull") {
                let started = Instant::now();
                let count = native
                    .pull(page_size, async |w| {
                        std::hint::black_box(w);
                    })
                    .await;
                figures[1].rates.push(timed(count, started));
            }

            let dir = tempfile::tempdir().unwrap();
            if want("sled") {
                let store: Arc<dyn RecordStore> =
                    Arc::new(SledStore::open(&dir.path().join("wasm")).unwrap());
                figures[2]
                    .rates
                    .push(engine_sync(&conn, store, page_size, n).await);
            }

            if want("native-sled") {
                let native_store = SledStore::open(&dir.path().join("native")).unwrap();
                let started = Instant::now();
                let count = native_sync(&native, page_size, &native_store).await;
                figures[3].rates.push(timed(count, started));
                assert_eq!(
                    native_store
                        .count("bench", Entity::Configurations)
                        .await
                        .unwrap() as usize,
                    n
                );
            }

            if let Some(url) = &database
                && want("postgres")
            {
                let rate = postgres_sync(&conn, url, round, page_size, n).await;
                figures[4].rates.push(rate);
            }
            eprintln!(
                "round {}: {}",
                round + 1,
                figures
                    .iter()
                    .filter(|f| f.rates.len() > round)
                    .map(|f| format!("{} {:.0}/s", f.name, f.rates[round]))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }

        println!("\nfull read of {n} configurations, page size {page_size}, {rounds} rounds (median records/s)");
        for f in figures.iter().filter(|f| !f.rates.is_empty()) {
            println!("{:<28} {:>10.0} records/s", f.name, f.median());
        }
        let both = |a: usize, b: usize| !figures[a].rates.is_empty() && !figures[b].rates.is_empty();
        if both(0, 1) {
            let pull = figures[0].median() / figures[1].median();
            println!("ratio wasm/native, pull:     {pull:.2} (target >= 0.95)");
        }
        if both(2, 3) {
            let sync = figures[2].median() / figures[3].median();
            println!("ratio wasm/native, sync:     {sync:.2}");
        }
        if !figures[2].rates.is_empty() {
            println!(
                "full sync, sled:              {:.2} s for {n} (target < 4 s)",
                n as f64 / figures[2].median()
            );
        }
        if !figures[4].rates.is_empty() {
            println!(
                "full sync, PostgreSQL:        {:.2} s for {n}",
                n as f64 / figures[4].median()
            );
        } else if database.is_none() {
            println!("(set PSAHOST_BENCH_DATABASE_URL to measure the sync into PostgreSQL too)");
        }
        sim.shutdown().await;
    });
}
