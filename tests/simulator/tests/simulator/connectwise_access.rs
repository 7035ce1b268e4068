//! Discovery, authentication, the read-only key, 404s and codebase drift.

use crate::common::{Client, basic, start};
use psa_sim::Entity;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn company_info_gives_the_codebase_and_names_unknown_companies() {
    let sim = start(5, 1).await;
    let http = reqwest::Client::new();
    let resp = http
        .get(format!("{}/login/companyinfo/PSAHOST-DEMO", sim.origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let info: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(info["Codebase"], "v4_6_release/");
    assert_eq!(info["CompanyID"], "psahost-demo");
    assert_eq!(info["CompanyName"], "Psahost Demo");
    assert_eq!(info["VersionCode"], "v2026.4");
    assert_eq!(info["IsCloud"], true);
    assert_eq!(info["SiteUrl"], sim.origin().trim_start_matches("http://"));

    let resp = http
        .get(format!("{}/login/companyinfo/xyz", sim.origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"code": "NotFound", "message": "Company 'xyz' was not found"})
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn every_authentication_failure_has_its_message() {
    let sim = start(5, 1).await;
    let good = Client::new(&sim);
    let c = sim.config().credentials.clone();
    assert_eq!(good.get("system/info").await.status, 200);

    let no_client = Client {
        client_id: String::new(),
        ..good.clone()
    };
    let wrong_client = Client {
        client_id: "someone-else".into(),
        ..good.clone()
    };
    for client in [no_client, wrong_client] {
        let r = client.get("company/companies").await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.error(),
            (
                "Unauthorized".into(),
                "The clientId header is missing or is not a registered client id".into()
            )
        );
    }

    let wrong_company = Client {
        authorization: basic("acme", &c.public_key, &c.private_key),
        ..good.clone()
    };
    let r = wrong_company.get("company/companies").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"code": "Unauthorized", "message": "Company 'acme' is not valid"})
    );

    let pair = (
        "Unauthorized".to_string(),
        "Authentication failed: the API key pair is not valid".to_string(),
    );
    let wrong_private = Client {
        authorization: basic(&c.company_id, &c.public_key, "nope"),
        ..good.clone()
    };
    let wrong_public = Client {
        authorization: basic(&c.company_id, "nope", &c.private_key),
        ..good.clone()
    };
    for client in [wrong_private, wrong_public] {
        let r = client.get("company/companies").await;
        assert_eq!((r.status, r.error()), (401, pair.clone()));
    }

    let no_basic = Client {
        authorization: "Bearer token".into(),
        ..good.clone()
    };
    let r = no_basic.get("company/companies").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.error().1,
        "Authentication failed: the Authorization header is missing or is not Basic credentials"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn plain_json_accept_headers_work_too() {
    let sim = start(5, 1).await;
    let client = Client::new(&sim);
    for accept in [
        "application/json",
        "application/vnd.connectwise.com+json; version=2026.4",
        "*/*",
    ] {
        let r = client
            .get_url(
                &client.url("company/companies/count"),
                &[("Accept", accept)],
            )
            .await;
        assert_eq!(r.status, 200, "{accept}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn the_read_only_key_reads_but_gets_403_on_writes() {
    let sim = start(10, 2).await;
    let ro = Client::readonly(&sim);
    assert_eq!(ro.get("service/tickets").await.status, 200);
    let before = sim.state().count(Entity::Ticket);
    let company = sim.state().ids(Entity::Company)[0];
    let r = ro
        .post(
            "service/tickets",
            &json!({"summary": "x", "company": {"id": company}, "board": {"id": 1}}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json(),
        json!({"code": "Forbidden", "message": "You do not have permission to perform this action: the security role lacks Service Desk > Service Tickets (Add)"})
    );
    assert_eq!(sim.state().count(Entity::Ticket), before, "nothing written");

    let config = sim.state().ids(Entity::Configuration)[0];
    let r = ro
        .patch(
            &format!("company/configurations/{config}"),
            &json!([{"op": "replace", "path": "name", "value": "x"}]),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.error().1,
        "You do not have permission to perform this action: the security role lacks Companies > Configurations (Edit)"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_things_get_404_and_unsupported_methods_405() {
    let sim = start(5, 1).await;
    let client = Client::new(&sim);
    let r = client.get("service/tickets/99").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"code": "NotFound", "message": "Ticket with id 99 was not found.", "errors": null})
    );
    assert_eq!(
        client.get("company/companies/1").await.error().1,
        "Company with id 1 was not found."
    );
    assert_eq!(client.get("company/configurations/1").await.status, 404);
    assert_eq!(
        client.get("service/tickets/99/notes").await.error().1,
        "Ticket with id 99 was not found."
    );
    assert_eq!(
        client
            .get("finance/agreements/99/additions")
            .await
            .error()
            .1,
        "Agreement with id 99 was not found."
    );
    assert_eq!(
        client
            .post("service/tickets/99/notes", &json!({"text": "x"}))
            .await
            .status,
        404
    );
    assert_eq!(
        client.patch("service/tickets/99", &json!([])).await.status,
        404
    );
    assert_eq!(client.get("company/nothing").await.status, 404);
    assert_eq!(
        client
            .get_url(&format!("{}/nowhere", sim.origin()), &[])
            .await
            .status,
        404
    );
    let r = client
        .send(Method::DELETE, &client.url("service/tickets/1"), &[], None)
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.error().0, "MethodNotAllowed");
    let r = client.get("company/companies/abc").await;
    assert_eq!(
        (r.status, r.error().1),
        (400, "'abc' is not a valid id".to_string())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_changed_codebase_makes_the_old_path_404_until_rediscovered() {
    let sim = start(5, 1).await;
    let old = Client::new(&sim);
    assert_eq!(old.get("company/companies").await.status, 200);

    sim.state().set_codebase("v2026_1");
    assert_eq!(sim.state().codebase(), "v2026_1/");
    let r = old.get("company/companies").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error().0, "NotFound");

    let info: serde_json::Value =
        reqwest::get(format!("{}/login/companyinfo/psahost-demo", sim.origin()))
            .await
            .unwrap()
            .json_value()
            .await;
    assert_eq!(info["Codebase"], "v2026_1/");
    let new = Client {
        codebase: "v2026_1/".into(),
        ..old
    };
    assert_eq!(new.get("company/companies").await.status, 200);
    sim.shutdown().await;
}

/// reqwest is built without its `json` feature here.
trait JsonValue {
    async fn json_value(self) -> serde_json::Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> serde_json::Value {
        serde_json::from_str(&self.text().await.unwrap()).unwrap()
    }
}
