//! Autotask: zone discovery, zone moves, the API user headers and their distinct errors.

use crate::common::autotask::{At, start};
use crate::common::read;
use psa_sim::{Entity, SimConfig, Simulator, demo};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn discovery_returns_the_zone_on_the_simulators_origin() {
    let sim = start(5, 1).await;
    let http = reqwest::Client::new();
    let origin = sim.origin();
    let user = demo::autotask::USERNAME.to_uppercase();
    let r = read(http.get(format!(
        "{origin}/atservicesrest/v1.0/zoneInformation?user={}",
        crate::common::enc(&user)
    )))
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"zoneName": "America East", "url": format!("{origin}/atservicesrest/"),
               "webUrl": format!("{origin}/"), "ci": 29683500})
    );
    assert_eq!(
        sim.state().autotask_zone_url(),
        format!("{origin}/atservicesrest/")
    );
    // The path ignores case, as Autotask's does; the non-API user has a zone too.
    let r = read(http.get(format!(
        "{origin}/ATServicesRest/V1.0/ZoneInformation?user={}",
        crate::common::enc(demo::autotask::NON_API_USERNAME)
    )))
    .await;
    assert_eq!(r.status, 200);
    let r = read(http.get(format!(
        "{origin}/atservicesrest/v1.0/zoneInformation?user=nobody%40x.example"
    )))
    .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.errors(), vec!["Zone information could not be determined"]);
    assert_eq!(
        sim.state().autotask_requests_this_hour(),
        0,
        "discovery is not counted"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_zone_move_makes_the_old_zone_answer_401() {
    let sim = start(5, 1).await;
    let old = At::new(&sim);
    assert_eq!(old.get("ThresholdInformation").await.status, 200);
    sim.state().set_autotask_zone(2);
    let zone = format!("{}/ww2/atservicesrest/", sim.origin());
    assert_eq!(sim.state().autotask_zone_url(), zone);
    let r = old.get("ThresholdInformation").await;
    assert_eq!(
        (r.status, r.errors()),
        (401, vec!["Unauthorized".to_string()])
    );
    let r = read(reqwest::Client::new().get(format!(
        "{}/atservicesrest/v1.0/zoneInformation?user={}",
        sim.origin(),
        crate::common::enc(demo::autotask::USERNAME)
    )))
    .await;
    assert_eq!(r.json()["url"], zone);
    assert_eq!(r.json()["zoneName"], "America East 2");
    let moved = At::new(&sim);
    assert_eq!(moved.zone, zone);
    let company = sim.state().ids(Entity::Company)[0];
    assert_eq!(moved.item("Companies", company).await["id"], company);
    // Paths the zone does not serve are 404.
    for path in [
        "/nothing",
        "/x/y/atservicesrest/V1.0/Companies/1",
        "/ww2/atservicesrest/V2/x",
    ] {
        let r = moved
            .send(Method::GET, &format!("{}{path}", sim.origin()), None)
            .await;
        assert_eq!(
            (r.status, r.errors()),
            (404, vec!["Not Found".to_string()]),
            "{path}"
        );
    }
    assert_eq!(moved.get("NoSuchEntity/1").await.status, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn each_credential_problem_has_its_own_answer() {
    let sim = start(5, 1).await;
    let at = At::new(&sim);
    let c = sim.config().autotask.clone();
    let cases = [
        (
            at.with("who@nowhere.example", &c.integration_code, &c.secret),
            500,
            "The user name 'who@nowhere.example' could not be found.",
        ),
        (
            at.with(&c.non_api_username, &c.integration_code, &c.secret),
            500,
            "The user 'jsmith@psahost-demo.example' is not an API user: the security level must be API User (system).",
        ),
        (
            at.with(&c.username, "WRONGCODE", &c.secret),
            500,
            "IntegrationCode is invalid.",
        ),
        (
            at.with(&c.username, &c.integration_code, "wrong-secret"),
            401,
            "Unauthorized",
        ),
    ];
    for (client, status, message) in cases {
        let r = client.get("ThresholdInformation").await;
        assert_eq!((r.status, r.errors()), (status, vec![message.to_string()]));
    }
    // Missing headers: the user name is checked first.
    let r = read(reqwest::Client::new().get(at.url("ThresholdInformation"))).await;
    assert_eq!(r.errors(), vec!["The user name '' could not be found."]);
    // The user name ignores case; the secret does not.
    let upper = at.with(&c.username.to_uppercase(), &c.integration_code, &c.secret);
    assert_eq!(upper.get("ThresholdInformation").await.status, 200);
    let upper = at.with(&c.username, &c.integration_code, &c.secret.to_uppercase());
    assert_eq!(upper.get("ThresholdInformation").await.status, 401);
    assert_eq!(
        sim.state().autotask_requests_this_hour(),
        1,
        "only authenticated requests count against the budget"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn credentials_come_from_the_config() {
    let mut config = SimConfig::autotask(3, 1);
    config.autotask.username = "other@tenant.example".into();
    config.autotask.secret = "s3".into();
    config.autotask.integration_code = "CODE2".into();
    let sim = Simulator::start(config).await.unwrap();
    let at = At::new(&sim);
    assert_eq!(at.username, "other@tenant.example");
    assert_eq!(at.get("ThresholdInformation").await.status, 200);
    let r = at
        .with(
            demo::autotask::USERNAME,
            demo::autotask::INTEGRATION_CODE,
            demo::autotask::SECRET,
        )
        .get("ThresholdInformation")
        .await;
    assert_eq!(r.status, 500);
    sim.shutdown().await;
}
