//! ConnectWise datasets: every list pages through all its records, filters on
//! `lastUpdated`, counts, and reads by id; the new company, agreement and board fields.

use psa_sim::data::DATA_END;
use psa_sim::{DataSet, Id};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;

use super::common::{Client, enc, start};

/// A cutoff inside the generated update times: "updated in the last year of the data".
const CUTOFF: OffsetDateTime = datetime!(2025-06-01 0:00 UTC);
const CUTOFF_TEXT: &str = "2025-06-01T00:00:00Z";

/// Every page of `path` (with `query`), following the `Link` header's next page.
async fn all_pages(client: &Client, path: &str, query: &str) -> (Vec<Value>, usize) {
    let mut url = client.url(&format!("{path}?pageSize=13{query}"));
    let (mut all, mut pages) = (Vec::new(), 0);
    loop {
        let r = client.get_url(&url, &[]).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        pages += 1;
        all.extend(r.json().as_array().expect("an array").clone());
        match r.link("next") {
            Some(next) => url = next,
            None => return (all, pages),
        }
    }
}

/// (path, every record's (id, lastUpdated)) of each dataset; per-company lists for `company`.
fn datasets(d: &DataSet, company: Id) -> Vec<(String, Vec<(Id, OffsetDateTime)>)> {
    let ds = &d.datasets;
    let of = |it: &mut dyn Iterator<Item = (Id, OffsetDateTime)>| it.collect::<Vec<_>>();
    vec![
        (
            "time/entries".into(),
            of(&mut ds
                .time_entries
                .values()
                .map(|r| (r.id, r.info.last_updated))),
        ),
        (
            "sales/opportunities".into(),
            of(&mut ds
                .opportunities
                .values()
                .map(|r| (r.id, r.info.last_updated))),
        ),
        (
            "project/projects".into(),
            of(&mut ds.projects.values().map(|r| (r.id, r.info.last_updated))),
        ),
        (
            "project/tickets".into(),
            of(&mut ds
                .project_tasks
                .values()
                .map(|r| (r.id, r.info.last_updated))),
        ),
        (
            "finance/invoices".into(),
            of(&mut ds.invoices.values().map(|r| (r.id, r.info.last_updated))),
        ),
        (
            "system/members".into(),
            of(&mut ds.members.values().map(|r| (r.id, r.info.last_updated))),
        ),
        (
            format!("company/companies/{company}/notes"),
            of(&mut ds.notes_of(company).map(|r| (r.id, r.info.last_updated))),
        ),
        (
            format!("company/companies/{company}/sites"),
            of(&mut ds.sites_of(company).map(|r| (r.id, r.info.last_updated))),
        ),
    ]
}

/// A company with at least two notes and two sites.
fn busy_company(d: &DataSet) -> Id {
    d.companies
        .keys()
        .copied()
        .find(|c| d.datasets.notes_of(*c).count() >= 2 && d.datasets.sites_of(*c).count() >= 2)
        .expect("a company with several notes and sites")
}

