//! Plugins of two contract versions in one daemon: a connector a vendor built for 0.1.0 (the
//! frozen artifact) and a current 0.2.0 connector, one configuration, each syncing through the
//! API, each reported with its version.

use psahost_testkit::daemon::TOKEN;
use std::fmt::Write as _;

fn connection(text: &mut String, id: &str, plugin: &str, sim: &psa_sim::Simulator) {
    let settings = sim
        .connector_settings()
        .iter()
        .map(|s| format!("{} = {:?}", s.name, s.value))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = write!(
        text,
        "\n[connections.{id}]\nplugin = \"{plugin}\"\nsettings = {{ {settings} }}\ngrant = {{ hosts = [{:?}] }}\nlimits = {{ max-retries = 0 }}\n",
        sim.origin()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_1_0_and_a_0_2_0_connector_sync_side_by_side() {
    let cw = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(12, 7))
        .await
        .expect("simulator");
    let at = psa_sim::Simulator::start(psa_sim::SimConfig::autotask(12, 7))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!(
        "[runtime]\ndata-dir = \"data\"\ncache-dir = {:?}\ncall-timeout = \"60s\"\n\n[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\n[plugins.cw-old]\npath = {:?}\n\n[plugins.at]\npath = {:?}\n",
        psahost_testkit::cache_dir().display().to_string(),
        plugin_artifacts::CONNECTWISE_MANAGE_V0_1_0_PATH,
        plugin_artifacts::AUTOTASK_PATH,
    );
    connection(&mut text, "old", "cw-old", &cw);
    connection(&mut text, "new", "at", &at);
    let path = dir.path().join("psahost.toml");
    std::fs::write(&path, text).unwrap();
    let (_daemon, api, stop, task) = crate::serve(&path).await;

    let plugins = api.get("/v1/plugins").await;
    assert_eq!(plugins.status, 200, "{}", plugins.text);
    let wit_of = |id: &str| {
        plugins.body["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["wit"].clone())
    };
    assert_eq!(
        wit_of("cw-old"),
        Some("psa:connector@0.1.0".into()),
        "{}",
        plugins.text
    );
    assert_eq!(
        wit_of("at"),
        Some("psa:connector@0.2.0".into()),
        "{}",
        plugins.text
    );

    // The 0.1.0 connector syncs its five entities, exactly as before.
    let old = api.post("/v1/connections/old/sync").await;
    assert_eq!(old.status, 200, "{}", old.text);
    assert_eq!(old.body["all-completed"], true, "{}", old.text);
    let runs = old.body["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 5, "no datasets: {}", old.text);
    assert!(runs[0]["created"].as_u64().unwrap() > 5, "{}", old.text);
    let companies = api.get("/v1/connections/old/records/companies").await;
    assert_eq!(companies.status, 200, "{}", companies.text);
    assert!(!companies.body["records"].as_array().unwrap().is_empty());

    // The 0.2.0 connector syncs its entities and its datasets.
    let new = api.post("/v1/connections/new/sync").await;
    assert_eq!(new.status, 200, "{}", new.text);
    assert_eq!(new.body["all-completed"], true, "{}", new.text);
    assert_eq!(
        new.body["runs"].as_array().unwrap().len(),
        5 + 11,
        "{}",
        new.text
    );
    let entries = api.get("/v1/connections/new/records/time-entries").await;
    assert_eq!(entries.status, 200, "{}", entries.text);
    let first = &entries.body["records"][0]["record"];
    assert!(
        first["raw"].is_object() && first["id"].is_string(),
        "{}",
        entries.text
    );
    // A dataset the 0.1.0 connector lacks is named as such.
    let missing = api.post("/v1/connections/old/sync/time-entries").await;
    assert_eq!(missing.status, 404, "{}", missing.text);

    let _ = stop.send(());
    task.await.unwrap().unwrap();
    cw.shutdown().await;
    at.shutdown().await;
}
