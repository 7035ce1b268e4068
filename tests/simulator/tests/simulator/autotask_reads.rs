//! Autotask reads: 500-row pages through `nextPageUrl`, keyset paging, counts, filters,
//! updated-since after `touch`, items by id, picklists, determinism.

use std::collections::BTreeSet;

use crate::common::autotask::{At, ids, start};
use psa_sim::Entity;
use psa_sim::data::DATA_END;
use reqwest::Method;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

fn gt0() -> Value {
    json!([{"op": "gt", "field": "id", "value": 0}])
}

#[tokio::test]
async fn next_page_urls_return_every_company_once_in_500_row_pages() {
    let sim = start(1300, 11).await;
    let at = At::new(&sim);
    let expected: Vec<u64> = sim.state().read(|d| {
        d.companies
            .values()
            .filter(|c| !c.deleted)
            .map(|c| c.id)
            .collect()
    });
    assert!(expected.len() > 1200, "{}", expected.len());
    let first = at.query("Companies", 500, gt0()).await.json();
    assert_eq!(first["pageDetails"]["count"], 500);
    assert_eq!(first["pageDetails"]["requestCount"], 500);
    assert_eq!(first["pageDetails"]["prevPageUrl"], Value::Null);
    let next = first["pageDetails"]["nextPageUrl"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{}V1.0/Companies/query/next?paging=", at.zone)),
        "{next}"
    );
    // A GET of a POST query's next page is refused: it must be POSTed with the same body.
    assert_eq!(at.send(Method::GET, next, None).await.status, 405);

    let (items, pages) = at.query_all("Companies", 500, gt0()).await;
    assert_eq!(pages, 3);
    assert_eq!(ids(&items), expected, "every id once, ascending");

    // MaxRecords above 500 is 500, and a missing one is 500.
    let big = at
        .post(
            "Companies/query",
            &json!({"maxRecords": 5000, "filter": gt0()}),
        )
        .await
        .json();
    assert_eq!(big["items"].as_array().unwrap().len(), 500);
    let count = at
        .post("Companies/query/count", &json!({"filter": gt0()}))
        .await
        .json();
    assert_eq!(count, json!({"queryCount": expected.len()}));

    // Keyset paging, as the connector does it: `id gt <last id>` with the same filters.
    let mut after = 0;
    let mut keyset: Vec<u64> = Vec::new();
    loop {
        let page = at
            .query(
                "Companies",
                400,
                json!([{"op": "gt", "field": "id", "value": after}]),
            )
            .await
            .json();
        let page_ids = ids(page["items"].as_array().unwrap());
        keyset.extend(&page_ids);
        if page["pageDetails"]["nextPageUrl"].is_null() {
            break;
        }
        after = *page_ids.last().unwrap();
    }
    assert_eq!(keyset, expected);
    sim.shutdown().await;
}