#[tokio::test]
async fn every_dataset_pages_filters_counts_and_reads_by_id() {
    let sim = start(50, 1).await;
    let client = Client::new(&sim);
    let lists = sim.state().read(|d| datasets(d, busy_company(d)));
    for (path, records) in lists {
        let expected: Vec<Id> = records.iter().map(|r| r.0).collect();
        assert!(expected.len() >= 2, "{path} has records");
        let (all, pages) = all_pages(&client, &path, "").await;
        let ids: Vec<Id> = all.iter().map(|r| r["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, expected, "{path}: every record once, by id");
        assert_eq!(pages, expected.len().div_ceil(13), "{path}");
        let count = client.get(&format!("{path}/count")).await;
        assert_eq!(count.json()["count"], expected.len(), "{path}");
        // Updated since the cutoff: some records, not all.
        let recent: Vec<Id> = records
            .iter()
            .filter(|r| r.1 >= CUTOFF)
            .map(|r| r.0)
            .collect();
        assert!(
            !recent.is_empty() && recent.len() < expected.len(),
            "{path}: the cutoff splits the records ({} of {})",
            recent.len(),
            expected.len()
        );
        let conditions = format!(
            "&conditions={}",
            enc(&format!("lastUpdated >= [{CUTOFF_TEXT}]"))
        );
        let (filtered, _) = all_pages(&client, &path, &conditions).await;
        let filtered: Vec<Id> = filtered.iter().map(|r| r["id"].as_u64().unwrap()).collect();
        assert_eq!(filtered, recent, "{path} updated since the cutoff");
        let count = client
            .get(&format!("{path}/count?{}", &conditions[1..]))
            .await;
        assert_eq!(count.json()["count"], recent.len(), "{path}");
        // By id, the same record as in the list.
        let one = client.get(&format!("{path}/{}", expected[1])).await;
        assert_eq!(one.status, 200, "{path}: {}", one.body);
        assert_eq!(one.json(), all[1], "{path}");
        assert_eq!(client.get(&format!("{path}/1")).await.status, 404, "{path}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn dataset_records_link_to_the_core_records() {
    let sim = start(50, 1).await;
    let client = Client::new(&sim);
    let entries = client.get("time/entries?pageSize=1000").await.json();
    let ticket_entry = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["chargeToType"] == "ServiceTicket")
        .expect("time on a ticket");
    let ticket = client
        .get(&format!("service/tickets/{}", ticket_entry["chargeToId"]))
        .await;
    assert_eq!(ticket.status, 200);
    assert_eq!(
        ticket.json()["company"]["id"],
        ticket_entry["company"]["id"]
    );
    for field in [
        "member",
        "timeStart",
        "timeEnd",
        "actualHours",
        "billableOption",
        "notes",
    ] {
        assert!(!ticket_entry[field].is_null(), "{field} in {ticket_entry}");
    }
    let task_entry = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["chargeToType"] == "ProjectTicket")
        .expect("time on a project task");
    let task = client
        .get(&format!("project/tickets/{}", task_entry["chargeToId"]))
        .await;
    assert_eq!(task.status, 200);
    // Unset optional fields are left out, not null.
    assert!(task_entry.get("agreement").is_none(), "{task_entry}");
    // A site list of a company that does not exist is the company's 404.
    let r = client.get("company/companies/99999/sites").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "Company with id 99999 was not found.");
    assert!(client.get("time/entries").await.header("link").is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn companies_agreements_and_boards_carry_the_new_fields() {
    let sim = start(50, 1).await;
    let client = Client::new(&sim);
    let companies = client.get("company/companies?pageSize=1000").await.json();
    let companies = companies.as_array().unwrap();
    let with_parent = companies
        .iter()
        .filter(|c| c.get("parentCompany").is_some())
        .count();
    assert!(
        with_parent >= 1 && with_parent < companies.len() / 4,
        "a few companies have a parent ({with_parent})"
    );
    assert!(companies.iter().any(|c| c["market"]["name"] == "Legal"));
    assert!(companies.iter().any(|c| c.get("market").is_none()));
    for c in companies {
        let site = &c["site"];
        assert_eq!(site["name"], "Main Office", "{c}");
        let sites = client
            .get(&format!("company/companies/{}/sites", c["id"]))
            .await
            .json();
        let primary: Vec<&Value> = sites
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["primaryAddressFlag"] == true)
            .collect();
        assert_eq!(primary.len(), 1, "one primary site of {}", c["id"]);
        assert_eq!(primary[0]["id"], site["id"]);
        assert!((1..=3).contains(&sites.as_array().unwrap().len()));
    }
    // The conditions still know an unset reference.
    let orphans = client
        .get(&format!(
            "company/companies/count?conditions={}",
            enc("parentCompany = null")
        ))
        .await;
    assert_eq!(
        orphans.json()["count"].as_u64().unwrap() as usize,
        companies.len() - with_parent
    );
    let agreements = client.get("finance/agreements?pageSize=1000").await.json();
    let with_contact = agreements
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["contact"]["id"].is_u64())
        .count();
    assert!(with_contact * 10 >= agreements.as_array().unwrap().len() * 8);
    let board = client.get("service/boards/1").await.json();
    assert_eq!(board["location"]["name"], "Tampa Office");
    assert_eq!(board["department"]["name"], "Service");
    assert!(DATA_END > CUTOFF);
    sim.shutdown().await;
}

#[tokio::test]
async fn agreement_additions_page_filter_and_count() {
    let sim = start(50, 1).await;
    let client = Client::new(&sim);
    // The additions of every agreement, each list paged, filtered and counted.
    let agreements: Vec<(Id, Vec<(Id, OffsetDateTime)>)> = sim.state().read(|d| {
        d.agreements
            .keys()
            .map(|a| {
                let lines = d
                    .lines_of(*a)
                    .map(|l| (l.id, l.info.last_updated))
                    .collect();
                (*a, lines)
            })
            .collect()
    });
    let mut split = 0;
    for (agreement, lines) in agreements {
        let path = format!("finance/agreements/{agreement}/additions");
        let want: Vec<Id> = lines.iter().map(|l| l.0).collect();
        let url = client.url(&format!("{path}?pageSize=1"));
        let (mut got, mut next) = (Vec::new(), Some(url));
        while let Some(url) = next {
            let r = client.get_url(&url, &[]).await;
            assert_eq!(r.status, 200, "{}", r.body);
            got.extend(r.ids());
            next = r.link("next");
        }
        assert_eq!(got, want, "{path}");
        let recent: Vec<Id> = lines
            .iter()
            .filter(|l| l.1 >= CUTOFF)
            .map(|l| l.0)
            .collect();
        let conditions = enc(&format!("lastUpdated >= [{CUTOFF_TEXT}]"));
        let r = client
            .get(&format!("{path}?pageSize=1000&conditions={conditions}"))
            .await;
        assert_eq!(r.ids(), recent, "{path}");
        let count = client
            .get(&format!("{path}/count?conditions={conditions}"))
            .await;
        assert_eq!(count.json()["count"], recent.len(), "{path}");
        if !recent.is_empty() && recent.len() < want.len() {
            split += 1;
        }
    }
    assert!(
        split >= 3,
        "the cutoff splits the additions of {split} agreements"
    );
    sim.shutdown().await;
}
