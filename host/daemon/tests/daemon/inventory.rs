//! Inventory sync through the API: a dry run writes nothing, a real run creates the missing
//! configuration and stores the states and the audit trail, which are listed; bad input is a
//! 400 naming the line; a second batch while one runs is a 409; every answer is valid against
//! the document.

use crate::api::send_body;
use psahost_testkit::daemon::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_synced_listed_and_audited() {
    let mut config = psa_sim::SimConfig::connectwise(4, 7);
    config.configurations = Some(0);
    let sim = psa_sim::Simulator::start(config).await.expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &sim, &ConfigSpec::default());
    let company = sim.state().ids(psa_sim::Entity::Company)[0];
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        r#"
[connections.sim.inventory]
identifiers = ["serial-number"]
create-missing = true
use-type-when-matching = false
only-active = true
only-managed = false
mark-active = false
inactivate-on-delete = false
classes = {{ firewall = "Firewall" }}
companies = {{ "org-a" = "{company}" }}
"#
    ));
    std::fs::write(&path, text).unwrap();
    let (_daemon, api, stop, task) = crate::serve(&path).await;
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(openapi_path()).unwrap()).unwrap();
    let devices = concat!(
        r#"{"id": "d1", "organisation": "org-a", "device-name": "Edge", "serial-number": "SN-API-0001", "device-class": "firewall", "managed": true, "first-online": "2026-01-05T08:00:00Z"}"#,
        "\n",
        r#"{"id": "d2", "organisation": "org-a", "device-name": "Nameless", "serial-number": "Unknown", "device-class": "firewall", "managed": true, "first-online": "2026-01-05T08:00:00Z"}"#,
        "\n"
    );
    let post = reqwest::Method::POST;
    let route = "/v1/connections/{id}/inventory/devices";

    let a = send_body(
        &api,
        post.clone(),
        "/v1/connections/sim/inventory/devices?dry-run=true",
        devices,
    )
    .await;
    check_answer(&doc, "post", route, &a);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["results"][0]["action"], "create", "{}", a.text);
    assert_eq!(a.body["dry-run"], true);
    assert_eq!(sim.state().count(psa_sim::Entity::Configuration), 0);
    let listed = api.get("/v1/connections/sim/inventory/devices").await;
    check_answer(&doc, "get", route, &listed);
    assert_eq!(listed.body["devices"], serde_json::json!([]));

    let a = send_body(
        &api,
        post.clone(),
        "/v1/connections/sim/inventory/devices",
        devices,
    )
    .await;
    check_answer(&doc, "post", route, &a);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        (a.body["created"].as_u64(), a.body["not-synced"].as_u64()),
        (Some(1), Some(1)),
        "{}",
        a.text
    );
    assert_eq!(sim.state().count(psa_sim::Entity::Configuration), 1);
    let created = a.body["results"][0]["configuration-id"]
        .as_str()
        .unwrap()
        .to_string();

    let listed = api.get("/v1/connections/sim/inventory/devices").await;
    check_answer(&doc, "get", route, &listed);
    let rows = listed.body["devices"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{}", listed.text);
    assert_eq!(rows[0]["state"], "mapped-and-syncing");
    assert_eq!(rows[0]["configuration-id"], created.as_str());
    assert_eq!(rows[1]["state"], "not-synced");
    assert_eq!(rows[1]["reason"], "only-identifier-unknown");

    let audit = api.get("/v1/connections/sim/inventory/audit").await;
    check_answer(&doc, "get", "/v1/connections/{id}/inventory/audit", &audit);
    let entries = audit.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", audit.text);
    assert_eq!(entries[0]["entry"]["action"], "create");
    assert_eq!(
        entries[0]["entry"]["answer"]["configuration-id"],
        created.as_str()
    );

    let bad = send_body(
        &api,
        post.clone(),
        "/v1/connections/sim/inventory/devices",
        "{\"id\": \"x\", \"managed\": true}\n{\"id\": 1, \"colour\": 2}\n",
    )
    .await;
    check_answer(&doc, "post", route, &bad);
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(bad.text.contains("line 2"), "{}", bad.text);

    // Two batches of one connection at once: one runs, the other is refused as busy (the PSA
    // slowed down so that the first is still refreshing when the second arrives).
    sim.faults().set_delay_ms(300);
    let path = "/v1/connections/sim/inventory/devices";
    let (a, b) = tokio::join!(
        send_body(&api, post.clone(), path, devices),
        send_body(&api, post.clone(), path, devices)
    );
    sim.faults().clear();
    for answer in [&a, &b] {
        check_answer(&doc, "post", route, answer);
    }
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{}\n{}", a.text, b.text);
    let refused = if a.status == 409 { &a } else { &b };
    assert_eq!(refused.body["error"]["code"], "busy", "{}", refused.text);
    assert_eq!(
        sim.state().count(psa_sim::Entity::Configuration),
        1,
        "nothing created twice"
    );

    stop.send(()).ok();
    task.await.unwrap().unwrap();
}
