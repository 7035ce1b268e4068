//! Inventory sync at scale, against the simulator (it prints the figures in BENCHMARKS.md):
//! `cargo run --release -p psahost-workflows --example inventory_bench` (figures in BENCHMARKS.md).
//!
//! The ConnectWise simulator with 100,000 configurations over 500 companies, the real
//! ConnectWise connector (wasm) over loopback, a sled store. 10,000 devices: 9,000 carry the
//! serial number of one of the simulator's configurations (half of them with an IP address the
//! configuration does not hold yet: an update each, unless its type is one the PSA refuses to
//! update), 1,000 are new (a create each). A first run
//! (the configurations synced from scratch, then matched and written), then the same batch again
//! (nothing to write).

use psahost_store::{RecordStore, SledStore};
use psahost_testkit::sync::connect;
use psahost_workflows::inventory::settings::*;
use psahost_workflows::inventory::{Device, InventoryReport, sync_inventory};
use psahost_workflows::sync::{NoProgress, SyncEngine, SyncSettings};
use std::sync::Arc;
use std::time::Instant;

const CONFIGURATIONS: usize = 100_000;
const COMPANIES: usize = 500;
const DEVICES: usize = 10_000;
const NEW: usize = 1_000;

fn print(label: &str, r: &InventoryReport, requests: u64, wall: f64) {
    println!(
        "{label}: {} devices against {} configurations: {} created, {} updated, {} unchanged, {} not synced, {} failed; {} PSA requests ({} writes); wall {:.1}s (refresh {:.1}s, load+index {:.2}s, matching {:.3}s, writes {:.1}s)",
        r.devices,
        r.configurations,
        r.created,
        r.updated,
        r.unchanged,
        r.not_synced,
        r.failed,
        requests,
        r.writes,
        wall,
        r.timings.refresh_seconds,
        r.timings.index_seconds,
        r.timings.matching_seconds,
        r.timings.writes_seconds,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut config = psa_sim::SimConfig::connectwise(COMPANIES, 7);
    config.configurations = Some(CONFIGURATIONS);
    let sim = psa_sim::Simulator::start(config).await.expect("simulator");
    let conn = connect(&sim, "bench").await;
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::open(&dir.path().join("store")).unwrap());
    let engine = SyncEngine::new(store, SyncSettings::default());

    // Configurations with a serial number of their own (the matched devices' source).
    let known: Vec<(String, String, String)> = sim.state().read(|data| {
        let mut seen = std::collections::HashMap::new();
        for c in data.configurations.values() {
            if let Some(s) = &c.serial_number {
                *seen.entry(s.clone()).or_insert(0) += 1;
            }
        }
        data.configurations
            .values()
            .filter_map(|c| {
                let s = c.serial_number.clone()?;
                let live = data
                    .companies
                    .get(&c.company_id)
                    .is_some_and(|x| !x.deleted);
                (seen[&s] == 1 && c.active && live)
                    .then(|| (c.id.to_string(), c.company_id.to_string(), s))
            })
            .take(DEVICES - NEW)
            .collect()
    });
    assert_eq!(
        known.len(),
        DEVICES - NEW,
        "enough configurations with a unique serial"
    );
    // The new devices belong to companies the PSA has (not deleted).
    let companies: Vec<String> = sim.state().read(|data| {
        data.companies
            .values()
            .filter(|c| !c.deleted)
            .map(|c| c.id.to_string())
            .collect()
    });
    let mut devices = Vec::with_capacity(DEVICES);
    for (n, (_, company, serial)) in known.iter().enumerate() {
        devices.push(Device {
            id: format!("dev-{n}"),
            organisation: Some(company.clone()),
            device_name: Some(format!("device {n}")),
            serial_number: Some(serial.clone()),
            device_class: Some("firewall".into()),
            ip_address: (n % 2 == 0)
                .then(|| format!("10.{}.{}.{}", n / 65536, (n / 256) % 256, n % 256)),
            managed: true,
            first_online: Some("2026-01-05T08:00:00Z".into()),
            ..Device::default()
        });
    }
    for n in 0..NEW {
        devices.push(Device {
            id: format!("new-{n}"),
            organisation: Some(companies[n % companies.len()].clone()),
            device_name: Some(format!("new device {n}")),
            serial_number: Some(format!("BENCH-NEW-{n:06}")),
            device_class: Some("firewall".into()),
            managed: true,
            first_online: Some("2026-01-05T08:00:00Z".into()),
            ..Device::default()
        });
    }
    let settings = InventorySettings {
        identifiers: vec![Identifier::SerialNumber],
        create_missing: true,
        use_type_when_matching: false,
        only_active: true,
        mark_active: None,
        inactivate_on_delete: None,
        only_managed: true,
        class_types: [("firewall".to_string(), "Firewall".to_string())].into(),
        makes: Default::default(),
        auto_makes: false,
        fields: vec![FieldMapping {
            device: DeviceField::IpAddress,
            target: Target::Field(ConfigurationField::IpAddress),
        }],
        companies: companies.iter().map(|c| (c.clone(), c.clone())).collect(),
        create_extra: None,
    };

    for label in ["first run", "second run (same batch)"] {
        let before = sim.faults().api_requests();
        let started = Instant::now();
        let report = sync_inventory(&engine, &conn, &settings, &devices, false, &NoProgress)
            .await
            .expect("run");
        let wall = started.elapsed().as_secs_f64();
        print(label, &report, sim.faults().api_requests() - before, wall);
    }
    sim.shutdown().await;
}
