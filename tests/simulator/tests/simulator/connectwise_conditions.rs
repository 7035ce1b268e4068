//! Filtering: conditions on lastUpdated after edits, childConditions, deleted companies, picklists.

use crate::common::{Client, enc, start};
use psa_sim::Entity;
use psa_sim::data::DATA_END;

#[tokio::test]
async fn last_updated_conditions_see_touched_records_only() {
    let sim = start(40, 7).await;
    let client = Client::new(&sim);
    let since = enc("lastUpdated > [2026-06-01T00:00:00Z]");
    assert_eq!(
        client
            .get(&format!("company/configurations?conditions={since}"))
            .await
            .body,
        "[]"
    );

    let ids = sim.state().ids(Entity::Configuration);
    let touched = [ids[3], ids[17], ids[ids.len() - 1]];
    for id in touched {
        assert!(sim.state().touch(Entity::Configuration, id));
    }
    assert!(
        !sim.state().touch(Entity::Configuration, 1),
        "no such record"
    );
    let r = client
        .get(&format!("company/configurations?conditions={since}"))
        .await;
    assert_eq!(r.ids(), touched.to_vec());
    let stamp = r.json()[0]["_info"]["lastUpdated"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        stamp.as_str() > "2026-06-01T00:00:00Z" && stamp.ends_with('Z') && stamp.len() == 20,
        "{stamp}"
    );
    assert_eq!(r.json()[0]["_info"]["updatedBy"], "psa-sim");
    let n = client
        .get(&format!("company/configurations/count?conditions={since}"))
        .await
        .json()["count"]
        .clone();
    assert_eq!(n, 3);

    // Combined with other conditions and the same filter on `_info/lastUpdated`.
    let company = sim.state().get(Entity::Configuration, ids[3]).unwrap()["company"]["id"]
        .as_u64()
        .unwrap();
    let cond = enc(&format!(
        "_info/lastUpdated >= [2026-06-01] AND (company/id = {company} or id = -1)"
    ));
    assert_eq!(
        client
            .get(&format!("company/configurations?conditions={cond}"))
            .await
            .ids(),
        vec![ids[3]]
    );

    // Every generated record is older than the data end.
    let before = enc("lastUpdated < [2026-06-01T00:00:00Z]");
    let count = client
        .get(&format!("service/tickets/count?conditions={before}"))
        .await
        .json()["count"]
        .clone();
    assert_eq!(count, sim.state().count(Entity::Ticket));
    assert!(
        sim.state()
            .read(|d| d.tickets.values().all(|t| t.info.last_updated < DATA_END))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn child_conditions_find_contacts_by_email() {
    let sim = start(30, 8).await;
    let client = Client::new(&sim);
    let (contact_id, email) = sim.state().read(|d| {
        d.contacts
            .values()
            .find_map(|c| {
                c.communication_items
                    .iter()
                    .find(|i| i.value.contains('@'))
                    .map(|i| (c.id, i.value.clone()))
            })
            .unwrap()
    });
    let cond = enc(&format!(
        r#"communicationItems/value = "{}" and communicationItems/communicationType = "Email""#,
        email.to_uppercase()
    ));
    let r = client
        .get(&format!("company/contacts?childConditions={cond}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.ids().contains(&contact_id));
    for c in r.json().as_array().unwrap() {
        assert!(
            c["communicationItems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["value"].as_str().unwrap().eq_ignore_ascii_case(&email))
        );
    }
    // conditions and childConditions combine.
    let company = sim.state().get(Entity::Contact, contact_id).unwrap()["company"]["id"].clone();
    let r = client
        .get(&format!(
            "company/contacts?childConditions={cond}&conditions={}",
            enc(&format!("company/id = {company}"))
        ))
        .await;
    assert_eq!(r.ids(), vec![contact_id]);
    // A collection in plain conditions is refused.
    let r = client
        .get(&format!(
            "company/contacts?conditions={}",
            enc(r#"communicationItems/value = "x""#)
        ))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.error().1,
        "conditions: field 'communicationItems/value' is in a collection; filter it with childConditions"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn deleted_companies_are_listed_only_when_asked_for() {
    let sim = start(50, 9).await;
    let client = Client::new(&sim);
    let deleted: Vec<u64> = sim.state().read(|d| {
        d.companies
            .values()
            .filter(|c| c.deleted)
            .map(|c| c.id)
            .collect()
    });
    assert!(!deleted.is_empty());
    let all = client.get("company/companies?pageSize=1000").await.ids();
    assert!(deleted.iter().all(|id| !all.contains(id)));
    let r = client
        .get(&format!(
            "company/companies?pageSize=1000&conditions={}",
            enc("deletedFlag = true")
        ))
        .await;
    assert_eq!(r.ids(), deleted);
    // GET by id still answers, with the flag set.
    assert_eq!(
        client
            .get(&format!("company/companies/{}", deleted[0]))
            .await
            .json()["deletedFlag"],
        true
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn vendors_and_picklists() {
    let sim = start(60, 10).await;
    let client = Client::new(&sim);
    let r = client
        .get(&format!(
            "company/companies?childConditions={}",
            enc(r#"types/name = "Vendor""#)
        ))
        .await;
    let vendors = r.json();
    assert!(!vendors.as_array().unwrap().is_empty());
    for v in vendors.as_array().unwrap() {
        assert!(
            v["types"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "Vendor")
        );
    }
    let statuses = client.get("company/companies/statuses").await.json();
    let names: Vec<&str> = statuses
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Active", "Inactive", "Not-Approved"]);
    let boards = client
        .get(&format!(
            "service/boards?conditions={}",
            enc(r#"name = "Help Desk""#)
        ))
        .await;
    assert_eq!(boards.ids(), vec![1]);
    let closed = client
        .get(&format!(
            "service/boards/1/statuses?conditions={}",
            enc("closedStatus = true")
        ))
        .await;
    assert_eq!(closed.json().as_array().unwrap().len(), 2);
    for path in [
        "service/boards/1/types",
        "service/boards/1/subtypes",
        "service/boards/1/items",
        "service/priorities",
        "service/sources",
        "company/configurations/types",
        "company/configurations/statuses",
        "company/companies/types",
        "procurement/manufacturers",
        "procurement/catalog",
        "finance/agreements/types",
    ] {
        let r = client.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(!r.ids().is_empty(), "{path}");
    }
    let types = client
        .get("company/configurations/types?pageSize=100")
        .await
        .json();
    assert!(
        types
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "Managed Server")
    );
    assert_eq!(client.get("service/boards/99/statuses").await.status, 404);
    assert_eq!(
        client.get("service/priorities/3").await.json()["name"],
        "Priority 3 - Medium"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn agreements_carry_billing_cycles_and_additions() {
    let sim = start(40, 11).await;
    let client = Client::new(&sim);
    let r = client.get("finance/agreements?pageSize=1000").await;
    let agreements = r.json();
    let cycles: std::collections::BTreeSet<String> = agreements
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["billingCycle"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cycles.len(), 5, "{cycles:?}");
    let id = agreements[0]["id"].as_u64().unwrap();
    let additions = client
        .get(&format!("finance/agreements/{id}/additions"))
        .await;
    assert_eq!(additions.status, 200);
    for a in additions.json().as_array().unwrap() {
        assert_eq!(a["agreementId"], id);
        assert!(a["quantity"].is_number() && a["unitPrice"].is_number());
    }
    let cancelled = client
        .get(&format!(
            "finance/agreements?conditions={}",
            enc("cancelledFlag = true")
        ))
        .await;
    assert!(
        cancelled
            .json()
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["agreementStatus"] == "Cancelled")
    );
    sim.shutdown().await;
}
