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

const OPTIONS: &str = include_str!("fixtures/inventory/options.jsonl");
const REDISCOVERY: &str = include_str!("fixtures/inventory/rediscovery.jsonl");
const MAPPINGS: &str = include_str!("fixtures/inventory/mappings.jsonl");
const MAPPINGS_LATER: &str = include_str!("fixtures/inventory/mappings-later.jsonl");
const READ_ONLY: &str = include_str!("fixtures/inventory/read-only.jsonl");
const FAULTS: &str = include_str!("fixtures/inventory/faults.jsonl");

/// A bench with the options fixture's configurations: an inactive firewall `SN-IN-0001` and a
/// switch `SN-SW-0002`; returns their ids.
async fn options_bench() -> (Bench, String, String) {
    let b = bench(Dialect::ConnectWise).await;
    let inactive = b
        .configuration("old-fw", FIREWALL, Some("SN-IN-0001"), None, false)
        .await;
    let switch = b
        .configuration("misfiled", SWITCH, Some("SN-SW-0002"), None, true)
        .await;
    (b, inactive, switch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_option_on_and_off() {
    // Only active on, use type on, only managed on: the inactive firewall is not matched
    // (created anew), the switch is not a firewall (created anew), the unmanaged device skipped.
    let (b, inactive, switch) = options_bench().await;
    let s = InventorySettings {
        use_type_when_matching: true,
        ..settings(&b)
    };
    let r = b.run(&s, OPTIONS, false).await;
    let (action, id, _) = summary(&r, "o1");
    assert_eq!(action, "create", "{r:#?}");
    assert_ne!(id.as_deref(), Some(inactive.as_str()));
    let (action, id, _) = summary(&r, "o2");
    assert_eq!(action, "create");
    assert_ne!(id.as_deref(), Some(switch.as_str()));
    assert_eq!(summary(&r, "o3").2.as_deref(), Some("unmanaged"));

    // Everything off: the inactive firewall and the switch match, the unmanaged device syncs.
    let (b, inactive, switch) = options_bench().await;
    let s = InventorySettings {
        only_active: false,
        only_managed: false,
        ..settings(&b)
    };
    let r = b.run(&s, OPTIONS, false).await;
    assert_eq!(
        summary(&r, "o1"),
        ("none".into(), Some(inactive.clone()), None),
        "{r:#?}"
    );
    assert_eq!(summary(&r, "o2").1, Some(switch));
    assert_eq!(summary(&r, "o3").0, "create");
    let psa = b
        .sim
        .state()
        .get(psa_sim::Entity::Configuration, inactive.parse().unwrap())
        .unwrap();
    assert_eq!(psa["activeFlag"], false, "not marked active: {psa}");

    // Mark matched active (status Active): the inactive firewall is activated.
    let (b, inactive, _) = options_bench().await;
    let s = InventorySettings {
        only_active: false,
        mark_active: Some(StatusChange {
            status: Some("Active".into()),
        }),
        ..settings(&b)
    };
    let r = b.run(&s, OPTIONS, false).await;
    assert_eq!(
        summary(&r, "o1"),
        ("activate".into(), Some(inactive.clone()), None),
        "{r:#?}"
    );
    let psa = b
        .sim
        .state()
        .get(psa_sim::Entity::Configuration, inactive.parse().unwrap())
        .unwrap();
    assert_eq!(psa["activeFlag"], true, "{psa}");
    assert_eq!(psa["status"]["name"], "Active", "{psa}");
    assert_eq!(r.activated, 1);
    let audit = b.audit().await;
    assert!(
        audit
            .iter()
            .any(|e| e["action"] == "activate" && e["configuration-id"] == inactive.as_str()),
        "{audit:#?}"
    );
    // Idempotent: active already, nothing to write.
    assert_eq!(b.run(&s, OPTIONS, false).await.writes, 0);
}

/// With "only active" and "inactive on delete", a deleted device's configuration is marked
/// inactive; when the device comes back it finds that configuration through its stored
/// mapping (no duplicate) and psahost reactivates it. Without "inactive on delete" a deleted
/// device's configuration is left alone.
async fn rediscovery(dialect: Dialect) {
    let b = bench(dialect).await;
    let status = |name: &str| (dialect == Dialect::ConnectWise).then(|| name.to_string());
    let s = InventorySettings {
        inactivate_on_delete: Some(StatusChange {
            status: status("Inactive"),
        }),
        ..settings(&b)
    };
    let deleted = REDISCOVERY.replace("\"deleted\": false", "\"deleted\": true");
    let first = b.run(&s, REDISCOVERY, false).await;
    let (_, id, _) = summary(&first, "r1");
    let id = id.expect("created");
    let count = b.psa().len();
    let active = |b: &Bench| {
        let c = b
            .sim
            .state()
            .get(psa_sim::Entity::Configuration, id.parse().unwrap())
            .unwrap();
        c.get("activeFlag")
            .or_else(|| c.get("isActive"))
            .cloned()
            .unwrap()
    };

    let gone = b.run(&s, &deleted, false).await;
    assert_eq!(
        summary(&gone, "r1"),
        (
            "inactivate".into(),
            Some(id.clone()),
            Some("deleted".into())
        ),
        "{gone:#?}"
    );
    assert_eq!(active(&b), false);
    if dialect == Dialect::ConnectWise {
        let c = b
            .sim
            .state()
            .get(psa_sim::Entity::Configuration, id.parse().unwrap())
            .unwrap();
        assert_eq!(c["status"]["name"], "Inactive");
    }

    let back = b.run(&s, REDISCOVERY, false).await;
    assert_eq!(
        summary(&back, "r1"),
        ("activate".into(), Some(id.clone()), None),
        "{back:#?}"
    );
    assert_eq!(
        result(&back, "r1").decided_by.as_deref(),
        Some("stored mapping")
    );
    assert_eq!(b.psa().len(), count, "no duplicate");
    assert_eq!(active(&b), true);

    // Off: deleting leaves the configuration as it is.
    let b = bench(dialect).await;
    let s = settings(&b);
    let first = b.run(&s, REDISCOVERY, false).await;
    let id = summary(&first, "r1").1.unwrap();
    let before = b.psa();
    let gone = b.run(&s, &deleted, false).await;
    assert_eq!(
        summary(&gone, "r1"),
        ("none".into(), Some(id), Some("deleted".into())),
        "{gone:#?}"
    );
    assert_eq!(b.psa(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectwise_rediscovered_device_finds_its_inactivated_configuration() {
    rediscovery(Dialect::ConnectWise).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autotask_rediscovered_device_finds_its_inactivated_configuration() {
    rediscovery(Dialect::Autotask).await;
}

fn mapping(device: &str, configuration: &str) -> FieldMapping {
    FieldMapping {
        device: DeviceField::parse(device).unwrap(),
        target: Target::Field(ConfigurationField::parse(configuration).unwrap()),
    }
}

/// Class, make (the operator's and the automatic ones, which only add new makes) and field
/// mappings, a question on one type; an edited class mapping changes only configurations
/// created afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_make_and_field_mappings() {
    let b = bench(Dialect::ConnectWise).await;
    let known = b
        .configuration("known", FIREWALL, Some("SN-M3-0003"), None, true)
        .await;
    let mut s = InventorySettings {
        makes: [(
            "cisco".to_string(),
            MakeMapping {
                vendor: None,
                manufacturer: Some("HP".into()),
            },
        )]
        .into(),
        auto_makes: true,
        fields: vec![
            mapping("ip-address", "ip-address"),
            mapping("mac-address", "mac-address"),
            mapping("model", "model-number"),
            mapping("device-id", "device-identifier"),
            mapping("make", "manufacturer"),
            FieldMapping {
                device: DeviceField::parse("value:firmware").unwrap(),
                target: Target::Question {
                    configuration_type: "Firewall".into(),
                    question: "Firmware version".into(),
                    question_id: Some("40".into()),
                },
            },
        ],
        ..settings(&b)
    };
    let r = b.run(&s, MAPPINGS, false).await;
    assert_eq!(r.makes_mapped, ["Fortinet", "Dell"], "{r:#?}");
    let psa = |id: &str| {
        b.sim
            .state()
            .get(psa_sim::Entity::Configuration, id.parse().unwrap())
            .unwrap()
    };
    let m1 = psa(&summary(&r, "m1").1.unwrap());
    assert_eq!(m1["type"]["name"], "Firewall", "{m1}");
    assert_eq!(
        m1["manufacturer"]["name"], "HP",
        "the operator's mapping wins: {m1}"
    );
    assert_eq!(m1["ipAddress"], "10.0.0.1");
    assert_eq!(m1["modelNumber"], "ASA 5506");
    assert_eq!(m1["deviceIdentifier"], "m1");
    let answers = m1["questions"].as_array().unwrap();
    assert!(
        answers
            .iter()
            .any(|q| q["questionId"] == 40 && q["answer"] == "7.2"),
        "{m1}"
    );
    let m2 = psa(&summary(&r, "m2").1.unwrap());
    assert_eq!(m2["type"]["name"], "Switch");
    assert_eq!(
        m2["manufacturer"]["name"], "Fortinet",
        "mapped automatically: {m2}"
    );
    assert!(
        m2["questions"].as_array().is_none_or(|q| q.is_empty()),
        "the question belongs to firewalls only: {m2}"
    );
    // An existing configuration gets the field values.
    assert_eq!(
        summary(&r, "m3"),
        ("update".into(), Some(known.clone()), None)
    );
    let m3 = psa(&known);
    assert_eq!(m3["ipAddress"], "10.0.0.3");
    assert_eq!(m3["manufacturer"]["name"], "Dell");
    assert!(
        m3["questions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["answer"] == "6.5"),
        "{m3}"
    );
    // Idempotent, questions included.
    let again = b.run(&s, MAPPINGS, false).await;
    assert_eq!(again.writes, 0, "{again:#?}");

    // The operator edits Dell's automatic mapping by hand; a later automatic mapping adds only
    // the new make (Apple) and leaves Dell's as edited.
    let store = b.store();
    let mut dell = store
        .get_link("acme", "inventory-makes", "dell")
        .await
        .unwrap()
        .unwrap();
    dell["manufacturer-id"] = "3".into();
    store
        .set_link("acme", "inventory-makes", "dell", Some(dell))
        .await
        .unwrap();
    // The class mapping is edited too: firewalls become routers from now on.
    s.class_types.insert("firewall".into(), "Router".into());
    let later = b
        .run(&s, &format!("{MAPPINGS}{MAPPINGS_LATER}"), false)
        .await;
    assert_eq!(later.makes_mapped, ["Apple"], "{later:#?}");
    let dell = store
        .get_link("acme", "inventory-makes", "dell")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dell["manufacturer-id"], "3");
    let m5 = psa(&summary(&later, "m5").1.unwrap());
    assert_eq!(m5["type"]["name"], "Router", "created after the edit: {m5}");
    assert_eq!(
        m5["manufacturer"]["name"], "Lenovo",
        "the edited make mapping: {m5}"
    );
    assert_eq!(
        psa(&summary(&later, "m1").1.unwrap())["type"]["name"],
        "Firewall",
        "created before the edit"
    );
    assert_eq!(
        psa(&summary(&later, "m4").1.unwrap())["manufacturer"]["name"],
        "Apple"
    );
    assert_eq!(later.writes, 2, "only the two new devices: {later:#?}");
}

/// A configuration of a type the PSA refuses to update is never patched; its device's row
/// says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_types_are_never_patched() {
    let b = bench(Dialect::ConnectWise).await;
    let server = b
        .configuration("srv", MANAGED_SERVER, Some("SN-RO-0001"), None, true)
        .await;
    let s = InventorySettings {
        only_active: false,
        mark_active: Some(StatusChange { status: None }),
        fields: vec![mapping("ip-address", "ip-address")],
        ..settings(&b)
    };
    let before = b.psa();
    let r = b.run(&s, READ_ONLY, false).await;
    let ro = result(&r, "ro1");
    assert_eq!(ro.configuration_id.as_deref(), Some(server.as_str()));
    assert_eq!(ro.state, MappingState::MappedAndSyncing);
    assert!(
        ro.note
            .as_deref()
            .unwrap()
            .contains("`Managed Server` cannot be updated"),
        "{ro:#?}"
    );
    assert_eq!(r.writes, 0);
    assert_eq!(b.psa(), before);
    let listed = list_devices(b.store(), "acme", None, 10).await.unwrap();
    assert!(
        listed[0]
            .note
            .as_deref()
            .unwrap()
            .contains("Managed Server")
    );
}

/// A batch the PSA answers with 429s and 5xxs part of the time: every run stops or fails
/// part-way, the next one resumes; in the end every device has one configuration, none twice.
async fn faults_resume_without_duplicates(dialect: Dialect) {
    let b = bench(dialect).await;
    let s = InventorySettings {
        fields: vec![mapping("device-id", "device-identifier")],
        ..settings(&b)
    };
    let before = b.psa().len();
    b.sim.faults().set_too_many_requests(7, 0);
    b.sim.faults().set_server_errors(5, 503);
    let devices = parse_devices(FAULTS).unwrap();
    let mut interrupted = 0;
    for _ in 0..40 {
        match sync_inventory(&b.engine, &b.conn, &s, &devices, false, &NoProgress).await {
            Ok(r)
                if r.stopped.is_none()
                    && r.failed == 0
                    && r.results
                        .iter()
                        .all(|d| d.state == MappingState::MappedAndSyncing) =>
            {
                break;
            }
            _ => interrupted += 1,
        }
    }
    b.sim.faults().clear();
    assert!(interrupted > 0, "the faults interrupted some runs");
    let last = b.run(&s, FAULTS, false).await;
    assert_eq!(last.writes, 0, "{last:#?}");
    let psa = b.psa();
    assert_eq!(
        psa.len(),
        before + 6,
        "one configuration per device: {psa:#?}"
    );
    let states = list_devices(b.store(), "acme", None, 100).await.unwrap();
    assert!(
        states
            .iter()
            .all(|d| d.state == MappingState::MappedAndSyncing),
        "{states:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectwise_faults_resume_without_duplicates() {
    faults_resume_without_duplicates(Dialect::ConnectWise).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autotask_faults_resume_without_duplicates() {
    faults_resume_without_duplicates(Dialect::Autotask).await;
}

/// Autotask: a question mapping of one type is written as a user-defined field, only on
/// configurations of that type, and a re-run writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autotask_question_field_on_one_type() {
    let b = bench(Dialect::Autotask).await;
    let s = InventorySettings {
        fields: vec![FieldMapping {
            device: DeviceField::parse("value:firmware").unwrap(),
            target: Target::Question {
                configuration_type: "Firewall".into(),
                question: "Firmware version".into(),
                question_id: None,
            },
        }],
        ..settings(&b)
    };
    let r = b.run(&s, MAPPINGS, false).await;
    let psa = |id: &str| {
        b.sim
            .state()
            .get(psa_sim::Entity::Configuration, id.parse().unwrap())
            .unwrap()
    };
    let firewall = psa(&summary(&r, "m1").1.unwrap());
    let udfs = firewall["userDefinedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        udfs.iter()
            .any(|u| u["name"] == "Firmware version" && u["value"] == "7.2"),
        "{firewall}"
    );
    let switch = psa(&summary(&r, "m2").1.unwrap());
    assert!(
        !switch["userDefinedFields"]
            .as_array()
            .is_some_and(|u| u.iter().any(|u| u["value"] == "9.9")),
        "the question belongs to firewalls only: {switch}"
    );
    let again = b.run(&s, MAPPINGS, false).await;
    assert_eq!(again.writes, 0, "{again:#?}");
}

/// Creates whose answers were lost (the PSA made the configuration, psahost kept only the
/// intent it wrote before asking): a dry run resolves them in memory (no second create in its
/// preview, nothing stored, the intents kept), then the real run maps the device to the one
/// configuration made, reports two new matching ones as ambiguous (not guessed), and creates
/// where nothing new matches (a configuration matched before the create is never taken).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_creates_are_resolved_from_their_intents_in_a_dry_run_too() {
    use psahost_workflows::inventory::state::{INTENTS, Intent, NotSynced};
    let b = bench(Dialect::ConnectWise).await;
    let s = settings(&b);
    let known = b
        .configuration("Old FW", FIREWALL, Some("SN-LOST-2"), None, false)
        .await;
    let made = b
        .configuration("Lost FW", FIREWALL, Some("SN-LOST-1"), None, true)
        .await;
    let twin_a = b
        .configuration("Twin A", FIREWALL, Some("SN-TWIN"), None, true)
        .await;
    let twin_b = b
        .configuration("Twin B", FIREWALL, Some("SN-TWIN"), None, true)
        .await;
    for (device, serial, known) in [
        ("lost-1", "SN-LOST-1", vec![]),
        ("twin", "SN-TWIN", vec![]),
        ("lost-2", "SN-LOST-2", vec![known.clone()]),
    ] {
        let intent = Intent {
            device_id: device.into(),
            company_id: b.company.clone(),
            identifiers: [("serial-number".to_string(), vec![serial.to_string()])].into(),
            planned: serde_json::json!({"name": device}),
            known,
            at: "2026-12-06T08:00:00Z".into(),
        };
        b.store()
            .set_link(
                "acme",
                INTENTS,
                device,
                Some(serde_json::to_value(&intent).unwrap()),
            )
            .await
            .unwrap();
    }
    let devices = ["lost-1", "twin", "lost-2"]
        .map(|id| {
            let serial = match id {
                "lost-1" => "SN-LOST-1",
                "twin" => "SN-TWIN",
                _ => "SN-LOST-2",
            };
            format!(
                r#"{{"id": "{id}", "organisation": "org-a", "device-name": "{id}", "serial-number": "{serial}", "device-class": "firewall", "managed": true, "first-online": "2026-01-05T08:00:00Z"}}"#
            )
        })
        .join("\n");
    let before = b.psa().len();
    let intents_left = || async {
        b.store()
            .links("acme", INTENTS, None, 100)
            .await
            .unwrap()
            .len()
    };

    let dry = b.run(&s, &devices, true).await;
    assert_eq!(dry.intents_resolved, 3, "{dry:#?}");
    let (action, id, _) = summary(&dry, "lost-1");
    assert!(
        action != "create" && id.as_deref() == Some(made.as_str()),
        "{dry:#?}"
    );
    assert_eq!(summary(&dry, "lost-2").0, "create", "{dry:#?}");
    assert_eq!(b.psa().len(), before, "a dry run writes nothing to the PSA");
    assert_eq!(intents_left().await, 3, "a dry run keeps the intents");

    let real = b.run(&s, &devices, false).await;
    assert_eq!(real.intents_resolved, 3, "{real:#?}");
    let (action, id, _) = summary(&real, "lost-1");
    assert!(
        action != "create" && id.as_deref() == Some(made.as_str()),
        "{real:#?}"
    );
    let twin = result(&real, "twin");
    assert_eq!(twin.state, MappingState::NotSynced, "{real:#?}");
    let Some(NotSynced::Ambiguous { candidates, .. }) = &twin.not_synced else {
        panic!("twin is ambiguous: {real:#?}")
    };
    let mut candidates = candidates.clone();
    candidates.sort();
    let mut twins = vec![twin_a, twin_b];
    twins.sort();
    assert_eq!(candidates, twins);
    let (action, id, _) = summary(&real, "lost-2");
    assert!(action == "create" && id != Some(known), "{real:#?}");
    assert_eq!(b.psa().len(), before + 1, "only lost-2 was created");
    assert_eq!(intents_left().await, 0, "every intent resolved");
}
