//! Kaseya BMS limits: the hourly call budget per endpoint (429 with Retry-After) and the fault
//! knobs, which count the login too.

use std::time::{Duration, Instant};

use crate::common::bms::{Bms, error, login_form};
use psa_sim::{SimConfig, Simulator, demo};

async fn start(calls: u64) -> Simulator {
    let mut config = SimConfig::kaseya_bms(10, 1);
    config.kaseya_bms.hourly_calls_per_endpoint = calls;
    Simulator::start(config).await.expect("simulator started")
}

fn form() -> [(&'static str, &'static str); 4] {
    [
        ("grantType", "password"),
        ("userName", demo::kaseya_bms::USERNAME),
        ("password", demo::kaseya_bms::PASSWORD),
        ("tenant", demo::kaseya_bms::TENANT),
    ]
}

#[tokio::test]
async fn each_endpoint_has_its_own_hourly_budget() {
    let sim = start(3).await;
    let bms = Bms::login(&sim).await;
    for _ in 0..3 {
        assert_eq!(bms.get("v2/crm/accounts").await.status, 200);
    }
    let r = bms.get("v2/crm/accounts?pageSize=5").await;
    assert_eq!(r.status, 429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
    assert_eq!(
        error(&r),
        (
            "TooManyRequests".to_string(),
            format!(
                "API calls quota exceeded: at most 3 calls per hour on v2/crm/accounts. Retry in {retry} seconds."
            )
        )
    );
    // Another endpoint, and ids fold into one endpoint.
    assert_eq!(bms.get("v2/crm/contacts").await.status, 200);
    let tickets = sim.state().ids(psa_sim::Entity::Ticket);
    for id in &tickets[..3] {
        assert_eq!(
            bms.get(&format!("v2/servicedesk/tickets/{id}"))
                .await
                .status,
            200
        );
    }
    let r = bms
        .get(&format!("v2/servicedesk/tickets/{}", tickets[3]))
        .await;
    assert!(
        error(&r).1.contains("on v2/servicedesk/tickets/{id}."),
        "{}",
        r.body
    );
    // The login counts per tenant name: two more logins, then 429.
    assert_eq!(login_form(&sim.origin(), &form()).await.status, 200);
    assert_eq!(login_form(&sim.origin(), &form()).await.status, 200);
    let r = login_form(&sim.origin(), &form()).await;
    assert_eq!(r.status, 429);
    let other_tenant = login_form(
        &sim.origin(),
        &[
            ("grantType", "password"),
            ("userName", "x"),
            ("password", "y"),
            ("tenant", "Other"),
        ],
    )
    .await;
    assert_eq!(
        other_tenant.status, 401,
        "another tenant name has its own budget"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn fault_knobs_speak_kaseya_bms() {
    let sim = start(1500).await;
    let bms = Bms::login(&sim).await;
    sim.faults().set_too_many_requests(1, 7);
    let r = bms.get("v2/crm/accounts").await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("7")));
    assert_eq!(
        error(&r).1,
        "API calls quota exceeded: at most 1500 calls per hour on v2/crm/accounts. Retry in 7 seconds."
    );
    let r = login_form(&sim.origin(), &form()).await;
    assert_eq!(r.status, 429, "the login is faulted too");
    sim.faults().clear();
    sim.faults().set_server_errors(1, 503);
    let r = bms.get("v2/crm/accounts").await;
    assert_eq!(
        (r.status, error(&r)),
        (
            503,
            (
                "ServiceUnavailable".to_string(),
                "The service is temporarily unavailable.".to_string()
            )
        )
    );
    sim.faults().set_server_errors(1, 500);
    let r = bms.get("v2/crm/accounts").await;
    assert_eq!(
        (r.status, error(&r)),
        (
            500,
            (
                "InternalServerError".to_string(),
                "An unexpected error occurred.".to_string()
            )
        )
    );
    sim.faults().clear();
    sim.faults().set_malformed_every(1);
    let r = bms.get("v2/crm/accounts").await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.body).is_err());
    sim.faults().clear();
    sim.faults().set_delay_ms(200);
    let t = Instant::now();
    assert_eq!(bms.get("v2/crm/accounts").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));
    sim.faults().clear();
    // Paths outside /api/v2 are neither faulted nor counted.
    sim.faults().set_server_errors(1, 503);
    let before = sim.faults().api_requests();
    let r = crate::common::read(reqwest::Client::new().get(format!("{}/index.html", sim.origin())))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(sim.faults().api_requests(), before);
    sim.shutdown().await;
}
