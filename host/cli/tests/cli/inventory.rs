//! `psahost inventory`: sync a fixture's devices (dry run, then for real), list the states
//! and the audit trail; and crash safety: SIGKILL `psahost inventory sync` after the PSA
//! created a configuration but before the answer reached psahost, run it again, and the PSA
//! holds one configuration for the device, not two.

use psahost_store::{Entity, RecordStore, SledStore};
use psahost_testkit::sync::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DEVICES: &str = include_str!("fixtures/inventory-devices.jsonl");

/// A `psahost.toml` with connection `sim` (the connector at `plugin`) against `sim`, with
/// inventory settings mapping organisation `org-a` to the simulator's first company.
fn config(dir: &Path, sim: &psa_sim::Simulator, plugin: &str, extra: &str) -> PathBuf {
    let settings = sim
        .connector_settings()
        .into_iter()
        .map(|s| format!("{} = {:?}", s.name, s.value))
        .collect::<Vec<_>>()
        .join(", ");
    let company = sim_ids(sim, Entity::Companies)
        .into_iter()
        .find(|id| {
            sim.state()
                .get(psa_sim::Entity::Company, id.parse().unwrap())
                .is_some()
        })
        .unwrap();
    let text = format!(
        r#"
[runtime]
data-dir = "data"
cache-dir = {cache:?}
call-timeout = "60s"

[plugins.psa]
path = {plugin:?}

[connections.sim]
plugin = "psa"
settings = {{ {settings} }}
grant = {{ hosts = [{origin:?}] }}
limits = {{ max-retries = 0 }}

[connections.sim.inventory]
identifiers = ["serial-number", "host-name"]
host-name-in = "notes"
create-missing = true
use-type-when-matching = false
only-active = true
only-managed = true
mark-active = false
inactivate-on-delete = false
{extra}

[connections.sim.inventory.classes]
firewall = "Firewall"

[connections.sim.inventory.companies]
"org-a" = "{company}"
"#,
        cache = psahost_testkit::cache_dir().display().to_string(),
        origin = sim.origin(),
    );
    let path = dir.join("psahost.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_sync_dry_run_list_and_audit() {
    let mut sim_config = psa_sim::SimConfig::connectwise(4, 7);
    sim_config.configurations = Some(0);
    let sim = psa_sim::Simulator::start(sim_config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &sim,
        plugin_artifacts::CONNECTWISE_MANAGE_PATH,
        "",
    );
    let devices = dir.path().join("devices.jsonl");
    std::fs::write(&devices, DEVICES).unwrap();
    let input = devices.to_str().unwrap();

    let dry = crate::run(
        &config,
        &["inventory", "sync", "sim", "--input", input, "--dry-run"],
    )
    .await;
    assert_eq!(dry.code, Some(0), "{}\n{}", dry.stdout, dry.stderr);
    assert!(
        dry.stdout.contains("dev-1") && dry.stdout.contains("create"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("serial-number: - -> SN-CLI-0001"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("(dry run: nothing written)"),
        "{}",
        dry.stdout
    );
    assert_eq!(sim.state().count(psa_sim::Entity::Configuration), 0);

    let out = crate::run(&config, &["inventory", "sync", "sim", "--input", input]).await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("3 devices: 1 created"),
        "{}",
        out.stdout
    );
    assert_eq!(sim.state().count(psa_sim::Entity::Configuration), 1);

    let list = crate::run(&config, &["inventory", "list", "sim"]).await;
    assert_eq!(list.code, Some(0), "{}", list.stderr);
    let line = |id: &str| {
        list.stdout
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{id} in {}", list.stdout))
            .to_string()
    };
    assert!(
        line("dev-1").contains("mapped-and-syncing"),
        "{}",
        list.stdout
    );
    assert!(
        line("dev-2").contains("not-synced") && line("dev-2").contains("only-identifier-unknown"),
        "{}",
        list.stdout
    );
    assert!(
        line("dev-3").contains("waiting-for-online-time"),
        "{}",
        list.stdout
    );
    assert!(list.stdout.contains("3 devices"));

    let audit = crate::run(&config, &["inventory", "audit", "sim"]).await;
    assert_eq!(audit.code, Some(0), "{}", audit.stderr);
    let entries: Vec<serde_json::Value> = audit
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 1, "{}", audit.stdout);
    assert_eq!(entries[0]["entry"]["action"], "create");
    assert_eq!(entries[0]["entry"]["device-id"], "dev-1");

    // Again: nothing to write.
    let again = crate::run(&config, &["inventory", "sync", "sim", "--input", input]).await;
    assert!(
        again.stdout.contains("0 created, 0 updated"),
        "{}",
        again.stdout
    );
    assert_eq!(sim.state().count(psa_sim::Entity::Configuration), 1);

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": \"x\", \"managed\": true}\n{\"id\": \"y\"}\n",
    )
    .unwrap();
    let out = crate::run(
        &config,
        &["inventory", "sync", "sim", "--input", bad.to_str().unwrap()],
    )
    .await;
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains("line 2") && out.stderr.contains("managed"),
        "{}",
        out.stderr
    );
}

