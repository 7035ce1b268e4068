//! Autotask writes: tickets, notes, configuration items and unit adjustments, read back through
//! the API and the state handle; validation messages.

use crate::common::autotask::{At, start};
use psa_sim::Entity;
use serde_json::{Value, json};

#[tokio::test]
async fn tickets_and_notes_are_held_and_read_back() {
    let sim = start(30, 1).await;
    let at = At::new(&sim);
    let (company, contact, contract) = crate::common::company_with_contact_and_agreement(&sim);
    let body = json!({"companyID": company, "title": "Disk C: almost full", "description": "Free space below 5%",
        "contactID": contact, "queueID": 2, "status": 1, "priority": 4, "issueType": 201,
        "subIssueType": 20102, "ticketCategory": 2, "source": 4, "contractID": contract,
        "dueDateTime": "2026-12-01T17:00:00Z"});
    let r = at.post("Tickets", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["itemId"].as_u64().unwrap();
    assert!(id > *sim.state().ids(Entity::Ticket).iter().rev().nth(1).unwrap());
    let t = at.item("Tickets", id).await;
    for key in [
        "companyID",
        "title",
        "description",
        "contactID",
        "queueID",
        "status",
        "priority",
        "issueType",
        "subIssueType",
        "ticketCategory",
        "source",
        "contractID",
        "dueDateTime",
    ] {
        assert_eq!(t[key], body[key], "{key}");
    }
    assert_eq!(t, sim.state().get(Entity::Ticket, id).unwrap());
    assert!(
        sim.state()
            .read(|d| d.tickets[&id].summary == "Disk C: almost full")
    );

    let note = json!({"ticketID": id, "title": "Alert repeated", "description": "Alert repeated\nat 07:05",
        "noteType": 2, "publish": 2});
    let r = at.post(&format!("Tickets/{id}/Notes"), &note).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let note_id = r.json()["itemId"].as_u64().unwrap();
    let n = at.item("TicketNotes", note_id).await;
    for key in ["ticketID", "title", "description", "noteType", "publish"] {
        assert_eq!(n[key], note[key], "{key}");
    }
    assert!(n["createDateTime"].is_string() && n["creatorResourceID"].is_i64());
    let t2 = at.item("Tickets", id).await;
    assert!(t2["lastActivityDate"].as_str() >= t["lastActivityDate"].as_str());

    // Closing it: status 5 (Complete).
    let r = at.patch("Tickets", &json!({"id": id, "status": 5})).await;
    assert_eq!(r.json(), json!({"itemId": id}));
    assert_eq!(at.item("Tickets", id).await["status"], 5);
    let open = at
        .query(
            "Tickets",
            500,
            json!([{"op": "noteq", "field": "status", "value": 5},
                                      {"op": "eq", "field": "id", "value": id}]),
        )
        .await
        .json();
    assert_eq!(open["items"], json!([]));
    sim.shutdown().await;
}

#[tokio::test]
async fn validation_failures_name_the_field() {
    let sim = start(30, 1).await;
    let at = At::new(&sim);
    let (company, _, _) = crate::common::company_with_contact_and_agreement(&sim);
    let r = at
        .post(
            "Tickets",
            &json!({"companyID": company, "title": "x", "priority": 2}),
        )
        .await;
    assert_eq!(
        (r.status, r.errors()),
        (500, vec!["Missing required field: status.".to_string()])
    );
    let r = at
        .post(
            "Tickets",
            &json!({"companyID": company, "title": "x", "status": 1, "priority": 2, "queueID": 99}),
        )
        .await;
    assert_eq!(r.errors(), vec!["Invalid value 99 for field queueID."]);
    let long = "x".repeat(256);
    let r = at
        .post(
            "Tickets",
            &json!({"companyID": company, "title": long, "status": 1, "priority": 2}),
        )
        .await;
    assert_eq!(
        r.errors(),
        vec!["title exceeds the maximum length of 255 characters."]
    );
    let r = at
        .post("Tickets/9999999/Notes", &json!({"ticketID": 9999999, "title": "t", "description": "d", "noteType": 1, "publish": 1}))
        .await;
    assert_eq!(
        (r.status, r.errors()),
        (
            500,
            vec!["Invalid value 9999999 for field ticketID.".to_string()]
        )
    );
    let r = at.post("Tickets", &json!("not an object")).await;
    assert_eq!(r.status, 500);
    let r = at.post("Companies", &json!({"companyName": "x"})).await;
    assert_eq!(r.status, 405);
    sim.shutdown().await;
}

#[tokio::test]
async fn configuration_items_are_created_and_updated() {
    let sim = start(30, 2).await;
    let at = At::new(&sim);
    let (company, _, _) = crate::common::company_with_contact_and_agreement(&sim);
    let vendor = sim.state().read(|d| {
        d.companies
            .values()
            .find(|c| c.type_ids.contains(&psa_sim::data::company_type::VENDOR))
            .unwrap()
            .id
    });
    let body = json!({"companyID": company, "configurationItemType": 3, "referenceTitle": "ACME-DC01",
        "isActive": true, "serialNumber": "SN123", "referenceNumber": "dev-1", "vendorID": vendor,
        "notes": "acme-dc01.acme.local", "productID": 77,
        "userDefinedFields": [{"name": "Rack", "value": "R2"}]});
    let r = at.post("ConfigurationItems", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["itemId"].as_u64().unwrap();
    let item = at.item("ConfigurationItems", id).await;
    for key in [
        "companyID",
        "configurationItemType",
        "referenceTitle",
        "isActive",
        "serialNumber",
        "referenceNumber",
        "vendorID",
        "notes",
        "productID",
        "userDefinedFields",
    ] {
        assert_eq!(item[key], body[key], "{key}");
    }
    let created = item["createDate"].clone();
    assert!(created.is_string());
    let r = at
        .patch(
            "ConfigurationItems",
            &json!({"id": id, "isActive": false, "serialNumber": "SN124"}),
        )
        .await;
    assert_eq!(r.json(), json!({"itemId": id}));
    let item = at.item("ConfigurationItems", id).await;
    assert_eq!(
        item["createDate"], created,
        "an update keeps the creation date"
    );
    assert_eq!(
        (&item["isActive"], &item["serialNumber"]),
        (&json!(false), &json!("SN124"))
    );
    assert_eq!(item["referenceTitle"], "ACME-DC01", "unchanged fields stay");

    let r = at
        .post(
            "ConfigurationItems",
            &json!({"companyID": company, "configurationItemType": 3, "isActive": true}),
        )
        .await;
    assert_eq!(r.errors(), vec!["Missing required field: productID."]);
    let r = at
        .patch("ConfigurationItems", &json!({"id": 123, "isActive": false}))
        .await;
    assert_eq!(r.errors(), vec!["Invalid value 123 for field id."]);
    let managed = sim.state().read(|d| {
        d.configurations
            .values()
            .find(|c| c.type_id == 11)
            .map(|c| c.id)
            .unwrap()
    });
    let r = at
        .patch("ConfigurationItems", &json!({"id": managed, "notes": "x"}))
        .await;
    assert_eq!(
        (r.status, r.errors()),
        (
            500,
            vec![
                "Configuration items of type Managed Server cannot be updated through the API."
                    .to_string()
            ]
        )
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn unit_adjustments_change_the_current_period() {
    let sim = start(40, 3).await;
    let at = At::new(&sim);
    let today = "2026-11-01T00:00:00Z";
    let units = at
        .query_all(
            "ContractServiceUnits",
            500,
            json!([{"op": "gte", "field": "endDate", "value": today}, {"op": "gt", "field": "id", "value": 0}]),
        )
        .await
        .0;
    let unit: Value = units
        .into_iter()
        .find(|u| u["startDate"].as_str().unwrap() <= today)
        .expect("a current period");
    let service = at
        .item(
            "ContractServices",
            unit["contractServiceID"].as_u64().unwrap(),
        )
        .await;
    let before = unit["units"].as_i64().unwrap();
    let body = json!({"contractID": unit["contractID"], "contractServiceID": unit["contractServiceID"],
        "effectiveDate": today, "unitChange": 5, "adjustedUnitPrice": service["unitPrice"]});
    let r = at.post("ContractServiceAdjustments", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["itemId"].as_u64().unwrap() >= 1);
    let after = at
        .item("ContractServiceUnits", unit["id"].as_u64().unwrap())
        .await;
    assert_eq!(after["units"].as_i64().unwrap(), before + 5);
    let line = sim
        .state()
        .get(
            Entity::AgreementLine,
            unit["contractServiceID"].as_u64().unwrap(),
        )
        .unwrap();
    assert_eq!(line["unitPrice"], service["unitPrice"]);
    let body = json!({"contractID": unit["contractID"], "contractServiceID": 1,
        "effectiveDate": today, "unitChange": 1});
    let r = at.post("ContractServiceAdjustments", &body).await;
    assert_eq!(
        r.errors(),
        vec!["Invalid value 1 for field contractServiceID."]
    );
    sim.shutdown().await;
}
