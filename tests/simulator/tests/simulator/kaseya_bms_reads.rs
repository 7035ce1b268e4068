//! Kaseya BMS reads: keyset and page-number paging with totalRecords, parameters and their
//! errors, modifiedSince after `touch`, entity filters, records by id, picklists, determinism.

use std::collections::BTreeSet;

use crate::common::bms::{Bms, error, start, validation};
use crate::common::read;
use psa_sim::Entity;
use psa_sim::data::DATA_END;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

fn ids(items: &[Value]) -> Vec<u64> {
    items.iter().map(|r| r["id"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn keyset_and_page_numbers_return_every_account_once() {
    let sim = start(1300, 21).await;
    let bms = Bms::login(&sim).await;
    let expected: Vec<u64> = sim.state().read(|d| {
        d.companies
            .values()
            .filter(|c| !c.deleted)
            .map(|c| c.id)
            .collect()
    });
    assert!(expected.len() > 1200);
    let (items, pages) = bms.keyset("v2/crm/accounts", "").await;
    assert_eq!(ids(&items), expected, "every id once, ascending");
    assert_eq!(pages, expected.len().div_ceil(100));

    let mut by_number = Vec::new();
    for page in 1.. {
        let v = bms
            .get(&format!("v2/crm/accounts?pageSize=100&pageNumber={page}"))
            .await
            .json();
        assert_eq!(v["totalRecords"], expected.len());
        let page_ids = ids(v["result"].as_array().unwrap());
        if page_ids.is_empty() {
            break;
        }
        by_number.extend(page_ids);
    }
    assert_eq!(by_number, expected);

    // Defaults, clamping, descending order, and totalRecords counting every filter.
    let v = bms.get("v2/crm/accounts").await.json();
    assert_eq!(v["result"].as_array().unwrap().len(), 25);
    let v = bms.get("v2/crm/accounts?pageSize=1000").await.json();
    assert_eq!(v["result"].as_array().unwrap().len(), 100);
    let v = bms
        .get("v2/crm/accounts?orderBy=ID%20DESC&pageSize=3")
        .await
        .json();
    let mut last3: Vec<u64> = expected.iter().rev().take(3).copied().collect();
    assert_eq!(ids(v["result"].as_array().unwrap()), last3);
    let after = expected[expected.len() - 10];
    let v = bms
        .get(&format!("v2/crm/accounts?idGreaterThan={after}&pageSize=5"))
        .await
        .json();
    assert_eq!(v["totalRecords"], 9);
    let v = bms
        .get(&format!(
            "v2/crm/accounts?idGreaterThan={after}&orderBy=id%20desc&pageSize=3&pageNumber=2"
        ))
        .await
        .json();
    last3 = expected.iter().rev().skip(3).take(3).copied().collect();
    assert_eq!(ids(v["result"].as_array().unwrap()), last3);
    let v = bms.get("v2/crm/accounts?pageNumber=999").await.json();
    assert_eq!(
        (&v["result"], &v["totalRecords"]),
        (&json!([]), &json!(expected.len()))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let sim = start(10, 1).await;
    let bms = Bms::login(&sim).await;
    let r = bms
        .get("v2/crm/accounts?pageSize=0&modifiedAfter=2026-01-01&modifiedSince=yesterday")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        error(&r),
        (
            "ValidationError".to_string(),
            "The request is invalid.".to_string()
        )
    );
    assert_eq!(
        validation(&r),
        vec![
            (
                "pageSize".to_string(),
                "'0' is not a valid page size: use 1 to 100.".to_string()
            ),
            (
                "modifiedAfter".into(),
                "Unknown query parameter 'modifiedAfter'.".into()
            ),
            (
                "modifiedSince".into(),
                "'yesterday' is not an ISO 8601 UTC time such as 2026-01-31T09:30:00Z.".into()
            ),
        ]
    );
    for bad in [
        "pageNumber=0",
        "orderBy=name",
        "idGreaterThan=x",
        "accountId=1",
    ] {
        let r = bms.get(&format!("v2/crm/accounts?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    assert_eq!(bms.get("v2/crm/contacts?accountId=1").await.status, 200);
    assert_eq!(
        bms.get("v2/servicedesk/tickets?isClosed=maybe")
            .await
            .status,
        400
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn paths_methods_and_records_by_id() {
    let sim = start(30, 2).await;
    let bms = Bms::login(&sim).await;
    let state = sim.state();
    for (path, entity) in [
        ("v2/crm/accounts", Entity::Company),
        ("v2/crm/contacts", Entity::Contact),
        ("v2/finance/contracts", Entity::Agreement),
        ("v2/servicedesk/tickets", Entity::Ticket),
    ] {
        let id = crate::common::first_served(&sim, entity);
        assert_eq!(
            bms.result(&format!("{path}/{id}")).await,
            state.get(entity, id).unwrap(),
            "{path}"
        );
    }
    let (code, message) = error(&bms.get("v2/servicedesk/tickets/99").await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("NotFound", "Ticket 99 was not found.")
    );
    assert_eq!(
        error(&bms.get("v2/crm/accounts/1").await).1,
        "Account 1 was not found."
    );
    assert_eq!(
        error(&bms.get("v2/finance/contracts/1").await).1,
        "Contract 1 was not found."
    );
    assert_eq!(
        error(&bms.get("v2/crm/contacts/1").await).1,
        "Contact 1 was not found."
    );
    if let Some(deleted) = state.read(|d| d.companies.values().find(|c| c.deleted).map(|c| c.id)) {
        assert_eq!(
            bms.get(&format!("v2/crm/accounts/{deleted}")).await.status,
            404
        );
    }
    let r = bms.get("v2/foo").await;
    assert_eq!(
        (r.status, error(&r).1),
        (404, "No endpoint matches GET /api/v2/foo.".to_string())
    );
    let r = bms
        .send(
            reqwest::Method::PUT,
            &bms.url("v2/crm/accounts"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(
        (r.status, error(&r).1),
        (
            405,
            "PUT is not allowed on /api/v2/crm/accounts.".to_string()
        )
    );
    let r = read(reqwest::Client::new().get(format!("{}/v1/crm/accounts", sim.origin()))).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        bms.get("V2/CRM/Accounts").await.status,
        200,
        "paths ignore case"
    );
    // Contracts embed their services; the services have their own list and reads.
    let contract = bms.result("v2/finance/contracts?pageSize=1").await[0].clone();
    let cid = contract["id"].as_u64().unwrap();
    let services = bms
        .result(&format!("v2/finance/contracts/{cid}/services"))
        .await;
    assert_eq!(services, contract["services"]);
    let line = services[0]["id"].as_u64().unwrap();
    assert_eq!(
        bms.result(&format!("v2/finance/contracts/{cid}/services/{line}"))
            .await,
        services[0]
    );
    let other = state.read(|d| {
        d.agreement_lines
            .values()
            .find(|l| l.agreement_id != cid)
            .unwrap()
            .id
    });
    assert_eq!(
        error(
            &bms.get(&format!("v2/finance/contracts/{cid}/services/{other}"))
                .await
        )
        .1,
        format!("Contract service {other} was not found.")
    );
    // Notes of a ticket, paged.
    let ticket = state.read(|d| d.notes.values().next().unwrap().ticket_id);
    let notes = bms
        .result(&format!("v2/servicedesk/tickets/{ticket}/notes"))
        .await;
    assert!(!notes.as_array().unwrap().is_empty());
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["ticketId"] == ticket)
    );
    assert_eq!(
        error(&bms.get("v2/servicedesk/tickets/99/notes").await).1,
        "Ticket 99 was not found."
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn records_have_every_documented_property() {
    let sim = start(40, 3).await;
    let bms = Bms::login(&sim).await;
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    let set =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|s| s.to_string()).collect() };
    let account = bms.result("v2/crm/accounts?pageSize=1").await[0].clone();
    assert_eq!(
        keys(&account),
        set(&[
            "id",
            "accountCode",
            "accountName",
            "accountTypeId",
            "accountTypeName",
            "classificationId",
            "classificationName",
            "marketId",
            "marketName",
            "statusId",
            "statusName",
            "isActive",
            "phone",
            "fax",
            "website",
            "primaryContactId",
            "primaryLocation",
            "createdOn",
            "modifiedOn"
        ])
    );
    assert_eq!(
        keys(&account["primaryLocation"]),
        set(&[
            "id",
            "locationName",
            "address1",
            "address2",
            "city",
            "state",
            "zipCode",
            "country"
        ])
    );
    let contact = bms.result("v2/crm/contacts?pageSize=1").await[0].clone();
    assert_eq!(
        keys(&contact),
        set(&[
            "id",
            "accountId",
            "accountName",
            "locationId",
            "firstName",
            "lastName",
            "title",
            "isActive",
            "isPrimary",
            "emails",
            "phones",
            "createdOn",
            "modifiedOn"
        ])
    );
    let contract = bms.result("v2/finance/contracts?pageSize=1").await[0].clone();
    assert_eq!(
        keys(&contract),
        set(&[
            "id",
            "contractNumber",
            "contractName",
            "accountId",
            "accountName",
            "contractTypeId",
            "contractTypeName",
            "statusName",
            "isRecurring",
            "billingCycle",
            "billingAmount",
            "startDate",
            "endDate",
            "cancelledDate",
            "services",
            "createdOn",
            "modifiedOn"
        ])
    );
    assert_eq!(
        keys(&contract["services"][0]),
        set(&[
            "id",
            "contractId",
            "serviceId",
            "serviceName",
            "description",
            "quantity",
            "unitPrice",
            "unitCost",
            "isBillable",
            "billingCycle",
            "effectiveDate",
            "cancelledDate",
            "modifiedOn"
        ])
    );
    let ticket = bms.result("v2/servicedesk/tickets?pageSize=1").await[0].clone();
    assert_eq!(
        keys(&ticket),
        set(&[
            "id",
            "ticketNumber",
            "title",
            "details",
            "accountId",
            "accountName",
            "locationId",
            "contactId",
            "contactName",
            "queueId",
            "queueName",
            "statusId",
            "statusName",
            "priorityId",
            "priorityName",
            "typeId",
            "typeName",
            "issueTypeId",
            "issueTypeName",
            "subIssueTypeId",
            "subIssueTypeName",
            "sourceId",
            "sourceName",
            "contractId",
            "contractName",
            "isClosed",
            "externalReference",
            "openDate",
            "closedOn",
            "createdOn",
            "modifiedOn"
        ])
    );
    let with_notes = sim
        .state()
        .read(|d| d.notes.values().next().unwrap().ticket_id);
    let note = bms
        .result(&format!("v2/servicedesk/tickets/{with_notes}/notes"))
        .await[0]
        .clone();
    assert_eq!(
        keys(&note),
        set(&[
            "id",
            "ticketId",
            "details",
            "isInternal",
            "isResolution",
            "noteTypeId",
            "noteTypeName",
            "noteDate",
            "createdBy",
            "createdOn",
            "modifiedOn"
        ])
    );
    // Every contract's status and cycle is one of the documented values.
    let (contracts, _) = bms.keyset("v2/finance/contracts", "").await;
    for c in &contracts {
        assert!(
            ["Active", "Inactive", "Expired", "Cancelled"]
                .contains(&c["statusName"].as_str().unwrap())
        );
        assert_eq!(
            c["cancelledDate"].is_null(),
            c["statusName"] != "Cancelled",
            "{c}"
        );
        assert!(
            [
                "Monthly",
                "Quarterly",
                "Semi-Annually",
                "Annually",
                "One Time"
            ]
            .contains(&c["billingCycle"].as_str().unwrap())
        );
        assert_eq!(c["isRecurring"], c["billingCycle"] != "One Time");
        assert!(c["startDate"].as_str().unwrap().len() == 10, "a date");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn modified_since_returns_exactly_the_touched_records() {
    let sim = start(120, 4).await;
    let bms = Bms::login(&sim).await;
    let state = sim.state();
    let since = format!(
        "&modifiedSince={}",
        DATA_END.format(&Rfc3339).unwrap().replace(':', "%3A")
    );
    for (path, entity) in [
        ("v2/crm/accounts", Entity::Company),
        ("v2/crm/contacts", Entity::Contact),
        ("v2/finance/contracts", Entity::Agreement),
        ("v2/servicedesk/tickets", Entity::Ticket),
    ] {
        assert!(bms.keyset(path, &since).await.0.is_empty(), "{path}");
        let live: Vec<u64> = state
            .ids(entity)
            .into_iter()
            .filter(|id| state.get(entity, *id).is_some())
            .collect();
        let touched: BTreeSet<u64> = [live[0], live[live.len() / 3], live[live.len() - 1]].into();
        for id in &touched {
            assert!(state.touch(entity, *id));
        }
        let got: BTreeSet<u64> = ids(&bms.keyset(path, &since).await.0).into_iter().collect();
        assert_eq!(got, touched, "{path}");
    }
    // A change to one of a contract's services changes the contract.
    let line = state.ids(Entity::AgreementLine)[5];
    let contract = state.read(|d| d.agreement_lines[&line].agreement_id);
    state.touch(Entity::AgreementLine, line);
    let got = ids(&bms.keyset("v2/finance/contracts", &since).await.0);
    assert!(got.contains(&contract));
    sim.shutdown().await;
}

#[tokio::test]
async fn list_filters() {
    let sim = start(80, 5).await;
    let bms = Bms::login(&sim).await;
    let (tickets, _) = bms.keyset("v2/servicedesk/tickets", "").await;
    let t = tickets.iter().find(|t| t["isClosed"] == false).unwrap();
    let account = t["accountId"].as_u64().unwrap();
    let (of_account, _) = bms
        .keyset("v2/servicedesk/tickets", &format!("&accountId={account}"))
        .await;
    assert_eq!(
        ids(&of_account),
        ids(&tickets
            .iter()
            .filter(|x| x["accountId"] == account)
            .cloned()
            .collect::<Vec<_>>())
    );
    let (open, _) = bms
        .keyset("v2/servicedesk/tickets", "&isClosed=false")
        .await;
    assert!(open.iter().all(|x| x["isClosed"] == false));
    assert_eq!(
        open.len(),
        tickets.iter().filter(|x| x["isClosed"] == false).count()
    );
    let queue = t["queueId"].as_u64().unwrap();
    let (in_queue, _) = bms
        .keyset("v2/servicedesk/tickets", &format!("&queueId={queue}"))
        .await;
    assert!(!in_queue.is_empty() && in_queue.iter().all(|x| x["queueId"] == queue));
    let title = format!("  {}  ", t["title"].as_str().unwrap().to_uppercase());
    let (same_title, _) = bms
        .keyset(
            "v2/servicedesk/tickets",
            &format!("&title={}", crate::common::enc(&title)),
        )
        .await;
    assert!(same_title.iter().any(|x| x["id"] == t["id"]));
    assert!(same_title.iter().all(|x| {
        x["title"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(t["title"].as_str().unwrap())
    }));
    let (contacts, _) = bms
        .keyset("v2/crm/contacts", &format!("&accountId={account}"))
        .await;
    assert!(contacts.iter().all(|c| c["accountId"] == account));
    let (contracts, _) = bms
        .keyset("v2/finance/contracts", &format!("&accountId={account}"))
        .await;
    assert!(contracts.iter().all(|c| c["accountId"] == account));
    let (none, _) = bms.keyset("v2/crm/contacts", "&accountId=1").await;
    assert!(none.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn picklists_hold_the_stock_values() {
    let sim = start(10, 1).await;
    let bms = Bms::login(&sim).await;
    let names = |v: &Value| -> Vec<(u64, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["id"].as_u64().unwrap(),
                    e["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let list = |path: &'static str| {
        let bms = bms.clone();
        async move { bms.result(&format!("{path}?pageSize=100")).await }
    };
    let owned = |pairs: &[(u64, &str)]| -> Vec<(u64, String)> {
        pairs.iter().map(|(i, n)| (*i, n.to_string())).collect()
    };
    assert_eq!(
        names(&list("v2/servicedesk/queues").await),
        owned(&[
            (1, "Help Desk"),
            (2, "Network Operations"),
            (3, "Security Operations"),
            (4, "Projects")
        ])
    );
    let statuses = list("v2/servicedesk/statuses").await;
    assert_eq!(
        names(&statuses),
        owned(&[
            (1, "New"),
            (2, "In Progress"),
            (3, "Waiting Customer"),
            (4, "Escalated"),
            (5, "Completed"),
            (6, "Cancelled")
        ])
    );
    let closed: Vec<u64> = statuses
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["isClosed"] == true)
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(closed, [5, 6]);
    assert_eq!(statuses[0]["isDefault"], true);
    let priorities = list("v2/servicedesk/priorities").await;
    assert_eq!(
        names(&priorities),
        owned(&[(1, "Critical"), (2, "High"), (3, "Medium"), (4, "Low")])
    );
    assert_eq!(priorities[2]["isDefault"], true);
    assert!(priorities[0]["sortOrder"].is_u64());
    assert_eq!(
        names(&list("v2/servicedesk/tickettypes").await),
        owned(&[
            (1, "Incident"),
            (2, "Service Request"),
            (3, "Problem"),
            (4, "Change"),
            (5, "Alert")
        ])
    );
    assert_eq!(
        names(&list("v2/servicedesk/sources").await),
        owned(&[
            (1, "Client Portal"),
            (2, "Phone"),
            (3, "Email"),
            (4, "On Site"),
            (5, "Monitoring System"),
            (6, "Other")
        ])
    );
    assert_eq!(
        names(&list("v2/servicedesk/notetypes").await),
        owned(&[
            (1, "General"),
            (2, "Internal Analysis"),
            (3, "Alert Update")
        ])
    );
    assert_eq!(
        names(&list("v2/crm/accounttypes").await),
        owned(&[
            (1, "Customer"),
            (2, "Prospect"),
            (3, "Vendor"),
            (4, "Partner"),
            (5, "Other")
        ])
    );
    assert_eq!(
        names(&list("v2/crm/accountstatuses").await),
        owned(&[(1, "Active"), (2, "Inactive")])
    );
    let issue_types = list("v2/servicedesk/issuetypes").await;
    let subs = list("v2/servicedesk/subissuetypes").await;
    for s in subs.as_array().unwrap() {
        assert!(
            issue_types
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["id"] == s["issueTypeId"]),
            "{s}"
        );
    }
    assert!(!names(&list("v2/finance/contracttypes").await).is_empty());
    let services = list("v2/finance/services").await;
    assert!(
        services
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["unitPrice"].is_number() && s["billingCycle"].is_string())
    );
    assert!(
        services
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["isActive"] == false),
        "inactive entries are listed"
    );
    // Paged like any list.
    let v = bms
        .get("v2/servicedesk/sources?pageSize=2&pageNumber=2")
        .await
        .json();
    assert_eq!(
        (ids(v["result"].as_array().unwrap()), &v["totalRecords"]),
        (vec![3, 4], &json!(6))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_same_seed_serves_the_same_json() {
    let a = start(40, 8).await;
    let b = start(40, 8).await;
    let c = start(40, 9).await;
    let mut bodies = Vec::new();
    for sim in [&a, &b, &c] {
        let bms = Bms::login(sim).await;
        let mut all = Vec::new();
        for path in [
            "v2/crm/accounts",
            "v2/crm/contacts",
            "v2/finance/contracts",
            "v2/servicedesk/tickets",
        ] {
            all.push(bms.get(&format!("{path}?pageSize=100")).await.body);
        }
        bodies.push(all);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_ne!(bodies[0], bodies[2]);
    for sim in [a, b, c] {
        sim.shutdown().await;
    }
}
