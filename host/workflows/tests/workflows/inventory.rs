//! Inventory sync end to end: the real ConnectWise and Autotask connectors (wasm) against the
//! simulator over loopback, a real sled store. The devices are fixtures
//! (`fixtures/inventory/*.jsonl`); the configurations they meet are created in the simulator
//! through the connector first.

use psahost_sandbox::bindings::psa::connector::types::{ConfigurationChanges, NewConfiguration};
use psahost_sandbox::connector::Connection;
use psahost_store::{Entity, RecordStore, SledStore};
use psahost_testkit::sync::*;
use psahost_workflows::inventory::run::DeviceResult;
use psahost_workflows::inventory::settings::*;
use psahost_workflows::inventory::state::MappingState;
use psahost_workflows::inventory::{InventoryReport, list_devices, parse_devices, sync_inventory};
use psahost_workflows::sync::{NoProgress, SyncEngine, SyncSettings};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

const MATCHING: &str = include_str!("fixtures/inventory/matching.jsonl");

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dialect {
    ConnectWise,
    Autotask,
}

struct Bench {
    dialect: Dialect,
    sim: psa_sim::Simulator,
    conn: Connection,
    engine: SyncEngine,
    company: String,
}

async fn bench(dialect: Dialect) -> Bench {
    let mut config = match dialect {
        Dialect::ConnectWise => psa_sim::SimConfig::connectwise(6, 7),
        Dialect::Autotask => psa_sim::SimConfig::autotask(6, 7),
    };
    config.configurations = Some(0);
    let sim = psa_sim::Simulator::start(config).await.expect("simulator");
    let plugin = match dialect {
        Dialect::ConnectWise => plugin_artifacts::CONNECTWISE_MANAGE_PATH,
        Dialect::Autotask => plugin_artifacts::AUTOTASK_PATH,
    };
    let conn = connect_plugin(&sim, "acme", plugin).await;
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
    let engine = SyncEngine::new(store, SyncSettings::default());
    let company = sim_ids(&sim, Entity::Companies)
        .into_iter()
        .find(|id| {
            sim.state()
                .get(psa_sim::Entity::Company, id.parse().unwrap())
                .is_some()
        })
        .expect("a company the PSA serves");
    Bench {
        dialect,
        sim,
        conn,
        engine,
        company,
    }
}

