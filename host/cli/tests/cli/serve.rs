//! `psahost serve` as an operator runs it: a child process with a schedule against the
//! simulator. The scheduled syncs fill the store; sync now, records, the change feed, MRR and
//! metrics through the API; SIGTERM in the middle of a long scheduled sync exits 0 with the
//! store consistent; a restart resumes that sync from its checkpoint and completes it, with
//! exactly one `created` event per record.

use psahost_store::Entity;
use psahost_store::{ChangeKind, RecordStore, RunStatus, SledStore};
use psahost_testkit::daemon::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

const CONFIGURATIONS: usize = 3000;

fn last_run<'a>(status: &'a Value, entity: &str) -> &'a Value {
    status["entities"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["entity"] == entity))
        .map_or(&Value::Null, |e| &e["last-run"])
}

fn stored(status: &Value, entity: &str) -> u64 {
    status["entities"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["entity"] == entity))
        .and_then(|e| e["stored"].as_u64())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_schedules_serves_stops_on_sigterm_and_resumes() {
    let mut sim_config = psa_sim::SimConfig::connectwise(15, 7);
    sim_config.configurations = Some(CONFIGURATIONS);
    let sim = psa_sim::Simulator::start(sim_config)
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &sim,
        &ConfigSpec {
            schedule: &[
                ("companies", "1h"),
                ("contacts", "1h"),
                ("agreements", "1h"),
                ("configurations", "1h"),
                ("full-sweep", "24h"),
            ],
            page_size: 10,
            ..ConfigSpec::default()
        },
    );
    // Slow answers keep the configurations sync (300 pages) busy while the test looks around.
    sim.faults().set_delay_ms(60);

    let served = Served::start(
        crate::psahost_bin(),
        &config,
        &["--shutdown-grace", "300ms"],
    )
    .await;
    let api = served.api.clone();
    let health = api.send(reqwest::Method::GET, "/health", None).await;
    assert_eq!(health.status, 200);

    // The schedule's first runs fill the store (entities in order, each at once: never synced).
    let status = api
        .wait_for(
            "/v1/connections/sim",
            Duration::from_secs(120),
            "the first scheduled syncs",
            |s| {
                ["companies", "contacts", "agreements"]
                    .iter()
                    .all(|e| last_run(s, e)["status"] == "completed" && stored(s, e) > 0)
            },
        )
        .await;
    assert_eq!(status["schedule"]["entities"]["companies"], "1h");
    assert_eq!(status["schedule"]["full-sweep"], "1day");

    // Sync now of one entity, after a change in the PSA.
    let company = sim.state().ids(psa_sim::Entity::Company)[0];
    assert!(sim.state().touch(psa_sim::Entity::Company, company));
    let now = api.post("/v1/connections/sim/sync/companies").await;
    assert_eq!(now.status, 200, "{}", now.text);
    let run = &now.body["runs"][0];
    assert_eq!(
        (run["status"].as_str(), run["mode"].as_str()),
        (Some("completed"), Some("incremental")),
        "{}",
        now.text
    );
    assert_eq!(run["updated"], 1, "{}", now.text);
    // ... and of that one record: unchanged now.
    let one = api
        .post(&format!(
            "/v1/connections/sim/records/companies/{company}/sync"
        ))
        .await;
    assert_eq!(
        (one.body["found"].as_bool(), one.body["change"].is_null()),
        (Some(true), true),
        "{}",
        one.text
    );

    // Records and the change feed through the API.
    let a = api
        .get(&format!("/v1/connections/sim/records/companies/{company}"))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["record"]["id"], company.to_string());
    let feed = api
        .get("/v1/connections/sim/changes?after=0&limit=1000")
        .await;
    let changes = feed.body["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "updated" && c["id"].as_str() == Some(&*company.to_string()))
    );

    // MRR through the API, kept to compare with the views module on the same store later.
    let day = time::OffsetDateTime::now_utc().date();
    let mrr = api.get(&format!("/v1/connections/sim/mrr?day={day}")).await;
    assert_eq!(mrr.status, 200, "{}", mrr.text);

    // Metrics expose the counters.
    let metrics = api.get("/metrics").await;
    for needle in [
        r#"psahost_plugin_calls_total{plugin="connectwise-manage",operation="list-companies",outcome="ok"}"#,
        r#"psahost_http_requests_total{connection="sim"}"#,
        r#"psahost_http_responses_total{connection="sim",class="2xx"}"#,
        r#"psahost_sync_runs_total{connection="sim",entity="companies",mode="full",outcome="completed"} 1"#,
        r#"psahost_sync_records_total{connection="sim",entity="contacts",change="created"}"#,
    ] {
        assert!(metrics.text.contains(needle), "{needle}\n{}", metrics.text);
    }

    // SIGTERM while the scheduled configurations sync is in the middle: exit 0.
    api.wait_for(
        "/v1/connections/sim",
        Duration::from_secs(60),
        "the configurations sync to start",
        |s| stored(s, "configurations") > 0,
    )
    .await;
    let (code, log) = served.terminate().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");

    // The store is consistent: whole pages, the unfinished sweep's checkpoint; MRR as served.
    let store_dir = dir.path().join("data/store");
    let run_id = {
        let store = SledStore::open(&store_dir).expect("the daemon released the store");
        let n = store.count("sim", Entity::Configurations).await.unwrap();
        assert!(
            n > 0 && (n as usize) < CONFIGURATIONS,
            "stopped mid-sync: {n} stored"
        );
        assert_eq!(n % 10, 0, "whole pages only: {n}");
        let state = store
            .sync_state("sim", Entity::Configurations)
            .await
            .unwrap();
        let cursor = state
            .in_progress
            .expect("the unfinished sweep's checkpoint");
        let views = psahost_workflows::views::mrr_from_store(&store, "sim", day)
            .await
            .unwrap();
        assert_eq!(
            mrr.body,
            serde_json::to_value(&views).unwrap(),
            "the API's MRR is the views module's"
        );
        cursor.run_id
    };

    // Restart: the scheduler resumes the sweep from its checkpoint and completes it.
    sim.faults().set_delay_ms(0);
    let served = Served::start(crate::psahost_bin(), &config, &[]).await;
    let api = served.api.clone();
    let status = api
        .wait_for(
            "/v1/connections/sim",
            Duration::from_secs(120),
            "the resumed sync to complete",
            |s| {
                stored(s, "configurations") == CONFIGURATIONS as u64
                    && s["entities"]
                        .as_array()
                        .and_then(|a| a.iter().find(|e| e["entity"] == "configurations"))
                        .is_some_and(|e| e["last-run"]["status"] == "completed")
            },
        )
        .await;
    let entity = status["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity"] == "configurations")
        .unwrap();
    assert_eq!(entity["last-run"]["id"], run_id, "the same run, resumed");
    assert!(entity["last-run"]["resumed"].as_u64().unwrap() >= 1);
    assert_eq!(entity["last-run"]["created"], CONFIGURATIONS as u64);
    let ready = api.send(reqwest::Method::GET, "/ready", None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    let (code, log) = served.terminate().await;
    assert_eq!(code, Some(0), "{log}");

    // Exactly one `created` per configuration over both lifetimes.
    let store = SledStore::open(&store_dir).unwrap();
    let mut kinds: BTreeMap<String, Vec<ChangeKind>> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = store.changes("sim", after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for c in page
            .into_iter()
            .filter(|c| c.entity == Entity::Configurations)
        {
            kinds.entry(c.id).or_default().push(c.kind);
        }
    }
    assert_eq!(kinds.len(), CONFIGURATIONS);
    assert!(kinds.values().all(|k| k == &vec![ChangeKind::Created]));
    let run = store.run("sim", run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    sim.shutdown().await;
}
