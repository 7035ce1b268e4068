//! Commits 100,000 configuration records into each backend, as a full sync would: pages of
//! 250 (the default `sync.page-size`), each with its seen ids and checkpoint; then the same
//! records again (all unchanged); then deletes every other one (50,000, pages of 250). Prints
//! records per second.
//!
//! ```sh
//! cargo run --release -p psahost-store --example commit_bench                      # sled only
//! PSAHOST_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release -p psahost-store --example commit_bench                  # and PostgreSQL
//! ```
//!
//! sled runs in a temporary directory, flushed after each commit (as `psahost sync`/`serve`);
//! PostgreSQL in a new schema, dropped afterwards.

use psahost_store::{
    Checkpoint, Entity, PageCommit, PgOptions, PgStore, RecordStore, RecordWrite, RunRecord,
    SledStore, SyncMode, SyncState,
};
use serde_json::json;
use std::time::Instant;

const RECORDS: usize = 100_000;
const PAGE: usize = 250;

fn record(i: usize) -> RecordWrite {
    RecordWrite::new(
        (i + 1).to_string(),
        &json!({
            "id": (i + 1).to_string(),
            "name": format!("WS-{:06}", i + 1),
            "company-id": ((i % 5000) + 1).to_string(),
            "type": {"id": "3", "name": "Managed Workstation"},
            "status": {"id": "1", "name": "Active"},
            "active": true,
            "serial-number": format!("SN{:010}", i * 7919),
            "model-number": "OptiPlex 7090",
            "manufacturer": "Dell",
            "ip-address": format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256),
            "os-type": "Windows 11 Pro",
            "warranty-expires": "2028-06-30T00:00:00Z",
            "notes": "Installed by the onboarding team; asset tag on the back.",
            "updated-at": format!("2026-{:02}-{:02}T10:00:00Z", i % 12 + 1, i % 28 + 1),
            "raw": {"id": i + 1, "_info": {"lastUpdated": "2026-01-01T10:00:00Z"}},
        }),
    )
}

async fn run(name: &str, store: &dyn RecordStore) -> anyhow::Result<()> {
    let records: Vec<RecordWrite> = (0..RECORDS).map(record).collect();
    for pass in ["created", "unchanged"] {
        let id = store.next_run_id().await?;
        let mut run = RunRecord::new(id, Entity::Configurations, SyncMode::Full);
        let started = Instant::now();
        let mut counted = 0;
        for (n, chunk) in records.chunks(PAGE).enumerate() {
            run.pages = n as u64 + 1;
            let out = store
                .commit(PageCommit {
                    connection: "bench".into(),
                    entity: Entity::Configurations,
                    upserts: chunk.to_vec(),
                    deletions: vec![],
                    mark_seen: true,
                    checkpoint: Some(Checkpoint {
                        state: SyncState {
                            last_run: Some(id),
                            ..SyncState::default()
                        },
                        run: run.clone(),
                    }),
                })
                .await?;
            counted += if pass == "created" {
                out.created
            } else {
                out.unchanged
            };
            run = out.run.expect("the run comes back");
        }
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(counted, RECORDS as u64);
        println!(
            "{name:<10} {pass:<9} {RECORDS} records in {} pages: {secs:6.2} s, {:>7.0} records/s",
            RECORDS / PAGE,
            RECORDS as f64 / secs
        );
    }
    // The end of a sweep that no longer saw every other record: 50,000 deletions, 250 a page.
    let doomed: Vec<String> = records.iter().step_by(2).map(|r| r.id.clone()).collect();
    let started = Instant::now();
    let mut deleted = 0;
    for chunk in doomed.chunks(PAGE) {
        let out = store
            .commit(PageCommit {
                connection: "bench".into(),
                entity: Entity::Configurations,
                upserts: vec![],
                deletions: chunk.to_vec(),
                mark_seen: false,
                checkpoint: None,
            })
            .await?;
        deleted += out.deleted;
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(deleted, doomed.len() as u64);
    println!(
        "{name:<10} {:<9} {} records in {} pages: {secs:6.2} s, {:>7.0} records/s",
        "deleted",
        doomed.len(),
        doomed.len() / PAGE,
        doomed.len() as f64 / secs
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sled = SledStore::open(dir.path())?;
    run("sled", &sled).await?;
    if let Ok(url) = std::env::var("PSAHOST_BENCH_DATABASE_URL") {
        let schema = format!("psahost_bench_{}", std::process::id());
        let pg = PgStore::connect(
            &url,
            PgOptions {
                schema: Some(schema.clone()),
                ..PgOptions::default()
            },
        )
        .await?;
        run("postgresql", &pg).await?;
        drop(pg);
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await?;
    } else {
        println!("(set PSAHOST_BENCH_DATABASE_URL to measure PostgreSQL too)");
    }
    Ok(())
}
