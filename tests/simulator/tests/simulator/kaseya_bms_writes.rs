//! Kaseya BMS writes: tickets, notes and service quantities, read back; validation entries.

use crate::common::bms::{Bms, error, start, validation};
use psa_sim::Entity;
use serde_json::json;

#[tokio::test]
async fn tickets_and_notes_are_held_and_read_back() {
    let sim = start(30, 1).await;
    let bms = Bms::login(&sim).await;
    let (account, contact, contract) = crate::common::company_with_contact_and_agreement(&sim);
    let body = json!({"title": "Disk C: almost full on ACME-DC01", "accountId": account,
        "details": "Free space below 5%", "contactId": contact, "queueId": 2, "statusId": 1,
        "priorityId": 2, "typeId": 5, "issueTypeId": 202, "subIssueTypeId": 20202, "sourceId": 5,
        "contractId": contract, "openDate": "2026-11-02T07:00:00Z", "unknownProperty": "ignored"});
    let r = bms.post("v2/servicedesk/tickets", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = r.json()["result"].clone();
    let id = t["id"].as_u64().unwrap();
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/api/v2/servicedesk/tickets/{id}", sim.origin())
    );
    for key in [
        "title",
        "accountId",
        "details",
        "contactId",
        "queueId",
        "statusId",
        "priorityId",
        "typeId",
        "issueTypeId",
        "subIssueTypeId",
        "sourceId",
        "contractId",
        "openDate",
    ] {
        assert_eq!(t[key], body[key], "{key}");
    }
    assert_eq!(
        (
            &t["queueName"],
            &t["statusName"],
            &t["priorityName"],
            &t["typeName"],
            &t["sourceName"]
        ),
        (
            &json!("Network Operations"),
            &json!("New"),
            &json!("High"),
            &json!("Alert"),
            &json!("Monitoring System")
        )
    );
    assert_eq!(t["isClosed"], false);
    assert_eq!(bms.result(&format!("v2/servicedesk/tickets/{id}")).await, t);
    assert_eq!(sim.state().get(Entity::Ticket, id).unwrap(), t);

    // Defaults: queue Help Desk, status New, priority Medium, the account's main location.
    let r = bms
        .post(
            "v2/servicedesk/tickets",
            &json!({"title": "Minimal", "accountId": account}),
        )
        .await;
    let minimal = r.json()["result"].clone();
    assert_eq!(
        (
            &minimal["queueId"],
            &minimal["statusId"],
            &minimal["priorityId"],
            &minimal["details"]
        ),
        (&json!(1), &json!(1), &json!(3), &json!(""))
    );
    assert_eq!(minimal["locationId"], 5000 + account);
    assert_eq!(
        (&minimal["typeId"], &minimal["sourceId"]),
        (&json!(null), &json!(null))
    );

    let r = bms
        .post(
            &format!("v2/servicedesk/tickets/{id}/notes"),
            &json!({"details": "Alert repeated at 07:05", "isInternal": true, "noteTypeId": 3}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let note = r.json()["result"].clone();
    assert_eq!(
        (
            &note["ticketId"],
            &note["details"],
            &note["isInternal"],
            &note["isResolution"],
            &note["noteTypeName"],
            &note["createdBy"]
        ),
        (
            &json!(id),
            &json!("Alert repeated at 07:05"),
            &json!(true),
            &json!(false),
            &json!("Alert Update"),
            &json!("api.psahost")
        )
    );
    let r = bms
        .post(
            &format!("v2/servicedesk/tickets/{id}/notes"),
            &json!({"details": "x", "isInternal": true}),
        )
        .await;
    assert_eq!(
        r.json()["result"]["noteTypeName"],
        "General",
        "the default note type"
    );
    let notes = bms
        .result(&format!("v2/servicedesk/tickets/{id}/notes"))
        .await;
    assert!(notes.as_array().unwrap().contains(&note));
    let after = bms.result(&format!("v2/servicedesk/tickets/{id}")).await;
    assert!(after["modifiedOn"].as_str() >= t["modifiedOn"].as_str());
    sim.shutdown().await;
}

#[tokio::test]
async fn every_violation_is_reported_in_order() {
    let sim = start(30, 1).await;
    let bms = Bms::login(&sim).await;
    let (account, _, _) = crate::common::company_with_contact_and_agreement(&sim);
    let r = bms
        .post(
            "v2/servicedesk/tickets",
            &json!({"queueId": 77, "priorityId": 9, "subIssueTypeId": 10101}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        error(&r),
        (
            "ValidationError".to_string(),
            "The ticket is invalid.".to_string()
        )
    );
    assert_eq!(
        validation(&r),
        vec![
            ("title".to_string(), "Title is required.".to_string()),
            ("accountId".into(), "Account is required.".into()),
            ("queueId".into(), "Queue 77 does not exist.".into()),
            ("priorityId".into(), "Priority 9 does not exist.".into()),
            (
                "subIssueTypeId".into(),
                "Sub-issue type 10101 needs an issue type (issueTypeId).".into()
            ),
        ]
    );
    let r = bms
        .post("v2/servicedesk/tickets", &json!({"title": "x".repeat(256), "accountId": account, "contractId": 1, "openDate": "later"}))
        .await;
    assert_eq!(
        validation(&r)
            .into_iter()
            .map(|(f, _)| f)
            .collect::<Vec<_>>(),
        ["title", "contractId", "openDate"]
    );
    let r = bms.post("v2/servicedesk/tickets", &json!([1, 2])).await;
    assert_eq!(validation(&r)[0].0, "body");
    let ticket = sim.state().ids(Entity::Ticket)[0];
    let r = bms
        .post(
            &format!("v2/servicedesk/tickets/{ticket}/notes"),
            &json!({"details": " "}),
        )
        .await;
    assert_eq!(error(&r).1, "The note is invalid.");
    assert_eq!(validation(&r)[0].0, "details");
    let r = bms
        .post("v2/servicedesk/tickets/99/notes", &json!({"details": "x"}))
        .await;
    assert_eq!(
        (r.status, error(&r).1),
        (404, "Ticket 99 was not found.".to_string())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn service_quantities_change_the_line_and_its_contract() {
    let sim = start(30, 2).await;
    let bms = Bms::login(&sim).await;
    let contract = bms.result("v2/finance/contracts?pageSize=1").await[0].clone();
    let cid = contract["id"].as_u64().unwrap();
    let line = contract["services"][0]["id"].as_u64().unwrap();
    let path = format!("v2/finance/contracts/{cid}/services/{line}");
    let r = bms
        .patch(
            &path,
            &json!([{"op": "replace", "path": "/quantity", "value": 25.5}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let updated = r.json()["result"].clone();
    assert_eq!(
        (&updated["id"], &updated["quantity"]),
        (&json!(line), &json!(25.5))
    );
    let after = bms.result(&format!("v2/finance/contracts/{cid}")).await;
    assert_eq!(after["services"][0], updated);
    assert!(after["modifiedOn"].as_str() > contract["modifiedOn"].as_str());
    assert_eq!(after["modifiedOn"], updated["modifiedOn"]);
    for (body, field) in [
        (
            json!([{"op": "replace", "path": "/quantity", "value": -1}]),
            "quantity",
        ),
        (
            json!([{"op": "replace", "path": "/quantity", "value": 1.234}]),
            "quantity",
        ),
        (
            json!([{"op": "replace", "path": "/quantity", "value": "5"}]),
            "quantity",
        ),
        (json!([{"op": "remove", "path": "/quantity"}]), "op"),
        (
            json!([{"op": "replace", "path": "/unitPrice", "value": 1}]),
            "path",
        ),
        (json!({"quantity": 5}), "body"),
    ] {
        let r = bms.patch(&path, &body).await;
        assert_eq!(
            (r.status, validation(&r)[0].0.as_str()),
            (400, field),
            "{body}"
        );
    }
    let r = bms
        .patch(
            &format!("v2/finance/contracts/1/services/{line}"),
            &json!([]),
        )
        .await;
    assert_eq!(
        (r.status, error(&r).1),
        (404, "Contract 1 was not found.".to_string())
    );
    sim.shutdown().await;
}
