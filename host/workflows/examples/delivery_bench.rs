//! Alert delivery throughput against the simulator, timed (it prints the figures in
//! BENCHMARKS.md): `cargo run -p psahost-workflows --example delivery_bench` (add `--release`
//! for an optimised build).
//!
//! The real ConnectWise connector against the simulator (200 companies, synced into a sled
//! store); 1,000 alerts of 20 organisations mapped to 20 accounts, 10 subjects each, so with
//! grouping 200 become tickets and 800 notes on them. Enqueue and drain are timed apart; PSA
//! requests are the simulator's API requests.

use psa_sim::{SimConfig, Simulator};
use psahost_conformance::simulated;
use psahost_sandbox::bindings::psa::connector::types::ReferenceKind;
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::runtime::{PluginSource, Runtime, RuntimeConfig};
use psahost_store::{Entity, RecordStore, SledStore};
use psahost_workflows::delivery::settings::{
    AccountTarget, DeliverySettings, NoteDefaults, Organisation, Severity, TicketDefaults,
};
use psahost_workflows::delivery::{Alert, Delivery};
use psahost_workflows::sync::{NoProgress, SyncEngine, SyncRequest, SyncSettings};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

const ORGANISATIONS: usize = 20;
const SUBJECTS: usize = 10;
const ALERTS: usize = 1_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let sim = Simulator::start(SimConfig::connectwise(200, 7)).await?;
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default())?);
    let plugin = Arc::new(
        runtime
            .load(PluginSource::File(
                plugin_artifacts::CONNECTWISE_MANAGE_PATH.into(),
            ))
            .await?,
    );
    let kv = KvStore::temporary()?;
    let conn = simulated::connect(
        &runtime,
        &plugin,
        &sim,
        "bench",
        simulated::settings_for(&sim),
        &kv,
    )?;
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary()?);
    let engine = SyncEngine::new(store.clone(), SyncSettings::default());
    for entity in [Entity::Companies, Entity::Contacts] {
        engine
            .sync_entity(&conn, entity, SyncRequest::full(), &NoProgress)
            .await?;
    }
    let accounts: Vec<String> = sim
        .state()
        .read(|d| {
            d.companies
                .values()
                .filter(|c| !c.deleted)
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>()
        })
        .into_iter()
        .take(ORGANISATIONS + 1)
        .collect();
    let first = async |kind| {
        conn.list_references(kind)
            .await
            .map(|r| r.into_iter().filter(|r| r.active).collect::<Vec<_>>())
    };
    let queue = first(ReferenceKind::Queue).await?[0].id.clone();
    let of_queue = |p: &Option<String>| p.as_deref().is_none_or(|p| p == queue);
    let status = first(ReferenceKind::TicketStatus)
        .await?
        .into_iter()
        .find(|s| of_queue(&s.parent_id) && !s.name.to_ascii_lowercase().contains("clos"))
        .map(|s| s.id);
    let ticket_type = first(ReferenceKind::TicketType)
        .await?
        .into_iter()
        .find(|t| of_queue(&t.parent_id))
        .map(|t| t.id);
    let priority = first(ReferenceKind::TicketPriority).await?[0].id.clone();
    let organisations = (0..ORGANISATIONS)
        .map(|i| {
            (
                format!("org-{i}"),
                Organisation {
                    target: AccountTarget {
                        account: accounts[i + 1].clone(),
                        contact: None,
                    },
                    tickets: true,
                    contract: None,
                    service: None,
                },
            )
        })
        .collect();
    let settings = DeliverySettings {
        catch_all: AccountTarget {
            account: accounts[0].clone(),
            contact: None,
        },
        organisations,
        filter: Default::default(),
        ignored: Default::default(),
        attach_contacts: false,
        ticket: TicketDefaults {
            category: None,
            ticket_type,
            status,
            queue: Some(queue),
            source: None,
            subject: Some("MDR {severity}: {title}".into()),
            priorities: Severity::ALL
                .into_iter()
                .map(|s| (s, priority.clone()))
                .collect::<BTreeMap<_, _>>(),
        },
        note: NoteDefaults {
            note_type: None,
            internal: Some(true),
            title: Some("Alert {id}".into()),
        },
        overrides: Default::default(),
        billing: None,
    };
    let alerts: Vec<Alert> = (0..ALERTS)
        .map(|i| Alert {
            id: format!("bench-{i}"),
            organisation: format!("org-{}", i % ORGANISATIONS),
            severity: "high".into(),
            alert_type: "malware".into(),
            respond_rule: None,
            ioc_rule: None,
            title: format!("Detection {}", (i / ORGANISATIONS) % SUBJECTS),
            description: Some("Benchmark alert.".into()),
            email: None,
            time: "2026-03-01T00:00:00Z".into(),
        })
        .collect();
    let d = Delivery::new(store.as_ref(), &conn, &settings);
    let requests = sim.faults().api_requests();
    let started = Instant::now();
    d.enqueue(&alerts).await?;
    let enqueued = started.elapsed();
    let report = d.drain(0).await?;
    let total = started.elapsed();
    let psa_requests = sim.faults().api_requests() - requests;
    println!(
        "{ALERTS} alerts: {} tickets, {} notes, {} failed, {} still queued",
        report.delivered, report.grouped, report.failed, report.still_queued
    );
    println!(
        "enqueue {:.2} s, enqueue + drain {:.2} s: {:.0} alerts/s",
        enqueued.as_secs_f64(),
        total.as_secs_f64(),
        ALERTS as f64 / total.as_secs_f64()
    );
    println!(
        "PSA requests: {psa_requests} ({:.2} per alert); connector calls {} ({:.2} per alert)",
        psa_requests as f64 / ALERTS as f64,
        report.psa_calls,
        report.psa_calls as f64 / ALERTS as f64
    );
    Ok(())
}
