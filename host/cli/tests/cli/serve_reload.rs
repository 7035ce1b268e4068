//! Plugin hot reload in a running `psahost serve`: the connector comes from the plugin
//! directory; replacing its file with another valid build swaps it (new calls use it, a call in
//! flight finishes on the old one); replacing it with garbage is logged and refused, and the
//! loaded version keeps serving.

use psahost_testkit::component_variant;
use psahost_testkit::daemon::*;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Replaces `path` atomically (write a sibling, rename over).
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_swaps_valid_builds_and_refuses_garbage() {
    let sim = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(5, 7))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let original = std::fs::read(plugin_artifacts::CONNECTWISE_MANAGE_PATH).unwrap();
    let file = plugins.join("cw.wasm");
    std::fs::write(&file, &original).unwrap();
    let config = write_config(
        dir.path(),
        &sim,
        &ConfigSpec {
            plugin_path: None,
            plugin_dir: Some("plugins"),
            plugin_id: "cw",
            // Its other builds are not the bundled connectwise-manage: the operator says they
            // replace it.
            replaces_builtin: true,
            ..ConfigSpec::default()
        },
    );
    let served = Served::start(crate::psahost_bin(), &config, &[]).await;
    let api = served.api.clone();

    let test = api.post("/v1/connections/sim/test").await;
    assert_eq!(test.body["ok"], true, "{}", test.text);
    assert_eq!(test.body["plugin"]["sha256"], sha(&original));

    // A call in flight while the file is swapped (slow answers keep it in flight).
    sim.faults().set_delay_ms(1500);
    let slow_api = api.clone();
    let in_flight = tokio::spawn(async move { slow_api.post("/v1/connections/sim/test").await });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let second = component_variant(&original, "v2");
    replace(&file, &second);
    let plugins_now = api
        .wait_for(
            "/v1/plugins",
            Duration::from_secs(60),
            "the new version",
            |b| b["plugins"][0]["sha256"] == sha(&second).as_str(),
        )
        .await;
    assert_eq!(plugins_now["plugins"][0]["reloads"], 1);
    assert!(plugins_now["plugins"][0]["error"].is_null());

    let old = in_flight.await.unwrap();
    assert_eq!(old.body["ok"], true, "{}", old.text);
    assert_eq!(
        old.body["plugin"]["sha256"],
        sha(&original),
        "the call in flight finished on the old version"
    );
    sim.faults().set_delay_ms(0);
    let new = api.post("/v1/connections/sim/test").await;
    assert_eq!(new.body["ok"], true, "{}", new.text);
    assert_eq!(
        new.body["plugin"]["sha256"],
        sha(&second),
        "new calls use the new version"
    );
    let status = api.get("/v1/connections").await;
    assert_eq!(status.body["connections"][0]["plugin-sha256"], sha(&second));

    // Garbage: refused, logged, and the loaded version keeps serving.
    replace(&file, b"this is not a component");
    let plugins_now = api
        .wait_for(
            "/v1/plugins",
            Duration::from_secs(60),
            "the rejection",
            |b| {
                b["plugins"][0]["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("not a WebAssembly file"))
            },
        )
        .await;
    assert_eq!(plugins_now["plugins"][0]["sha256"], sha(&second));
    assert_eq!(plugins_now["plugins"][0]["reloads"], 1);
    let still = api.post("/v1/connections/sim/test").await;
    assert_eq!(still.body["ok"], true, "{}", still.text);
    assert_eq!(still.body["plugin"]["sha256"], sha(&second));
    let sync = api.post("/v1/connections/sim/sync/companies").await;
    assert_eq!(sync.body["all-completed"], true, "{}", sync.text);
    let metrics = api.get("/metrics").await;
    assert!(
        metrics
            .text
            .contains(r#"psahost_plugin_reloads_total{plugin="cw",outcome="rejected"} 1"#),
        "{}",
        metrics.text
    );

    let (code, log) = served.terminate().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("new version of the plugin rejected")
            && log.contains("not a WebAssembly file")
            && log.contains("the loaded version keeps running"),
        "{log}"
    );
    assert!(log.contains("plugin reloaded"), "{log}");
    sim.shutdown().await;
}