/// Autotask creates a configuration item with a POST and then reads it back with a GET: with
/// every response delayed, the item exists in the PSA for the length of that delay while
/// psahost still waits for its answer. The process is killed then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_the_psas_create_and_the_local_record_creates_once() {
    let mut sim_config = psa_sim::SimConfig::autotask(4, 7);
    sim_config.configurations = Some(0);
    let sim = psa_sim::Simulator::start(sim_config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &sim,
        plugin_artifacts::AUTOTASK_PATH,
        "create-extra = { productID = 2004 }",
    );
    let devices = dir.path().join("devices.jsonl");
    std::fs::write(&devices, DEVICES.lines().next().unwrap()).unwrap();
    let input = devices.to_str().unwrap();

    sim.faults().set_delay_ms(1500);
    let mut child = psahost_command(
        crate::psahost_bin(),
        &config,
        &["inventory", "sync", "sim", "--input", input],
    )
    .spawn()
    .expect("start psahost inventory sync");
    let started = Instant::now();
    while sim.state().count(psa_sim::Entity::Configuration) == 0 {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().await.unwrap();
            panic!(
                "psahost ended before the create ({status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(started.elapsed() < Duration::from_secs(300), "no create");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Created in the PSA; psahost waits for the read-back (delayed): kill it now.
    child.kill().await.expect("SIGKILL");
    assert!(!child.wait().await.unwrap().success());
    sim.faults().set_delay_ms(0);
    assert_eq!(sim.state().count(psa_sim::Entity::Configuration), 1);
    {
        let store = SledStore::open(&dir.path().join("data/store")).unwrap();
        assert!(
            store
                .get_link("sim", "inventory-intents", "dev-1")
                .await
                .unwrap()
                .is_some(),
            "killed before the outcome was recorded: the intent is there"
        );
        let state = store
            .get_link("sim", "inventory-devices", "dev-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(state["state"], "matching-in-progress");
    }

    let out = crate::run(&config, &["inventory", "sync", "sim", "--input", input]).await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        sim.state().count(psa_sim::Entity::Configuration),
        1,
        "one configuration: {}",
        out.stdout
    );
    let id = sim.state().ids(psa_sim::Entity::Configuration)[0].to_string();
    assert!(out.stdout.contains("0 created"), "{}", out.stdout);
    let store = SledStore::open(&dir.path().join("data/store")).unwrap();
    assert!(
        store
            .get_link("sim", "inventory-intents", "dev-1")
            .await
            .unwrap()
            .is_none()
    );
    let state = store
        .get_link("sim", "inventory-devices", "dev-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state["state"], "mapped-and-syncing");
    assert_eq!(state["configuration-id"], id.as_str());
    let audit = store.audit("sim", 0, 10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|(_, e)| e["action"] == "resolve-intent" && e["configuration-id"] == id.as_str()),
        "{audit:#?}"
    );
}
