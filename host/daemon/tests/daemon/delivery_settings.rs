//! Delivery settings through the API (`GET`, `PUT`, `DELETE .../delivery/settings`): the TOML
//! table in effect, invalid settings refused with each field named, API settings in effect
//! (and used by the deliveries) across a restart, cleared back to the TOML table; and the
//! billable counts written by the background loop on the period's day when they were posted
//! before it, once, a restart included. Real ConnectWise connector, simulator, sled store;
//! every answer valid against the OpenAPI document.

use crate::delivery::{delivery_section, send_body};
use psahost_config::Config;
use psahost_daemon::{Daemon, RunOptions};
use psahost_store::RecordStore;
use psahost_testkit::daemon::*;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

const ROUTE: &str = "/v1/connections/{id}/delivery/settings";
const PATH: &str = "/v1/connections/sim/delivery/settings";

/// A config with the simulator's connection and its TOML delivery table.
async fn config(dir: &std::path::Path, sim: &psa_sim::Simulator) -> std::path::PathBuf {
    let path = write_config(dir, sim, &ConfigSpec::default());
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&delivery_section(sim).await);
    std::fs::write(&path, text).unwrap();
    path
}

/// Opens the daemon of `path`; after a stop the previous process's store may take a moment
/// to be released.
async fn open(path: &std::path::Path) -> Arc<Daemon> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match Daemon::open(Config::load(path).expect("config")).await {
            Ok(d) => return d,
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("the daemon does not open yet: {e:#}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the daemon does not open: {e:#}"),
        }
    }
}

fn doc() -> Value {
    serde_json::from_str(&std::fs::read_to_string(openapi_path()).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_set_through_the_api_replace_the_toml_ones_until_cleared() {
    let sim = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(12, 7))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &sim).await;
    let doc = doc();
    let put = reqwest::Method::PUT;
    let daemon = open(&path).await;
    let (api, stop, task) = crate::serve_daemon(&daemon).await;
    let a = api.post("/v1/connections/sim/sync").await;
    assert_eq!(a.status, 200, "{}", a.text);

    let toml = api.get(PATH).await;
    check_answer(&doc, "get", ROUTE, &toml);
    assert_eq!(toml.status, 200, "{}", toml.text);
    assert_eq!(toml.body["source"], "toml", "{}", toml.text);
    assert_eq!(
        toml.body["settings"]["ticket"]["subject"], "MDR {severity}: {title}",
        "{}",
        toml.text
    );

    // A form error: the field named, nothing stored.
    let mut settings = toml.body["settings"].clone();
    settings["note"]["visibility"] = "secret".into();
    let bad = send_body(&api, put.clone(), PATH, &settings.to_string()).await;
    check_answer(&doc, "put", ROUTE, &bad);
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(bad.body["error"]["problems"][0]["field"], "note.visibility");
    assert!(bad.text.contains("`secret`"), "{}", bad.text);
    // Ids the PSA does not have: every one named with the valid choices, nothing stored.
    let mut settings = toml.body["settings"].clone();
    settings["ticket"]["queue"] = "999999".into();
    settings["catch-all"]["account"] = "888888".into();
    let bad = send_body(&api, put.clone(), PATH, &settings.to_string()).await;
    check_answer(&doc, "put", ROUTE, &bad);
    assert_eq!(bad.status, 422, "{}", bad.text);
    let problems = bad.body["error"]["problems"].as_array().unwrap();
    let queue = problems
        .iter()
        .find(|p| p["field"] == "ticket.queue")
        .unwrap_or_else(|| panic!("ticket.queue named: {}", bad.text));
    assert!(
        queue["message"].as_str().unwrap().contains("valid choices"),
        "{}",
        bad.text
    );
    assert!(
        problems.iter().any(|p| p["field"] == "catch-all.account"),
        "{}",
        bad.text
    );
    let unchanged = api.get(PATH).await;
    assert_eq!(unchanged.body["source"], "toml", "{}", unchanged.text);
    let not_json = send_body(&api, put.clone(), PATH, "{").await;
    check_answer(&doc, "put", ROUTE, &not_json);
    assert_eq!(not_json.status, 400, "{}", not_json.text);

    // Complete settings: stored, in effect at once for the deliveries.
    let mut settings = toml.body["settings"].clone();
    settings["ticket"]["subject"] = "API {severity}: {title}".into();
    let set = send_body(&api, put.clone(), PATH, &settings.to_string()).await;
    check_answer(&doc, "put", ROUTE, &set);
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(
        (&set.body["source"], &set.body["version"]),
        (&Value::from("api"), &Value::from(1)),
        "{}",
        set.text
    );
    let alert = r#"{"id": "s-1", "organisation": "Somewhere", "severity": "High", "type": "phishing", "title": "Phishing", "time": "2026-03-03T08:00:00Z"}"#;
    let dry = send_body(
        &api,
        reqwest::Method::POST,
        "/v1/connections/sim/alerts?dry-run=true",
        alert,
    )
    .await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(
        dry.body["previews"][0]["record"]["summary"], "API high: Phishing",
        "{}",
        dry.text
    );
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    drop(daemon);

    // A restart: the settings set through the API are still in effect.
    let daemon = open(&path).await;
    let (api, stop, task) = crate::serve_daemon(&daemon).await;
    let after = api.get(PATH).await;
    assert_eq!(
        (&after.body["source"], &after.body["version"]),
        (&Value::from("api"), &Value::from(1)),
        "{}",
        after.text
    );
    assert_eq!(
        after.body["settings"]["ticket"]["subject"],
        "API {severity}: {title}"
    );

    // Cleared: the TOML table again.
    let cleared = api.send(reqwest::Method::DELETE, PATH, Some(TOKEN)).await;
    check_answer(&doc, "delete", ROUTE, &cleared);
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert_eq!(cleared.body["source"], "toml", "{}", cleared.text);
    let dry = send_body(
        &api,
        reqwest::Method::POST,
        "/v1/connections/sim/alerts?dry-run=true",
        alert,
    )
    .await;
    assert_eq!(
        dry.body["previews"][0]["record"]["summary"], "MDR high: Phishing",
        "{}",
        dry.text
    );
    let events: Vec<String> = daemon
        .store()
        .audit("sim", 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, e)| e["workflow"] == "delivery")
        .filter_map(|(_, e)| e["event"].as_str().map(str::to_string))
        .filter(|e| e.starts_with("settings-"))
        .collect();
    assert_eq!(events, ["settings-set", "settings-cleared"]);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// The test's clock: a Julian day.