#[tokio::test]
async fn get_queries_carry_the_search_into_the_next_page() {
    let sim = start(60, 2).await;
    let at = At::new(&sim);
    let search = json!({"MaxRecords": 10, "Filter": gt0()}).to_string();
    let r = at
        .get(&format!(
            "Contacts/query?search={}",
            crate::common::enc(&search)
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut page = r.json();
    let mut seen = ids(page["items"].as_array().unwrap());
    while let Some(next) = page["pageDetails"]["nextPageUrl"].as_str() {
        assert!(next.contains("&search="), "{next}");
        page = at.send(Method::GET, next, None).await.json();
        seen.extend(ids(page["items"].as_array().unwrap()));
    }
    let expected: Vec<u64> = sim.state().read(|d| {
        d.contacts
            .values()
            .filter(|c| d.company_live(c.company_id))
            .map(|c| c.id)
            .collect()
    });
    assert_eq!(seen, expected);
    assert_eq!(
        at.get("Contacts/query").await.status,
        405,
        "GET without search"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn filters_and_their_errors() {
    let sim = start(80, 3).await;
    let at = At::new(&sim);
    let vendors = at
        .query(
            "Companies",
            500,
            json!([{"op": "eq", "field": "companyType", "value": 7}, {"op": "gt", "field": "id", "value": 0}]),
        )
        .await
        .json();
    let vendors = vendors["items"].as_array().unwrap().clone();
    assert!(!vendors.is_empty());
    assert!(vendors.iter().all(|v| v["companyType"] == 7));
    // String equality ignores case; `in`, `or`, `noteq` and `exist` work together.
    let name = vendors[0]["companyName"].as_str().unwrap().to_uppercase();
    let one = at
        .query(
            "Companies",
            500,
            json!([{"op": "eq", "field": "companyname", "value": name}]),
        )
        .await
        .json();
    assert_eq!(one["items"][0]["id"], vendors[0]["id"]);
    let tickets = sim.state().ids(Entity::Ticket);
    let picked = json!([tickets[0], tickets[2], 1]);
    let r = at
        .query(
            "Tickets",
            500,
            json!([{"op": "in", "field": "id", "value": picked},
                   {"op": "or", "items": [{"op": "noteq", "field": "status", "value": 5},
                                          {"op": "exist", "field": "completedDate"}]}]),
        )
        .await
        .json();
    assert_eq!(
        ids(r["items"].as_array().unwrap()),
        vec![tickets[0], tickets[2]]
    );
    let open = at
        .query_all(
            "Tickets",
            500,
            json!([{"op": "noteq", "field": "status", "value": 5}, {"op": "gt", "field": "id", "value": 0}]),
        )
        .await
        .0;
    let expected_open = sim
        .state()
        .read(|d| d.tickets.values().filter(|t| !d.ticket_closed(t)).count());
    assert_eq!(open.len(), expected_open);
    for (filter, message) in [
        (
            json!([{"op": "eq", "field": "nosuch", "value": 1}]),
            "Unable to find nosuch in the Tickets entity.",
        ),
        (
            json!([{"op": "like", "field": "id", "value": 1}]),
            "'like' is not a valid filter operator.",
        ),
        (
            json!([{"op": "gte", "field": "lastActivityDate", "value": "yesterday"}]),
            "Invalid value yesterday for field lastActivityDate.",
        ),
        (
            json!([]),
            "A query must have at least one filter, for example {\"op\":\"gt\",\"field\":\"id\",\"value\":0}.",
        ),
    ] {
        let r = at.query("Tickets", 10, filter).await;
        assert_eq!((r.status, r.errors()), (500, vec![message.to_string()]));
    }
    sim.shutdown().await;
}

fn since() -> String {
    DATA_END.format(&Rfc3339).unwrap()
}

#[tokio::test]
async fn updated_since_returns_exactly_the_touched_records() {
    let sim = start(120, 4).await;
    let at = At::new(&sim);
    let state = sim.state();
    let t = since();
    let or = |a: &str, b: &str| {
        json!([{"op": "or", "items": [{"op": "gte", "field": a, "value": t},
                                      {"op": "gte", "field": b, "value": t}]},
               {"op": "gt", "field": "id", "value": 0}])
    };
    let cases: [(&str, Entity, Value); 4] = [
        (
            "Companies",
            Entity::Company,
            or("lastActivityDate", "lastTrackedModifiedDateTime"),
        ),
        (
            "Contacts",
            Entity::Contact,
            or("lastModifiedDate", "lastActivityDate"),
        ),
        (
            "ConfigurationItems",
            Entity::Configuration,
            json!([{"op": "gte", "field": "lastModifiedTime", "value": t}, {"op": "gt", "field": "id", "value": 0}]),
        ),
        (
            "Tickets",
            Entity::Ticket,
            or("lastActivityDate", "lastTrackedModificationDateTime"),
        ),
    ];
    for (entity, kind, filter) in cases {
        let none = at.query_all(entity, 500, filter.clone()).await.0;
        assert!(
            none.is_empty(),
            "{entity}: generated data is older than DATA_END"
        );
        let all = state.ids(kind);
        let live: Vec<u64> = all
            .iter()
            .copied()
            .filter(|id| state.get(kind, *id).is_some())
            .collect();
        let touched: BTreeSet<u64> = [live[1], live[live.len() / 2], live[live.len() - 1]].into();
        for id in &touched {
            assert!(state.touch(kind, *id));
        }
        let got: BTreeSet<u64> = ids(&at.query_all(entity, 500, filter).await.0)
            .into_iter()
            .collect();
        assert_eq!(got, touched, "{entity}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn items_by_id_match_the_state_handle() {
    let sim = start(30, 5).await;
    let at = At::new(&sim);
    let state = sim.state();
    for (entity, kind) in [
        ("Companies", Entity::Company),
        ("Contacts", Entity::Contact),
        ("Contracts", Entity::Agreement),
        ("ContractServices", Entity::AgreementLine),
        ("ConfigurationItems", Entity::Configuration),
        ("Tickets", Entity::Ticket),
        ("TicketNotes", Entity::Note),
    ] {
        let id = crate::common::first_served(&sim, kind);
        assert_eq!(
            at.item(entity, id).await,
            state.get(kind, id).unwrap(),
            "{entity}"
        );
        assert_eq!(at.item(entity, 999_999_999).await, Value::Null, "{entity}");
    }
    let deleted = state.read(|d| d.companies.values().find(|c| c.deleted).map(|c| c.id));
    if let Some(id) = deleted {
        assert_eq!(
            at.item("Companies", id).await,
            Value::Null,
            "deleted companies are gone"
        );
    }
    let ticket = at.item("Tickets", state.ids(Entity::Ticket)[0]).await;
    for field in [
        "ticketNumber",
        "title",
        "companyID",
        "queueID",
        "status",
        "priority",
        "createDate",
        "lastActivityDate",
        "ticketCategory",
        "ticketType",
        "userDefinedFields",
    ] {
        assert!(!ticket[field].is_null(), "{field}: {ticket}");
    }
    assert_eq!(at.get("Tickets/abc").await.status, 404);
    assert_eq!(
        at.send(Method::DELETE, &at.url("Tickets/1"), None)
            .await
            .status,
        405
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn contracts_services_and_units() {
    let sim = start(60, 6).await;
    let at = At::new(&sim);
    let (contracts, _) = at.query_all("Contracts", 100, gt0()).await;
    assert_eq!(contracts.len(), sim.state().count(Entity::Agreement));
    assert!(
        contracts.iter().any(|c| c["contractType"] == 7),
        "recurring service contracts"
    );
    assert!(contracts.iter().any(|c| c["contractType"] != 7), "others");
    let ids_of_page: Vec<u64> = ids(&contracts[..10]);
    let services = at
        .query_all(
            "ContractServices",
            500,
            json!([{"op": "in", "field": "contractID", "value": ids_of_page}]),
        )
        .await
        .0;
    let expected = sim.state().read(|d| {
        d.agreement_lines
            .values()
            .filter(|l| ids_of_page.contains(&l.agreement_id))
            .count()
    });
    assert_eq!(services.len(), expected);
    let units = at
        .query_all(
            "ContractServiceUnits",
            500,
            json!([{"op": "in", "field": "contractID", "value": ids_of_page},
                   {"op": "gte", "field": "endDate", "value": "2026-11-01T00:00:00Z"}]),
        )
        .await
        .0;
    for u in &units {
        let service = services
            .iter()
            .find(|s| s["id"] == u["contractServiceID"])
            .expect("a unit of a listed service");
        assert_eq!(u["serviceID"], service["serviceID"]);
        assert!(u["units"].is_u64(), "{u}");
        assert!(u["endDate"].as_str().unwrap() >= "2026-11-01");
    }
    let services_of_all = at.query_all("ContractServices", 500, gt0()).await.0;
    assert_eq!(
        services_of_all.len(),
        sim.state().count(Entity::AgreementLine)
    );
    let catalog = at.query_all("Services", 500, gt0()).await.0;
    assert_eq!(catalog.len(), 10);
    assert!(catalog.iter().all(|s| s["name"].is_string()));
    sim.shutdown().await;
}

#[tokio::test]
async fn picklists_come_from_entity_information() {
    let sim = start(10, 1).await;
    let at = At::new(&sim);
    let fields = |entity: &'static str| {
        let at = at.clone();
        async move {
            let r = at.get(&format!("{entity}/entityInformation/fields")).await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.json()["fields"].as_array().unwrap().clone()
        }
    };
    let picklist = |fields: &[Value], name: &str| -> Vec<Value> {
        let f = fields
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(f["isPickList"], true, "{name}");
        f["picklistValues"].as_array().unwrap().clone()
    };
    let label = |values: &[Value], value: &str| -> String {
        values
            .iter()
            .find(|v| v["value"] == value)
            .map(|v| v["label"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let tickets = fields("Tickets").await;
    let statuses = picklist(&tickets, "status");
    assert_eq!(label(&statuses, "1"), "New");
    assert_eq!(label(&statuses, "5"), "Complete");
    let priorities = picklist(&tickets, "priority");
    assert_eq!(
        ["1", "2", "3", "4"].map(|v| label(&priorities, v)),
        ["High", "Medium", "Low", "Critical"]
    );
    for name in [
        "queueID",
        "issueType",
        "ticketCategory",
        "source",
        "ticketType",
    ] {
        assert!(!picklist(&tickets, name).is_empty(), "{name}");
    }
    let issue_types = picklist(&tickets, "issueType");
    let subs = tickets
        .iter()
        .find(|f| f["name"] == "subIssueType")
        .unwrap();
    assert_eq!(subs["picklistParentValueField"], "issueType");
    for s in subs["picklistValues"].as_array().unwrap() {
        let parent = s["parentValue"].as_str().unwrap();
        assert!(issue_types.iter().any(|i| i["value"] == parent), "{s}");
    }
    let title = tickets.iter().find(|f| f["name"] == "title").unwrap();
    assert_eq!(
        (
            &title["dataType"],
            &title["isRequired"],
            &title["isPickList"],
            &title["picklistValues"]
        ),
        (&json!("string"), &json!(true), &json!(false), &Value::Null)
    );
    assert!(!picklist(&fields("TicketNotes").await, "noteType").is_empty());
    let types = picklist(&fields("ConfigurationItems").await, "configurationItemType");
    assert_eq!(label(&types, "11"), "Managed Server");
    let company_types = picklist(&fields("Companies").await, "companyType");
    assert_eq!(label(&company_types, "7"), "Vendor");
    assert_eq!(
        label(&picklist(&fields("Contracts").await, "contractType"), "7"),
        "Recurring Service"
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
        let at = At::new(sim);
        let mut all = Vec::new();
        for entity in [
            "Companies",
            "Contacts",
            "Contracts",
            "ConfigurationItems",
            "Tickets",
            "TicketNotes",
        ] {
            all.push(at.query(entity, 500, gt0()).await.body);
        }
        bodies.push(all);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_ne!(bodies[0], bodies[2]);
    for sim in [a, b, c] {
        sim.shutdown().await;
    }
}
