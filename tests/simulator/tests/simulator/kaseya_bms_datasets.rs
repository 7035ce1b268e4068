//! Kaseya BMS datasets: every list pages (keyset and page numbers), filters on `modifiedSince`,
//! counts in `totalRecords`, reads by id; notes by account; an account's locations.

use psa_sim::{DataSet, Id};
use time::OffsetDateTime;
use time::macros::datetime;

use super::common::bms::{Bms, error, start};

const CUTOFF: OffsetDateTime = datetime!(2025-06-01 0:00 UTC);

/// (path, every served record's (id, modifiedOn)).
fn expected(d: &DataSet, account: Id) -> Vec<(String, Vec<(Id, OffsetDateTime)>)> {
    let ds = &d.datasets;
    let live = |c: Id| d.company_live(c);
    vec![
        (
            "v2/servicedesk/timelogs".into(),
            ds.time_entries
                .values()
                .filter(|r| live(r.company_id))
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "v2/crm/opportunities".into(),
            ds.opportunities
                .values()
                .filter(|r| live(r.company_id))
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "v2/projects/projects".into(),
            ds.projects
                .values()
                .filter(|r| live(r.company_id))
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "v2/projects/tasks".into(),
            ds.project_tasks
                .values()
                .filter(|r| live(r.company_id))
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "v2/finance/invoices".into(),
            ds.invoices
                .values()
                .filter(|r| live(r.company_id))
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "v2/admin/employees".into(),
            ds.members
                .values()
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "v2/crm/notes".into(),
            ds.company_notes
                .values()
                .filter(|r| live(r.company_id))
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            format!("v2/crm/accounts/{account}/locations"),
            ds.sites_of(account)
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
    ]
}

fn ids(items: &[serde_json::Value]) -> Vec<Id> {
    items.iter().map(|r| r["id"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn every_dataset_pages_filters_counts_and_reads_by_id() {
    let sim = start(50, 1).await;
    let bms = Bms::login(&sim).await;
    let lists = sim.state().read(|d| {
        let account = d
            .companies
            .values()
            .find(|c| !c.deleted && d.datasets.sites_of(c.id).count() >= 2)
            .expect("an account with several locations")
            .id;
        expected(d, account)
    });
    for (path, records) in lists {
        let want: Vec<Id> = records.iter().map(|r| r.0).collect();
        assert!(want.len() >= 2, "{path} has records");
        let (items, _) = bms.keyset(&path, "").await;
        assert_eq!(ids(&items), want, "{path}: keyset paging");
        // Page numbers give the same records.
        let mut paged = Vec::new();
        for page in 1..=want.len().div_ceil(7) {
            let r = bms
                .get(&format!("{path}?pageSize=7&pageNumber={page}"))
                .await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            assert_eq!(r.json()["totalRecords"], want.len(), "{path}");
            paged.extend(r.json()["result"].as_array().unwrap().clone());
        }
        assert_eq!(ids(&paged), want, "{path}: page numbers");
        let recent: Vec<Id> = records
            .iter()
            .filter(|r| r.1 >= CUTOFF)
            .map(|r| r.0)
            .collect();
        assert!(
            !recent.is_empty() && recent.len() < want.len(),
            "{path}: the cutoff splits the records"
        );
        let (items, _) = bms
            .keyset(&path, "&modifiedSince=2025-06-01T00:00:00Z")
            .await;
        assert_eq!(ids(&items), recent, "{path} modified since the cutoff");
        for item in &items {
            assert!(
                item["modifiedOn"].as_str().unwrap() >= "2025-06-01",
                "{item}"
            );
        }
        let one = bms.result(&format!("{path}/{}", want[1])).await;
        assert_eq!(one, paged[1], "{path} by id");
        let missing = bms.get(&format!("{path}/1")).await;
        assert_eq!(missing.status, 404, "{path}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn notes_filter_by_account_and_locations_need_a_live_account() {
    let sim = start(50, 1).await;
    let bms = Bms::login(&sim).await;
    let (account, notes, deleted) = sim.state().read(|d| {
        let account = d
            .companies
            .values()
            .find(|c| !c.deleted && d.datasets.notes_of(c.id).count() >= 2)
            .unwrap()
            .id;
        let notes: Vec<Id> = d.datasets.notes_of(account).map(|n| n.id).collect();
        let deleted = d.companies.values().find(|c| c.deleted).unwrap().id;
        (account, notes, deleted)
    });
    let (items, _) = bms
        .keyset("v2/crm/notes", &format!("&accountId={account}"))
        .await;
    assert_eq!(ids(&items), notes);
    assert!(items.iter().all(|n| n["accountId"] == account));
    let r = bms
        .get(&format!("v2/crm/accounts/{deleted}/locations"))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(error(&r).1, format!("Account {deleted} was not found."));
    let r = bms.get("v2/admin/employees?accountId=1").await;
    assert_eq!(r.status, 400, "employees have no account");
    let account_json = bms.result(&format!("v2/crm/accounts/{account}")).await;
    let locations = bms
        .result(&format!("v2/crm/accounts/{account}/locations"))
        .await;
    let primary: Vec<_> = locations
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["isPrimary"] == true)
        .collect();
    assert_eq!(primary.len(), 1);
    assert_eq!(primary[0]["id"], account_json["primaryLocation"]["id"]);
    sim.shutdown().await;
}