static TODAY: AtomicI32 = AtomicI32::new(0);

fn today() -> time::Date {
    time::Date::from_julian_day(TODAY.load(Ordering::SeqCst)).expect("a date")
}

fn set_today(text: &str) {
    let d = time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    TODAY.store(d.to_julian_day(), Ordering::SeqCst);
}

fn options() -> RunOptions {
    RunOptions {
        shutdown_grace: Duration::from_secs(5),
        delivery_drain_every: Duration::from_millis(200),
        today,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billable_counts_posted_before_the_day_are_written_on_the_day_once() {
    let sim = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(12, 7))
        .await
        .expect("simulator");
    let defaults = psahost_testkit::sync::ticket_defaults(&sim).await;
    let line = sim.state().read(|data| {
        data.agreement_lines
            .values()
            .find(|l| {
                l.agreement_id.to_string() == defaults.agreement
                    && l.product_id.to_string() == defaults.product
            })
            .expect("the agreement's line")
            .id
    });
    let quantity = || {
        sim.state()
            .read(|data| data.agreement_lines[&line].quantity.to_string())
    };
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &sim).await;
    // The sync day is the 31st: in February 2027, the 28th.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("day = 1\n", "day = 31\n");
    std::fs::write(&path, text).unwrap();
    set_today("2027-02-20");
    let daemon = open(&path).await;
    let (api, stop, task) = crate::serve_daemon_with(&daemon, options()).await;
    let a = api.post("/v1/connections/sim/sync").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let posted = send_body(
        &api,
        reqwest::Method::POST,
        "/v1/connections/sim/billable?date=2027-02-20",
        r#"{"billed": 4242}"#,
    )
    .await;
    assert_eq!(posted.status, 200, "{}", posted.text);
    assert_eq!(
        posted.body["outcomes"][0]["action"], "not-due",
        "{}",
        posted.text
    );
    let billing_entries = |store: Arc<dyn RecordStore>| async move {
        store
            .audit("sim", 0, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, e)| e["workflow"] == "billing")
            .map(|(_, e)| (e["period"].clone(), e["count"].clone()))
            .collect::<Vec<_>>()
    };
    // Several rounds of the loop before the day: nothing written.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_ne!(quantity(), "4242");
    assert!(billing_entries(daemon.store().clone()).await.is_empty());

    // The day comes: the loop writes the kept count, without another request.
    set_today("2027-02-28");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while quantity() != "4242" {
        assert!(
            std::time::Instant::now() < deadline,
            "the background loop did not write the count on the day"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let once = vec![(Value::from("2027-02"), Value::from(4242))];
    // The audit entry follows the PSA's answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while billing_entries(daemon.store().clone()).await != once {
        assert!(std::time::Instant::now() < deadline, "one audit entry");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    drop(daemon);

    // A restart on the same day: the period is written, the PSA is not asked again.
    let daemon = open(&path).await;
    let requests = sim.faults().api_requests();
    let (_api, stop, task) = crate::serve_daemon_with(&daemon, options()).await;
    // Many rounds of the loop (every 200 ms).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(billing_entries(daemon.store().clone()).await, once);
    assert_eq!(sim.faults().api_requests(), requests, "no PSA call");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
