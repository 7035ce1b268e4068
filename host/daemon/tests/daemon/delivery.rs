//! Alert delivery through the API with the real ConnectWise connector and the simulator: the
//! settings' check, a dry run, a batch delivered (one ticket and one grouped note), the same
//! batch again (nothing new), the deliveries listed, a retry refused for a delivered alert,
//! billable counts; every answer valid against the OpenAPI document.

use psahost_testkit::daemon::*;
use serde_json::{Value, json};

/// The batch of this test (a data file).
const ALERTS: &str = include_str!("../fixtures/alerts.json");

/// An alert sent while the PSA is rate-limited.
const QUEUED: &str = r#"{"id": "api-q", "organisation": "Somewhere", "severity": "Critical", "type": "ransomware", "title": "Encryption detected", "time": "2026-03-03T09:00:00Z"}"#;

pub(crate) async fn send_body(
    api: &Api,
    method: reqwest::Method,
    path: &str,
    body: &str,
) -> Answer {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", api.base))
        .bearer_auth(TOKEN)
        .body(body.to_string())
        .send()
        .await
        .expect("the API answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
    Answer { status, body, text }
}

/// `[connections.sim.delivery]` with the simulator's first open status, type, source and
/// priority of its first board; the catch-all is a company with an agreement line.
pub(crate) async fn delivery_section(sim: &psa_sim::Simulator) -> String {
    let psahost_testkit::sync::TicketDefaults {
        queue,
        status,
        ticket_type: ty,
        source,
        priority: p,
        company,
        agreement,
        product,
    } = psahost_testkit::sync::ticket_defaults(sim).await;
    format!(
        r#"
[connections.sim.delivery]
catch-all = {{ account = "{company}" }}

[connections.sim.delivery.organisations.billed]
account = "{company}"
contract = "{agreement}"

[connections.sim.delivery.ticket]
queue = "{queue}"
status = "{status}"
ticket-type = "{ty}"
source = "{source}"
subject = "MDR {{severity}}: {{title}}"
priorities = {{ critical = "{p}", high = "{p}", medium = "{p}", low = "{p}" }}

[connections.sim.delivery.note]
visibility = "public"
title = "Alert {{id}}"

[connections.sim.delivery.billing]
service = "{product}"
day = 1
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_delivered_listed_and_counted_through_the_api() {
    let sim = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(12, 7))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &sim, &ConfigSpec::default());
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&delivery_section(&sim).await);
    std::fs::write(&path, text).unwrap();
    let (_daemon, api, stop, task) = crate::serve(&path).await;
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(openapi_path()).unwrap()).unwrap();
    let post = reqwest::Method::POST;
    let a = api.post("/v1/connections/sim/sync").await;
    assert_eq!(a.status, 200, "{}", a.text);

    let check = api.get("/v1/connections/sim/delivery/check").await;
    check_answer(&doc, "get", "/v1/connections/{id}/delivery/check", &check);
    assert_eq!(check.body["ok"], true, "{}", check.text);

    let route = "/v1/connections/{id}/alerts";
    let tickets = || sim.state().count(psa_sim::Entity::Ticket);
    let before = tickets();
    let dry = send_body(
        &api,
        post.clone(),
        "/v1/connections/sim/alerts?dry-run=true",
        ALERTS,
    )
    .await;
    check_answer(&doc, "post", route, &dry);
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(dry.body["previews"][0]["action"], "ticket", "{}", dry.text);
    assert_eq!(tickets(), before);

    let sent = send_body(&api, post.clone(), "/v1/connections/sim/alerts", ALERTS).await;
    check_answer(&doc, "post", route, &sent);
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert_eq!(
        (
            &sent.body["report"]["delivered"],
            &sent.body["report"]["grouped"]
        ),
        (&json!(1), &json!(1)),
        "{}",
        sent.text
    );
    assert_eq!(tickets(), before + 1);
    let again = send_body(&api, post.clone(), "/v1/connections/sim/alerts", ALERTS).await;
    assert!(
        again.body["accepted"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["duplicate"] == true),
        "{}",
        again.text
    );
    assert_eq!(tickets(), before + 1, "the same alerts again: nothing new");

    let list = api.get("/v1/connections/sim/deliveries").await;
    check_answer(&doc, "get", "/v1/connections/{id}/deliveries", &list);
    let states: Vec<&str> = list.body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["delivered", "grouped"], "{}", list.text);

    let retry = api.post("/v1/connections/sim/deliveries/api-1/retry").await;
    check_answer(
        &doc,
        "post",
        "/v1/connections/{id}/deliveries/{alert}/retry",
        &retry,
    );
    assert_eq!(
        retry.status, 400,
        "only a failed delivery is retried: {}",
        retry.text
    );

    let bad = send_body(
        &api,
        post.clone(),
        "/v1/connections/sim/alerts",
        "{\"id\": 1}",
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.text);

    let counts = send_body(
        &api,
        post.clone(),
        "/v1/connections/sim/billable?date=2026-05-02",
        r#"{"billed": 9}"#,
    )
    .await;
    check_answer(&doc, "post", "/v1/connections/{id}/billable", &counts);
    assert_eq!(
        counts.body["outcomes"][0]["action"], "written",
        "{}",
        counts.text
    );

    // A rate-limited PSA leaves new alerts queued; the daemon's background drain delivers
    // them once the PSA answers again, without another request.
    sim.faults().set_too_many_requests(1, 1);
    let queued = send_body(&api, post.clone(), "/v1/connections/sim/alerts", QUEUED).await;
    check_answer(&doc, "post", route, &queued);
    assert_eq!(queued.status, 200, "{}", queued.text);
    assert_eq!(queued.body["report"]["still-queued"], 1, "{}", queued.text);
    let before = tickets();
    sim.faults().clear();
    api.wait_for(
        "/v1/connections/sim/deliveries",
        std::time::Duration::from_secs(60),
        "the queued alert delivered by the drain",
        |body| {
            body["deliveries"].as_array().is_some_and(|all| {
                all.iter()
                    .any(|d| d["alert"]["id"] == "api-q" && d["state"] == "delivered")
            })
        },
    )
    .await;
    assert_eq!(tickets(), before + 1);

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