fn settings(b: &Bench) -> InventorySettings {
    InventorySettings {
        identifiers: vec![
            Identifier::SerialNumber,
            Identifier::HostName(HostNameField::Notes),
        ],
        create_missing: true,
        use_type_when_matching: false,
        only_active: true,
        mark_active: None,
        inactivate_on_delete: None,
        only_managed: true,
        class_types: [("firewall", "Firewall"), ("switch", "Switch")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        makes: BTreeMap::new(),
        auto_makes: false,
        fields: Vec::new(),
        companies: [("org-a".to_string(), b.company.clone())].into(),
        create_extra: match b.dialect {
            Dialect::ConnectWise => None,
            Dialect::Autotask => Some(
                serde_json::json!({"productID": 2004})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        },
    }
}

/// The simulator's type ids (the same in both dialects).
const FIREWALL: &str = "4";
const SWITCH: &str = "5";
const MANAGED_SERVER: &str = "11";

impl Bench {
    /// Creates a configuration in the PSA through the connector; returns its id.
    async fn configuration(
        &self,
        name: &str,
        type_id: &str,
        serial: Option<&str>,
        notes: Option<&str>,
        active: bool,
    ) -> String {
        let created = self
            .conn
            .create_configuration(NewConfiguration {
                company_id: self.company.clone(),
                name: name.into(),
                configuration_type_id: type_id.into(),
                status_id: None,
                serial_number: serial.map(str::to_string),
                model_number: None,
                mac_address: None,
                ip_address: None,
                device_identifier: None,
                manufacturer_id: None,
                vendor_id: None,
                notes: notes.map(str::to_string),
                questions: Vec::new(),
                extra: (self.dialect == Dialect::Autotask)
                    .then(|| r#"{"productID": 2004}"#.to_string()),
            })
            .await
            .expect("created");
        if !active {
            self.conn
                .update_configuration(created.id.clone(), changes(|c| c.active = Some(false)))
                .await
                .expect("inactivated");
        }
        created.id
    }

    async fn run(&self, s: &InventorySettings, devices: &str, dry_run: bool) -> InventoryReport {
        let devices = parse_devices(devices).expect("devices parse");
        sync_inventory(&self.engine, &self.conn, s, &devices, dry_run, &NoProgress)
            .await
            .expect("inventory run")
    }

    /// Every configuration as the PSA has it.
    fn psa(&self) -> BTreeMap<String, Value> {
        sim_ids(&self.sim, Entity::Configurations)
            .into_iter()
            .map(|id| {
                let v = self
                    .sim
                    .state()
                    .get(psa_sim::Entity::Configuration, id.parse().unwrap())
                    .unwrap();
                (id, v)
            })
            .collect()
    }

    fn store(&self) -> &dyn RecordStore {
        self.engine.store().as_ref()
    }

    async fn audit(&self) -> Vec<Value> {
        self.store()
            .audit("acme", 0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }
}

fn changes(f: impl FnOnce(&mut ConfigurationChanges)) -> ConfigurationChanges {
    let mut c = ConfigurationChanges {
        name: None,
        configuration_type_id: None,
        status_id: None,
        active: None,
        serial_number: None,
        model_number: None,
        mac_address: None,
        ip_address: None,
        device_identifier: None,
        manufacturer_id: None,
        vendor_id: None,
        notes: None,
        questions: Vec::new(),
        extra: None,
    };
    f(&mut c);
    c
}

fn result<'r>(report: &'r InventoryReport, id: &str) -> &'r DeviceResult {
    report
        .results
        .iter()
        .find(|r| r.device_id == id)
        .unwrap_or_else(|| panic!("device {id} in {report:#?}"))
}

/// (action, configuration id, reason) of a device, compactly.
fn summary(report: &InventoryReport, id: &str) -> (String, Option<String>, Option<String>) {
    let r = result(report, id);
    (
        serde_json::to_value(r.action)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string(),
        r.configuration_id.clone(),
        r.reason.clone(),
    )
}

fn field<'v>(v: &'v Value, name: &str) -> &'v Value {
    &v[name]
}

