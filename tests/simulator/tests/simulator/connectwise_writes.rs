//! Writes: tickets, notes, configurations, agreement additions, and their validation errors.

use crate::common::{Client, start};
use psa_sim::Entity;
use psa_sim::data::{Configuration, DataSet};
use serde_json::{Value, json};

fn active_company_with_contact(d: &DataSet) -> (u64, u64) {
    d.contacts
        .values()
        .find(|c| d.companies.get(&c.company_id).is_some_and(|co| !co.deleted))
        .map(|c| (c.company_id, c.id))
        .unwrap()
}

#[tokio::test]
async fn a_posted_ticket_and_note_can_be_read_back() {
    let sim = start(20, 12).await;
    let client = Client::new(&sim);
    let (company, contact) = sim.state().read(active_company_with_contact);
    let r = client
        .post(
            "service/tickets",
            &json!({
                "summary": "[Alert] Ransomware behaviour on ACME-WS001",
                "company": {"id": company},
                "contact": {"id": contact},
                "board": {"name": "Alerts"},
                "priority": {"id": 1},
                "type": {"name": "Security"},
                "source": {"name": "Monitoring Alert"},
                "initialDescription": "Detected by the MDR service.",
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let ticket = r.json();
    let id = ticket["id"].as_u64().unwrap();
    assert!(
        id > sim
            .state()
            .read(|d| d.tickets.keys().rev().nth(1).copied().unwrap())
    );
    assert_eq!(ticket["board"], json!({"id": 2, "name": "Alerts"}));
    assert_eq!(
        ticket["status"]["name"], "New",
        "the board's default status"
    );
    assert_eq!(ticket["priority"]["name"], "Priority 1 - Critical");
    assert_eq!(ticket["type"]["name"], "Security");
    assert_eq!(ticket["closedFlag"], false);
    assert_eq!(ticket["recordType"], "ServiceTicket");
    assert!(ticket["_info"]["lastUpdated"].as_str().unwrap() > "2026-06-01");
    assert_eq!(
        client.get(&format!("service/tickets/{id}")).await.json(),
        ticket
    );
    assert_eq!(sim.state().get(Entity::Ticket, id).unwrap(), ticket);

    // initialDescription became the first (discussion) note.
    let notes = client
        .get(&format!("service/tickets/{id}/notes"))
        .await
        .json();
    assert_eq!(notes.as_array().unwrap().len(), 1);
    assert_eq!(notes[0]["text"], "Detected by the MDR service.");
    assert_eq!(notes[0]["detailDescriptionFlag"], true);

    let r = client
        .post(
            &format!("service/tickets/{id}/notes"),
            &json!({"text": "Same alert again.", "internalAnalysisFlag": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let note = r.json();
    assert_eq!(note["ticketId"], id);
    assert_eq!(
        (
            note["internalAnalysisFlag"].clone(),
            note["detailDescriptionFlag"].clone()
        ),
        (json!(true), json!(false))
    );
    let note_id = note["id"].as_u64().unwrap();
    assert_eq!(
        client
            .get(&format!("service/tickets/{id}/notes/{note_id}"))
            .await
            .json(),
        note
    );
    assert_eq!(
        client
            .get(&format!("service/tickets/{id}/notes/count"))
            .await
            .json(),
        json!({"count": 2})
    );

    // Closing it through the status.
    let r = client
        .patch(
            &format!("service/tickets/{id}"),
            &json!([{"op": "replace", "path": "status/name", "value": "Closed"}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["closedFlag"], true);
    sim.shutdown().await;
}

#[tokio::test]
async fn ticket_validation_errors_name_each_field() {
    let sim = start(20, 13).await;
    let client = Client::new(&sim);
    let r = client
        .post("service/tickets", &json!({"board": {"id": 1}}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"code": "InvalidObject", "message": "Ticket object is invalid", "errors": [
            {"code": "NullValue", "message": "The summary field is required.", "resource": "ticket", "field": "summary"},
            {"code": "NullValue", "message": "The company field is required.", "resource": "ticket", "field": "company"},
        ]})
    );
    let (company, _) = sim.state().read(active_company_with_contact);
    let r = client
        .post("service/tickets", &json!({"summary": "x", "company": {"id": company}, "board": {"id": 99}, "priority": 3}))
        .await;
    assert_eq!(r.status, 400);
    let errors = r.json()["errors"].clone();
    assert_eq!(
        errors[0],
        json!({"code": "InvalidField", "message": "board id 99 was not found.", "resource": "ticket", "field": "board"})
    );
    assert_eq!(errors[1]["field"], "priority");
    assert_eq!(
        errors[1]["message"],
        "The priority field must be an object with an id, like {\"id\": 1}."
    );
    let r = client.post("service/tickets", &json!({"summary": "x".repeat(101), "company": {"identifier": "nobody"}, "board": {"id": 1}})).await;
    let messages: Vec<Value> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].clone())
        .collect();
    assert_eq!(
        messages,
        [
            json!("The summary field can hold at most 100 characters, not 101."),
            json!("company identifier 'nobody' was not found.")
        ]
    );
    let r = client
        .send(
            reqwest::Method::POST,
            &client.url("service/tickets"),
            &[],
            Some("{not json".into()),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.error()
            .1
            .starts_with("The request body is not valid JSON"),
        "{}",
        r.body
    );
    let r = client
        .post("service/tickets/1/notes", &json!({"text": "x"}))
        .await;
    assert_eq!(r.status, 404);
    sim.shutdown().await;
}

fn find_configuration(sim: &psa_sim::Simulator, updatable: bool) -> Configuration {
    sim.state().read(|d| {
        d.configurations
            .values()
            .find(|c| {
                d.picklists
                    .configuration_type(c.type_id)
                    .unwrap()
                    .api_updatable
                    == updatable
            })
            .cloned()
            .unwrap()
    })
}

#[tokio::test]
async fn configurations_can_be_patched_except_the_integration_owned_types() {
    let sim = start(30, 14).await;
    let client = Client::new(&sim);
    let c = find_configuration(&sim, true);
    let r = client
        .patch(
            &format!("company/configurations/{}", c.id),
            &json!([
                {"op": "replace", "path": "serialNumber", "value": "SN-NEW-1"},
                {"op": "replace", "path": "status/id", "value": 2},
                {"op": "add", "path": "/activeFlag", "value": false},
                {"op": "replace", "path": "manufacturer", "value": {"name": "cisco"}},
                {"op": "replace", "path": "notes", "value": null},
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["serialNumber"], "SN-NEW-1");
    assert_eq!(v["status"], json!({"id": 2, "name": "Inactive"}));
    assert_eq!(v["activeFlag"], false);
    assert_eq!(v["manufacturer"]["name"], "Cisco");
    assert_eq!(v["notes"], Value::Null);
    assert!(v["_info"]["lastUpdated"].as_str().unwrap() > "2026-06-01");
    assert_eq!(v["_info"]["updatedBy"], "APIMember");
    assert_eq!(
        client
            .get(&format!("company/configurations/{}", c.id))
            .await
            .json(),
        v
    );

    let r = client
        .patch(
            &format!("company/configurations/{}", c.id),
            &json!([{"op": "remove", "path": "name"}, {"op": "replace", "path": "id", "value": 5}]),
        )
        .await;
    assert_eq!(r.status, 400);
    let fields: Vec<Value> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    assert_eq!(fields, [json!("op"), json!("id")]);

    let locked = find_configuration(&sim, false);
    let type_name = sim.state().read(|d| {
        d.picklists
            .configuration_type(locked.type_id)
            .unwrap()
            .name
            .clone()
    });
    let r = client
        .patch(
            &format!("company/configurations/{}", locked.id),
            &json!([{"op": "replace", "path": "name", "value": "x"}]),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"code": "InvalidObject", "message": "Configuration object is invalid", "errors": [{
            "code": "InvalidField",
            "message": format!("Configurations of type '{type_name}' cannot be updated through the API."),
            "resource": "configuration", "field": "type"}]})
    );
    assert_eq!(
        sim.state().read(|d| d.configurations[&locked.id].clone()),
        locked,
        "unchanged"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn configurations_can_be_created() {
    let sim = start(20, 15).await;
    let client = Client::new(&sim);
    let (company, contact) = sim.state().read(active_company_with_contact);
    let before = sim.state().count(Entity::Configuration);
    let r = client
        .post(
            "company/configurations",
            &json!({
                "name": "ACME-FW99", "type": {"name": "Firewall"}, "company": {"id": company},
                "contact": {"id": contact}, "serialNumber": "FGT60FTK1234", "macAddress": "00:11:22:33:44:55",
                "ipAddress": "10.0.0.1", "manufacturer": {"name": "Fortinet"},
                "installationDate": "2026-07-01T00:00:00Z", "questions": [{"questionId": 40, "answer": "7.4.1"}],
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert_eq!(v["status"]["name"], "Active");
    assert_eq!(v["activeFlag"], true);
    let id = v["id"].as_u64().unwrap();
    assert_eq!(
        v["questions"],
        json!([{"answerId": 40_000_000 + id, "questionId": 40, "question": "Firmware version",
            "answer": "7.4.1", "sequenceNumber": 1.0, "numberOfDecimals": 0, "fieldType": "Text",
            "requiredFlag": false}])
    );
    assert_eq!(sim.state().count(Entity::Configuration), before + 1);
    let r = client.post("company/configurations", &json!({"name": "x", "type": {"id": 999}, "company": {"id": company}, "installationDate": "soon"})).await;
    let fields: Vec<Value> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    assert_eq!(fields, [json!("type"), json!("installationDate")]);
    sim.shutdown().await;
}

#[tokio::test]
async fn agreement_addition_quantities_can_be_replaced() {
    let sim = start(20, 16).await;
    let client = Client::new(&sim);
    let line = sim
        .state()
        .read(|d| d.agreement_lines.values().next().cloned().unwrap());
    let path = format!(
        "finance/agreements/{}/additions/{}",
        line.agreement_id, line.id
    );
    let r = client
        .patch(
            &path,
            &json!([{"op": "replace", "path": "quantity", "value": 42}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["quantity"], 42.0);
    assert_eq!(client.get(&path).await.json()["quantity"], 42.0);
    let r = client
        .patch(
            &path,
            &json!([{"op": "replace", "path": "quantity", "value": -1}]),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["errors"][0]["message"],
        "The quantity field must be 0 or more, not -1."
    );
    let wrong = format!(
        "finance/agreements/{}/additions/{}",
        line.agreement_id + 1,
        line.id
    );
    assert_eq!(client.patch(&wrong, &json!([])).await.status, 404);
    sim.shutdown().await;
}
