//! Autotask limits: the per-entity thread limit, the hourly request budget with
//! ThresholdInformation, and the fault knobs.

use std::time::{Duration, Instant};

use crate::common::autotask::At;
use psa_sim::{SimConfig, Simulator};
use serde_json::json;

async fn start(config: SimConfig) -> Simulator {
    Simulator::start(config).await.expect("simulator started")
}

#[tokio::test]
async fn more_than_three_requests_on_one_entity_get_the_thread_error() {
    let sim = start(SimConfig::autotask(10, 1)).await;
    let at = At::new(&sim);
    sim.faults().set_delay_ms(400);
    let tickets: Vec<_> = (0..5)
        .map(|_| {
            let at = at.clone();
            tokio::spawn(async move {
                at.query(
                    "Tickets",
                    5,
                    json!([{"op": "gt", "field": "id", "value": 0}]),
                )
                .await
            })
        })
        .collect();
    // Another entity has its own three places.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let companies = at.get("Companies/entityInformation/fields").await;
    assert_eq!(companies.status, 200);
    let mut ok = 0;
    let mut refused = Vec::new();
    for t in tickets {
        let r = t.await.unwrap();
        match r.status {
            200 => ok += 1,
            429 => refused.push(r.errors()),
            other => panic!("{other}: {}", r.body),
        }
    }
    assert_eq!(ok, 3);
    assert_eq!(refused.len(), 2);
    for errors in refused {
        assert_eq!(
            errors,
            vec![
                "Thread threshold exceeded: the API tracking identifier already has 3 concurrent requests on the Tickets endpoint. Wait for one to finish and retry."
            ]
        );
    }
    // Places are given back.
    sim.faults().set_delay_ms(0);
    assert_eq!(at.get("Tickets/entityInformation/fields").await.status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_hourly_budget_runs_out_with_retry_after() {
    let mut config = SimConfig::autotask(5, 1);
    config.autotask.hourly_requests = 4;
    let sim = start(config).await;
    let at = At::new(&sim);
    for n in 1..=3 {
        let r = at.get("ThresholdInformation").await;
        assert_eq!(
            r.json(),
            json!({"externalRequestThreshold": 4, "requestThresholdTimeframe": 60, "currentTimeframeRequestCount": n}),
            "it counts itself"
        );
    }
    assert_eq!(
        at.get("Companies/entityInformation/fields").await.status,
        200
    );
    let r = at.get("ThresholdInformation").await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.errors(),
        vec![
            "Request threshold exceeded: 4 requests in the last 60 minutes for this database. Try again later."
        ]
    );
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
    assert_eq!(
        sim.state().autotask_requests_this_hour(),
        4,
        "refusals are not counted"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_is_added_past_half_the_budget() {
    let mut config = SimConfig::autotask(5, 1);
    config.autotask.hourly_requests = 4;
    config.autotask.latency_ms = 300;
    let sim = start(config).await;
    let at = At::new(&sim);
    let timed = || async {
        let t = Instant::now();
        assert_eq!(at.get("ThresholdInformation").await.status, 200);
        t.elapsed()
    };
    assert!(timed().await < Duration::from_millis(300));
    assert!(
        timed().await < Duration::from_millis(300),
        "half is not past half"
    );
    assert!(timed().await >= Duration::from_millis(300));
    sim.shutdown().await;
}

#[tokio::test]
async fn fault_knobs_speak_autotask() {
    let sim = start(SimConfig::autotask(5, 1)).await;
    let at = At::new(&sim);
    let gt0 = json!([{"op": "gt", "field": "id", "value": 0}]);
    sim.faults().set_too_many_requests(2, 9);
    assert_eq!(at.query("Companies", 5, gt0.clone()).await.status, 200);
    let r = at.query("Companies", 5, gt0.clone()).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("9")));
    assert!(
        r.errors()[0].starts_with("Request threshold exceeded"),
        "{}",
        r.body
    );
    sim.faults().clear();
    for status in [500, 503] {
        sim.faults().set_server_errors(1, status);
        let r = at.query("Companies", 5, gt0.clone()).await;
        assert_eq!(
            (r.status, r.errors()),
            (
                status,
                vec!["An unexpected error has occurred. Please try again later.".to_string()]
            )
        );
    }
    sim.faults().clear();
    sim.faults().set_malformed_every(1);
    let r = at.query("Companies", 5, gt0.clone()).await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.body).is_err());
    sim.faults().clear();
    sim.faults().set_delay_ms(200);
    let t = Instant::now();
    assert_eq!(at.query("Companies", 5, gt0.clone()).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));
    sim.faults().clear();
    // Discovery is never faulted or counted.
    sim.faults().set_server_errors(1, 503);
    let before = sim.faults().api_requests();
    let r = crate::common::read(reqwest::Client::new().get(format!(
        "{}/atservicesrest/v1.0/zoneInformation?user={}",
        sim.origin(),
        crate::common::enc(&at.username)
    )))
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(sim.faults().api_requests(), before);
    sim.shutdown().await;
}