/// Priority order and the OR rule, the `Unknown` rule, ambiguity, the not-synced reasons,
/// the states, a dry run, an idempotent re-run: in both dialects.
async fn matching_and_states(dialect: Dialect) {
    let b = bench(dialect).await;
    let a = b
        .configuration(
            "fw-a",
            FIREWALL,
            Some("SN-A-0001"),
            Some("other-host"),
            true,
        )
        .await;
    let host_b = b
        .configuration("sw-b", SWITCH, Some("SN-B-0002"), Some("host-b"), true)
        .await;
    let twin1 = b
        .configuration("twin-1", FIREWALL, Some("SN-DUP-0001"), None, true)
        .await;
    let twin2 = b
        .configuration("twin-2", FIREWALL, Some("SN-DUP-0001"), None, true)
        .await;
    let s = settings(&b);
    let before = b.psa();

    // A dry run says what would happen and writes nothing (PSA, states, audit).
    let dry = b.run(&s, MATCHING, true).await;
    assert!(dry.dry_run);
    assert_eq!(summary(&dry, "d5").0, "create", "{dry:#?}");
    assert_eq!(b.psa(), before, "a dry run writes nothing to the PSA");
    assert!(
        list_devices(b.store(), "acme", None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(b.audit().await.is_empty());

    let report = b.run(&s, MATCHING, false).await;
    // Serial number first: d1's host name would find sw-b, its serial finds fw-a.
    assert_eq!(
        summary(&report, "d1").1.as_deref(),
        Some(a.as_str()),
        "{report:#?}"
    );
    assert_eq!(
        result(&report, "d1").decided_by.as_deref(),
        Some("serial-number")
    );
    // OR: no serial match, the host name (in the notes) decides.
    assert_eq!(summary(&report, "d2").1.as_deref(), Some(host_b.as_str()));
    assert_eq!(
        result(&report, "d2").decided_by.as_deref(),
        Some("host-name")
    );
    // A placeholder serial is no identifier; the host name (with a domain) still finds it.
    assert_eq!(summary(&report, "d6").1.as_deref(), Some(host_b.as_str()));
    // Only `Unknown` values: not synced.
    assert_eq!(
        summary(&report, "d3"),
        ("none".into(), None, Some("only identifier unknown".into()))
    );
    // Ambiguous: both candidates reported, none chosen.
    let d4 = result(&report, "d4");
    assert_eq!(d4.state, MappingState::NotSynced);
    let reason = d4.reason.as_deref().unwrap();
    assert!(
        reason.contains(&twin1)
            && reason.contains(&twin2)
            && reason.starts_with("ambiguous by serial-number"),
        "{reason}"
    );
    // No match: created, with its identifiers.
    let (action, created, _) = summary(&report, "d5");
    assert_eq!(action, "create");
    let created = created.expect("a configuration id");
    assert!(!before.contains_key(&created));
    let c = b
        .store()
        .get("acme", Entity::Configurations, &created)
        .await
        .unwrap()
        .expect("the created configuration is stored");
    assert_eq!(field(&c.record, "serial-number"), "SN-NEW-0005");
    assert_eq!(field(&c.record, "notes"), "branch-fw");
    assert_eq!(field(&c.record, "name"), "Branch FW");
    assert_eq!(field(&c.record, "configuration-type")["id"], FIREWALL);
    assert_eq!(summary(&report, "d7").2.as_deref(), Some("unmanaged"));
    assert_eq!(
        result(&report, "d8").state,
        MappingState::WaitingForOnlineTime
    );
    assert_eq!(
        summary(&report, "d9").2.as_deref(),
        Some("class not mapped (toaster)")
    );
    assert!(
        summary(&report, "d10")
            .2
            .unwrap()
            .starts_with("company not linked")
    );
    assert_eq!(
        (
            report.created,
            report.writes,
            report.not_synced,
            report.waiting
        ),
        (1, 1, 5, 1),
        "{report:#?}"
    );
    assert_eq!(b.psa().len(), before.len() + 1);

    // The states, as listed.
    let states: BTreeMap<String, (MappingState, Option<String>)> =
        list_devices(b.store(), "acme", None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.device_id, (r.state, r.configuration_id)))
            .collect();
    assert_eq!(states.len(), 10);
    assert_eq!(
        states["d1"],
        (MappingState::MappedAndSyncing, Some(a.clone()))
    );
    assert_eq!(
        states["d5"],
        (MappingState::MappedAndSyncing, Some(created.clone()))
    );
    assert_eq!(states["d8"].0, MappingState::WaitingForOnlineTime);
    assert_eq!(states["d4"].0, MappingState::NotSynced);
    // The audit trail holds the create with the PSA's answer.
    let audit = b.audit().await;
    assert_eq!(audit.len(), 1, "{audit:#?}");
    assert_eq!(audit[0]["action"], "create");
    assert_eq!(audit[0]["device-id"], "d5");
    assert_eq!(audit[0]["answer"]["configuration-id"], created.as_str());

    // The same batch again: nothing to write.
    let psa = b.psa();
    let again = b.run(&s, MATCHING, false).await;
    assert_eq!(
        (again.writes, again.created, again.updated),
        (0, 0, 0),
        "{again:#?}"
    );
    assert_eq!(summary(&again, "d5").1, Some(created));
    assert_eq!(b.psa(), psa, "the second run changes nothing in the PSA");
    assert_eq!(b.audit().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectwise_matching_and_states() {
    matching_and_states(Dialect::ConnectWise).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autotask_matching_and_states() {
    matching_and_states(Dialect::Autotask).await;
}
