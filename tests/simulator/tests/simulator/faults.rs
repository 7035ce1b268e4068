//! Fault knobs: 429 with Retry-After, 5xx, delays, malformed bodies; counted on API requests only.

use std::time::{Duration, Instant};

use crate::common::{Client, start};
use psa_sim::{FaultConfig, SimConfig, Simulator};
use serde_json::json;

async fn statuses(client: &Client, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(client.get("company/companies/count").await.status);
    }
    out
}

#[tokio::test]
async fn every_nth_request_is_rate_limited_with_retry_after() {
    let sim = start(5, 1).await;
    let client = Client::new(&sim);
    sim.faults().set_too_many_requests(3, 7);
    assert_eq!(statuses(&client, 6).await, [200, 200, 429, 200, 200, 429]);
    sim.faults().set_too_many_requests(1, 7);
    let r = client.get("company/companies").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    assert_eq!(
        r.json(),
        json!({"code": "TooManyRequests", "message": "Request rate limit exceeded"})
    );
    sim.faults().clear();
    assert_eq!(statuses(&client, 3).await, [200, 200, 200]);
    sim.shutdown().await;
}

#[tokio::test]
async fn every_nth_request_gets_a_server_error() {
    let sim = start(5, 1).await;
    let client = Client::new(&sim);
    sim.faults().set_server_errors(2, 503);
    assert_eq!(statuses(&client, 4).await, [200, 503, 200, 503]);
    sim.faults().set_server_errors(1, 503);
    assert_eq!(
        client.get("company/companies").await.error().0,
        "ServiceUnavailable"
    );
    sim.faults().set_server_errors(1, 500);
    let r = client.get("company/companies").await;
    assert_eq!(
        (r.status, r.error().0),
        (500, "InternalServerError".to_string())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn responses_can_be_delayed() {
    let sim = start(5, 1).await;
    let client = Client::new(&sim);
    sim.faults().set_delay_ms(150);
    let t = Instant::now();
    assert_eq!(client.get("company/companies").await.status, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    sim.faults().set_delay_ms(0);
    sim.shutdown().await;
}

#[tokio::test]
async fn every_nth_body_is_malformed() {
    let sim = start(5, 1).await;
    let client = Client::new(&sim);
    sim.faults().set_malformed_every(2);
    let good = client.get("company/companies").await;
    let bad = client.get("company/companies").await;
    assert_eq!((good.status, bad.status), (200, 200));
    assert!(serde_json::from_str::<serde_json::Value>(&good.body).is_ok());
    assert!(serde_json::from_str::<serde_json::Value>(&bad.body).is_err());
    assert!(good.body.starts_with(&bad.body), "a truncated copy");
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_count_api_requests_only_and_can_start_configured() {
    let faults = FaultConfig {
        too_many_requests_every: 2,
        retry_after_secs: 3,
        ..FaultConfig::default()
    };
    let sim = Simulator::start(SimConfig {
        faults,
        ..SimConfig::connectwise(5, 1)
    })
    .await
    .unwrap();
    let client = Client::new(&sim);
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let r = http
            .get(format!("{}/login/companyinfo/psahost-demo", sim.origin()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "discovery is never faulted");
    }
    assert_eq!(sim.faults().api_requests(), 0);
    assert_eq!(statuses(&client, 2).await, [200, 429]);
    assert_eq!(sim.faults().api_requests(), 2);
    assert_eq!(sim.state().requests_served(), 7);
    assert_eq!(sim.faults().config().retry_after_secs, 3);
    sim.shutdown().await;
}
